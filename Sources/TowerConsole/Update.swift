import Foundation
import TerminalUI
import TowerDomain

/// The console's only way to change state: a message in, the new state and effects out.
public func update(_ state: inout ConsoleState, _ message: Message) -> [Effect] {
    switch message {
    case .resize(let w, let h):
        state.width = w
        state.height = h
        return []
    case .tick(let now):
        state.now = now
        return requestGateways(&state, at: now, now: false)
    case .endpointsLoaded(let list, let at):
        let selected = state.selectedEndpoint?.name
        state.endpoints = list.endpoints
        state.auditSeq = list.auditSeq
        state.lastRead = at
        state.now = max(state.now, at)
        state.registryError = nil
        if let selected, let i = state.visibleEndpoints.firstIndex(where: { $0.name == selected }) { state.selection = i }
        state.selection = min(state.selection, max(0, state.visibleEndpoints.count - 1))
        var effects: [Effect] = [.watch(after: list.auditSeq)]
        if state.screen == .audit { effects.append(.loadAudit) }
        if case .endpoint(let name) = state.screen { effects.append(.loadRevisions(name)) }
        return effects
    case .registryAlive(let at):
        state.lastRead = at
        state.registryError = nil
        state.now = max(state.now, at)
        return []
    case .registryFailed(let why, let at):
        state.registryError = why
        state.now = max(state.now, at)
        return []
    case .revisionsLoaded(let name, let records):
        state.revisions[name] = records
        if var d = state.dialog, case .rollback = d.request.kind, d.request.endpoint == name {
            d.revisions = records.filter { $0.revision < d.request.expected }
            d.revisionIndex = 0
            if let first = d.revisions.first {
                d.after = first.endpoint.weights
                d.request.kind = .rollback(toRevision: first.revision)
            }
            state.dialog = d
        }
        return []
    case .changeApplied(let e):
        if let i = state.endpoints.firstIndex(where: { $0.name == e.name }) { state.endpoints[i] = e }
        state.dialog = nil
        state.toast = "\(e.name): revision \(e.revision) applied"
        // Ask the gateways at once, so the operator sees the change reach Envoy without waiting a cycle.
        return [.loadRevisions(e.name)] + requestGateways(&state, at: state.now, now: true)
    case .changeFailed(let failure):
        guard var d = state.dialog else { return [] }
        d.submitting = false
        switch failure {
        case .stale(let current, let detail):
            d.conflict = current
            // Show what the endpoint looks like now, so "before" is what the re-apply would change.
            if let current { d.before = current.weights }
            d.error = detail + (current != nil ? " — Enter re-applies on the new revision, Esc cancels" : "")
            if let current, let i = state.endpoints.firstIndex(where: { $0.name == current.name }) { state.endpoints[i] = current }
        case .refused(let status, let detail):
            d.error = status == 401 ? "not signed in: the token was refused (\(detail))"
                : status == 403 ? "not allowed: \(detail)" : detail
        case .unreachable(let why):
            d.error = "the registry did not answer (\(why)); nothing was changed"
        }
        state.dialog = d
        return []
    case .auditLoaded(let entries, let verification, let at):
        state.audit.entries = entries
        state.audit.verification = verification
        state.audit.loadedAt = at
        // Newest first: each entry's prevHash must be the hash of the one after it in this list.
        state.audit.linksIntact = zip(entries, entries.dropFirst()).allSatisfy { $0.prevHash == $1.hash && $0.seq == $1.seq + 1 }
            && entries.allSatisfy { $0.computedHash() == $0.hash }
        state.audit.selection = min(state.audit.selection, max(0, entries.count - 1))
        return []
    case .contextSwitched(let name, let readOnly, let banner):
        state.contextName = name
        state.banner = banner
        state.readOnly = readOnly
        state.endpoints = []
        state.lastRead = nil
        state.registryError = nil
        state.revisions = [:]
        state.audit = AuditView()
        // Another registry, other gateways; an answer still coming from the old one is dropped by the runner.
        state.gateways = GatewaySync()
        state.screens = [.overview]
        state.selection = 0
        state.toast = "context \(name)"
        return [.loadEndpoints]
    case .themeLoaded(let theme):
        state.theme = theme
        state.toast = "theme \(theme.name)"
        return []
    case .figuresLoaded(let source, let figures, let at, let warnings):
        state.telemetry.figures.merge(figures) { _, new in new }
        for (key, f) in figures {
            var h = state.telemetry.history[key] ?? []
            h.append(f.p99Ms)
            state.telemetry.history[key] = Array(h.suffix(Telemetry.historyLength))
        }
        state.now = max(state.now, at)
        setHealth(&state, source) { $0.lastSuccess = at; $0.lastError = nil; $0.warnings = warnings }
        return []
    case .sourcesChanged(let names, let staleAfter):
        // Figures, history and health of the old context's sources would be read as the new one's.
        var t = Telemetry()
        t.sources = names.map { SourceHealth(name: $0) }
        t.staleAfter = staleAfter
        state.telemetry = t
        return []
    case .sourceFailed(let source, let why, let at):
        state.now = max(state.now, at)
        setHealth(&state, source) { $0.lastError = why }
        return []
    case .tracesLoaded(let endpoint, let summaries):
        guard state.traces.endpoint == endpoint else { return [] }
        // Failing traces first, then the slowest: what triage looks for.
        state.traces.summaries = summaries.sorted {
            (($0.errorCount ?? 0) > 0 ? 1 : 0, $0.durationMicros) > (($1.errorCount ?? 0) > 0 ? 1 : 0, $1.durationMicros)
        }
        state.traces.loading = false
        state.traces.error = nil
        state.traces.selection = 0
        return []
    case .traceLoaded(let trace):
        state.traces.trace = trace
        state.traces.loading = false
        state.traces.spanSelection = 0
        return []
    case .traceFailed(let why):
        state.traces.loading = false
        state.traces.error = why
        return []
    case .historyLoaded(let history):
        for (key, values) in history {
            state.telemetry.history[key] = Array((values + (state.telemetry.history[key] ?? [])).suffix(Telemetry.historyLength))
        }
        return []
    case .gatewaysLoaded(let list, let at):
        state.now = max(state.now, at)
        var g = state.gateways
        let before = g.outOfSyncSince
        g.gateways = list.gateways
        g.outOfSyncSince = [:]
        for gw in list.gateways where !gw.inSync { g.outOfSyncSince[gw.node] = before[gw.node] ?? at }
        g.loadedAt = at
        g.lastError = nil
        g.inFlight = false
        state.gateways = g
        if g.followUp {
            state.gateways.followUp = false
            return requestGateways(&state, at: at, now: true)
        }
        return []
    case .gatewaysFailed(let why, let at):
        // Not the registry's health (the endpoint reads tell that): the last list stays and ages,
        // so a gateway that was in sync turns "silent" rather than staying ✓.
        state.now = max(state.now, at)
        state.gateways.lastError = why
        state.gateways.inFlight = false
        state.gateways.followUp = false
        return []
    case .notice(let text):
        state.toast = text
        return []
    case .key(let key):
        state.toast = nil
        if state.dialog != nil { return dialogKey(&state, key) }
        if state.command != nil { return commandKey(&state, key) }
        if state.filterEditing { return filterKey(&state, key) }
        return screenKey(&state, key)
    }
}

