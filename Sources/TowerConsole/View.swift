import Foundation
import TerminalUI
import TowerDomain

public enum Layout {
    public static let minWidth = 60
    public static let minHeight = 16
}

/// The whole screen as data.
public func view(_ state: ConsoleState) -> Frame {
    var f = Frame(width: state.width, height: state.height)
    let g = Glyphs(ascii: state.ascii)
    if state.width < Layout.minWidth || state.height < Layout.minHeight {
        let lines = ["terminal too small: \(state.width)×\(state.height)",
                     "Tower needs at least \(Layout.minWidth)×\(Layout.minHeight)", "q quits"]
        for (i, l) in lines.enumerated() { f.put(l, x: 0, y: i, style: i == 0 ? state.theme.bad : .plain) }
        return f
    }
    header(&f, state, g)
    let body = Rect(x: 0, y: 1, width: state.width, height: state.height - 3)
    switch state.screen {
    case .overview: overview(&f, state, body, g)
    case .endpoint(let name): endpointScreen(&f, state, name, body, g)
    case .audit: auditScreen(&f, state, body, g)
    case .traces(let name): traceList(&f, state, name, body, g)
    case .trace: waterfall(&f, state, body, g)
    case .help: help(&f, state, body)
    }
    footer(&f, state)
    if let d = state.dialog { dialog(&f, state, d, g) }
    return f
}


/// Characters with an ASCII fallback for terminals without a UTF-8 locale.
struct Glyphs {
    let ascii: Bool
    var full: Character { ascii ? "#" : "█" }
    var empty: Character { ascii ? "." : "░" }
    var ok: String { ascii ? "+" : "✓" }
    var bad: String { ascii ? "x" : "✗" }
    var pending: String { ascii ? "?" : "…" }
    var arrow: String { ascii ? "->" : "→" }
    var dash: String { ascii ? " -" : " —" }
    var h: Character { ascii ? "-" : "─" }
    var v: Character { ascii ? "|" : "│" }
    var corners: (Character, Character, Character, Character) { ascii ? ("+", "+", "+", "+") : ("┌", "┐", "└", "┘") }
}

