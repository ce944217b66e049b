import Foundation

/// Endpoint and version names end up in Envoy cluster names (`<endpoint>--<version>`), in URLs and
/// in metric labels, so they are held to `[a-z0-9-]{1,63}`, start and end with a letter or digit,
/// and never contain `--` (which would make the cluster name ambiguous).
public enum Names {
    public static func problem(with name: String, kind: String) -> String? {
        if name.isEmpty { return "\(kind) name is empty" }
        if name.utf8.count > 63 { return "\(kind) name '\(Names.printable(name))' is longer than 63 characters" }
        for b in name.utf8 where !((b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D) {
            return "\(kind) name '\(Names.printable(name))' may hold only a-z, 0-9 and '-' (no dots, spaces or capitals)"
        }
        if name.hasPrefix("-") || name.hasSuffix("-") {
            return "\(kind) name '\(name)' must start and end with a letter or digit"
        }
        if name.contains("--") { return "\(kind) name '\(name)' must not contain '--' (it separates endpoint and version in gateway names)" }
        return nil
    }

    /// Names are echoed back in error details; control characters are replaced so that a hostile
    /// name cannot rewrite an operator's terminal, and line separators and bidirectional controls
    /// are drawn as `\u{202E}` so that none can make a line say something else (a right-to-left
    /// override turns "shift v2" into what reads as another text).
    public static func printable(_ s: String, limit: Int = 80) -> String {
        // Printable ASCII has neither controls nor deceptive scalars: nearly every name, drawn per
        // row per frame.
        if s.utf8.count <= limit, s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        var out = ""
        for scalar in s.unicodeScalars.prefix(limit) {
            if scalar.properties.generalCategory == .control {
                out.unicodeScalars.append("?")
            } else if isDeceptive(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return s.unicodeScalars.count > limit ? out + "…" : out
    }

    /// Characters that change how a line reads without being seen: the line and paragraph
    /// separators (U+2028, U+2029, which some terminals and viewers break lines on) and the
    /// bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E–F, U+202A–E,
    /// U+2066–9).
    public static func isDeceptive(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Whether `s` holds a control character or one of `isDeceptive`'s: refused in reasons, owners
    /// and other free text that operators read in the audit.
    public static func hasUnsafeCharacters(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.properties.generalCategory == .control || isDeceptive($0) }
    }
}
