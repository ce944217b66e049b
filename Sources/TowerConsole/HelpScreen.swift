import TerminalUI

/// The keys of the screen help was opened from, generated from the keymap in force; a read-only
/// context lists no action it would refuse.
func helpScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect) {
    let from = s.screens.dropLast().last ?? .overview
    f.put("KEYS ON THE \(screenTitle(from)) (from the keymap; remap them in keymap.yaml)", x: 0, y: r.y, style: s.theme.title, maxWidth: s.width)
    let actions = Action.allCases.filter { $0.applies(on: from) && !(s.readOnly && $0.changesRouting) }
    HelpList(actions.map { (s.keymap.keys($0), $0.help) })
        .draw(into: &f, in: Rect(x: 0, y: r.y + 2, width: s.width, height: r.maxY - r.y - 2))
    if s.readOnly, actions.count + 3 < r.height {
        f.put("read-only context '\(s.contextName)': routing changes are disabled", x: 2, y: r.y + 3 + actions.count, style: s.theme.dim, maxWidth: s.width - 2)
    }
}

private func screenTitle(_ screen: Screen) -> String {
    switch screen {
    case .overview: "OVERVIEW"
    case .endpoint(let name): "ENDPOINT SCREEN (\(name))"
    case .audit: "AUDIT LOG"
    case .traces(let name): "TRACES OF \(name)"
    case .trace: "TRACE WATERFALL"
    case .help: "HELP"
    case .auditEntry: "AUDIT ENTRY"
    }
}
