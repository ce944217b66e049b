/// How a table cell shows: its text and its own style, so a column can mark one row (a failed gate,
/// a flagged version) without the others.
public struct TableCell: Hashable, Sendable, ExpressibleByStringLiteral {
    public var text: String
    public var style: Style
    public init(_ text: String, _ style: Style = .plain) { self.text = text; self.style = style }
    public init(stringLiteral text: String) { self.init(text) }
}

/// A column: its title, how wide it may be and how much it matters when the screen is narrow.
/// Priority 0 is kept first; higher numbers are dropped first. A column wider than its minimum
/// takes what is left of the row (up to its maximum) once every kept column has its minimum.
public struct TableColumn<Row> {
    public enum Alignment: Sendable { case left, right }
    public var title: String
    public var minWidth: Int
    public var maxWidth: Int
    public var priority: Int
    public var alignment: Alignment
    public var cell: (Row) -> TableCell

    /// A column of a fixed width.
    public init(_ title: String, width: Int, priority: Int = 0, alignment: Alignment = .left, cell: @escaping (Row) -> TableCell) {
        self.init(title, minWidth: width, maxWidth: width, priority: priority, alignment: alignment, cell: cell)
    }

    /// A column that shrinks to `minWidth` on a narrow screen and grows to `maxWidth` on a wide one.
    public init(_ title: String, minWidth: Int, maxWidth: Int = .max, priority: Int = 0, alignment: Alignment = .left,
                cell: @escaping (Row) -> TableCell) {
        self.title = title
        self.minWidth = max(1, minWidth)
        self.maxWidth = max(self.minWidth, maxWidth)
        self.priority = priority
        self.alignment = alignment
        self.cell = cell
    }
}

/// A table of rows under a title line, scrolled to keep the selected row in view and drawn with
/// the selection highlighted across the whole width.
///
/// Its methods are `@inlinable` so callers in other modules get them specialised for their row
/// type: unspecialised, every cell's `rows[r]` copied the row (an `Endpoint`, with its strings and
/// arrays) through the type's value witnesses, which doubled the overview's frame time.
public struct Table<Row> {
    public var columns: [TableColumn<Row>]
    public var rows: [Row]
    public var selection: Int?
    public var titleStyle: Style
    public var selectedStyle: Style
    /// Blank cells after each column.
    public var gap: Int

    public init(columns: [TableColumn<Row>], rows: [Row], selection: Int? = nil, titleStyle: Style = Style(bold: true),
                selectedStyle: Style = Style(reverse: true), gap: Int = 1) {
        self.columns = columns; self.rows = rows; self.selection = selection
        self.titleStyle = titleStyle; self.selectedStyle = selectedStyle; self.gap = gap
    }

    /// Where each kept column goes on a row `width` cells wide: (index in `columns`, x, width), left to
    /// right. Columns are kept most important first while their minimum and a gap fit, so a narrow
    /// screen loses whole low-priority columns rather than showing all of them cut off; then the
    /// flexible ones grow, most important first, into what is left.
    @inlinable
    public static func layout(_ columns: [TableColumn<Row>], width: Int, gap: Int = 1) -> [(index: Int, x: Int, width: Int)] {
        var kept = Set<Int>()
        var used = 0
        // Stable: among equal priorities the leftmost is kept first.
        let byPriority = columns.indices.sorted { (columns[$0].priority, $0) < (columns[$1].priority, $1) }
        for i in byPriority where used + columns[i].minWidth + gap <= width {
            kept.insert(i)
            used += columns[i].minWidth + gap
        }
        var widths = Dictionary(uniqueKeysWithValues: kept.map { ($0, columns[$0].minWidth) })
        // The last column needs no gap after it.
        var slack = width - used + (kept.isEmpty ? 0 : gap)
        for i in byPriority where kept.contains(i) && slack > 0 {
            let grow = min(slack, columns[i].maxWidth - columns[i].minWidth)
            widths[i]! += grow
            slack -= grow
        }
        var x = 0
        return columns.indices.filter { kept.contains($0) }.map { i in
            defer { x += widths[i]! + gap }
            return (i, x, widths[i]!)
        }
    }

    /// The rows shown in `visible` lines: the selection kept near the middle, the end never scrolled
    /// past.
    @inlinable
    public static func window(count: Int, selection: Int?, visible: Int) -> Range<Int> {
        let visible = max(0, visible)
        let top = max(0, min((selection ?? 0) - visible / 2, count - visible))
        return top..<min(count, top + visible)
    }

    /// Draws the titles on the first line of `rect` and the rows below them; returns the rows drawn
    /// (indices into `rows`), the first on `rect.y + 1`.
    @discardableResult @inlinable
    public func draw(into f: inout Frame, in rect: Rect) -> Range<Int> {
        let laid = Self.layout(columns, width: rect.width, gap: gap)
        for (i, x, w) in laid { put(TableCell(columns[i].title, titleStyle), columns[i].alignment, into: &f, x: rect.x + x, y: rect.y, width: w) }
        let shown = Self.window(count: rows.count, selection: selection, visible: rect.height - 1)
        for (line, r) in shown.enumerated() {
            let y = rect.y + 1 + line
            let row = rows[r]
            for (i, x, w) in laid {
                put(columns[i].cell(row), columns[i].alignment, into: &f, x: rect.x + x, y: y, width: w)
            }
            if r == selection { f.restyle(Rect(x: rect.x, y: y, width: rect.width, height: 1)) { $0 = selectedStyle } }
        }
        return shown
    }

    @usableFromInline
    func put(_ c: TableCell, _ alignment: TableColumn<Row>.Alignment, into f: inout Frame, x: Int, y: Int, width: Int) {
        let pad = alignment == .right ? max(0, width - c.text.count) : 0
        f.put(c.text, x: x + pad, y: y, style: c.style, maxWidth: width - pad)
    }
}
