import TerminalUI

/// The keys of the screen help was opened from, generated from the keymap in force; a read-only
/// context lists no action it would refuse.
func helpScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect) {
    let from = s.screens.dropLast().last ?? .overview
    f.put("KEYS ON THE \(screenTitle(from)) (from the keymap; remap them in keymap.yaml)", x: 0, y: r.y, style: s.theme.title, maxWidth: s.width)
    let actions = Action.allCases.filter { $0.applies(on: from) && !(s.readOnly && $0.changesRouting) }
    let area = Rect(x: 0, y: r.y + 2, width: s.width, height: r.maxY - r.y - 2)
    var entries = actions.map { (key: s.keymap.keys($0), description: $0.help) }
    // Taller than the screen: the rollout keys share one line, so every key is still listed.
    let rollout: [Action] = [.rolloutStart, .rolloutPause, .rolloutPromote, .rolloutAbort]
    if entries.count > area.height, rollout.allSatisfy(actions.contains) {
        entries = actions.filter { !rollout.contains($0) }.map { (key: s.keymap.keys($0), description: $0.help) }
        entries.append((key: rollout.map { s.keymap.keys($0) }.joined(separator: " "), description: "rollout: start, pause/resume, promote, abort"))
    }
    HelpList(entries).draw(into: &f, in: area)
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
