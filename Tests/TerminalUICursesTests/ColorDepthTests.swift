import Testing
import TerminalUI
import TerminalUICurses

@Suite struct ColorDepthTests {
    let orange = Color.rgb(255, 135, 0)

    @Test func depthFromCOLORS() {
        #expect(ColorDepth(colors: 256) == .indexed256)
        #expect(ColorDepth(colors: 88) == .ansi16)
        #expect(ColorDepth(colors: 16) == .ansi16)
        #expect(ColorDepth(colors: 8) == .ansi8)
        #expect(ColorDepth(colors: 0) == .none)
        #expect(ColorDepth(colors: -1) == .none)
        #expect(ColorDepth(colors: 2) == .none)
        #expect(ColorDepth(colors: 0x1000000) == .indexed256)
        #expect(ColorDepth(colors: 0x1000000, directColor: true) == .direct)
        #expect(ColorDepth(colors: 256, directColor: true) == .indexed256)
    }

    @Test func with256ColoursThePaletteIndexIsUsed() {
        let d = ColorDepth(colors: 256)
        #expect(d.number(for: orange)?.number == Int32(orange.indexed256))
        #expect(d.number(for: orange)?.number == 208)
        #expect(d.number(for: .indexed(39))?.number == 39)
        #expect(d.number(for: .ansi(9))?.number == 9)
        #expect(d.pair(fg: orange, bg: .indexed(39)) == ColorPairChoice(fg: 208, bg: 39))
    }

    @Test func with16ColoursTheNearestANSIColourIsUsed() {
        let d = ColorDepth(colors: 16)
        #expect(d.number(for: orange)?.number == Int32(orange.ansi16))
        #expect(d.number(for: .indexed(39))?.number == Int32(Color.indexed(39).ansi16))
        #expect(d.number(for: .ansi(9))?.number == 9)
        #expect(d.pair(fg: .ansi(9), bg: .ansi(4)) == ColorPairChoice(fg: 9, bg: 4))
    }

    @Test func with8ColoursBrightBecomesBold() {
        let d = ColorDepth(colors: 8)
        #expect(d.number(for: .ansi(9))! == (1, true))
        #expect(d.number(for: .ansi(1))! == (1, false))
        #expect(d.number(for: orange)?.number == Int32(orange.ansi16 % 8))
        #expect(d.pair(fg: .ansi(10), bg: .ansi(12)) == ColorPairChoice(fg: 2, bg: 4, boldForBright: true))
        #expect(d.pair(fg: .ansi(2), bg: .ansi(12)) == ColorPairChoice(fg: 2, bg: 4, boldForBright: false))
    }

    @Test func withoutColoursThereIsNoPair() {
        let d = ColorDepth(colors: 0)
        #expect(d.number(for: orange) == nil)
        #expect(d.pair(fg: orange, bg: .ansi(1)) == nil)
    }

    @Test func defaultIsMinusOneOrWhiteOnBlackWithoutDefaultColours() {
        for colors in [256, 16, 8] {
            let d = ColorDepth(colors: colors)
            #expect(d.number(for: .default) == nil)
            #expect(d.pair(fg: .default, bg: .default) == ColorPairChoice(fg: -1, bg: -1))
            #expect(d.pair(fg: .default, bg: .default, defaultColors: false) == ColorPairChoice(fg: 7, bg: 0))
            #expect(d.pair(fg: .ansi(1), bg: .default)?.bg == -1)
        }
    }

    @Test func directColourPacksRGBAndKeepsTheEightANSIColours() {
        let d = ColorDepth.direct
        #expect(d.number(for: orange)?.number == 0xFF8700)
        #expect(d.number(for: .ansi(3))?.number == 3)
        #expect(d.number(for: .indexed(5))?.number == 5)
        #expect(d.number(for: .ansi(9))?.number == 0xFF0000)
        #expect(d.number(for: .indexed(208))?.number == 0xFF8700)
        #expect(d.number(for: .indexed(232))?.number == 0x080808)
        #expect(d.number(for: .rgb(0, 0, 5))?.number == 0) // would collide with ANSI magenta
    }
}
