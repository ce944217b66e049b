import Testing
@testable import TerminalUI

@Suite struct TableTests {
    struct Row { var name: String; var rps: Int; var note: String }
    static let rows = [Row(name: "alpha", rps: 52, note: "canary"), Row(name: "doc-embed-long", rps: 140, note: "ok"), Row(name: "fraud", rps: 7, note: "")]
    static let bad = Style(bold: true)

    static func columns() -> [TableColumn<Row>] {
        [
            TableColumn("NAME", width: 8) { TableCell($0.name) },
            TableColumn("RPS", width: 4, priority: 1, alignment: .right) { r in TableCell(String(r.rps), r.rps > 100 ? bad : .plain) },
            TableColumn("NOTE", minWidth: 4, maxWidth: 10, priority: 2) { TableCell($0.note) },
        ]
    }

    static func render(width: Int, height: Int = 4, selection: Int? = nil, rows: [Row] = rows) -> Frame {
        var f = Frame(width: width, height: height)
        Table(columns: columns(), rows: rows, selection: selection).draw(into: &f, in: f.bounds)
        return f
    }

    @Test func wideEnoughEveryColumnShowsAndTheFlexibleOneGrowsToItsMaximum() {
        let f = Self.render(width: 30)
        #expect(f.text == """
            NAME      RPS NOTE
            alpha      52 canary
            doc-embe  140 ok
            fraud       7
            """)
        #expect(f[11, 2].style == Self.bad && f[11, 1].style == .plain, "each cell keeps its own style")
    }

    @Test func narrowTheFlexibleColumnShrinksThenTheLeastImportantIsDropped() {
        // NOTE shrinks to what is left (each column keeps a gap after it)...
        #expect(Self.render(width: 19).text == """
            NAME      RPS NOTE
            alpha      52 canar
            doc-embe  140 ok
            fraud       7
            """)
        // ...until its minimum no longer fits: then it is dropped whole, not shown cut to nothing.
        #expect(Self.render(width: 18).text == """
            NAME      RPS
            alpha      52
            doc-embe  140
            fraud       7
            """)
        // Narrower than NAME and RPS: only the most important column.
        #expect(Self.render(width: 12).text == "NAME\nalpha\ndoc-embe\nfraud")
    }

    @Test func layoutKeepsByPriorityButDrawsInColumnOrder() {
        let cols = [TableColumn<Row>("A", width: 5, priority: 2) { _ in "" }, TableColumn("B", width: 5) { _ in "" },
                    TableColumn("C", minWidth: 2, maxWidth: 6, priority: 1) { _ in "" }]
        #expect(Table.layout(cols, width: 10).map { [$0.index, $0.x, $0.width] } == [[1, 0, 5], [2, 6, 4]])
        #expect(Table.layout(cols, width: 20).map { [$0.index, $0.x, $0.width] } == [[0, 0, 5], [1, 6, 5], [2, 12, 6]])
        #expect(Table.layout(cols, width: 2).isEmpty)
    }

    @Test func theSelectionIsHighlightedAcrossTheRowAndKeptInView() {
        let many = (0..<10).map { Row(name: "r\($0)", rps: $0, note: "") }
        let f = Self.render(width: 20, height: 4, selection: 6, rows: many)
        #expect(f.text == "NAME      RPS NOTE\nr5          5\nr6          6\nr7          7")
        #expect((0..<20).allSatisfy { f[$0, 2].style.reverse } && !f[0, 1].style.reverse)
        // The end is never scrolled past.
        #expect(Self.render(width: 20, height: 4, selection: 9, rows: many).text.hasSuffix("r7          7\nr8          8\nr9          9"))
        #expect(Table<Row>.window(count: 10, selection: 0, visible: 3) == 0..<3)
        #expect(Table<Row>.window(count: 2, selection: 1, visible: 5) == 0..<2)
        #expect(Table<Row>.window(count: 5, selection: 2, visible: 0).isEmpty)
    }

    @Test func aRightAlignedCellTooWideIsCutFromTheRight() {
        let cols = [TableColumn<Row>("N", width: 3, alignment: .right) { TableCell(String($0.rps)) }]
        var f = Frame(width: 4, height: 3)
        Table(columns: cols, rows: [Row(name: "", rps: 7, note: ""), Row(name: "", rps: 123456, note: "")]).draw(into: &f, in: f.bounds)
        #expect(f.text == "  N\n  7\n123")
    }
}
