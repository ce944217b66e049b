import TerminalUI

/// Every action and its keys, generated from the keymap in force.
func helpScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect) {
    f.put("KEYS (from the keymap; remap them in keymap.yaml)", x: 0, y: r.y, style: s.theme.title)
    HelpList(Action.allCases.map { (s.keymap.keys($0), $0.help) })
        .draw(into: &f, in: Rect(x: 0, y: r.y + 2, width: s.width, height: r.maxY - r.y - 2))
}
