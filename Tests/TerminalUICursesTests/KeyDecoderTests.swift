import Testing
import TerminalUI
import TerminalUICurses

/// Key codes are the ncurses values (octal in curses.h), written out so the test also pins them.
@Suite struct KeyDecoderTests {
    let size = (width: 80, height: 24)

    func key(_ code: Int32) -> InputEvent? { KeyDecoder.event(keyCode: code, size: size) }
    func char(_ code: UInt32) -> InputEvent? { KeyDecoder.event(character: code) }

    @Test func arrowsAndNavigationKeys() {
        #expect(key(0o403) == .key(.up))
        #expect(key(0o402) == .key(.down))
        #expect(key(0o404) == .key(.left))
        #expect(key(0o405) == .key(.right))
        #expect(key(0o406) == .key(.home))
        #expect(key(0o550) == .key(.end))
        #expect(key(0o523) == .key(.pageUp))
        #expect(key(0o522) == .key(.pageDown))
        #expect(key(0o512) == .key(.delete))
        #expect(key(0o541) == .key(.backTab))
        #expect(key(0o407) == .key(.backspace))
        #expect(key(0o527) == .key(.enter))
    }

    @Test func keypadAliasesForHomeEndAndPages() {
        #expect(key(0o534) == .key(.home))     // KEY_A1
        #expect(key(0o537) == .key(.end))      // KEY_C1
        #expect(key(0o535) == .key(.pageUp))   // KEY_A3
        #expect(key(0o540) == .key(.pageDown)) // KEY_C3
    }

    @Test func functionKeys() {
        #expect(key(0o410 + 1) == .key(.function(1)))
        #expect(key(0o410 + 12) == .key(.function(12)))
        #expect(key(0o410 + 13) == .key(.function(13)))
        #expect(key(0o410) == nil) // KEY_F0 is not a key anyone presses
    }

    @Test func resizeCarriesTheSizeItIsGiven() {
        #expect(KeyDecoder.event(keyCode: 0o632, size: (width: 60, height: 12)) == .resize(width: 60, height: 12))
    }

    @Test func unnamedKeyCodesAreDropped() {
        #expect(key(0o513) == nil) // KEY_IC (Insert)
        #expect(key(0o631) == nil) // KEY_MOUSE
    }

    @Test func enterEscapeTabBackspace() {
        #expect(char(13) == .key(.enter))
        #expect(char(10) == .key(.enter))
        #expect(char(27) == .key(.escape))
        #expect(char(9) == .key(.tab))
        #expect(char(127) == .key(.backspace))
        #expect(char(8) == .key(.backspace))
    }

    @Test func controlLetters() {
        #expect(char(1) == .key(.ctrl("a")))
        #expect(char(3) == .key(.ctrl("c")))
        #expect(char(18) == .key(.ctrl("r")))
        #expect(char(26) == .key(.ctrl("z")))
        #expect(KeyEvent(name: "Ctrl-r").map(InputEvent.key) == char(18)) // what the keymap names
    }

    @Test func otherControlCharactersAreDropped() {
        #expect(char(0) == nil)
        #expect(char(28) == nil)
        #expect(char(31) == nil)
        #expect(char(0x85) == nil)      // C1 control
        #expect(char(0xD800) == nil)    // not a scalar
        #expect(char(0x110000) == nil)
    }

    @Test func printableCharactersIncludingNonASCII() {
        #expect(char(0x20) == .key(.char(" ")))
        #expect(char(0x6A) == .key(.char("j")))
        #expect(char(0x3F) == .key(.char("?")))
        #expect(char(0x3A) == .key(.char(":")))
        #expect(char(0xE9) == .key(.char("é")))
        #expect(char(0xA0) == .key(.char("\u{A0}")))
        #expect(char(0x4E2D) == .key(.char("中")))
        #expect(char(0x1F680) == .key(.char("🚀")))
    }
}
