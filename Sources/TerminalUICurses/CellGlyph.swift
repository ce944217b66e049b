/// The characters written into one curses cell for a frame cell.
public enum CellGlyph {
    /// The wide characters (spacing character, then combining marks, at most `maxScalars`) that
    /// stand for `c` in one column. Without a UTF-8 locale that is `ASCIIFallback.map(c)`.
    /// With one, a character that is not exactly one column wide (control, double-width,
    /// unprintable; `width` is `wcwidth`) becomes `?`, so a frame's layout never shifts.
    public static func scalars(for c: Character, unicode: Bool, maxScalars: Int = 5,
                               width: (UInt32) -> Int32) -> [UInt32] {
        let scalars = c.unicodeScalars
        guard let first = scalars.first else { return [0x3F] }
        if !unicode || (first.value < 0x80 && scalars.count == 1) {
            let ascii = first.value < 0x80 ? first : ASCIIFallback.map(c).unicodeScalars.first!
            return ascii.value >= 0x20 && ascii.value != 0x7F ? [ascii.value] : [0x3F]
        }
        guard first.value >= 0x20, width(first.value) == 1 else { return [0x3F] }
        var out = [first.value]
        for s in scalars.dropFirst() where out.count < maxScalars {
            guard width(s.value) == 0, s.value >= 0x300 else { return [0x3F] }
            out.append(s.value)
        }
        return out
    }
}
