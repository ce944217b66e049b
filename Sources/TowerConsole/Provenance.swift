import TerminalUI
import TowerDomain

/// Where an endpoint's versions came from, one line each for those that have something to say:
/// "v3 promoted from registry reg-…, signed by 5c1f0e9a2b7d4c38" for a version imported from a
/// signed promotion bundle. Drawn under the versions on the Endpoint screen; returns the next line.
func provenanceLines(_ f: inout Frame, _ s: ConsoleState, _ e: Endpoint, y: Int, maxY: Int) -> Int {
    var y = y
    for v in e.versions where y < maxY {
        guard let p = v.promotedFrom else { continue }
        // The registry and key ids come from another registry's bundle: printable, bounded.
        let line = "\(v.name) promoted from registry \(Names.printable(p.registry, limit: 64)), signed by \(Names.printable(PromotionPublicKey.shortID(p.signer), limit: 16))"
        f.put(line, x: 0, y: y, style: s.theme.dim, maxWidth: s.width)
        y += 1
    }
    return y
}
