import TerminalUI
import TowerDomain

/// Keys while a dialog is open: Tab moves between fields, Up/Down picks a revision or a weight,
/// Enter checks the reason (and the typed name, and that edited weights add up to 100) before it
/// submits; Esc cancels unless the change is already on its way.
func dialogKey(_ state: inout ConsoleState, _ key: KeyEvent) -> [Effect] {
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
        } else if case .startRollout = d.request.kind {
            chooseRunbook(&d, state.rollouts, by: key == .up ? -1 : 1)
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
        if case .startRollout(let path, _) = d.request.kind, path.isEmpty {
            d.error = state.rollouts.runbooksError ?? "no runbook chosen: put runbook files (*.yaml) in \(state.rollouts.runbookFolder)"
            return []
        }
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
        clearStaleError(&d)
        switch d.focus {
        case .reason: if !d.request.reason.isEmpty { d.request.reason.removeLast() }
        case .typedName: if !d.typedName.isEmpty { d.typedName.removeLast() }
        case .weights(let i): editWeight(&d, i) { $0 / 10 }
        }
    case .char(let c):
        clearStaleError(&d)
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

/// An error about the input ("type the endpoint's name") is stale once the input changes; a
/// conflict's message stays until Enter re-applies or Esc cancels, since it says what the endpoint is now.
private func clearStaleError(_ d: inout Dialog) {
    if d.conflict == nil { d.error = nil }
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
