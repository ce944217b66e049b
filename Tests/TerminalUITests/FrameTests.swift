import Testing
@testable import TerminalUI

@Suite struct FrameTests {
    @Test func putClipsToTheFrameAndToMaxWidth() {
        var f = Frame(width: 10, height: 2)
        #expect(f.put("hello world", x: 3, y: 0) == 10)
        f.put("abcdef", x: 0, y: 1, maxWidth: 3)
        #expect(f.text == "   hello w\nabc")
        f.put("zz", x: -1, y: 1)
        #expect(f.text.hasSuffix("zbc"))
        f.put("nothing", x: 0, y: 5)
    }

    @Test func controlCharactersNeverReachTheTerminal() {
        var f = Frame(width: 12, height: 1)
        f.put("a\u{1B}[2Jb\nc", x: 0, y: 0)
        #expect(f.text == "a?[2Jb?c")
    }

    /// One cell per Character, whether the text is ASCII (walked by bytes) or not.
    @Test func everyCharacterTakesOneCellWhateverItsBytes() {
        var f = Frame(width: 12, height: 3)
        #expect(f.put("a\r\nb\tc", x: 0, y: 0) == 5)
        #expect(f.put("naïve ✓ é", x: 0, y: 1) == 9)
        #expect(f.put("plain ascii", x: 0, y: 2, maxWidth: 5) == 5)
        #expect(f.text == "a?b?c\nnaïve ✓ é\nplain")
        #expect(f.text.split(separator: "\n").map(\.count) == [5, 9, 5])
    }

    /// Text whose scalars each stand alone (bars, marks, accented letters) is walked by scalars:
    /// the cells must be those the grapheme walk gives, and text with a combining mark, an emoji
    /// sequence or CR LF still takes the grapheme walk.
    @Test func scalarWalkAndGraphemeWalkGiveTheSameCells() {
        func graphemeCells(_ text: String) -> [Character] {
            text.map { ch in ch.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? "?" : ch }
        }
        let texts = ["██▓▓▒░░░░░", "✓ serving", "… → ✗ ↑↓", "naïve é\t", "─┼│ ● ○ ◆", "‘quoted’ — “x” •",
                     "e\u{301}x", "👍🏽 ok", "a\r\nb", "🇫🇷", "x\u{200D}y", "é\u{FE0F}"]
        for t in texts {
            var f = Frame(width: 20, height: 1)
            let end = f.put(t, x: 0, y: 0)
            let expected = graphemeCells(t)
            #expect(end == expected.count, "\(t)")
            #expect((0..<expected.count).map { f[$0, 0].text } == expected, "\(t)")
        }
        #expect(Frame.standsAlone("█") && Frame.standsAlone("é") && !Frame.standsAlone("\u{301}") && !Frame.standsAlone("\r"))
    }

    @Test func changesAreOnlyTheCellsThatDiffer() {
        var a = Frame(width: 20, height: 3)
        a.put("endpoint alpha 90", x: 0, y: 1)
        var b = a
        b.put("85", x: 15, y: 1)
        b.restyle(Rect(x: 0, y: 2, width: 2, height: 1)) { $0.bold = true }
        let runs = b.changes(since: a)
        #expect(runs.count == 2)
        #expect(runs[0].x == 15 && runs[0].y == 1 && String(runs[0].cells.map(\.text)) == "85")
        #expect(runs[1].x == 0 && runs[1].y == 2 && runs[1].cells.count == 2)
        #expect(b.changes(since: b).isEmpty)
        #expect(b.changes(since: nil).count == 3, "a first draw writes every row")
    }

    @Test func coloursDegrade() {
        #expect(Color.rgb(255, 0, 0).indexed256 == 196)
        #expect(Color.rgb(128, 128, 128).indexed256 == 243)
        #expect(Color.rgb(255, 0, 0).ansi16 == 9)
        #expect(Color.rgb(0, 128, 0).ansi16 == 2)
        #expect(Color.indexed(21).ansi16 == 12)
    }

    @Test func keyNamesRoundTrip() {
        for k: KeyEvent in [.char("j"), .char(" "), .enter, .escape, .ctrl("c"), .up, .pageDown, .function(5), .char("+")] {
            #expect(KeyEvent(name: k.name) == k)
        }
        #expect(KeyEvent(name: "Hyper-x") == nil)
    }

    @Test func rectsCentreAndInset() {
        let r = Rect(x: 0, y: 0, width: 80, height: 24).centered(width: 40, height: 10)
        #expect(r == Rect(x: 20, y: 7, width: 40, height: 10))
        #expect(r.inset(by: 1) == Rect(x: 21, y: 8, width: 38, height: 8))
    }
}
