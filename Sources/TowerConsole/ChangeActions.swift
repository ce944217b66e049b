import TerminalUI
import TowerDomain

/// Opens the confirmation dialog for an action, or says why it cannot be done.
func beginAction(_ state: inout ConsoleState, _ action: Action) -> [Effect] {
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
        if v.state != .serving { state.toast = "\(v.name) is \(Vocabulary.word(v.state)); undrain it first"; return [] }
        let target = Weights.step(e.weights, version: v.name, by: action == .stepUp ? 5 : -5, serving: serving)
        if target == e.weights { state.toast = "\(v.name) cannot move further"; return [] }
        open(.shift(target.filter { serving.contains($0.key) }), "Shift \(e.name): \(v.name) \(action == .stepUp ? "+5" : "-5")", after: target)
    case .editWeights:
        open(.shift(e.weights.filter { serving.contains($0.key) }), "Set weights of \(e.name)", after: e.weights)
        state.dialog?.editorVersions = e.versions.filter { $0.state == .serving }.map(\.name)
        state.dialog?.focus = .weights(0)
    case .drain:
        let outOfService = state.keymap.keys(.drainEndpoint)
        guard let v = onVersion() else { state.toast = "select a version to drain (\(outOfService) takes the whole endpoint out of service)"; return [] }
        if v.state != .serving { state.toast = "\(v.name) is already \(Vocabulary.word(v.state))"; return [] }
        var after = e.weights
        let recipients = e.versions.filter { $0.name != v.name && $0.state == .serving && $0.gate == .passed }
        // Said before a reason is typed: the registry would refuse it after.
        if recipients.isEmpty {
            state.toast = "\(v.name) is the last version that can serve \(e.name): nothing would take its traffic; \(outOfService) takes the endpoint out of service"
            return []
        }
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
            state.toast = "nothing to undrain: select a \(Vocabulary.word(VersionState.draining)) or \(Vocabulary.word(VersionState.drained)) version"
        }
    case .drainEndpoint:
        if e.state == .outOfService { state.toast = "\(e.name) is already \(Vocabulary.word(EndpointState.outOfService))"; return [] }
        open(.drain(version: nil), "Take \(e.name) \(Vocabulary.word(EndpointState.outOfService)) (the gateway answers 503)",
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
