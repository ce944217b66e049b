/// A bordered box over the screen: a title line, body lines (each may carry its own style, for a
/// focused field or an error), and a footer on the last inner line.
public struct DialogBox: Sendable {
    public struct Line: Hashable, Sendable {
        public var text: String
        /// Nil draws the line in the box's style.
        public var style: Style?
        public init(_ text: String, _ style: Style? = nil) { self.text = text; self.style = style }
        public static let blank = Line("")
    }

    public var title: String
    public var lines: [Line]
    public var footer: String
    public var style: Style
    public var titleStyle: Style
    public var ascii: Bool

    public init(title: String, lines: [Line], footer: String = "", style: Style = .plain, titleStyle: Style = Style(bold: true), ascii: Bool = false) {
        self.title = title; self.lines = lines; self.footer = footer; self.style = style; self.titleStyle = titleStyle; self.ascii = ascii
    }

    /// A text field: its label and value, with a cursor and the focus style while it has the focus.
    /// A value longer than `width` cells (label included) scrolls: its end, where the cursor is,
    /// stays in view behind an ellipsis.
    public static func field(_ label: String, value: String, focused: Bool, focusStyle: Style, width: Int = .max, ascii: Bool = false) -> Line {
        let cursor = focused ? "_" : ""
        let room = width - label.count - cursor.count
        var shown = value
        if value.count > room && room > 4 {
            let ellipsis = ascii ? "..." : "…"
            shown = ellipsis + String(value.suffix(room - ellipsis.count))
        }
        return Line(label + shown + cursor, focused ? focusStyle : nil)
    }

    /// `text` broken at spaces into lines of at most `width` cells (a word longer than that is cut
    /// across lines), each line after the first indented by `indent`: for messages that must be read
    /// whole, not cut at the box's edge.
    public static func wrapped(_ text: String, width: Int, indent: Int = 0, style: Style? = nil) -> [Line] {
        // Leading spaces (a line's own margin) stay on the first line and count against its width.
        let lead = String(text.prefix { $0 == " " })
        let width = width - lead.count
        guard width > indent + 1 else { return [Line(text, style)] }
        var lines: [String] = []
        var current = ""
        let pad = String(repeating: " ", count: indent)
        for word in text.dropFirst(lead.count).split(separator: " ") {
            let room = width - (lines.isEmpty ? 0 : indent)
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= room {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
            while current.count > width - (lines.isEmpty ? 0 : indent) {
                let cut = width - (lines.isEmpty ? 0 : indent)
                lines.append(String(current.prefix(cut)))
                current = String(current.dropFirst(cut))
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines.enumerated().map { Line(($0.offset == 0 ? lead : lead + pad) + $0.element, style) }
    }

    /// Draws the box over `box` (fill, border, title, lines, footer). Lines that do not fit above
    /// the footer are left out, so the box never spills over what is behind it.
    public func draw(into f: inout Frame, box: Rect) {
        guard box.width >= 2, box.height >= 2 else { return }
        f.fill(box, style: style)
        let (h, v): (Character, Character) = ascii ? ("-", "|") : ("─", "│")
        let (tl, tr, bl, br): (Character, Character, Character, Character) = ascii ? ("+", "+", "+", "+") : ("┌", "┐", "└", "┘")
        for x in box.x..<box.maxX {
            f[x, box.y] = Cell(h, style)
            f[x, box.maxY - 1] = Cell(h, style)
        }
        for y in box.y..<box.maxY {
            f[box.x, y] = Cell(v, style)
            f[box.maxX - 1, y] = Cell(v, style)
        }
        f[box.x, box.y] = Cell(tl, style); f[box.maxX - 1, box.y] = Cell(tr, style)
        f[box.x, box.maxY - 1] = Cell(bl, style); f[box.maxX - 1, box.maxY - 1] = Cell(br, style)
        let inner = box.inset(by: 1)
        guard inner.height > 0 else { return }
        f.put(" " + title, x: inner.x, y: inner.y, style: titleStyle, maxWidth: inner.width)
        for (i, line) in lines.prefix(max(0, inner.height - 2)).enumerated() {
            f.put(line.text, x: inner.x, y: inner.y + 1 + i, style: line.style ?? style, maxWidth: inner.width)
        }
        if inner.height > 1 { f.put(footer, x: inner.x, y: inner.maxY - 1, style: style, maxWidth: inner.width) }
    }
}
