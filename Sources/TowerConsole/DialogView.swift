import TerminalUI
import TowerDomain

/// The confirmation dialog of a change: the weights before and after, the revision to roll back
/// to, the typed name for what takes an endpoint out of service, the reason, and what went wrong.
func dialogView(_ f: inout Frame, _ s: ConsoleState, _ d: Dialog, _ g: Glyphs) {
    let versions = Set(d.before.keys).union(d.after.keys).sorted()
    // The width the terminal has, up to what the lines need: a conflict's who, when and weights, or
    // a long reason, must not be cut at a fixed 76 columns (what a calm dialog takes).
    let wants = [d.title.count, d.request.reason.count + 12, (d.error?.count ?? 0) + 6] + d.revisions.prefix(5).map { $0.summary.count + $0.reason.count + 16 }
    let width = max(min(s.width - 4, 76), min(s.width - 4, 120, (wants.max() ?? 0) + 4))
    let inner = width - 2
    var lines = [DialogBox.Line(" revision \(d.request.expected)  VERSION   BEFORE \(g.arrow) AFTER")]
    for v in versions {
        let b = d.before[v] ?? 0, a = d.after[v] ?? 0
        let moved = a - b
        let mark = moved == 0 ? "" : moved > 0 ? "  (+\(moved))" : "  (\(moved))"
        var focused = false
        if case .weights(let fi) = d.focus, d.editorVersions.indices.contains(fi), d.editorVersions[fi] == v { focused = true }
        lines.append(DialogBox.Line("               \(v.padding(toLength: 8, withPad: " ", startingAt: 0))  \(String(b).leftPad(3))  \(g.arrow) \(String(a).leftPad(3))\(mark)",
                                    focused ? s.theme.field : nil))
    }
    lines.append(.blank)
    if !d.revisions.isEmpty {
        lines.append(DialogBox.Line(" roll back to (Up/Down to choose):"))
        let top = max(0, d.revisionIndex - 4)
        for (i, rec) in d.revisions.dropFirst(top).prefix(5).enumerated() {
            lines.append(DialogBox.Line("   r\(rec.revision) \(Vocabulary.actor(rec.actor)): \(rec.summary)\(g.dash) \(Names.printable(rec.reason, limit: Reason.maxLength))", top + i == d.revisionIndex ? s.theme.selected : nil))
        }
    }
    if case .startRollout(let path, _) = d.request.kind {
        lines.append(DialogBox.Line(" runbook (Up/Down to choose) from \(s.rollouts.runbookFolder):"))
        let top = max(0, d.runbookIndex - 2)
        for (i, name) in s.rollouts.runbooks.dropFirst(top).prefix(3).enumerated() {
            lines.append(DialogBox.Line("   \(name)", top + i == d.runbookIndex && !path.isEmpty ? s.theme.selected : nil))
        }
        if s.rollouts.runbooks.isEmpty { lines.append(DialogBox.Line("   (none listed yet)")) }
    }
    if d.needsTypedName {
        lines.append(DialogBox.field(" type \(d.request.endpoint) to confirm: ", value: d.typedName, focused: d.focus == .typedName, focusStyle: s.theme.field))
    }
    lines.append(DialogBox.field(" reason: ", value: d.request.reason, focused: d.focus == .reason, focusStyle: s.theme.field,
                                 width: inner, ascii: g.ascii))
    if let e = d.error {
        lines += DialogBox.wrapped(" \(g.bad) \(e)", width: inner, indent: 3, style: s.theme.error)
        if let now = d.conflict {
            // Who changed it, when, and the weights it has now: what the operator decides on.
            let when = "\(Vocabulary.actor(now.updatedBy)) \(ageText(s.now.timeIntervalSince(now.updatedAt))) ago"
            lines += DialogBox.wrapped(" now r\(now.revision) by \(when): \(splitText(now))", width: inner, indent: 3, style: s.theme.error)
        }
    } else if d.submitting {
        lines.append(DialogBox.Line(" applying" + g.ellipsis))
    }
    // A blank line above the footer, dropped first when the screen is short.
    lines.append(.blank)
    // Title, lines, footer and the border; never taller than the screen (lines that do not fit are
    // left out by the box from the bottom).
    let height = min(s.height - 2, lines.count + 4)
    DialogBox(title: d.title, lines: lines,
              footer: " Enter apply   Esc cancel" + (d.editorVersions.isEmpty ? "" : "   Tab next field, digits/+/- edit"),
              style: s.theme.dialog, titleStyle: s.theme.dialogTitle, ascii: g.ascii)
        .draw(into: &f, box: f.bounds.centered(width: width, height: height))
}
