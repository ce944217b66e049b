import Foundation
import TerminalUI
import TowerDomain
import TowerAnalysis

/// The console's only way to change state: a message in, the new state and effects out.
public func update(_ state: inout ConsoleState, _ message: Message) -> [Effect] {
    switch message {
    case .resize(let w, let h):
        state.width = w
        state.height = h
        return []
    case .tick(let now):
        state.now = now
        state.resolveDrains()
        return requestGateways(&state, at: now, now: false) + rolloutRequests(&state, force: false)
            + rolloutListRequests(&state, force: false)
    case .endpointsLoaded(let list, let at, let stale):
        state.registryStale = stale.map { RegistryStale($0) }
        let selected = state.selectedEndpoint?.name
        let onScreen = state.selectedEndpoint
        state.endpoints = list.endpoints
        state.auditSeq = list.auditSeq
        state.drainTimeout = list.drainTimeoutSeconds ?? state.drainTimeout
        state.lastRead = at
        state.now = max(state.now, at)
        state.resolveDrains()
        state.registryError = nil
        if let selected, let i = state.visibleEndpoints.firstIndex(where: { $0.name == selected }) { state.selection = i }
        state.selection = min(state.selection, max(0, state.visibleEndpoints.count - 1))
        // Weights, versions or the named baseline may have changed: the verdicts follow them.
        judge(&state, state.endpoints)
        var effects: [Effect] = [.watch(after: list.auditSeq)] + rolloutListRequests(&state, force: true)
        var targets: [String: SLO] = [:]
        for e in list.endpoints { if let slo = e.slo { targets[e.name] = slo } }
        if targets != state.slo.targets {
            state.slo.targets = targets
            state.slo.readings = state.slo.readings.filter { targets[$0.key] != nil }
            effects.append(.pollBurn(targets))
        }
        if state.screen == .audit { effects.append(.loadAudit(endpoint: state.audit.endpoint)) }
        if case .endpoint(let name) = state.screen {
            effects.append(.loadRevisions(name))
            // A rollout's step is an ordinary revision: a change of this endpoint may be one.
            if state.selectedEndpoint != onScreen { effects += rolloutRequests(&state, force: true) }
        }
        return effects
    case .registryAlive(let at, let stale):
        state.registryStale = stale.map { RegistryStale($0) }
        state.lastRead = at
        state.registryError = nil
        state.now = max(state.now, at)
        return []
    case .registryReplica(let replica):
        // A move is news (the replica before stopped answering); the first one named is not.
        if let before = state.registryReplica, before != replica {
            state.toast = "registry: now answered by \(replica) (\(before) did not answer)"
        }
        state.registryReplica = replica
        return []
    case .registryFailed(let why, let at):
        state.registryError = why
        state.now = max(state.now, at)
        return []
    case .revisionsLoaded(let name, let records):
        state.revisions[name] = records
        if var d = state.dialog, case .rollback = d.request.kind, d.request.endpoint == name {
            // A fresh read arriving after the operator moved the choice keeps that choice: reset
            // to the newest, it rolled back to a revision other than the one picked (seen under load).
            let picked = d.revisions.indices.contains(d.revisionIndex) ? d.revisions[d.revisionIndex].revision : nil
            d.revisions = records.filter { $0.revision < d.request.expected }
            d.revisionIndex = picked.flatMap { p in d.revisions.firstIndex { $0.revision == p } } ?? 0
            if d.revisions.indices.contains(d.revisionIndex) {
                let chosen = d.revisions[d.revisionIndex]
                d.after = chosen.endpoint.weights
                d.request.kind = .rollback(toRevision: chosen.revision)
            }
            state.dialog = d
        }
        return impactRequests(&state, name)
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
        case .outcomeUnknown(let why):
            d.error = why
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
    case .contextSwitched(let name, let readOnly, let banner, let tlsUnverified):
        state.contextName = name
        state.banner = banner
        state.tlsUnverified = tlsUnverified
        state.readOnly = readOnly
        state.endpoints = []
        state.lastRead = nil
        state.registryError = nil
        state.registryReplica = nil
        state.registryStale = nil
        state.revisions = [:]
        state.audit = AuditView()
        // Another registry's SLOs and revisions: the runner has stopped polling the old ones.
        state.slo = SLOView()
        state.impact = [:]
        state.rollouts = RolloutsView()
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
        judge(&state, state.endpoints.filter { e in e.versions.contains { figures[Telemetry.key(e.name, $0.name)] != nil } })
        return []
    case .burnLoaded(let readings, let at):
        state.slo.readings = readings
        state.slo.error = nil
        state.now = max(state.now, at)
        state.healthChanged()
        return []
    case .burnFailed(let why, let at):
        // The last reading stays on screen beside the reason, as stale figures do.
        state.slo.error = why
        state.now = max(state.now, at)
        return []
    case .impactLoaded(let endpoint, let revision, let windows):
        let record = state.revisions[endpoint]?.first { $0.revision == revision }
        let spec = record?.endpoint ?? state.endpoints.first { $0.name == endpoint }
        let versions = spec?.versions.map(\.name) ?? []
        // Judged by the endpoint's judge settings as they are now, like its live verdicts.
        let current = state.endpoints.first { $0.name == endpoint } ?? spec
        state.impact[RevisionKey(endpoint, revision)] = .loaded(Judging.impact(endpoint: endpoint, versions: versions, windows,
                                                                               policy: JudgePolicy(current?.judge)), windows)
        return []
    case .impactFailed(let endpoint, let revision, let why):
        state.impact[RevisionKey(endpoint, revision)] = .failed(why)
        return []
    case .sourcesChanged(let names, let staleAfter, let window):
        // Figures, history and health of the old context's sources would be read as the new one's.
        var t = Telemetry()
        t.sources = names.map { SourceHealth(name: $0) }
        t.staleAfter = staleAfter
        t.windowSeconds = window
        state.telemetry = t
        return []
    case .sourceFailed(let source, let why, let at):
        state.now = max(state.now, at)
        setHealth(&state, source) { $0.lastError = why }
        return []
    case .tracesLoaded(let endpoint, let summaries, let version):
        // An answer for another endpoint, or for the filter before `v` was pressed, is not this list.
        guard state.traces.endpoint == endpoint, state.traces.version == version else { return [] }
        // Kept in the order triage gave (failing first, then the slowest, each longest first).
        state.traces.summaries = summaries
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
    case .rolloutLoaded(let status, let at):
        rolloutLoaded(&state, status, at: at)
        return []
    case .rolloutFailed(let endpoint, let why, let at):
        state.now = max(state.now, at)
        state.rollouts.error[endpoint] = why
        return []
    case .rolloutListLoaded(let list, let at):
        rolloutListLoaded(&state, list, at: at)
        return []
    case .rolloutChanged(let status, let verb):
        rolloutLoaded(&state, status, at: state.now)
        state.dialog = nil
        state.toast = "\(status.endpoint): rollout \(verb) accepted"
        return []
    case .runbooksListed(let folder, let names, let error):
        state.rollouts.runbookFolder = folder
        state.rollouts.runbooks = names
        state.rollouts.runbooksError = error
        if var d = state.dialog, case .startRollout(_, let target) = d.request.kind {
            d.runbookIndex = min(d.runbookIndex, max(0, names.count - 1))
            d.request.kind = .startRollout(runbook: names.isEmpty ? "" : folder + "/" + names[d.runbookIndex], target: target)
            d.error = error ?? (names.isEmpty ? "no runbook files (*.yaml) in \(folder)" : nil)
            state.dialog = d
        }
        return []
    case .notice(let text):
        state.toast = text
        return []
    case .key(let key):
        return keyPressed(&state, key)
    }
}

/// Verdicts for `endpoints` from the figures held, then the attention order again.
private func judge(_ state: inout ConsoleState, _ endpoints: [Endpoint]) {
    guard !endpoints.isEmpty else { return }
    for e in endpoints { state.telemetry.judgements[e.name] = Judging.endpoint(e, state.telemetry.figures) }
    state.healthChanged()
}

/// Change impact for the newest revisions of the endpoint on screen that have none yet (or whose
/// window after the change was still open), when there is a metrics source to ask.
private func impactRequests(_ state: inout ConsoleState, _ name: String) -> [Effect] {
    guard state.screen == .endpoint(name), state.telemetry.enabled else { return [] }
    var effects: [Effect] = []
    for rec in (state.revisions[name] ?? []).prefix(ImpactPolicy.revisions) {
        let key = RevisionKey(name, rec.revision)
        switch state.impact[key] {
        case nil: break
        case .loaded(_, let w) where !w.complete: break
        default: continue
        }
        state.impact[key] = .loading
        effects.append(.loadImpact(endpoint: name, revision: rec.revision, at: rec.time, windowSeconds: state.impactWindow))
    }
    return effects
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
