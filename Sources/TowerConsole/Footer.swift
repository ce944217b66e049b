import TerminalUI

// The two footer lines: the command line, the filter or the last outcome (a toast), then the
// keys of the screen from the keymap.

func footer(_ f: inout Frame, _ s: ConsoleState) {
    let y1 = s.height - 2, y2 = s.height - 1
    if let c = s.command {
        f.put(":\(c)_", x: 0, y: y1, style: Style(bold: true))
    } else {
        let counts = s.screen == .audit ? "\(s.visibleAudit.count) of \(s.audit.entries.count)" : "\(s.visibleEndpoints.count) of \(s.endpoints.count)"
        let filter = "/\(s.filter)\(s.filterEditing ? "_" : "")  (\(counts))"
        if s.filterEditing {
            f.put(filter, x: 0, y: y1, style: s.theme.warn)
        } else if let t = s.toast {
            // The outcome of an action ("revision 7 applied", a refusal) must never be hidden by a
            // filter that merely stays applied: the toast comes first, the filter after it if it fits.
            Toast(t, trailing: s.filter.isEmpty ? nil : filter, style: s.theme.warn).draw(into: &f, y: y1, width: s.width)
        } else if !s.filter.isEmpty {
            f.put(filter, x: 0, y: y1, style: s.theme.warn)
        }
    }
    f.put(hints(s), x: 0, y: y2, style: s.theme.dim)
}

/// The keys that matter on the current screen, as the keymap binds them.
private func hints(_ s: ConsoleState) -> String {
    let k = s.keymap
    switch s.screen {
    // A read-only context offers no action it would refuse.
    case .overview:
        let act = s.readOnly ? "" : "\(k.keys(.drainEndpoint)) out of service  "
        return "\(k.keys(.open)) open  \(k.keys(.filter)) filter  \(k.keys(.sort)) sort:\(s.sort.rawValue)  \(act)\(k.keys(.command))audit  \(k.keys(.help)) help  \(k.keys(.quit)) quit"
    case .audit: return "\(k.keys(.down))/\(k.keys(.up)) move  \(k.keys(.open)) open whole  \(k.keys(.filter)) filter  \(k.keys(.back)) back  \(k.keys(.quit)) quit"
    case .auditEntry: return "\(k.keys(.back)) back  \(k.keys(.quit)) quit"
    case .traces: return "\(k.keys(.down))/\(k.keys(.up)) move  \(k.keys(.open)) waterfall  \(k.keys(.traceVersion)) version\(s.traces.version.map { ":" + $0 } ?? "")  \(k.keys(.back)) back"
    case .trace: return "\(k.keys(.down))/\(k.keys(.up)) select a span  \(k.keys(.back)) back"
    case .endpoint(let name):
        if s.readOnly { return "\(k.keys(.traces)) traces  \(k.keys(.down))/\(k.keys(.up)) select  \(k.keys(.help)) help  \(k.keys(.back)) back  (read-only)" }
        // While a rollout runs its keys are what matter: first, so a narrow screen keeps them.
        let rollout = s.rollouts.status[name]?.current.map { r in
            "\(k.keys(.rolloutPause)) \(r.phase == .paused ? "resume" : "pause")  \(k.keys(.rolloutPromote)) promote  \(k.keys(.rolloutAbort)) abort  "
        } ?? ""
        return rollout + "\(k.keys(.traces)) traces  \(k.keys(.open)) history  \(k.keys(.stepUp))/\(k.keys(.stepDown)) weight  \(k.keys(.editWeights)) set  \(k.keys(.drain))/\(k.keys(.undrain)) drain/undrain  \(k.keys(.drainEndpoint)) out of service  \(k.keys(.rollback)) rollback  \(k.keys(.back)) back"
    case .help: return "\(k.keys(.back)) back"
    }
}
