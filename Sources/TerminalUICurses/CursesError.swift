/// Why the curses backend could not start. The messages are meant for the user's terminal.
public enum CursesError: Error, CustomStringConvertible, Sendable {
    /// Neither stdin/stdout nor `/dev/tty` is a terminal (e.g. run from cron or a pipe without one).
    case noTerminal(reason: String)
    /// curses does not know or cannot drive this terminal type.
    case cannotInitialize(term: String?)
    /// The terminal type cannot address the cursor (e.g. `TERM=dumb`).
    case unsuitableTerminal(term: String)

    public var description: String {
        switch self {
        case .noTerminal(let reason):
            return "no terminal to draw on: \(reason); the console needs an interactive terminal"
        case .cannotInitialize(let term):
            if let term, !term.isEmpty {
                return "cannot drive terminal type '\(term)': check TERM and the terminfo database"
            }
            return "cannot start curses: TERM is not set"
        case .unsuitableTerminal(let term):
            return "terminal type '\(term)' cannot move the cursor; set TERM to your terminal (e.g. xterm-256color)"
        }
    }
}
