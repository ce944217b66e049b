extension Frame {
    /// The frame's attributes as text, one character per cell, for monochrome snapshot tests: `.` plain,
    /// `R` reverse, `B` bold, `U` underline, `D` dim — the first of R > B > U > D when several are set,
    /// since reverse is what the eye sees first. Colours are ignored: without them, attributes are all
    /// that tells state apart. Trailing `.` are removed, like trailing spaces in `text`.
    public var styleText: String {
        (0..<height).map { y in
            var line = String((0..<width).map { x -> Character in
                let s = self[x, y].style
                return s.reverse ? "R" : s.bold ? "B" : s.underline ? "U" : s.dim ? "D" : "."
            })
            while line.last == "." { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
