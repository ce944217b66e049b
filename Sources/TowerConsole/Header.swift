import Foundation
import TerminalUI
import TowerDomain

// The header line: the context, the registry's health, the gateways' sync and each source's
// health, worst news kept visible on a narrow screen.

func header(_ f: inout Frame, _ s: ConsoleState, _ g: Glyphs) {
    f.fill(Rect(x: 0, y: 0, width: s.width, height: 1), style: s.theme.header)
    var x = f.put(" tower ", x: 0, y: 0, style: s.theme.header)
    var ctxStyle = s.theme.header
    if let banner = s.banner {
        // The theme's banner style (reverse in monochrome, so it shows without colour too) on the
        // context's own colour.
        ctxStyle = s.theme.banner
        ctxStyle.bg = banner
        ctxStyle.bold = true
    }
    x = f.put(" ctx \(s.contextName) ", x: x, y: 0, style: ctxStyle)
    // Before the health texts, so that no error can push it off a narrow screen.
    if s.tlsUnverified { x = f.put(" TLS UNVERIFIED ", x: x, y: 0, style: s.theme.error) }
    let health: String
    var style = s.theme.header
    if let err = s.registryError {
        // The age comes first: on a narrow screen it is what must not be cut off.
        let age = s.lastRead.map { "data \(ageText(s.now.timeIntervalSince($0))) old:" } ?? "no data:"
        health = " registry \(g.bad) \(age) \(err) "
        style = s.theme.error
    } else if let stale = s.registryStale, s.lastRead != nil {
        // Answered, but from memory: never "live", since other replicas' changes may be missing.
        let via = s.registryReplica.map { " via \($0)" } ?? ""
        health = " registry \(g.warn) stale: \(stale.summary(now: s.now))\(via) "
        style = s.theme.warn
    } else if let last = s.lastRead {
        // The long poll answers at least every watch timeout; within that, what is shown is the
        // registry's latest, and an age counting up to 25 s would read as stale when it is not.
        let age = s.now.timeIntervalSince(last)
        let via = s.registryReplica.map { "via \($0) " } ?? ""
        health = age <= ConsoleState.liveWithin ? " registry \(g.ok) live \(via)" : " registry \(g.ok) read \(ageText(age)) ago \(via)"
    } else {
        health = " registry \(g.pending) connecting "
    }
    let sources = s.telemetry.sources
    let gateway = gatewayHealth(s, g)
    // Each text leaves room for the sources after it: a long error must not hide which sources are
    // up and which are down, nor whether the gateways hold the latest routing.
    // Room is kept at the right for READ-ONLY only when the context is read-only.
    let reserved = s.readOnly ? 12 : 1
    let room = s.width - x - reserved
    x = f.put(health, x: x, y: 0, style: style, maxWidth: min(room, max(14, room - 14 * sources.count - (gateway?.0.count ?? 0))))
    if let (text, st) = gateway, x < s.width - 14 {
        let room = s.width - x - reserved
        x = f.put(text, x: x, y: 0, style: st, maxWidth: min(room, max(14, room - 14 * sources.count)))
    }
    for (i, src) in sources.enumerated() where x < s.width - 14 {
        var st = s.theme.header
        let text: String
        if let err = src.lastError {
            st = s.theme.error
            text = " \(src.name) \(g.bad) " + (src.lastSuccess.map { "\(ageText(s.now.timeIntervalSince($0))) old: " } ?? "") + err + " "
        } else if let ok = src.lastSuccess, let w = src.warnings.first {
            st = s.theme.warn
            text = " \(src.name) ! \(ageText(s.now.timeIntervalSince(ok))) warns: \(Names.printable(w)) "
        } else if let ok = src.lastSuccess {
            text = " \(src.name) \(g.ok) \(ageText(s.now.timeIntervalSince(ok))) "
        } else {
            text = " \(src.name) \(g.pending) "
        }
        let room = s.width - x - reserved, reserve = 14 * (sources.count - i - 1)
        x = f.put(text, x: x, y: 0, style: st, maxWidth: min(room, max(14, room - reserve)))
    }
    if s.readOnly { f.put(" READ-ONLY ", x: s.width - 11, y: 0, style: s.theme.readOnly) }
}

/// Whether the gateways hold the registry's latest routing; nil while none is known (an older
/// registry, or no Envoy polling it). Worst first: a silent gateway, then one behind for longer
/// than a change takes to propagate, then one still syncing.
func gatewayHealth(_ s: ConsoleState, _ g: Glyphs) -> (String, Style)? {
    let all = s.gateways.gateways
    guard !all.isEmpty else { return nil }
    let name = all.count == 1 ? "gateway" : "gateways"
    // How many, when there is more than one to tell apart.
    let count = { (n: Int) in all.count == 1 ? "" : "\(n) " }
    let silence = all.map { s.now.timeIntervalSince($0.lastPollAt) }.filter { $0 > GatewaySync.silentAfter }
    if let longest = silence.max() {
        return (" \(name) \(g.bad) \(count(silence.count))silent \(ageText(longest)) ", s.theme.error)
    }
    let behind = all.compactMap { s.gateways.outOfSyncSince[$0.node].map { s.now.timeIntervalSince($0) } }
    if let longest = behind.max(), longest >= GatewaySync.behindAfter {
        let n = behind.filter { $0 >= GatewaySync.behindAfter }.count
        return (" \(name) \(g.bad) \(count(n))behind \(ageText(longest)) ", s.theme.error)
    }
    let synced = all.filter(\.inSync).count
    let fraction = all.count == 1 ? "" : "\(synced)/\(all.count) "
    if synced < all.count { return (" \(name) \(fraction)\(g.pending) syncing ", s.theme.header) }
    return (" \(name) \(fraction)\(g.ok) ", s.theme.header)
}
