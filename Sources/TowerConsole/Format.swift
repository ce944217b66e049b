import Foundation
import TerminalUI
import TowerDomain

/// Characters with an ASCII fallback for terminals without a UTF-8 locale.
struct Glyphs {
    let ascii: Bool
    var full: Character { ascii ? "#" : "█" }
    var empty: Character { ascii ? "." : "░" }
    var ok: String { ascii ? "+" : "✓" }
    var bad: String { ascii ? "x" : "✗" }
    var pending: String { ascii ? "?" : "…" }
    var warn: String { ascii ? "!" : "⚠" }
    var arrow: String { ascii ? "->" : "→" }
    var dash: String { ascii ? " -" : " —" }
    var ellipsis: String { ascii ? "..." : "…" }
    /// Beside the title of the column the rows are sorted by: ascending, descending.
    var ascending: String { ascii ? "^" : "↑" }
    var descending: String { ascii ? "v" : "↓" }
}

func ageText(_ seconds: TimeInterval) -> String {
    let s = max(0, Int(seconds))
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m" }
    if s < 86400 { return "\(s / 3600)h" }
    return "\(s / 86400)d"
}

/// Figures as the tables show them; a figure that could not be read is "—", never 0.
enum Fmt {
    static func rps(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return v >= 100 ? String(Int(v.rounded())) : String(format: "%.1f", v)
    }
    static func ratio(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return v == 0 ? "0%" : v < 0.001 ? "<0.1%" : String(format: "%.1f%%", v * 100)
    }
    static func ms(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        if v >= 10_000 { return String(format: "%.0fs", v / 1000) }
        if v >= 1000 { return String(format: "%.1fs", v / 1000) }
        return v >= 10 ? "\(Int(v.rounded()))ms" : String(format: "%.1fms", v)
    }
    /// A wall-clock time, "03:12:09", in `zone`.
    static func clock(_ d: Date, _ zone: TimeZone) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let c = cal.dateComponents([.hour, .minute, .second], from: d)
        return String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }
    /// A window as PromQL would write it: "1m", "90s", "2h".
    static func window(_ seconds: Int) -> String {
        seconds >= 3600 && seconds % 3600 == 0 ? "\(seconds / 3600)h" : seconds >= 60 && seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds)s"
    }
    /// The ERR column's title with the window every live figure on the row is over.
    static func errTitle(_ t: Telemetry) -> String { t.windowSeconds.map { "ERR/" + window($0) } ?? "ERR" }
    static func count(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return v >= 10_000 ? String(format: "%.0fk", v / 1000) : String(Int(v.rounded()))
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
