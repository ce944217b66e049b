import TerminalUI
import TowerDomain

// How an endpoint's state, gates, split and traffic read on the overview and endpoint screens:
// in words and glyphs as well as colour. The words are `Vocabulary`'s, as on every other surface.

/// The endpoint's state: out of service, else draining while a version drains, else serving.
/// `short` takes the table's abbreviation, for a narrow column (the overview's STATE).
func stateLabel(_ e: Endpoint, _ g: Glyphs, _ t: Theme, short: Bool = false) -> TableCell {
    func text(_ term: Vocabulary.Term) -> String { short ? term.short : term.word }
    if e.state == .outOfService { return TableCell("\(g.bad) \(text(Vocabulary.term(EndpointState.outOfService)))", t.bad) }
    // By index: iterating `versions` copies each Version (a dozen references since provenance
    // and evaluations joined it), on every row of every frame.
    if e.versions.indices.contains(where: { e.versions[$0].state == .draining }) { return TableCell("\(g.pending) \(text(Vocabulary.term(VersionState.draining)))", t.warn) }
    return TableCell("\(g.ok) \(text(Vocabulary.term(EndpointState.serving)))", t.ok)
}

/// A version's state, in the table's word.
func versionStateLabel(_ v: Version, _ t: Theme) -> TableCell {
    TableCell(Vocabulary.word(v.state), v.state == .serving ? t.ok : t.warn)
}

func gateLabel(_ gate: GateStatus, _ g: Glyphs, _ t: Theme) -> TableCell {
    switch gate {
    case .passed: TableCell("\(g.ok) \(Vocabulary.word(gate))", t.ok)
    case .failed: TableCell("\(g.bad) \(Vocabulary.word(gate))", t.bad)
    case .pending: TableCell("\(g.pending) \(Vocabulary.word(gate))", t.warn)
    }
}

/// All gates of an endpoint in one cell: passed, or the worst verdict and the versions not passed.
func gatesLabel(_ e: Endpoint, _ g: Glyphs, _ t: Theme) -> TableCell {
    if e.versions.indices.allSatisfy({ e.versions[$0].gate == .passed }) { return gateLabel(.passed, g, t) }
    let failing = e.versions.filter { $0.gate != .passed }
    let l = gateLabel(failing.contains { $0.gate == .failed } ? .failed : .pending, g, t)
    return TableCell("\(l.text.prefix(1)) \(failing.map(\.name).joined(separator: ","))", l.style)
}

/// `v1 90 v2 0d`: each version's weight and the table's mark of its state (`d` draining, `x` drained).
func splitText(_ e: Endpoint) -> String {
    e.versions.indices.map { i in "\(e.versions[i].name) \(e.versions[i].weight)" + Vocabulary.splitMark(e.versions[i].state) }.joined(separator: " ")
}

/// The traffic split as a bar of `width` cells, one shade per version; empty when nothing has weight.
func weightBar(_ e: Endpoint, width: Int, _ g: Glyphs) -> WeightBar {
    let weights = e.versions.indices.map { e.versions[$0].weight }
    guard !weights.allSatisfy({ $0 == 0 }) else { return WeightBar(segments: [], width: width, ascii: g.ascii) }
    return WeightBar(segments: Weights.apportion(width, weights: weights, names: e.versions.indices.map { e.versions[$0].name }), width: width, ascii: g.ascii)
}
