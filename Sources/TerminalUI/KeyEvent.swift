/// A key as the console's core sees it, decoded by the backend.
public enum KeyEvent: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)

    /// The name used in keymap YAML and on the help screen: `j`, `Enter`, `Ctrl-c`, `Up`, `F1`.
    public var name: String {
        switch self {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .ctrl(let c): "Ctrl-\(c)"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .backspace: "Backspace"
        case .delete: "Delete"
        case .up: "Up"
        case .down: "Down"
        case .left: "Left"
        case .right: "Right"
        case .home: "Home"
        case .end: "End"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .function(let n): "F\(n)"
        }
    }

    public init?(name: String) {
        let table: [String: KeyEvent] = [
            "Space": .char(" "), "Enter": .enter, "Esc": .escape, "Tab": .tab, "Shift-Tab": .backTab,
            "Backspace": .backspace, "Delete": .delete, "Up": .up, "Down": .down, "Left": .left, "Right": .right,
            "Home": .home, "End": .end, "PgUp": .pageUp, "PgDn": .pageDown,
        ]
        if let k = table[name] { self = k; return }
        if name.hasPrefix("Ctrl-"), name.count == 6, let c = name.last { self = .ctrl(c); return }
        if name.hasPrefix("F"), let n = Int(name.dropFirst()), (1...12).contains(n) { self = .function(n); return }
        if name.count == 1, let c = name.first { self = .char(c); return }
        return nil
    }
}

/// Input as the runtime receives it from the terminal.
public enum InputEvent: Hashable, Sendable {
    case key(KeyEvent)
    case resize(width: Int, height: Int)
}

/// What a terminal must do for the runtime. The curses backend is the real one; tests use frames.
public protocol TerminalBackend: AnyObject {
    var size: (width: Int, height: Int) { get }
    /// False when the locale is not UTF-8: the console then draws with ASCII only.
    var unicode: Bool { get }
    /// Writes the cells that changed since the last frame drawn.
    func draw(_ frame: Frame)
    /// The next input if one is waiting, without blocking.
    func readInput() -> InputEvent?
    /// The file descriptor to poll(2) for input.
    var inputDescriptor: Int32 { get }
    /// Gives the terminal back as it was; safe to call more than once.
    func restore()
}
