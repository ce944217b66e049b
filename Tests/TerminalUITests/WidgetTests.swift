import Testing
@testable import TerminalUI

@Suite struct WeightBarTests {
    @Test func aSplitShadesEachSegmentAndFillsTheRestEmpty() {
        #expect(WeightBar(segments: [7, 3], width: 10).text == "███████▓▓▓")
        #expect(WeightBar(segments: [2, 2, 2, 2, 2], width: 10, ascii: true).text == "##==++~~##")
        #expect(WeightBar(segments: [], width: 4).text == "░░░░", "no weight anywhere reads as empty, not as a bar")
        #expect(WeightBar(segments: [8, 8], width: 10).text == "████████▓▓", "never wider than its width")
    }

    @Test func aLevelRoundsDownAndStaysInItsWidth() {
        #expect(WeightBar.level(15, of: 100, width: 20).text == "███░░░░░░░░░░░░░░░░░")
        #expect(WeightBar.level(100, of: 100, width: 4, ascii: true).text == "####")
        #expect(WeightBar.level(250, of: 100, width: 4).text == "████")
        #expect(WeightBar.level(5, of: 0, width: 3).text == "░░░")
    }

    @Test func itDrawsClippedToTheFrame() {
        var f = Frame(width: 6, height: 1)
        WeightBar(segments: [4, 4], width: 8, ascii: true).draw(into: &f, x: 1, y: 0, style: Style(dim: true))
        #expect(f.text == " ####=")
        #expect(f[1, 0].style.dim && !f[0, 0].style.dim)
    }
}

@Suite struct WaterfallBarTests {
    @Test func barsShareTheWindowsAxis() {
        let bar = { (start: Int64, duration: Int64) in WaterfallBar(start: start, duration: duration, windowStart: 1000, windowEnd: 2000) }
        #expect(bar(1000, 1000).cells(width: 10) == (0, 10))
        #expect(bar(1500, 200).cells(width: 10) == (5, 2))
        #expect(bar(1990, 1).cells(width: 10) == (9, 1), "an instant span still shows as one cell")
        #expect(bar(1800, 900).cells(width: 10) == (8, 2), "never past the end")
        #expect(bar(500, 100).cells(width: 10) == (0, 1), "a span before the window starts at its edge")
        #expect(bar(1000, 10).cells(width: 0) == (0, 0))
    }

    @Test func itDrawsOnlyTheBar() {
        var f = Frame(width: 12, height: 2)
        f.put("............", x: 0, y: 0)
        WaterfallBar(start: 250, duration: 500, windowStart: 0, windowEnd: 1000, ascii: true).draw(into: &f, x: 2, y: 0, width: 8, style: Style(bold: true))
        WaterfallBar(start: 0, duration: 100, windowStart: 0, windowEnd: 100).draw(into: &f, x: 2, y: 1, width: 4)
        #expect(f.text == "....####....\n  ████")
        #expect(f[4, 0].style.bold && !f[3, 0].style.bold)
    }
}

@Suite struct ToastTests {
    @Test func theCompanionShowsRightAlignedOnlyWhenItFitsAfterTheMessage() {
        var f = Frame(width: 24, height: 1)
        Toast("saved", trailing: "/al (2)").draw(into: &f, y: 0, width: 24)
        #expect(f.text == "saved            /al (2)")
        var narrow = Frame(width: 14, height: 1)
        Toast("revision 7 applied", trailing: "/al (2)").draw(into: &narrow, y: 0, width: 14)
        #expect(narrow.text == "revision 7 app", "the message wins, cut to the width")
        var tight = Frame(width: 14, height: 1)
        Toast("saved", trailing: "/al (2)").draw(into: &tight, y: 0, width: 14)
        #expect(tight.text == "saved", "3 blank cells must separate them")
        var fits = Frame(width: 15, height: 1)
        Toast("saved", trailing: "/al (2)").draw(into: &fits, y: 0, width: 15)
        #expect(fits.text == "saved   /al (2)")
    }
}

@Suite struct HelpListTests {
    @Test func keysAndDescriptionsInTwoColumnsCutToTheirWidths() {
        var f = Frame(width: 30, height: 3)
        HelpList([("j, Down", "move down"), ("Ctrl-a, Ctrl-b, Ctrl-c", "a description too long to fit"), ("q", "quit")], indent: 1, keyWidth: 6, spacing: 1)
            .draw(into: &f, in: Rect(x: 0, y: 1, width: 30, height: 2))
        #expect(f.text == "\n j, Dow move down\n Ctrl-a a description too long")
        #expect(f[1, 1].style.bold && !f[8, 1].style.bold)
    }
}

@Suite struct DialogBoxTests {
    static let field = Style(underline: true)
    static func box(_ lines: [DialogBox.Line], width: Int = 24, height: Int = 7, ascii: Bool = false) -> Frame {
        var f = Frame(width: width, height: height)
        DialogBox(title: "Drain v2 of alpha", lines: lines, footer: " Enter apply", ascii: ascii).draw(into: &f, box: f.bounds)
        return f
    }

    @Test func aBoxWithTitleBodyFieldsAndFooter() {
        let f = Self.box([DialogBox.Line(" v1 90 → 100"), .blank, DialogBox.field(" reason: ", value: "p99", focused: true, focusStyle: Self.field)])
        #expect(f.text == """
            ┌──────────────────────┐
            │ Drain v2 of alpha    │
            │ v1 90 → 100          │
            │                      │
            │ reason: p99_         │
            │ Enter apply          │
            └──────────────────────┘
            """)
        #expect(f[2, 4].style == Self.field && f[2, 2].style == .plain && f[1, 1].style.bold)
        #expect(DialogBox.field(" x: ", value: "a", focused: false, focusStyle: Self.field) == DialogBox.Line(" x: a"))
    }

    @Test func narrowAndShortLinesAreCutAndWhatDoesNotFitIsLeftOut() {
        let f = Self.box([DialogBox.Line(" a line far too long for the box"), DialogBox.Line(" two"), DialogBox.Line(" three")],
                         width: 14, height: 5, ascii: true)
        #expect(f.text == """
            +------------+
            | Drain v2 of|
            | a line far |
            | Enter apply|
            +------------+
            """)
    }
}
