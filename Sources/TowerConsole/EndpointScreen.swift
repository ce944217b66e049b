import TerminalUI
import TowerAnalysis
import TowerDomain

/// One endpoint: its versions, their live figures when there are any, a gate's verdict, and the
/// recent revisions.
func endpointScreen(_ f: inout Frame, _ s: ConsoleState, _ name: String, _ r: Rect, _ g: Glyphs) {
    guard let e = s.endpoints.first(where: { $0.name == name }) else {
        f.put("endpoint \(name) is gone from the registry", x: 2, y: r.y + 1, style: s.theme.bad)
        return
    }
    let label = stateLabel(e, g, s.theme)
    var x = f.put("\(e.name)  ", x: 0, y: r.y, style: s.theme.title)
    x = f.put(label.text + "  ", x: x, y: r.y, style: label.style)
    f.put("\(e.path)  owner \(Names.printable(e.owner, limit: 200))  revision \(e.revision)", x: x, y: r.y, maxWidth: s.width - x)
    let y0 = r.y + 2
    versionTable(e, s, g).draw(into: &f, in: Rect(x: 0, y: y0, width: s.width, height: e.versions.count + 1))
    var y = y0 + 2 + e.versions.count
    // A rollout in progress is what the operator came for: under the versions it moves, above the figures.
    y = rolloutPanel(&f, s, name, y: y, maxY: r.maxY, g)
    if s.telemetry.enabled {
        y = versionFigures(&f, s, e, y: y, g)
        y = verdictLines(&f, s, e, y: y, g)
    }
    if let slo = e.slo, y < r.maxY {
        let (text, style) = VerdictText.sloLine(slo, s.slo.readings[e.name], error: s.slo.error, g, s.theme)
        f.put(text, x: 0, y: y, style: style, maxWidth: s.width)
        y += 1
    }
    if s.telemetry.enabled || e.slo != nil { y += 1 }
    if let summary = e.versions.first(where: { $0.gate != .passed && $0.gateSummary != nil }), let text = summary.gateSummary {
        f.put("gate \(summary.name): \(Names.printable(text, limit: 200))", x: 0, y: y, style: s.theme.warn, maxWidth: s.width)
        y += 1
    }
    y += 1
    y = provenanceLines(&f, s, e, y: y, maxY: r.maxY, g)
    guard y < r.maxY else { return }
    f.put("RECENT REVISIONS", x: 0, y: y, style: s.theme.title)
    y += 1
    for rec in s.revisions[name] ?? [] where y < r.maxY {
        let line = "r\(rec.revision)  \(ageText(s.now.timeIntervalSince(rec.time))) ago  \(rec.actor)  \(rec.action.rawValue): \(rec.summary)\(g.dash) \(Names.printable(rec.reason, limit: Reason.maxLength))"
        f.put(line, x: 0, y: y, maxWidth: s.width)
        y += 1
        // What the change did, under it: the answer to "did that change cause this?".
        if let impact = s.impact[RevisionKey(name, rec.revision)], y < r.maxY {
            let (text, style) = VerdictText.impact(impact, g, s.theme)
            f.put("   \(g.arrow) " + text, x: 0, y: y, style: style, maxWidth: s.width)
            y += 1
        }
    }
}

/// Each version but the baseline: its verdict word and sample size first (a narrow screen keeps
/// them), then the evidence. Returns the line after them.
private func verdictLines(_ f: inout Frame, _ s: ConsoleState, _ e: Endpoint, y: Int, _ g: Glyphs) -> Int {
    guard e.versions.count > 1, let baseline = Judging.baseline(e) else { return y }
    guard let judgements = s.telemetry.judgements[e.name] else {
        f.put("verdicts: no data \(g.dash.dropFirst()) the source gives no window counts", x: 0, y: y, style: s.theme.dim, maxWidth: s.width)
        return y + 1
    }
    var y = y
    for v in e.versions where v.name != baseline {
        let j = judgements[v.name] ?? Judgement(baseline: baseline, verdict: .noData, confidence: JudgePolicy.standard.confidence,
                                                latency: LatencyJudgement(verdict: .noData), errors: ErrorJudgement(verdict: .noData))
        var x = f.put("\(v.name) vs \(j.baseline)  ", x: 0, y: y, maxWidth: s.width)
        if v.weight == 0 {
            // Nothing new is going wrong on a version without traffic: no verdict word (a red "fail"
            // would read as an incident now), only since when, and what the window's tail last said.
            let since = Judging.quietSince(v, s.revisions[e.name]).map { " since \(Fmt.clock($0, s.timeZone))" } ?? ""
            let last = j.verdict == .noData ? "" : "  (last window: \(j.verdict.rawValue)\(VerdictText.evidence(j)))"
            f.put("no new traffic\(since)\(last)", x: x, y: y, style: s.theme.dim, maxWidth: max(0, s.width - x))
            y += 1
            continue
        }
        // A verdict judged on figures gone stale is dimmed.
        let stale = s.telemetry.figures[Telemetry.key(e.name, v.name)].map { s.telemetry.isStale($0, now: s.now) } ?? false
        let w = VerdictText.word(j.verdict, g, s.theme)
        x = f.put(w.text, x: x, y: y, style: stale ? s.theme.dim : w.style, maxWidth: max(0, s.width - x))
        f.put(VerdictText.evidence(j) + (stale ? "  (stale)" : ""), x: x, y: y,
              style: stale || j.verdict == .noData ? s.theme.dim : .plain, maxWidth: max(0, s.width - x))
        y += 1
    }
    return y
}