private func header(_ f: inout Frame, _ s: ConsoleState, _ g: Glyphs) {
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
    let health: String
    var style = s.theme.header
    if let err = s.registryError {
        // The age comes first: on a narrow screen it is what must not be cut off.
        let age = s.lastRead.map { "data \(ageText(s.now.timeIntervalSince($0))) old:" } ?? "no data:"
        health = " registry \(g.bad) \(age) \(err) "
        style = s.theme.error
    } else if let last = s.lastRead {
        health = " registry \(g.ok) read \(ageText(s.now.timeIntervalSince(last))) ago "
    } else {
        health = " registry \(g.pending) connecting "
    }
    let sources = s.telemetry.sources
    let gateway = gatewayHealth(s, g)
    // Each text leaves room for the sources after it: a long error must not hide which sources are
    // up and which are down, nor whether the gateways hold the latest routing.
    let room = s.width - x - 12
    x = f.put(health, x: x, y: 0, style: style, maxWidth: min(room, max(14, room - 14 * sources.count - (gateway?.0.count ?? 0))))
    if let (text, st) = gateway, x < s.width - 14 {
        let room = s.width - x - 12
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
        let room = s.width - x - 12, reserve = 14 * (sources.count - i - 1)
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

private func footer(_ f: inout Frame, _ s: ConsoleState) {
    let y1 = s.height - 2, y2 = s.height - 1
    if let c = s.command {
        f.put(":\(c)_", x: 0, y: y1, style: Style(bold: true))
    } else {
        let counts = s.screen == .audit ? "\(s.visibleAudit.count) of \(s.audit.entries.count)" : "\(s.visibleEndpoints.count) of \(s.endpoints.count)"
        let filter = "/\(s.filter)\(s.filterEditing ? "_" : "")  (\(counts))"
        if s.filterEditing {
            f.put(filter, x: 0, y: y1, style: s.theme.warn)
        } else if let t = s.toast {
            // The outcome of an action ("revision 7 applied", a refusal) must never be hidden by a
            // filter that merely stays applied: the toast comes first, the filter after it if it fits.
            let x = f.put(t, x: 0, y: y1, style: s.theme.warn, maxWidth: s.width)
            if !s.filter.isEmpty && x + 3 + filter.count <= s.width { f.put(filter, x: s.width - filter.count, y: y1, style: s.theme.warn) }
        } else if !s.filter.isEmpty {
            f.put(filter, x: 0, y: y1, style: s.theme.warn)
        }
    }
    let k = s.keymap
    let hints: String
    switch s.screen {
    case .overview: hints = "\(k.keys(.open)) open  \(k.keys(.filter)) filter  \(k.keys(.sort)) sort:\(s.sort.rawValue)  \(k.keys(.drainEndpoint)) drain endpoint  \(k.keys(.command))audit  \(k.keys(.help)) help  \(k.keys(.quit)) quit"
    case .audit: hints = "\(k.keys(.down))/\(k.keys(.up)) move  \(k.keys(.filter)) filter  \(k.keys(.back)) back  \(k.keys(.quit)) quit"
    case .traces: hints = "\(k.keys(.down))/\(k.keys(.up)) move  \(k.keys(.open)) waterfall  \(k.keys(.back)) back"
    case .trace: hints = "\(k.keys(.down))/\(k.keys(.up)) select a span  \(k.keys(.back)) back"
    case .endpoint: hints = "\(k.keys(.traces)) traces  \(k.keys(.stepUp))/\(k.keys(.stepDown)) weight  \(k.keys(.editWeights)) set  \(k.keys(.drain))/\(k.keys(.undrain)) drain/undrain  \(k.keys(.drainEndpoint)) endpoint  \(k.keys(.rollback)) rollback  \(k.keys(.back)) back"
    case .help: hints = "\(k.keys(.back)) back"
    }
    f.put(hints, x: 0, y: y2, style: s.theme.dim)
}

func ageText(_ seconds: TimeInterval) -> String {
    let s = max(0, Int(seconds))
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m" }
    if s < 86400 { return "\(s / 3600)h" }
    return "\(s / 86400)d"
}

func stateLabel(_ e: Endpoint, _ g: Glyphs, _ t: Theme) -> (String, Style) {
    if e.state == .outOfService { return ("\(g.bad) OUT", t.bad) }
    if e.versions.contains(where: { $0.state == .draining }) { return ("\(g.pending) drain", t.warn) }
    return ("\(g.ok) serve", t.ok)
}

func gateLabel(_ gate: GateStatus, _ g: Glyphs, _ t: Theme) -> (String, Style) {
    switch gate {
    case .passed: ("\(g.ok) passed", t.ok)
    case .failed: ("\(g.bad) failed", t.bad)
    case .pending: ("\(g.pending) pending", t.warn)
    }
}

/// A bar of `width` cells split between versions in proportion to weight, each version its own
/// shade so the split reads without colour.
func weightBar(_ e: Endpoint, width: Int, _ g: Glyphs) -> String {
    guard width > 0 else { return "" }
    let shades: [Character] = g.ascii ? ["#", "=", "+", "~"] : ["█", "▓", "▒", "░"]
    let cells = Weights.apportion(width, basis: Dictionary(uniqueKeysWithValues: e.versions.map { ($0.name, $0.weight) }))
    if e.versions.allSatisfy({ $0.weight == 0 }) { return String(repeating: g.empty, count: width) }
    var out = ""
    for (i, v) in e.versions.enumerated() { out += String(repeating: shades[i % shades.count], count: cells[v.name] ?? 0) }
    return out
}

private func overview(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    if s.telemetry.enabled { return liveOverview(&f, s, r, g) }
    let wide = s.width >= 120
    let barWidth = wide ? 20 : 10
    let cols = (state: 0, name: 9, bar: wide ? 34 : 26, split: (wide ? 35 : 27) + barWidth)
    let splitWidth = wide ? 30 : 16
    let revX = cols.split + splitWidth + 1
    let gateX = revX + 6
    let changeX = gateX + 11
    f.put("STATE", x: 0, y: r.y, style: s.theme.title)
    f.put("ENDPOINT", x: cols.name, y: r.y, style: s.theme.title)
    f.put("TRAFFIC", x: cols.bar, y: r.y, style: s.theme.title)
    f.put("SPLIT", x: cols.split, y: r.y, style: s.theme.title)
    f.put("REV", x: revX, y: r.y, style: s.theme.title)
    f.put("GATES", x: gateX, y: r.y, style: s.theme.title)
    if changeX < s.width - 8 { f.put("CHANGED", x: changeX, y: r.y, style: s.theme.title) }
    let rows = s.visibleEndpoints
    if rows.isEmpty {
        f.put(s.lastRead == nil ? "waiting for the registry" + (g.ascii ? "..." : "…") : (s.filter.isEmpty ? "no endpoints" : "no endpoint matches /\(s.filter)"),
              x: 2, y: r.y + 2, style: s.theme.dim)
        return
    }
    let visible = r.height - 1
    let top = max(0, min(s.selection - visible / 2, rows.count - visible))
    for (row, e) in rows.dropFirst(top).prefix(visible).enumerated() {
        let y = r.y + 1 + row
        let (label, style) = stateLabel(e, g, s.theme)
        f.put(label, x: 0, y: y, style: style, maxWidth: 8)
        f.put(e.name, x: cols.name, y: y, maxWidth: cols.bar - cols.name - 1)
        f.put(weightBar(e, width: barWidth, g), x: cols.bar, y: y, style: e.state == .outOfService ? s.theme.dim : .plain)
        let split = e.versions.map { v in "\(v.name) \(v.weight)" + (v.state == .serving ? "" : v.state == .draining ? "d" : "x") }.joined(separator: " ")
        f.put(split, x: cols.split, y: y, maxWidth: splitWidth)
        f.put("r\(e.revision)", x: revX, y: y, maxWidth: 5)
        let failing = e.versions.filter { $0.gate != .passed }
        let gate = failing.isEmpty ? gateLabel(.passed, g, s.theme) : gateLabel(failing.contains { $0.gate == .failed } ? .failed : .pending, g, s.theme)
        f.put(failing.isEmpty ? gate.0 : "\(gate.0.prefix(1)) \(failing.map(\.name).joined(separator: ","))", x: gateX, y: y, style: gate.1, maxWidth: 10)
        if changeX < s.width - 8 {
            f.put("\(e.updatedBy) \(ageText(s.now.timeIntervalSince(e.updatedAt)))", x: changeX, y: y, maxWidth: s.width - changeX)
        }
        if top + row == s.selection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
}

/// Figures as the tables show them; a figure that could not be read is "—", never 0.
enum Fmt {
    static func rps(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return v >= 100 ? String(Int(v.rounded())) : String(format: "%.1f", v)
    }
    static func ratio(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return v == 0 ? "0%" : v < 0.001 ? "<0.1%" : String(format: "%.1f%%", v * 100)
    }
    static func ms(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        if v >= 10_000 { return String(format: "%.0fs", v / 1000) }
        if v >= 1000 { return String(format: "%.1fs", v / 1000) }
        return v >= 10 ? "\(Int(v.rounded()))ms" : String(format: "%.1fms", v)
    }
    static func count(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return v >= 10_000 ? String(format: "%.0fk", v / 1000) : String(Int(v.rounded()))
    }
}

/// A column of the live overview: the narrowest screens keep the lowest priorities.
struct Column {
    var title: String
    var width: Int
    var priority: Int
    var render: (Endpoint) -> (String, Style)
}

/// Lays out columns left to right, dropping the least important ones that do not fit.
func fit(_ columns: [Column], width: Int) -> [(Column, Int)] {
    var kept = Set<Int>()
    var used = 0
    for (i, c) in columns.enumerated().sorted(by: { $0.element.priority < $1.element.priority }) where used + c.width + 1 <= width {
        kept.insert(i)
        used += c.width + 1
    }
    var x = 0
    return columns.enumerated().filter { kept.contains($0.offset) }.map { _, c in
        defer { x += c.width + 1 }
        return (c, x)
    }
}

private func liveOverview(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    let t = s.telemetry
    func figures(_ e: Endpoint) -> Figures? { t.figures[Telemetry.key(e.name)] }
    func metric(_ e: Endpoint, _ text: (Figures) -> String, alarm: (Figures) -> Bool = { _ in false }) -> (String, Style) {
        guard let fg = figures(e) else { return ("—", s.theme.dim) }
        if t.isStale(fg, now: s.now) { return ("~" + text(fg), s.theme.dim) }
        return (text(fg), alarm(fg) ? s.theme.bad : .plain)
    }
    let columns: [Column] = [
        Column(title: "STATE", width: 7, priority: 0) { stateLabel($0, g, s.theme) },
        Column(title: "ENDPOINT", width: 15, priority: 0) { ($0.name, .plain) },
        Column(title: "RPS", width: 6, priority: 1) { e in metric(e) { Fmt.rps($0.rps) } },
        Column(title: "ERR", width: 6, priority: 1) { e in metric(e, { Fmt.ratio($0.errorRatio) }, alarm: { ($0.errorRatio ?? 0) >= 0.01 }) },
        Column(title: "P99", width: 6, priority: 1) { e in metric(e) { Fmt.ms($0.p99Ms) } },
        Column(title: "P99 TREND", width: 12, priority: 2) { e in
            (Sparkline.render(t.history[Telemetry.key(e.name)] ?? [], width: 12, ascii: g.ascii), .plain)
        },
        Column(title: "SPLIT", width: 16, priority: 1) { e in
            (e.versions.map { v in "\(v.name) \(v.weight)" + (v.state == .serving ? "" : v.state == .draining ? "d" : "x") }.joined(separator: " "), .plain)
        },
        Column(title: "REV", width: 4, priority: 3) { ("r\($0.revision)", .plain) },
        Column(title: "P50", width: 6, priority: 4) { e in metric(e) { Fmt.ms($0.p50Ms) } },
        Column(title: "P95", width: 6, priority: 4) { e in metric(e) { Fmt.ms($0.p95Ms) } },
        Column(title: "N", width: 6, priority: 4) { e in metric(e) { Fmt.count($0.samples) } },
        Column(title: "GATES", width: 9, priority: 3) { e in
            let failing = e.versions.filter { $0.gate != .passed }
            if failing.isEmpty { return gateLabel(.passed, g, s.theme) }
            let l = gateLabel(failing.contains { $0.gate == .failed } ? .failed : .pending, g, s.theme)
            return ("\(l.0.prefix(1)) \(failing.map(\.name).joined(separator: ","))", l.1)
        },
        Column(title: "CHANGED", width: 14, priority: 5) { e in ("\(e.updatedBy) \(ageText(s.now.timeIntervalSince(e.updatedAt)))", .plain) },
    ]
    let laid = fit(columns, width: s.width)
    for (c, x) in laid { f.put(c.title, x: x, y: r.y, style: s.theme.title, maxWidth: c.width) }
    let rows = s.visibleEndpoints
    if rows.isEmpty {
        f.put(s.lastRead == nil ? "waiting for the registry" + (g.ascii ? "..." : "…") : "no endpoint matches /\(s.filter)", x: 2, y: r.y + 2, style: s.theme.dim)
        return
    }
    let visible = r.height - 1
    let top = max(0, min(s.selection - visible / 2, rows.count - visible))
    for (row, e) in rows.dropFirst(top).prefix(visible).enumerated() {
        let y = r.y + 1 + row
        for (c, x) in laid {
            let (text, style) = c.render(e)
            f.put(text, x: x, y: y, style: style, maxWidth: c.width)
        }
        if top + row == s.selection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
}

/// Per-version figures side by side; the version with most weight is the baseline, and a version
/// whose errors or p99 are clearly worse than it is marked, in words as well as colour.
private func versionFigures(_ f: inout Frame, _ s: ConsoleState, _ e: Endpoint, y: Int, _ g: Glyphs) -> Int {
    let t = s.telemetry
    let baseline = e.versions.max { $0.weight < $1.weight }
    let heads = [("VERSION", 0), ("RPS", 9), ("ERR", 17), ("P50", 25), ("P95", 33), ("P99", 41), ("N", 49), ("P99 TREND", 57)]
    for (h, x) in heads where x < s.width { f.put(h, x: x, y: y, style: s.theme.title) }
    var row = y + 1
    let base = baseline.flatMap { t.figures[Telemetry.key(e.name, $0.name)] }
    for v in e.versions {
        let key = Telemetry.key(e.name, v.name)
        f.put(v.name, x: 0, y: row, maxWidth: 8)
        if let fg = t.figures[key] {
            let stale = t.isStale(fg, now: s.now)
            let st = stale ? s.theme.dim : Style.plain
            let cells = [Fmt.rps(fg.rps), Fmt.ratio(fg.errorRatio), Fmt.ms(fg.p50Ms), Fmt.ms(fg.p95Ms), Fmt.ms(fg.p99Ms), Fmt.count(fg.samples)]
            for (i, c) in cells.enumerated() { f.put((stale ? "~" : "") + c, x: 9 + i * 8, y: row, style: st, maxWidth: 7) }
            f.put(Sparkline.render(t.history[key] ?? [], width: min(20, max(0, s.width - 57)), ascii: g.ascii), x: 57, y: row)
            if v.name != baseline?.name, let base, !stale {
                let worseErr = (fg.errorRatio ?? 0) > max(0.005, (base.errorRatio ?? 0) * 2)
                let worseP99 = (fg.p99Ms ?? 0) > (base.p99Ms ?? .infinity) * 1.5
                if worseErr || worseP99 {
                    f.put("\(g.bad) worse than \(baseline!.name): " + [worseErr ? "errors" : nil, worseP99 ? "p99" : nil].compactMap { $0 }.joined(separator: ", "),
                          x: s.width >= 100 ? 78 : 57, y: row, style: s.theme.bad, maxWidth: max(0, s.width - (s.width >= 100 ? 78 : 57)))
                }
            }
        } else {
            f.put("no data", x: 9, y: row, style: s.theme.dim)
        }
        row += 1
    }
    return row
}

private func endpointScreen(_ f: inout Frame, _ s: ConsoleState, _ name: String, _ r: Rect, _ g: Glyphs) {
    guard let e = s.endpoints.first(where: { $0.name == name }) else {
        f.put("endpoint \(name) is gone from the registry", x: 2, y: r.y + 1, style: s.theme.bad)
        return
    }
    let (label, style) = stateLabel(e, g, s.theme)
    var x = f.put("\(e.name)  ", x: 0, y: r.y, style: s.theme.title)
    x = f.put(label + "  ", x: x, y: r.y, style: style)
    f.put("\(e.path)  owner \(e.owner)  revision \(e.revision)", x: x, y: r.y, maxWidth: s.width - x)
    let y0 = r.y + 2
    let heads = ["VERSION", "WEIGHT", "", "STATE", "GATE", "STAGE", "ARTIFACT"]
    let xs = [0, 9, 16, 38, 48, 59, 68]
    for (h, hx) in zip(heads, xs) { f.put(h, x: hx, y: y0, style: s.theme.title) }
    for (i, v) in e.versions.enumerated() {
        let y = y0 + 1 + i
        f.put(v.name, x: 0, y: y, maxWidth: 8)
        f.put("\(v.weight)%", x: 9, y: y)
        let filled = v.weight * 20 / 100
        f.put(String(repeating: g.full, count: filled) + String(repeating: g.empty, count: 20 - filled), x: 16, y: y,
              style: v.state == .serving ? .plain : s.theme.dim)
        f.put(v.state.rawValue, x: 38, y: y, style: v.state == .serving ? s.theme.ok : s.theme.warn)
        let (gl, gs) = gateLabel(v.gate, g, s.theme)
        f.put(gl, x: 48, y: y, style: gs, maxWidth: 10)
        f.put(v.stage.rawValue, x: 59, y: y)
        f.put(String(v.artifact.digest.dropFirst(7).prefix(12)), x: 68, y: y, maxWidth: s.width - 68)
        if i == s.versionSelection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
    var y = y0 + 2 + e.versions.count
    if s.telemetry.enabled { y = versionFigures(&f, s, e, y: y, g) + 1 }
    if let summary = e.versions.first(where: { $0.gate != .passed && $0.gateSummary != nil }) {
        f.put("gate \(summary.name): \(summary.gateSummary!)", x: 0, y: y, style: s.theme.warn, maxWidth: s.width)
        y += 1
    }
    y += 1
    guard y < r.maxY else { return }
    f.put("RECENT REVISIONS", x: 0, y: y, style: s.theme.title)
    y += 1
    for rec in (s.revisions[name] ?? []).prefix(max(0, r.maxY - y)) {
        let line = "r\(rec.revision)  \(ageText(s.now.timeIntervalSince(rec.time))) ago  \(rec.actor)  \(rec.action.rawValue): \(rec.summary)\(g.dash) \(rec.reason)"
        f.put(line, x: 0, y: y, maxWidth: s.width)
        y += 1
    }
}

private func auditScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    var x = f.put("AUDIT LOG  ", x: 0, y: r.y, style: s.theme.title)
    if let v = s.audit.verification {
        if v.intact && s.audit.linksIntact {
            x = f.put("\(g.ok) chain verified (\(v.entries) entries)", x: x, y: r.y, style: s.theme.ok)
        } else if let b = v.firstBreak {
            x = f.put("\(g.bad) chain BROKEN at entry \(b.seq): \(b.problem)", x: x, y: r.y, style: s.theme.bad, maxWidth: s.width - x)
        } else {
            x = f.put("\(g.bad) the entries shown do not link up", x: x, y: r.y, style: s.theme.bad)
        }
    } else {
        f.put("\(g.pending) verifying…", x: x, y: r.y, style: s.theme.warn)
    }
    let heads = [("SEQ", 0), ("TIME (UTC)", 6), ("ACTOR", 27), ("ACTION", 42), ("ENDPOINT", 58), ("REV", 72)]
    for (h, hx) in heads where hx < s.width { f.put(h, x: hx, y: r.y + 2, style: s.theme.title) }
    let reasonX = s.width >= 120 ? 80 : -1
    if reasonX > 0 { f.put("REASON", x: reasonX, y: r.y + 2, style: s.theme.title) }
    let rows = s.visibleAudit
    let visible = max(0, r.height - 3 - (reasonX > 0 ? 0 : 1))
    let top = max(0, min(s.audit.selection - visible / 2, rows.count - visible))
    for (i, e) in rows.dropFirst(top).prefix(visible).enumerated() {
        let y = r.y + 3 + i
        f.put(String(e.seq), x: 0, y: y, maxWidth: 5)
        f.put(String(Timestamp.rfc3339(ms: Timestamp.ms(e.time)).prefix(19)).replacingOccurrences(of: "T", with: " "), x: 6, y: y)
        f.put("\(e.actor)", x: 27, y: y, maxWidth: 14)
        let action = e.action.rawValue + (e.version.map { " \($0)" } ?? "") + (e.override ? " !OVR" : "")
        f.put(action, x: 42, y: y, style: e.override ? s.theme.warn : .plain, maxWidth: 15)
        f.put(e.endpoint, x: 58, y: y, maxWidth: 13)
        f.put("\(e.fromRevision)\(g.arrow)\(e.toRevision)", x: 72, y: y, maxWidth: max(0, s.width - 72))
        if reasonX > 0 { f.put(Names.printable(e.reason), x: reasonX, y: y, maxWidth: s.width - reasonX) }
        if top + i == s.audit.selection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
    // At 80 columns the reason of the selected entry gets its own line.
    if reasonX < 0, rows.indices.contains(s.audit.selection) {
        let e = rows[s.audit.selection]
        f.put("\(e.actor) (\(e.role.rawValue)): \(Names.printable(e.reason))  [\(e.summary)]", x: 0, y: r.maxY - 1, style: Style(bold: true), maxWidth: s.width)
    }
    if rows.isEmpty { f.put(s.audit.loadedAt == nil ? "loading the audit log…" : "no entries", x: 2, y: r.y + 4, style: s.theme.dim) }
}

private func traceList(_ f: inout Frame, _ s: ConsoleState, _ name: String, _ r: Rect, _ g: Glyphs) {
    f.put("TRACES of \(name): failing first, then slowest (last 15 minutes)", x: 0, y: r.y, style: s.theme.title, maxWidth: s.width)
    let t = s.traces
    if t.loading { f.put("searching…", x: 2, y: r.y + 2, style: s.theme.dim); return }
    if let e = t.error { f.put("\(g.bad) \(Names.printable(e))", x: 2, y: r.y + 2, style: s.theme.bad, maxWidth: s.width - 4); return }
    if t.summaries.isEmpty { f.put("no traces found for \(name) in the window", x: 2, y: r.y + 2, style: s.theme.dim); return }
    let heads = [("DURATION", 0), ("ERRORS", 10), ("SPANS", 18), ("STARTED", 25), ("ROOT", 36), ("TRACE ID", s.width - 33)]
    for (h, x) in heads where x >= 0 { f.put(h, x: x, y: r.y + 2, style: s.theme.title) }
    let visible = r.height - 3
    let top = max(0, min(t.selection - visible / 2, t.summaries.count - visible))
    for (i, sum) in t.summaries.dropFirst(top).prefix(visible).enumerated() {
        let y = r.y + 3 + i
        f.put(Fmt.ms(Double(sum.durationMicros) / 1000), x: 0, y: y)
        let errors = sum.errorCount ?? 0
        f.put(errors > 0 ? "\(g.bad) \(errors)" : (sum.errorCount == nil ? "—" : "0"), x: 10, y: y, style: errors > 0 ? s.theme.bad : .plain)
        f.put(sum.spanCount.map(String.init) ?? "—", x: 18, y: y)
        f.put("\(ageText(s.now.timeIntervalSince1970 - Double(sum.startMicros) / 1_000_000)) ago", x: 25, y: y, maxWidth: 10)
        f.put(Names.printable("\(sum.rootService): \(sum.rootName)"), x: 36, y: y, maxWidth: max(0, s.width - 36 - 34))
        f.put(sum.traceID, x: s.width - 33, y: y)
        if top + i == t.selection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
}

private func waterfall(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    let t = s.traces
    guard let trace = t.trace else {
        if let e = t.error { f.put("\(g.bad) \(Names.printable(e))", x: 2, y: r.y + 1, style: s.theme.bad, maxWidth: s.width - 4) }
        else { f.put("loading the trace…", x: 2, y: r.y + 1, style: s.theme.dim) }
        return
    }
    let rows = Waterfall.rows(trace)
    let start = trace.spans.map(\.startMicros).min() ?? 0
    let end = trace.spans.map { $0.startMicros + $0.durationMicros }.max() ?? start
    let slow = Waterfall.slowest(trace)
    f.put("TRACE \(trace.traceID)  \(Fmt.ms(Double(end - start) / 1000))  \(trace.spans.count) spans", x: 0, y: r.y, style: s.theme.title, maxWidth: s.width)
    let nameWidth = min(44, s.width / 2 - 6)
    let barX = nameWidth + 9, barWidth = max(10, s.width - barX - 1)
    let detailRows = min(6, max(0, r.height - rows.count - 3))
    let visible = r.height - 2 - detailRows
    let top = max(0, min(t.spanSelection - visible / 2, rows.count - visible))
    for (i, row) in rows.dropFirst(top).prefix(visible).enumerated() {
        let y = r.y + 2 + i
        let sp = row.span
        let mark = sp.status == .error ? "\(g.bad) " : sp.spanID == slow ? (g.ascii ? "^ " : "▲ ") : "  "
        let label = String(repeating: " ", count: min(row.depth * 2, 12)) + mark + Names.printable("\(sp.name) (\(sp.service))")
        let style: Style = sp.status == .error ? s.theme.bad : sp.spanID == slow ? s.theme.warn : .plain
        f.put(label, x: 0, y: y, style: style, maxWidth: nameWidth)
        f.put(Fmt.ms(Double(sp.durationMicros) / 1000), x: nameWidth + 1, y: y, maxWidth: 7)
        let (offset, length) = Waterfall.bar(sp, start: start, end: end, width: barWidth, ascii: g.ascii)
        f.put(String(repeating: g.full, count: length), x: barX + offset, y: y, style: style)
        if top + i == t.spanSelection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
    // The selected span's attributes.
    guard rows.indices.contains(t.spanSelection), detailRows > 0 else { return }
    let sp = rows[t.spanSelection].span
    var y = r.maxY - detailRows
    f.put("\(Names.printable(sp.name)) · \(Names.printable(sp.service)) · \(sp.status.rawValue) · span \(sp.spanID)", x: 0, y: y, style: Style(bold: true), maxWidth: s.width)
    y += 1
    for (k, v) in sp.attributes.sorted(by: { $0.key < $1.key }).prefix(detailRows - 1) {
        f.put("  \(Names.printable(k, limit: 40)) = \(Names.printable(v))", x: 0, y: y, maxWidth: s.width)
        y += 1
    }
}

private func help(_ f: inout Frame, _ s: ConsoleState, _ r: Rect) {
    f.put("KEYS (from the keymap; remap them in keymap.yaml)", x: 0, y: r.y, style: s.theme.title)
    for (i, a) in Action.allCases.enumerated() where r.y + 2 + i < r.maxY {
        f.put(s.keymap.keys(a), x: 2, y: r.y + 2 + i, style: Style(bold: true), maxWidth: 14)
        f.put(a.help, x: 18, y: r.y + 2 + i, maxWidth: s.width - 18)
    }
}

private func dialog(_ f: inout Frame, _ s: ConsoleState, _ d: Dialog, _ g: Glyphs) {
    let versions = Set(d.before.keys).union(d.after.keys).sorted()
    let height = min(s.height - 2, 9 + versions.count + (d.needsTypedName ? 1 : 0) + (d.revisions.isEmpty ? 0 : min(5, d.revisions.count) + 1))
    let box = f.bounds.centered(width: min(s.width - 4, 76), height: height)
    f.fill(box, style: s.theme.dialog)
    let (tl, tr, bl, br) = g.corners
    for x in box.x..<box.maxX {
        f[x, box.y] = Cell(g.h, s.theme.dialog)
        f[x, box.maxY - 1] = Cell(g.h, s.theme.dialog)
    }
    for y in box.y..<box.maxY {
        f[box.x, y] = Cell(g.v, s.theme.dialog)
        f[box.maxX - 1, y] = Cell(g.v, s.theme.dialog)
    }
    f[box.x, box.y] = Cell(tl, s.theme.dialog); f[box.maxX - 1, box.y] = Cell(tr, s.theme.dialog)
    f[box.x, box.maxY - 1] = Cell(bl, s.theme.dialog); f[box.maxX - 1, box.maxY - 1] = Cell(br, s.theme.dialog)
    let inner = box.inset(by: 1)
    var y = inner.y
    let title = s.theme.dialogTitle
    f.put(" " + d.title, x: inner.x, y: y, style: title, maxWidth: inner.width)
    y += 1
    f.put(" revision \(d.request.expected)  VERSION   BEFORE \(g.arrow) AFTER", x: inner.x, y: y, style: s.theme.dialog, maxWidth: inner.width)
    y += 1
    for (i, v) in versions.enumerated() {
        let b = d.before[v] ?? 0, a = d.after[v] ?? 0
        let moved = a - b
        let mark = moved == 0 ? "" : moved > 0 ? "  (+\(moved))" : "  (\(moved))"
        var style = s.theme.dialog
        if case .weights(let fi) = d.focus, d.editorVersions.indices.contains(fi), d.editorVersions[fi] == v { style = s.theme.field }
        f.put("               \(v.padding(toLength: 8, withPad: " ", startingAt: 0))  \(String(b).leftPad(3))  \(g.arrow) \(String(a).leftPad(3))\(mark)",
              x: inner.x, y: y + i, style: style, maxWidth: inner.width)
    }
    y += versions.count + 1
    if !d.revisions.isEmpty {
        f.put(" roll back to (Up/Down to choose):", x: inner.x, y: y, style: s.theme.dialog)
        y += 1
        let top = max(0, d.revisionIndex - 4)
        for (i, rec) in d.revisions.dropFirst(top).prefix(5).enumerated() {
            let st = top + i == d.revisionIndex ? s.theme.selected : s.theme.dialog
            f.put("   r\(rec.revision) \(rec.actor): \(rec.summary)\(g.dash) \(rec.reason)", x: inner.x, y: y, style: st, maxWidth: inner.width)
            y += 1
        }
    }
    if d.needsTypedName {
        let st = d.focus == .typedName ? s.theme.field : s.theme.dialog
        f.put(" type \(d.request.endpoint) to confirm: \(d.typedName)\(d.focus == .typedName ? "_" : "")", x: inner.x, y: y, style: st, maxWidth: inner.width)
        y += 1
    }
    let rs = d.focus == .reason ? s.theme.field : s.theme.dialog
    f.put(" reason: \(d.request.reason)\(d.focus == .reason ? "_" : "")", x: inner.x, y: y, style: rs, maxWidth: inner.width)
    y += 1
    if let e = d.error {
        f.put(" \(g.bad) \(e)", x: inner.x, y: y, style: s.theme.error, maxWidth: inner.width)
    } else if d.submitting {
        f.put(" applying…", x: inner.x, y: y, style: s.theme.dialog)
    }
    f.put(" Enter apply   Esc cancel" + (d.editorVersions.isEmpty ? "" : "   Tab next field, digits/+/- edit"),
          x: inner.x, y: inner.maxY - 1, style: s.theme.dialog, maxWidth: inner.width)
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
