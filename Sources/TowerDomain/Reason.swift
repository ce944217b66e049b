import Foundation

/// Reasons are required for every routing change and end up in the audit and on operators' screens.
public enum Reason {
    public static let maxLength = 500

    public static func problem(_ reason: String?) -> String? {
        guard let r = reason, !r.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return "reason is empty; say why you are making this change (it goes into the audit log)"
        }
        if r.count > maxLength { return "reason is \(r.count) characters; keep it to \(maxLength)" }
        if Names.hasUnsafeCharacters(r) {
            return "reason must be one line without control characters, line separators or bidirectional overrides (U+2028, U+202E and the like)"
        }
        return nil
    }
}