/// `.loadGateways` at most every `GatewaySync.interval` (`now` skips that wait) and one at a time:
/// asked for while one is in flight, the next goes out when its answer is back.
private func requestGateways(_ state: inout ConsoleState, at time: Date, now: Bool) -> [Effect] {
    var g = state.gateways
    // A clock set back makes the last request look as if it were in the future: count that as long ago.
    let since = g.requestedAt.map { time.timeIntervalSince($0) }.flatMap { $0 >= 0 ? $0 : nil } ?? .infinity
    if g.inFlight && since < GatewaySync.requestLostAfter {
        if now { state.gateways.followUp = true }
        return []
    }
    if !now && since < GatewaySync.interval { return [] }
    g.requestedAt = time
    g.inFlight = true
    g.followUp = false
    state.gateways = g
    return [.loadGateways]
}

private func setHealth(_ state: inout ConsoleState, _ source: String, _ change: (inout SourceHealth) -> Void) {
    if let i = state.telemetry.sources.firstIndex(where: { $0.name == source }) {
        change(&state.telemetry.sources[i])
    } else {
        var h = SourceHealth(name: source)
        change(&h)
        state.telemetry.sources.append(h)
    }
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
        return [.loadAudit]
    case ("endpoints", 1), ("overview", 1):
        state.screens = [.overview]
        return []
    case ("ctx", 2), ("context", 2):
        return [.switchContext(words[1])]
    case ("theme", 2):
        return [.loadTheme(words[1])]
    default:
        state.toast = "unknown command :\(words.joined(separator: " ")) — try :audit, :endpoints, :ctx NAME, :theme NAME, :q"
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
        case .help: break
        }
    case .open:
        if state.screen == .overview, let e = state.selectedEndpoint {
            state.screens.append(.endpoint(e.name))
            state.versionSelection = 0
            return [.loadRevisions(e.name)]
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
        state.traces = TraceView(endpoint: e.name, loading: true)
        state.screens.append(.traces(e.name))
        return [.searchTraces(endpoint: e.name, path: e.path)]
    case .stepUp, .stepDown, .editWeights, .drain, .undrain, .drainEndpoint, .rollback:
        return beginAction(&state, action)
    }
    return []
}

