/// One character cell. `text` is a single grapheme that occupies one column.
public struct Cell: Hashable, Sendable {
    public var text: Character
    public var style: Style
    public init(_ text: Character = " ", _ style: Style = .plain) { self.text = text; self.style = style }
    public static let blank = Cell()
}

public struct Rect: Hashable, Sendable {
    public var x, y, width, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    /// A rectangle of `w`×`h` centred in this one.
    public func centered(width w: Int, height h: Int) -> Rect {
        Rect(x: x + max(0, (width - w) / 2), y: y + max(0, (height - h) / 2), width: min(w, width), height: min(h, height))
    }

    public func inset(by n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
}

/// The screen as data: what `view` returns and snapshot tests compare. The backend writes only the
/// cells that differ from the previous frame.
public struct Frame: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0 && y >= 0 && x < width && y < height { cells[y * width + x] = newValue } }
    }

    /// Writes `text` from (x, y), clipped to `maxWidth` columns and the frame. Returns the column after it.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0 && y < height else { return x }
        let limit = min(width, x + (maxWidth ?? width))
        var col = x
        // Most of what a frame holds is ASCII (names, figures, titles): walking its bytes skips
        // the grapheme breaking a Character walk does, which was the largest cost of view().
        // Not with a CR: "\r\n" is one Character, so one cell, as widths are counted elsewhere.
        if text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) {
            for b in text.utf8 {
                if col >= limit { break }
                if col >= 0 { cells[y * width + col] = Cell(b < 0x20 || b == 0x7F ? "?" : Character(Unicode.Scalar(b)), style) }
                col += 1
            }
            return col
        }
        // Text of scalars that each stand alone as a grapheme (the bars' blocks, ✓ ✗ … → é): one
        // cell per scalar, which is what the Character walk below gives for them, without its
        // grapheme breaking (a third of the overview's frame time).
        if text.unicodeScalars.allSatisfy(Self.standsAlone) {
            for scalar in text.unicodeScalars {
                if col >= limit { break }
                if col >= 0 { cells[y * width + col] = Cell(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : Character(scalar), style) }
                col += 1
            }
            return col
        }
        for ch in text {
            if col >= limit { break }
            if col >= 0 {
                // Control characters would move the terminal's cursor: never write them.
                let safe: Character = ch.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? "?" : ch
                cells[y * width + col] = Cell(safe, style)
            }
            col += 1
        }
        return col
    }

    /// Whether a scalar is a grapheme on its own whatever surrounds it: not CR (CR LF is one),
    /// and in blocks that hold no combining, joining, prepended or spacing marks, no Hangul, no
    /// regional indicators and no emoji modifiers (Unicode's extended grapheme cluster rules).
    @inline(__always)
    static func standsAlone(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x0C, 0x0E...0x2FF: true // controls become "?" cell by cell either way
        case 0x2010...0x2027, 0x2030...0x205E: true // dashes, quotes, bullets, ellipsis
        case 0x2190...0x23FF, 0x2500...0x27BF: true // arrows, technical, box drawing, blocks, shapes, dingbats
        default: false
        }
    }

    public mutating func fill(_ rect: Rect, style: Style, char: Character = " ") {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { cells[y * width + x] = Cell(char, style) }
        }
    }

    /// Sets the style of every cell of a row segment, keeping its characters (selection highlight).
    public mutating func restyle(_ rect: Rect, _ change: (inout Style) -> Void) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { change(&cells[y * width + x].style) }
        }
    }

    /// The frame as plain text, one line per row, trailing spaces removed: what snapshots hold.
    public var text: String {
        (0..<height).map { y in
            var line = String(cells[(y * width)..<(y * width + width)].map(\.text))
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// Runs of cells that differ from `old`, as (x, y, cells); everything when sizes differ.
    public func changes(since old: Frame?) -> [(x: Int, y: Int, cells: ArraySlice<Cell>)] {
        var out: [(Int, Int, ArraySlice<Cell>)] = []
        let full = old == nil || old!.width != width || old!.height != height
        for y in 0..<height {
            var x = 0
            while x < width {
                let i = y * width + x
                if full || old!.cells[i] != cells[i] {
                    var end = x + 1
                    while end < width, full || old!.cells[y * width + end] != cells[y * width + end] { end += 1 }
                    out.append((x, y, cells[i..<(y * width + end)]))
                    x = end
                } else {
                    x += 1
                }
            }
        }
        return out
    }
}
