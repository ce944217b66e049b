import CNCursesw
import TerminalUI

/// What `get_wch` returned, as the console's input. Pure, so it is tested without a terminal.
public enum KeyDecoder {
    /// A curses key code (`get_wch` returned `KEY_CODE_YES`). `size` is the screen size to report
    /// for `KEY_RESIZE`. Nil for keys the console has no name for (mouse, Insert, ...).
    public static func event(keyCode code: Int32, size: (width: Int, height: Int)) -> InputEvent? {
        switch code {
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_HOME, KEY_A1, KEY_FIND: return .key(.home)
        case KEY_END, KEY_C1, KEY_SELECT: return .key(.end)
        case KEY_PPAGE, KEY_A3: return .key(.pageUp)
        case KEY_NPAGE, KEY_C3: return .key(.pageDown)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_BTAB: return .key(.backTab)
        case KEY_ENTER: return .key(.enter)
        case KEY_RESIZE: return .resize(width: size.width, height: size.height)
        case (KEY_F0 + 1)...(KEY_F0 + 63): return .key(.function(Int(code - KEY_F0)))
        default: return nil
        }
    }

    /// A character (`get_wch` returned `OK`). Nil for control characters without a key
    /// (NUL, Ctrl-\ ...) and for values that are not Unicode scalars.
    public static func event(character code: UInt32) -> InputEvent? {
        switch code {
        case 13, 10: return .key(.enter)
        case 27: return .key(.escape)
        case 9: return .key(.tab)
        case 127, 8: return .key(.backspace)
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(UInt8(0x60 + code)))))
        case 0..<32, 0x80..<0xA0: return nil
        default:
            guard let scalar = Unicode.Scalar(code) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }
}