private func clamp(_ v: Int, _ count: Int) -> Int { max(0, min(v, count - 1)) }

/// Opens the confirmation dialog for an action, or says why it cannot be done.
private func beginAction(_ state: inout ConsoleState, _ action: Action) -> [Effect] {
    if state.readOnly {
        state.toast = "read-only: actions are disabled in context '\(state.contextName)'"
        return []
    }
    guard let e = state.selectedEndpoint else { return [] }
    var selectedVersion: Version? = nil
    if case .endpoint = state.screen, e.versions.indices.contains(state.versionSelection) { selectedVersion = e.versions[state.versionSelection] }
    let onVersion = { selectedVersion }
    func open(_ kind: ChangeRequest.Kind, _ title: String, after: [String: Int], typedName: Bool = false) {
        state.dialog = Dialog(request: ChangeRequest(endpoint: e.name, expected: e.revision, kind: kind, reason: ""),
                              title: title, before: e.weights, after: after, needsTypedName: typedName,
                              focus: typedName ? .typedName : .reason)
    }
    let serving = Set(e.versions.filter { $0.state == .serving }.map(\.name))
    switch action {
    case .stepUp, .stepDown:
        guard let v = onVersion() else { state.toast = "open an endpoint and select a version to move its weight"; return [] }
        if v.state != .serving { state.toast = "\(v.name) is \(v.state.rawValue); undrain it first"; return [] }
        let target = Weights.step(e.weights, version: v.name, by: action == .stepUp ? 5 : -5, serving: serving)
        if target == e.weights { state.toast = "\(v.name) cannot move further"; return [] }
        open(.shift(target.filter { serving.contains($0.key) }), "Shift \(e.name): \(v.name) \(action == .stepUp ? "+5" : "-5")", after: target)
    case .editWeights:
        open(.shift(e.weights.filter { serving.contains($0.key) }), "Set weights of \(e.name)", after: e.weights)
        state.dialog?.editorVersions = e.versions.filter { $0.state == .serving }.map(\.name)
        state.dialog?.focus = .weights(0)
    case .drain:
        guard let v = onVersion() else { state.toast = "select a version to drain (D drains the whole endpoint)"; return [] }
        var after = e.weights
        let recipients = e.versions.filter { $0.name != v.name && $0.state == .serving && $0.gate == .passed }
        let shared = Weights.distribute(v.weight, among: Dictionary(uniqueKeysWithValues: recipients.map { ($0.name, $0.weight) }))
        after.merge(shared) { _, n in n }
        after[v.name] = 0
        open(.drain(version: v.name), "Drain \(v.name) of \(e.name)", after: after)
    case .undrain:
        if let v = onVersion(), v.state != .serving {
            open(.undrain(version: v.name), "Undrain \(v.name) of \(e.name) (serves again at weight 0)", after: e.weights)
        } else if e.state == .outOfService {
            open(.undrain(version: nil), "Bring \(e.name) back into service", after: e.weights)
        } else {
            state.toast = "nothing to undrain: select a draining or drained version"
        }
    case .drainEndpoint:
        if e.state == .outOfService { state.toast = "\(e.name) is already out of service"; return [] }
        open(.drain(version: nil), "Take \(e.name) OUT OF SERVICE (the gateway answers 503)",
             after: e.weights.mapValues { _ in 0 }, typedName: true)
    case .rollback:
        open(.rollback(toRevision: nil), "Roll back \(e.name)", after: e.weights)
        if let records = state.revisions[e.name] {
            state.dialog?.revisions = records.filter { $0.revision < e.revision }
            if let first = state.dialog?.revisions.first {
                state.dialog?.after = first.endpoint.weights
                state.dialog?.request.kind = .rollback(toRevision: first.revision)
            }
        }
        return [.loadRevisions(e.name)]
    default:
        break
    }
    return []
}

