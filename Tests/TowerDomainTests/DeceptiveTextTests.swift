import Foundation
import Testing
@testable import TowerDomain

/// Text an operator reads cannot be made to say something else (issue 13, item 6).
@Suite struct DeceptiveTextTests {
    @Test func bidiControlsAndSeparatorsAreDrawnEscaped() {
        #expect(Names.printable("shift \u{202E}2v") == "shift \\u{202E}2v")
        #expect(Names.printable("a\u{2028}b\u{2029}c") == "a\\u{2028}b\\u{2029}c")
        #expect(Names.printable("x\u{2066}y\u{2069}\u{200F}") == "x\\u{2066}y\\u{2069}\\u{200F}")
        #expect(Names.printable("tab\there") == "tab?here")
        #expect(Names.printable("plain é 🚀") == "plain é 🚀")
    }

    @Test func reasonsWithThemAreRefused() {
        for r in ["a\u{2028}b", "\u{202E}evil", "x\u{061C}", "ok\u{200E}", "i\u{2067}"] {
            #expect(Reason.problem(r)?.contains("bidirectional") == true, "\(r.unicodeScalars.map(\.value))")
        }
        #expect(Reason.problem("rollout 👩‍💻 done") == nil, "a zero-width joiner in an emoji is fine")
    }
}
