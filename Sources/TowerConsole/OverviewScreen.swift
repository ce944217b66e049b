import TerminalUI
import TowerDomain

/// Every endpoint, one a row: the registry's view, or with telemetry the live figures.
func overviewScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    if s.telemetry.enabled { return liveOverview(&f, s, r, g) }
    let wide = s.width >= 120
    let bar = wide ? 20 : 10
    // The priorities decide what a narrow screen keeps: state, name and split first, the bar that
    // repeats the split later, who changed it last.
    let columns: [TableColumn<Endpoint>] = [
        TableColumn("STATE", width: 10) { stateLabel($0, g, s.theme, short: true) },
        TableColumn(s.sort == .name ? "ENDPOINT" + g.ascending : "ENDPOINT", width: wide ? 24 : 16) { TableCell($0.name) },
    ] + rolloutColumn(s, g) + [
        TableColumn("TRAFFIC", width: bar, priority: 2) { e in
            TableCell(weightBar(e, width: bar, g).text, e.state == .outOfService ? s.theme.dim : .plain)
        },
        TableColumn("SPLIT", width: wide ? 30 : 16, priority: 1) { TableCell(splitText($0)) },
        TableColumn("REV", width: 5, priority: 3) { TableCell("r\($0.revision)") },
        // 8 cells hold `✓ passed`; the STATE column's full words took the cells it gives up at 80.
        TableColumn("GATES", width: wide ? 10 : 8, priority: 1) { gatesLabel($0, g, s.theme) },
        TableColumn(s.sort == .changed ? "CHANGED" + g.descending : "CHANGED", minWidth: 8, priority: 4) { e in TableCell("\(Vocabulary.actor(e.updatedBy)) \(ageText(s.now.timeIntervalSince(e.updatedAt)))") },
    ]
    let rows = s.visibleEndpoints
    Table(columns: columns, rows: rows, selection: s.selection, titleStyle: s.theme.title, selectedStyle: s.theme.selected)
        .draw(into: &f, in: r)
    if rows.isEmpty {
        f.put(s.lastRead == nil ? "waiting for the registry" + g.ellipsis : (s.filter.isEmpty ? "no endpoints" : "no endpoint matches /\(s.filter)"),
              x: 2, y: r.y + 2, style: s.theme.dim)
    }
}

private func liveOverview(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    let t = s.telemetry
    func metric(_ e: Endpoint, _ text: (Figures) -> String, alarm: (Figures) -> Bool = { _ in false }) -> TableCell {
        guard let fg = t.figures[Telemetry.key(e.name)] else { return TableCell("—", s.theme.dim) }
        if t.isStale(fg, now: s.now) { return TableCell("~" + text(fg), s.theme.dim) }
        return TableCell(text(fg), alarm(fg) ? s.theme.bad : .plain)
    }
    var columns: [TableColumn<Endpoint>] = [
        TableColumn("STATE", width: 10) { stateLabel($0, g, s.theme, short: true) },
        // 12 cells at 80 columns (the STATE column's full words took three), more when there is room.
        TableColumn(s.sort == .name ? "ENDPOINT" + g.ascending : "ENDPOINT", minWidth: 12, maxWidth: 15) { TableCell($0.name) },
    ] + rolloutColumn(s, g)
    // The mark of a row in trouble, naming the version: kept first at any width (80 columns keep
    // its first 17 characters, and the split beside it, giving up RPS; a wide screen all of it),
    // and there only while a row is marked, so a healthy fleet loses no figures to an empty column.
    let marked = s.alertWidth > 0
    if marked {
        let width = min(30, s.alertWidth)
        columns.append(TableColumn("ALERT", minWidth: s.width >= 120 ? width : min(17, width), maxWidth: width) { e in VerdictText.flag(e, s, g) ?? "" })
    }
    // The column the rows are sorted by says so, k9s-style, with one more cell for the arrow.
    func title(_ t: String, _ width: Int, _ order: SortOrder) -> (String, Int) { s.sort == order ? (t + g.descending, width + 1) : (t, width) }
    let (rpsTitle, rpsWidth) = title("RPS", 6, .rps), (errTitle, errWidth) = title(Fmt.errTitle(t), 6, .errors)
    let (p99Title, p99Width) = title("P99", 6, .p99), (burnTitle, burnWidth) = title("BURN", 6, .burn)
    columns += [
        TableColumn(rpsTitle, width: rpsWidth, priority: marked ? 2 : 1) { e in metric(e) { Fmt.rps($0.rps) } },
        TableColumn(errTitle, width: errWidth, priority: 1) { e in metric(e, { Fmt.ratio($0.errorRatio) }, alarm: { ($0.errorRatio ?? 0) >= ConsoleState.errorAlarm }) },
        TableColumn(p99Title, width: p99Width, priority: 1) { e in metric(e) { Fmt.ms($0.p99Ms) } },
    ]
    if !s.slo.targets.isEmpty { columns.append(TableColumn(burnTitle, width: burnWidth, priority: 1) { e in VerdictText.burnCell(e, s, g) }) }
    // The rows on screen share one scale, named in the title, so a tall line is a slow endpoint and
    // not merely one that changed.
    let rows = s.visibleEndpoints
    let shown = Table<Endpoint>.window(count: rows.count, selection: s.selection, visible: r.height - 1)
    let trendTop = Sparkline.top(of: rows[shown].map { t.history[Telemetry.key($0.name)] ?? [] }, width: 12)
    columns += [
        TableColumn(trendTop.map { "P99 ≤" + Fmt.ms($0) } ?? "P99 TREND", width: 12, priority: 2) { e in
            TableCell(Sparkline.render(t.history[Telemetry.key(e.name)] ?? [], width: 12, ascii: g.ascii, top: trendTop))
        },
        TableColumn("SPLIT", width: 16, priority: 1) { TableCell(splitText($0)) },
        TableColumn("REV", width: 4, priority: 3) { TableCell("r\($0.revision)") },
        TableColumn("P50", width: 6, priority: 4) { e in metric(e) { Fmt.ms($0.p50Ms) } },
        TableColumn("P95", width: 6, priority: 4) { e in metric(e) { Fmt.ms($0.p95Ms) } },
        TableColumn("N", width: 6, priority: 4) { e in metric(e) { Fmt.count($0.samples) } },
        TableColumn("GATES", width: 9, priority: 3) { gatesLabel($0, g, s.theme) },
        TableColumn(s.sort == .changed ? "CHANGED" + g.descending : "CHANGED", width: 14, priority: 5) { e in TableCell("\(Vocabulary.actor(e.updatedBy)) \(ageText(s.now.timeIntervalSince(e.updatedAt)))") },
    ]
    Table(columns: columns, rows: rows, selection: s.selection, titleStyle: s.theme.title, selectedStyle: s.theme.selected)
        .draw(into: &f, in: r)
    if rows.isEmpty {
        f.put(s.lastRead == nil ? "waiting for the registry" + g.ellipsis : "no endpoint matches /\(s.filter)", x: 2, y: r.y + 2, style: s.theme.dim)
    }
}

/// The ROLLOUT column, there only while some row has a rollout mark (see `RolloutText.overviewMark`).
private func rolloutColumn(_ s: ConsoleState, _ g: Glyphs) -> [TableColumn<Endpoint>] {
    guard s.rolloutWidth > 0 else { return [] }
    let width = min(26, s.rolloutWidth)
    return [TableColumn("ROLLOUT", minWidth: min(12, width), maxWidth: width) { e in RolloutText.overviewMark(e, s, g) ?? "" }]
}
