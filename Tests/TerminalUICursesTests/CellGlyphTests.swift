import Testing
import TerminalUICurses

@Suite struct CellGlyphTests {
    /// A stand-in for wcwidth in a UTF-8 locale.
    static func width(_ v: UInt32) -> Int32 {
        switch v {
        case 0..<0x20, 0x7F..<0xA0: -1
        case 0x300..<0x370: 0
        case 0x4E00..<0xA000, 0x1F300..<0x1FB00: 2
        default: 1
        }
    }

    func glyph(_ c: Character, unicode: Bool = true) -> [UInt32] {
        CellGlyph.scalars(for: c, unicode: unicode, width: Self.width)
    }

    @Test func asciiAndSingleWidthUnicodePassThrough() {
        #expect(glyph("a") == [0x61])
        #expect(glyph("─") == [0x2500])
        #expect(glyph("▇") == [0x2587])
    }

    @Test func combiningMarksStayWithTheirBase() {
        #expect(glyph("e\u{301}") == [0x65, 0x301])
        #expect(glyph("e\u{301}", unicode: false) == [0x65])
    }

    @Test func anythingNotOneColumnWideBecomesAQuestionMark() {
        #expect(glyph("中") == [0x3F])
        #expect(glyph("🚀") == [0x3F])
        #expect(glyph("\u{1B}") == [0x3F])
        #expect(glyph("\r\n") == [0x3F])
        #expect(glyph("\u{85}") == [0x3F])
    }

    @Test func withoutUnicodeTheASCIIFallbackIsUsed() {
        #expect(glyph("┼", unicode: false) == [0x2B])
        #expect(glyph("✓", unicode: false) == [0x76])
        #expect(glyph("中", unicode: false) == [0x3F])
    }

    @Test func combiningMarksAreCappedAtCursesLimit() {
        let c: Character = "a\u{300}\u{301}\u{302}\u{303}\u{304}\u{305}"
        #expect(CellGlyph.scalars(for: c, unicode: true, maxScalars: 5, width: Self.width).count == 5)
    }
}
