#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CNCursesw
import TerminalUI

/// The real terminal: ncursesw in raw-ish mode (cbreak, no echo, keypad, non-blocking reads).
///
/// Only one may exist at a time (curses has one current screen). Create it, poll
/// `inputDescriptor`, call `readInput()` until it returns nil, `draw` frames, and `restore()`
/// before exiting (it is also safe from a signal-triggered shutdown path, and idempotent).
public final class CursesBackend: TerminalBackend {
    /// False when the locale's codeset is not UTF-8: non-ASCII is then drawn via `ASCIIFallback`.
    public let unicode: Bool
    /// The descriptor to poll(2) for input: STDIN_FILENO, or `/dev/tty` when stdin/stdout are not
    /// a terminal.
    public let inputDescriptor: Int32
    /// The colours in use after `has_colors`, `NO_COLOR` and `colorsAllowed` (`.none`: attributes only).
    public let colorDepth: ColorDepth

    let screen: OpaquePointer
    let ttyFile: UnsafeMutablePointer<FILE>?
    /// `use_default_colors()` worked, so -1 means the terminal's own foreground/background.
    let defaultColors: Bool
    var active = true

    // Drawing state.
    var lastFrame: Frame?
    var needsFullRedraw = true
    var pairs: [ColorPairChoice: Int32] = [:]
    var nextPair: Int32 = 1
    var styles: [Style: (attrs: attr_t, pair: Int32)] = [:]
    var glyph: [wchar_t] = Array(repeating: 0, count: 8)

    // Input state: the size last reported as `.resize` (or at start).
    var reportedSize: (width: Int, height: Int) = (0, 0)

    /// Starts curses on the terminal. Throws `CursesError` (never exits the process) when there is
    /// no terminal or curses cannot drive it. Colours are used only when `colorsAllowed`, the
    /// terminal has them and `NO_COLOR` is unset or empty.
    public init(colorsAllowed: Bool = true) throws {
        setlocale(LC_ALL, "")
        let codeset = String(cString: cn_codeset()).uppercased()
        unicode = codeset == "UTF-8" || codeset == "UTF8"

        let term = getenv("TERM").map { String(cString: $0) }
        guard let term, !term.isEmpty else { throw CursesError.cannotInitialize(term: nil) }

        // newterm, not initscr: initscr exits the process when it cannot start.
        var tty: UnsafeMutablePointer<FILE>? = nil
        let screen: OpaquePointer?
        if isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 {
            screen = newterm(nil, cn_stdout(), cn_stdin())
            inputDescriptor = STDIN_FILENO
        } else {
            // "e": close-on-exec, so child processes do not inherit the terminal.
            guard let f = fopen("/dev/tty", "r+e") else {
                throw CursesError.noTerminal(reason: "stdin or stdout is not a terminal and /dev/tty cannot be opened")
            }
            tty = f
            screen = newterm(nil, f, f)
            inputDescriptor = fileno(f)
        }
        guard let screen else {
            if let tty { fclose(tty) }
            throw CursesError.cannotInitialize(term: term)
        }
        set_term(screen)
        // A terminal that cannot move the cursor (TERM=dumb, hard-copy) would get garbage.
        let cup = tigetstr("cup")
        if cup == nil || Int(bitPattern: cup) == -1 || tigetflag("hc") == 1 {
            endwin()
            delscreen(screen)
            if let tty { fclose(tty) }
            throw CursesError.unsuitableTerminal(term: term)
        }
        self.screen = screen
        ttyFile = tty

        let win = cn_stdscr()
        cbreak()
        noecho()
        nonl()
        intrflush(win, false)
        keypad(win, true)
        nodelay(win, true)
        scrollok(win, false)
        leaveok(win, true)
        set_escdelay(25)
        curs_set(0)

        let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        if colorsAllowed, !noColor, has_colors(), start_color() == OK {
            defaultColors = use_default_colors() == OK
            colorDepth = ColorDepth(colors: Int(cn_colors()), directColor: tigetflag("RGB") == 1)
        } else {
            defaultColors = false
            colorDepth = .none
        }
        reportedSize = size
    }

    deinit {
        restore()
        delscreen(screen)
        if let ttyFile { fclose(ttyFile) }
    }

    /// The screen size in columns and rows, as curses currently knows it.
    public var size: (width: Int, height: Int) {
        var rows: Int32 = 0, cols: Int32 = 0
        cn_getmaxyx(cn_stdscr(), &rows, &cols)
        return (Int(cols), Int(rows))
    }

    /// Leaves curses mode: the terminal's modes, cursor and keypad go back to how they were.
    /// Idempotent; after it, `draw` and `readInput` do nothing.
    public func restore() {
        guard active else { return }
        active = false
        curs_set(1)
        endwin()
    }
}
