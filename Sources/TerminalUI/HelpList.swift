/// Keys and what they do, two columns: the key in its own style, the description after it.
public struct HelpList: Sendable {
    public var entries: [(key: String, description: String)]
    public var keyStyle: Style
    public var descriptionStyle: Style
    /// Cells before the key, the key column's width and the cells between the columns.
    public var indent: Int
    public var keyWidth: Int
    public var spacing: Int

    public init(_ entries: [(key: String, description: String)], keyStyle: Style = Style(bold: true), descriptionStyle: Style = .plain,
                indent: Int = 2, keyWidth: Int = 14, spacing: Int = 2) {
        self.entries = entries; self.keyStyle = keyStyle; self.descriptionStyle = descriptionStyle
        self.indent = indent; self.keyWidth = keyWidth; self.spacing = spacing
    }

    /// One entry a line from the top of `rect`, as many as fit; keys and descriptions cut to their column.
    public func draw(into f: inout Frame, in rect: Rect) {
        let descriptionX = rect.x + indent + keyWidth + spacing
        for (i, e) in entries.prefix(rect.height).enumerated() {
            f.put(e.key, x: rect.x + indent, y: rect.y + i, style: keyStyle, maxWidth: keyWidth)
            f.put(e.description, x: descriptionX, y: rect.y + i, style: descriptionStyle, maxWidth: rect.maxX - descriptionX)
        }
    }
}
