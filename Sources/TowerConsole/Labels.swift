import TerminalUI
import TowerDomain

// How an endpoint's state, gates, split and traffic read on the overview and endpoint screens:
// in words and glyphs as well as colour. The words are `Vocabulary`'s, as on every other surface.

/// The endpoint's state: out of service, else draining while a version drains, else serving.
/// `short` takes the table's abbreviation, for a narrow column (the overview's STATE).
func stateLabel(_ e: Endpoint, _ g: Glyphs, _ t: Theme, short: Bool = false) -> TableCell {
    func text(_ term: Vocabulary.Term) -> String { short ? term.short : term.word }
    if e.state == .outOfService { return TableCell("\(g.bad) \(text(Vocabulary.term(EndpointState.outOfService)))", t.bad) }
    if e.versions.contains(where: { $0.state == .draining }) { return TableCell("\(g.pending) \(text(Vocabulary.term(VersionState.draining)))", t.warn) }
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
    let failing = e.versions.filter { $0.gate != .passed }
    if failing.isEmpty { return gateLabel(.passed, g, t) }
    let l = gateLabel(failing.contains { $0.gate == .failed } ? .failed : .pending, g, t)
    return TableCell("\(l.text.prefix(1)) \(failing.map(\.name).joined(separator: ","))", l.style)
}

/// `v1 90 v2 0d`: each version's weight and the table's mark of its state (`d` draining, `x` drained).
func splitText(_ e: Endpoint) -> String {
    e.versions.map { v in "\(v.name) \(v.weight)" + Vocabulary.splitMark(v.state) }.joined(separator: " ")
}

/// The traffic split as a bar of `width` cells, one shade per version; empty when nothing has weight.
func weightBar(_ e: Endpoint, width: Int, _ g: Glyphs) -> WeightBar {
    guard !e.versions.allSatisfy({ $0.weight == 0 }) else { return WeightBar(segments: [], width: width, ascii: g.ascii) }
    let cells = Weights.apportion(width, basis: Dictionary(uniqueKeysWithValues: e.versions.map { ($0.name, $0.weight) }))
    return WeightBar(segments: e.versions.map { cells[$0.name] ?? 0 }, width: width, ascii: g.ascii)
}
