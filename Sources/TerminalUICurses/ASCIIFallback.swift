/// What the backend draws instead of a non-ASCII character when the locale is not UTF-8.
///
/// Pure and total: every character maps to one printable ASCII character, so a frame keeps its
/// layout (one cell, one column). The console should prefer ASCII glyphs itself when
/// `TerminalBackend.unicode` is false; this is the safety net for whatever slips through.
public enum ASCIIFallback {
    public static func map(_ c: Character) -> Character {
        guard let first = c.unicodeScalars.first else { return "?" }
        let v = first.value
        // ASCII: keep the base character and drop any combining marks after it.
        if v < 0x80 { return v >= 0x20 && v != 0x7F ? Character(first) : "?" }
        if let mapped = table[v] { return mapped }
        switch v {
        case 0x2500...0x257F: return boxDrawing(v)
        case 0x2800...0x28FF: return braille(v)
        default: return "?"
        }
    }

    private static let table: [UInt32: Character] = {
        var t: [UInt32: Character] = [:]
        func add(_ chars: String, _ to: Character) { for s in chars.unicodeScalars { t[s.value] = to } }
        // Sparkline levels and shades, from light to dense: . : - = #
        add("▁▂", "."); add("▃", ":"); add("▄▅", "-"); add("▆▇", "="); add("█", "#")
        add("░", "."); add("▒", "="); add("▓", "#")
        add("▉▊▋▌▐▀▖▗▘▙▚▛▜▝▞▟", "#"); add("▍▎▏▕", "|"); add("▔", "-")
        // Arrows and triangles.
        add("←⇐⟵◀◂◄", "<"); add("→⇒⟶▶▸►", ">"); add("↑⇑▲▴", "^"); add("↓⇓▼▾", "v")
        add("↔⇔", "-"); add("↕⇕", "|")
        // Marks and punctuation.
        add("✓✔", "v"); add("✗✘×", "x"); add("…", "~")
        add("–—―−", "-"); add("‘’‚′", "'"); add("“”„″", "\""); add("•●◆■∙", "*"); add("○◯◇□", "o")
        add("·", "."); add("\u{00A0}\u{2007}\u{2009}\u{200A}\u{202F}", " "); add("«", "<"); add("»", ">")
        add("≤", "<"); add("≥", ">"); add("≠", "#"); add("±", "+"); add("°", "o"); add("µμ", "u")
        return t
    }()

    private static let horizontal: Set<UInt32> = Set("─━┄┅┈┉╌╍═╴╶╸╺╼╾".unicodeScalars.map(\.value))
    private static let vertical: Set<UInt32> = Set("│┃┆┇┊┋╎╏║╵╷╹╻╽╿".unicodeScalars.map(\.value))

    /// Box drawing (U+2500–U+257F): lines become `-` or `|`, corners and junctions `+`.
    private static func boxDrawing(_ v: UInt32) -> Character {
        if horizontal.contains(v) { return "-" }
        if vertical.contains(v) { return "|" }
        switch v {
        case 0x2571: return "/"
        case 0x2572: return "\\"
        case 0x2573: return "X"
        default: return "+"
        }
    }

    /// Braille (U+2800–U+28FF, used for dense sparklines): by the number of dots raised.
    private static func braille(_ v: UInt32) -> Character {
        switch (v - 0x2800).nonzeroBitCount {
        case 0: " "
        case 1...2: "."
        case 3...4: ":"
        case 5...6: "="
        default: "#"
        }
    }
}
