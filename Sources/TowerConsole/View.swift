import TerminalUI

public enum Layout {
    public static let minWidth = 60
    public static let minHeight = 16
}

/// The whole screen as data: the header, the current screen in the body, the footer, and the
/// dialog over them all. Each screen draws itself in its own file.
public func view(_ state: ConsoleState) -> Frame {
    var f = Frame(width: state.width, height: state.height)
    let g = Glyphs(ascii: state.ascii)
    if state.width < Layout.minWidth || state.height < Layout.minHeight {
        let lines = ["terminal too small: \(state.width)×\(state.height)",
                     "Tower needs at least \(Layout.minWidth)×\(Layout.minHeight)", "q quits"]
        for (i, l) in lines.enumerated() { f.put(l, x: 0, y: i, style: i == 0 ? state.theme.bad : .plain) }
        return f
    }
    header(&f, state, g)
    let body = Rect(x: 0, y: 1, width: state.width, height: state.height - 3)
    switch state.screen {
    case .overview: overviewScreen(&f, state, body, g)
    case .endpoint(let name): endpointScreen(&f, state, name, body, g)
    case .audit: auditScreen(&f, state, body, g)
    case .traces(let name): tracesScreen(&f, state, name, body, g)
    case .trace: traceScreen(&f, state, body, g)
    case .help: helpScreen(&f, state, body)
    case .auditEntry(let seq): auditEntryScreen(&f, state, seq, body, g)
    }
    footer(&f, state)
    if let d = state.dialog { dialogView(&f, state, d, g) }
    return f
}