private func dialogKey(_ state: inout ConsoleState, _ key: KeyEvent) -> [Effect] {
    guard var d = state.dialog else { return [] }
    if key == .escape && !d.submitting { return cancelDialog(&state) }
    defer { state.dialog = d }
    if d.submitting { return [] }
    switch key {
    case .tab, .backTab:
        d.focus = nextFocus(d, forward: key == .tab)
    case .up, .down:
        if case .rollback = d.request.kind, !d.revisions.isEmpty {
            d.revisionIndex = clamp(d.revisionIndex + (key == .up ? -1 : 1), d.revisions.count)
            let r = d.revisions[d.revisionIndex]
            d.after = r.endpoint.weights
            d.request.kind = .rollback(toRevision: r.revision)
        } else if case .weights(let i) = d.focus {
            d.focus = .weights(clamp(i + (key == .up ? -1 : 1), d.editorVersions.count))
        }
    case .enter:
        if let current = d.conflict {
            // Re-apply the same intent on the revision that won.
            d.request.expected = current.revision
            d.conflict = nil
            d.error = nil
            return []
        }
        if let p = Reason.problem(d.request.reason) { d.error = p; d.focus = .reason; return [] }
        if d.needsTypedName && d.typedName != d.request.endpoint {
            d.error = "type the endpoint's name, \(d.request.endpoint), to confirm"
            d.focus = .typedName
            return []
        }
        if case .shift = d.request.kind {
            let total = d.after.filter { d.editorVersions.isEmpty || d.editorVersions.contains($0.key) }.values.reduce(0, +)
            if !d.editorVersions.isEmpty && total != 100 { d.error = "the weights add up to \(total); they must add up to 100"; return [] }
            d.request.kind = .shift(d.after.filter { d.editorVersions.isEmpty ? true : d.editorVersions.contains($0.key) })
        }
        d.error = nil
        d.submitting = true
        return [.submit(d.request)]
    case .backspace:
        switch d.focus {
        case .reason: if !d.request.reason.isEmpty { d.request.reason.removeLast() }
        case .typedName: if !d.typedName.isEmpty { d.typedName.removeLast() }
        case .weights(let i): editWeight(&d, i) { $0 / 10 }
        }
    case .char(let c):
        switch d.focus {
        case .reason: if d.request.reason.count < Reason.maxLength { d.request.reason.append(c) }
        case .typedName: if d.typedName.count < 63 { d.typedName.append(c) }
        case .weights(let i):
            if let digit = c.wholeNumberValue { editWeight(&d, i) { min(100, $0 * 10 + digit) } }
            else if c == "+" { editWeight(&d, i) { min(100, $0 + 5) } }
            else if c == "-" { editWeight(&d, i) { max(0, $0 - 5) } }
        }
    default:
        break
    }
    return []
}

private func cancelDialog(_ state: inout ConsoleState) -> [Effect] {
    state.dialog = nil
    state.toast = "cancelled: nothing was changed"
    return []
}

private func editWeight(_ d: inout Dialog, _ i: Int, _ f: (Int) -> Int) {
    guard d.editorVersions.indices.contains(i) else { return }
    let v = d.editorVersions[i]
    d.after[v] = f(d.after[v] ?? 0)
}

private func nextFocus(_ d: Dialog, forward: Bool) -> Dialog.Field {
    var order: [Dialog.Field] = d.editorVersions.indices.map { .weights($0) }
    if d.needsTypedName { order.append(.typedName) }
    order.append(.reason)
    let i = order.firstIndex(of: d.focus) ?? 0
    return order[(i + (forward ? 1 : order.count - 1)) % order.count]
}
