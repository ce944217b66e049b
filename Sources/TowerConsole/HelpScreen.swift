import TerminalUI

/// Every action and its keys, generated from the keymap in force. When the list is taller than the
/// screen the rollout keys share one line, so an 80×24 terminal still lists every key.
func helpScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect) {
    f.put("KEYS (from the keymap; remap them in keymap.yaml)", x: 0, y: r.y, style: s.theme.title)
    let area = Rect(x: 0, y: r.y + 2, width: s.width, height: r.maxY - r.y - 2)
    var entries = Action.allCases.map { (key: s.keymap.keys($0), description: $0.help) }
    if entries.count > area.height {
        let rollout: [Action] = [.rolloutStart, .rolloutPause, .rolloutPromote, .rolloutAbort]
        entries = Action.allCases.filter { !rollout.contains($0) }.map { (key: s.keymap.keys($0), description: $0.help) }
        entries.append((key: rollout.map { s.keymap.keys($0) }.joined(separator: " "),
                        description: "rollout: start, pause/resume, promote, abort"))
    }
    HelpList(entries).draw(into: &f, in: area)
}
