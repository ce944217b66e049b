import TerminalUI
import TowerDomain
import TowerRollouts

/// `R`, `p`, `P`, `A` on the Endpoint screen: the same dialog with a reason as every change.
func beginRolloutAction(_ state: inout ConsoleState, _ action: Action) -> [Effect] {
    guard case .endpoint(let name) = state.screen, let e = state.selectedEndpoint else {
        state.toast = "open an endpoint to act on its rollout"
        return []
    }
    if state.readOnly {
        state.toast = "read-only: actions are disabled in context '\(state.contextName)'"
        return []
    }
    let current = state.rollouts.status[name]?.current
    func open(_ kind: ChangeRequest.Kind, _ title: String, after: [String: Int]) {
        state.dialog = Dialog(request: ChangeRequest(endpoint: e.name, expected: e.revision, kind: kind, reason: ""),
                              title: title, before: e.weights, after: after, needsTypedName: false)
    }
    if action == .rolloutStart {
        if let current { state.toast = "\(name) already has a rollout (\(current.stepLabel(current.step))): one at a time"; return [] }
        guard e.versions.indices.contains(state.versionSelection) else { state.toast = "select the version to roll out"; return [] }
        let target = e.versions[state.versionSelection].name
        open(.startRollout(runbook: "", target: target), "Start a rollout of \(target) on \(e.name)", after: e.weights)
        // Offer what was listed before at once; the fresh listing replaces it.
        let names = state.rollouts.runbooks
        if let first = names.first { state.dialog?.request.kind = .startRollout(runbook: state.rollouts.runbookFolder + "/" + first, target: target) }
        return [.listRunbooks]
    }
    guard let r = current else {
        state.toast = "no rollout running on \(name)" + (state.rollouts.status[name] == nil ? " (not read yet)" : "")
        return []
    }
    let step = r.stepLabel(r.step)
    switch action {
    case .rolloutPause:
        if r.phase == .paused { open(.rollout(.resume), "Resume the rollout of \(e.name) at \(step)", after: e.weights) }
        else { open(.rollout(.pause), "Pause the rollout of \(e.name) at \(step)", after: e.weights) }
    case .rolloutPromote:
        open(.rollout(.promote), "Promote the rollout of \(e.name): skip \(step)", after: e.weights)
    case .rolloutAbort:
        var after = e.weights
        after[r.baseline, default: 0] += after[r.target] ?? 0
        after[r.target] = 0
        open(.rollout(.abort), "ABORT the rollout of \(e.name): \(r.target)'s traffic back to \(r.baseline)", after: after)
    default:
        break
    }
    return []
}

/// Up/Down in the start dialog: the next or previous runbook file.
func chooseRunbook(_ d: inout Dialog, _ rollouts: RolloutsView, by delta: Int) {
    guard case .startRollout(_, let target) = d.request.kind, !rollouts.runbooks.isEmpty else { return }
    d.runbookIndex = clamp(d.runbookIndex + delta, rollouts.runbooks.count)
    d.request.kind = .startRollout(runbook: rollouts.runbookFolder + "/" + rollouts.runbooks[d.runbookIndex], target: target)
}

extension ChangeRequest.Kind {
    var startsRollout: Bool { if case .startRollout = self { true } else { false } }
}
