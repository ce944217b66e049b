import TerminalUI
import TowerDomain

/// A key goes to what has the focus: the dialog, then the command line, then the filter, then the
/// screen through the keymap.
func keyPressed(_ state: inout ConsoleState, _ key: KeyEvent) -> [Effect] {
    state.toast = nil
    if state.dialog != nil { return dialogKey(&state, key) }
    if state.command != nil { return commandKey(&state, key) }
    if state.filterEditing { return filterKey(&state, key) }
    return screenKey(&state, key)
}

/// The `:` command line.
private func commandKey(_ state: inout ConsoleState, _ key: KeyEvent) -> [Effect] {
    switch key {
    case .escape: state.command = nil
    case .backspace:
        if state.command?.isEmpty == true { state.command = nil } else { state.command?.removeLast() }
    case .char(let c): state.command?.append(c)
    case .enter:
        let words = (state.command ?? "").split(separator: " ").map(String.init)
        state.command = nil
        return runCommand(&state, words)
    default: break
    }
    return []
}

private func runCommand(_ state: inout ConsoleState, _ words: [String]) -> [Effect] {
    guard let verb = words.first else { return [] }
    switch (verb, words.count) {
    case ("q", 1), ("quit", 1):
        state.quitting = true
        return [.quit]
    case ("audit", 1):
        if state.screen != .audit { state.screens.append(.audit) }
        if state.audit.endpoint != nil { state.audit = AuditView() }
        return [.loadAudit()]
    case ("endpoints", 1), ("overview", 1):
        state.screens = [.overview]
        return []
    case ("ctx", 2), ("context", 2):
        return [.switchContext(words[1])]
    case ("ctx", 1), ("context", 1):
        return [.listContexts]
    case ("theme", 2):
        return [.loadTheme(words[1])]
    default:
        state.toast = "unknown command :\(words.joined(separator: " ")) — try :audit, :endpoints, :ctx [NAME], :theme NAME, :q"
        return []
    }
}

private func filterKey(_ state: inout ConsoleState, _ key: KeyEvent) -> [Effect] {
    switch key {
    case .enter: state.filterEditing = false
    case .escape: state.filterEditing = false; state.filter = ""
    case .backspace: if !state.filter.isEmpty { state.filter.removeLast() }
    case .char(let c): state.filter.append(c)
    default: break
    }
    state.selection = min(state.selection, max(0, state.visibleEndpoints.count - 1))
    return []
}

private func screenKey(_ state: inout ConsoleState, _ key: KeyEvent) -> [Effect] {
    guard let action = state.keymap.action(for: key) else { return [] }
    switch action {
    case .quit:
        state.quitting = true
        return [.quit]
    case .help:
        if state.screen != .help { state.screens.append(.help) }
    case .back:
        if state.screens.count > 1 { state.screens.removeLast() } else if !state.filter.isEmpty { state.filter = "" }
    case .filter:
        if state.screen == .overview || state.screen == .audit { state.filterEditing = true }
    case .command:
        state.command = ""
    case .sort:
        if state.screen == .overview { state.sort = state.sort.next; state.toast = "sorted by \(state.sort.rawValue)" }
    case .up, .down:
        let delta = action == .up ? -1 : 1
        switch state.screen {
        case .overview: state.selection = clamp(state.selection + delta, state.visibleEndpoints.count)
        case .endpoint: state.versionSelection = clamp(state.versionSelection + delta, state.selectedEndpoint?.versions.count ?? 0)
        case .audit: state.audit.selection = clamp(state.audit.selection + delta, state.visibleAudit.count)
        case .traces: state.traces.selection = clamp(state.traces.selection + delta, state.traces.summaries.count)
        case .trace: state.traces.spanSelection = clamp(state.traces.spanSelection + delta, state.traces.trace?.spans.count ?? 0)
        case .help, .auditEntry: break
        }
    case .open:
        if state.screen == .overview, let e = state.selectedEndpoint {
            state.screens.append(.endpoint(e.name))
            state.versionSelection = 0
            // A source that could not read a window may since have come back: ask again.
            state.impact = state.impact.filter { key, value in
                if key.endpoint == e.name, case .failed = value { return false }
                return true
            }
            state.rollouts.requestedAt[e.name] = state.now
            return [.loadRevisions(e.name), .loadRollout(e.name)]
        }
        if case .endpoint(let name) = state.screen {
            // The endpoint's own history, each revision's audit entry, any of which opens whole.
            state.audit = AuditView(endpoint: name)
            state.screens.append(.audit)
            return [.loadAudit(endpoint: name)]
        }
        if state.screen == .audit, state.visibleAudit.indices.contains(state.audit.selection) {
            state.screens.append(.auditEntry(state.visibleAudit[state.audit.selection].seq))
            return []
        }
        if case .traces = state.screen, state.traces.summaries.indices.contains(state.traces.selection) {
            let id = state.traces.summaries[state.traces.selection].traceID
            state.screens.append(.trace(id))
            state.traces.trace = nil
            state.traces.loading = true
            state.traces.error = nil
            return [.loadTrace(id)]
        }
    case .traces:
        guard let e = state.selectedEndpoint else { return [] }
        state.traces = TraceView(endpoint: e.name, path: e.path, p99Ms: tracesStartP99(state, e.name), loading: true)
        state.screens.append(.traces(e.name))
        return [.searchTraces(endpoint: e.name, path: e.path, p99Ms: state.traces.p99Ms)]
    case .traceVersion:
        return toggleTraceVersion(&state)
    case .stepUp, .stepDown, .editWeights, .drain, .undrain, .drainEndpoint, .rollback:
        return beginAction(&state, action)
    case .rolloutStart, .rolloutPause, .rolloutPromote, .rolloutAbort:
        return beginRolloutAction(&state, action)
    }
    return []
}

func clamp(_ v: Int, _ count: Int) -> Int { max(0, min(v, count - 1)) }

/// The highest p99 among the endpoint's figures and its versions': the slowest version's tail is
/// where the slow traces are, so the search for them starts there.
func tracesStartP99(_ state: ConsoleState, _ endpoint: String) -> Double? {
    state.telemetry.figures.filter { $0.key == endpoint || $0.key.hasPrefix(endpoint + "/") }.compactMap(\.value.p99Ms).filter(\.isFinite).max()
}

/// `v` on the traces screen: only the version selected on the Endpoint screen, or all again. The
/// list is searched anew, so the filtered list is full rather than a few rows of the old one.
private func toggleTraceVersion(_ state: inout ConsoleState) -> [Effect] {
    guard case .traces(let name) = state.screen else { return [] }
    let next: String?
    if state.traces.version != nil {
        next = nil
    } else {
        guard state.screens.contains(.endpoint(name)), let e = state.endpoints.first(where: { $0.name == name }),
              e.versions.indices.contains(state.versionSelection) else {
            state.toast = "select a version on the Endpoint screen first (Enter on the endpoint, then t)"
            return []
        }
        next = e.versions[state.versionSelection].name
    }
    state.traces.version = next
    state.traces.summaries = []
    state.traces.selection = 0
    state.traces.error = nil
    state.traces.loading = true
    return [.searchTraces(endpoint: name, path: state.traces.path, version: next, p99Ms: state.traces.p99Ms)]
}