private func versionTable(_ e: Endpoint, _ s: ConsoleState, _ g: Glyphs) -> Table<Version> {
    let columns: [TableColumn<Version>] = [
        TableColumn("VERSION", width: 8) { TableCell($0.name) },
        TableColumn("WEIGHT", width: 6) { TableCell("\($0.weight)%") },
        TableColumn("", width: 21, priority: 2) { v in
            TableCell(WeightBar.level(v.weight, of: 100, width: 20, ascii: g.ascii).text, v.state == .serving ? .plain : s.theme.dim)
        },
        TableColumn("STATE", width: 9) { v in TableCell(v.state.rawValue, v.state == .serving ? s.theme.ok : s.theme.warn) },
        TableColumn("GATE", width: 10, priority: 1) { gateLabel($0.gate, g, s.theme) },
        TableColumn("STAGE", width: 8, priority: 3) { TableCell($0.stage.rawValue) },
        TableColumn("ARTIFACT", minWidth: 8, priority: 4) { TableCell(String($0.artifact.digest.dropFirst(7).prefix(12))) },
    ]
    return Table(columns: columns, rows: e.versions, selection: s.versionSelection, titleStyle: s.theme.title, selectedStyle: s.theme.selected)
}

/// Per-version figures side by side. Returns the line after the table.
private func versionFigures(_ f: inout Frame, _ s: ConsoleState, _ e: Endpoint, y: Int, _ g: Glyphs) -> Int {
    let t = s.telemetry
    let trendWidth = min(20, max(0, s.width - 57))
    let trendTop = Sparkline.top(of: e.versions.map { t.history[Telemetry.key(e.name, $0.name)] ?? [] }, width: trendWidth)
    func figure(_ text: @escaping (Figures) -> String) -> (Version) -> TableCell {
        { v in
            guard let fg = t.figures[Telemetry.key(e.name, v.name)] else { return "" }
            if t.isStale(fg, now: s.now) { return TableCell("~" + text(fg), s.theme.dim) }
            // Weight 0: the tail of what it had, still moving for a window, not a live reading.
            return TableCell(text(fg), v.weight == 0 ? s.theme.dim : .plain)
        }
    }
    let rps = figure { Fmt.rps($0.rps) }
    let columns: [TableColumn<Version>] = [
        TableColumn("VERSION", width: 8) { TableCell($0.name) },
        // A version the source has no series for says so once, across the figures.
        TableColumn("RPS", width: 7) { v in t.figures[Telemetry.key(e.name, v.name)] == nil ? TableCell("no data", s.theme.dim) : rps(v) },
        TableColumn(Fmt.errTitle(t), width: 7, cell: figure { Fmt.ratio($0.errorRatio) }),
        TableColumn("P50", width: 7, cell: figure { Fmt.ms($0.p50Ms) }),
        TableColumn("P95", width: 7, cell: figure { Fmt.ms($0.p95Ms) }),
        TableColumn("P99", width: 7, cell: figure { Fmt.ms($0.p99Ms) }),
        TableColumn("N", width: 7, cell: figure { Fmt.count($0.samples) }),
        // The versions share one scale, named in the title: side by side they compare.
        TableColumn(trendTop.map { "P99 TREND ≤" + Fmt.ms($0) } ?? "P99 TREND", minWidth: 1, maxWidth: 20) { v in
            let key = Telemetry.key(e.name, v.name)
            return t.figures[key] == nil ? "" : TableCell(Sparkline.render(t.history[key] ?? [], width: trendWidth, ascii: g.ascii, top: trendTop))
        },
    ]
    Table(columns: columns, rows: e.versions, titleStyle: s.theme.title).draw(into: &f, in: Rect(x: 0, y: y, width: s.width, height: e.versions.count + 1))
    return y + 1 + e.versions.count
}
