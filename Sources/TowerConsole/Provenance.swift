import TerminalUI
import TowerDomain

/// Where each version came from (issue 15's provenance): who applied the spec that declared it, the
/// registry it was promoted from and the key that signed its bundle, and which evaluation suite
/// decided its gate, with what. One line per version that has any; nothing
/// for endpoints from before provenance was recorded, so their screens are unchanged.
func provenanceLines(_ f: inout Frame, _ s: ConsoleState, _ e: Endpoint, y: Int, maxY: Int, _ g: Glyphs) -> Int {
    let rows = e.versions.compactMap { v -> (Version, [String])? in
        let parts = provenanceParts(v, s, g)
        return parts.isEmpty ? nil : (v, parts)
    }
    guard !rows.isEmpty, y < maxY else { return y }
    var y = y
    f.put("PROVENANCE", x: 0, y: y, style: s.theme.title)
    y += 1
    for (v, parts) in rows where y < maxY {
        let x = f.put(v.name.padding(toLength: max(v.name.count + 2, 8), withPad: " ", startingAt: 0), x: 0, y: y, maxWidth: s.width)
        f.put(parts.joined(separator: g.ascii ? "  |  " : "  ·  "), x: x, y: y, style: v.gate == .failed && v.latestEvaluation != nil ? s.theme.warn : .plain,
              maxWidth: max(0, s.width - x))
        y += 1
    }
    return y + 1
}

/// The provenance of one version, as short phrases in the order a reviewer asks: who declared it
/// or where it came from, then what evidence its gate rests on.
func provenanceParts(_ v: Version, _ s: ConsoleState, _ g: Glyphs) -> [String] {
    var parts: [String] = []
    if let by = v.appliedBy { parts.append("applied by \(Names.printable(by, limit: 64))") }
    // The registry and key ids come from another registry's bundle: printable, bounded.
    if let p = v.promotedFrom {
        parts.append("promoted from registry \(Names.printable(p.registry, limit: 64)), signed by \(Names.printable(PromotionPublicKey.shortID(p.signer), limit: 16))")
    }
    if let ev = v.latestEvaluation {
        let hash = String(ev.sha256.dropFirst(7).prefix(12))
        let age = ageText(s.now.timeIntervalSince(ev.submittedAt))
        // Suite and outcome first: a narrow screen cuts the line from the right.
        var text = "evaluated by \(Names.printable(ev.suite, limit: 64)): gate \(v.gate.rawValue) (\(hash), \(Names.printable(ev.submittedBy, limit: 64)) \(age) ago)"
        if let summary = v.gateSummary { text += " \(g.dash.trimmingCharacters(in: .whitespaces)) \(Names.printable(summary, limit: 200))" }
        parts.append(text)
    }
    return parts
}
