import TerminalUI
import TowerDomain

/// The traces of an endpoint: failing first, then the slowest, each longest first (TraceTriage).
func tracesScreen(_ f: inout Frame, _ s: ConsoleState, _ name: String, _ r: Rect, _ g: Glyphs) {
    let t = s.traces
    let only = t.version.map { " · only \(Names.printable($0))" } ?? ""
    f.put("TRACES of \(name): failing first, then slowest (last 15 minutes)\(only)", x: 0, y: r.y, style: s.theme.title, maxWidth: s.width)
    if t.loading { f.put("searching…", x: 2, y: r.y + 2, style: s.theme.dim); return }
    if let e = t.error { f.put("\(g.bad) \(Names.printable(e))", x: 2, y: r.y + 2, style: s.theme.bad, maxWidth: s.width - 4); return }
    if t.summaries.isEmpty {
        let which = t.version.map { "traces of \(Names.printable($0))" } ?? "traces"
        f.put("no \(which) found for \(name) in the window", x: 2, y: r.y + 2, style: s.theme.dim, maxWidth: s.width - 4)
        return
    }
    let columns: [TableColumn<TraceSummary>] = [
        TableColumn("DURATION", width: 9) { TableCell(Fmt.ms(Double($0.durationMicros) / 1000)) },
        TableColumn("ERRORS", width: 7) { sum in
            let errors = sum.errorCount ?? 0
            return TableCell(errors > 0 ? "\(g.bad) \(errors)" : (sum.errorCount == nil ? "—" : "0"), errors > 0 ? s.theme.bad : .plain)
        },
        // `model.version`, else the service `<endpoint>-<version>` (TowerTraces' TraceVersion).
        TableColumn("VERSION", width: 8) { TableCell($0.version.map { Names.printable($0) } ?? "—") },
        TableColumn("SPANS", width: 6, priority: 2) { TableCell($0.spanCount.map(String.init) ?? "—") },
        TableColumn("STARTED", width: 10, priority: 1) { sum in
            TableCell("\(ageText(s.now.timeIntervalSince1970 - Double(sum.startMicros) / 1_000_000)) ago")
        },
        // The root takes what is left, so the trace ID stays whole at the right.
        TableColumn("ROOT", minWidth: 1, priority: 3) { TableCell(Names.printable("\($0.rootService): \($0.rootName)")) },
        TableColumn("TRACE ID", width: 33) { TableCell($0.traceID) },
    ]
    Table(columns: columns, rows: t.summaries, selection: t.selection, titleStyle: s.theme.title, selectedStyle: s.theme.selected)
        .draw(into: &f, in: Rect(x: 0, y: r.y + 2, width: s.width, height: r.height - 2))
}
