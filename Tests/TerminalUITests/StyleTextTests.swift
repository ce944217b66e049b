import Testing
@testable import TerminalUI

@Suite struct StyleTextTests {
    @Test func oneCharacterPerCellWithTheStrongestAttribute() {
        var f = Frame(width: 8, height: 3)
        f.put("ab", x: 0, y: 0, style: Style(bold: true))
        f.put("c", x: 2, y: 0, style: Style(fg: .ansi(1), underline: true))
        f.put("d", x: 3, y: 0, style: Style(dim: true))
        f.put("xy", x: 1, y: 1, style: Style(bold: true, reverse: true))
        f.put("z", x: 3, y: 1, style: Style(bold: true, dim: true, underline: true))
        f.put("q", x: 4, y: 1, style: Style(dim: true, underline: true))
        f.put("colour only", x: 0, y: 2, style: Style(fg: .ansi(2), bg: .rgb(1, 2, 3)))
        #expect(f.styleText == "BBUD\n.RRBU\n")
    }

    @Test func anEmptyFrameIsEmpty() {
        #expect(Frame(width: 0, height: 0).styleText == "")
        #expect(Frame(width: 3, height: 2).styleText == "\n")
    }
}
