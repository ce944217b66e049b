import Testing
import TerminalUICurses

@Suite struct ASCIIFallbackTests {
    func mapped(_ s: String) -> String { String(s.map(ASCIIFallback.map)) }

    @Test func asciiIsKept() {
        let printable = String((0x20...0x7E).map { Character(Unicode.Scalar(UInt8($0))) })
        #expect(mapped(printable) == printable)
    }

    @Test func controlCharactersBecomeQuestionMarks() {
        #expect(mapped("\u{1B}\u{7F}\t") == "???")
    }

    @Test func boxDrawing() {
        #expect(mapped("─│┌┐└┘├┤┬┴┼") == "-|+++++++++")
        #expect(mapped("┏━┓┃┗┛╔═╗║╚╝╭╮╰╯") == "+-+|+++-+|++++++")
    }

    @Test func aBoxKeepsItsShape() {
        #expect(mapped("┌──┐\n│ok│\n└──┘") == "+--+?|ok|?+--+")
    }

    @Test func sparklineAndShadesGoFromLightToDense() {
        #expect(mapped("▁▂▃▄▅▆▇█") == "..:--==#")
        #expect(mapped("░▒▓") == ".=#")
    }

    @Test func arrows() {
        #expect(mapped("←→↑↓") == "<>^v")
        #expect(mapped("▲▼◀▶") == "^v<>")
    }

    @Test func marksAndEllipsis() {
        #expect(mapped("✓✗…") == "vx~")
        #expect(mapped("✔✘") == "vx")
    }

    @Test func brailleByDotCount() {
        #expect(mapped("⠀⡀⣀⣄⣤⣦⣶⣷⣿") == " ..::==##") // 0 to 8 dots
    }

    @Test func anythingElseIsAQuestionMark() {
        #expect(mapped("中🚀€ж") == "????")
    }

    @Test func combiningMarksAfterASCIIAreDropped() {
        #expect(ASCIIFallback.map("e\u{301}") == "e")
    }

    @Test func everyResultIsPrintableASCII() {
        for v in UInt32(0)...0x2FFF {
            guard let s = Unicode.Scalar(v) else { continue }
            let c = ASCIIFallback.map(Character(s))
            let out = c.unicodeScalars.first!.value
            #expect(c.unicodeScalars.count == 1 && out >= 0x20 && out < 0x7F, "U+\(String(v, radix: 16))")
        }
    }
}
