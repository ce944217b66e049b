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
    /// name cannot rewrite an operator's terminal.
    public static func printable(_ s: String, limit: Int = 80) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(limit) {
            out.unicodeScalars.append(scalar.properties.generalCategory == .control ? "?" : scalar)
        }
        return s.unicodeScalars.count > limit ? out + "…" : out
    }
}
