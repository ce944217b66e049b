import TerminalUI
import TowerDomain

/// One trace as a waterfall: spans in tree order on a shared time axis, the failing and the slowest
/// marked, and the selected span's attributes below.
func traceScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
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
    let shown = Table<Span>.window(count: rows.count, selection: t.spanSelection, visible: r.height - 2 - detailRows)
    for (i, index) in shown.enumerated() {
        let y = r.y + 2 + i
        let (sp, depth) = rows[index]
        let mark = sp.status == .error ? "\(g.bad) " : sp.spanID == slow ? (g.ascii ? "^ " : "▲ ") : "  "
        let code = sp.status == .error ? Waterfall.httpStatus(sp).map { " " + $0 } ?? "" : ""
        let label = String(repeating: " ", count: min(depth * 2, 12)) + mark + Names.printable("\(sp.name) (\(sp.service))\(code)")
        let style: Style = sp.status == .error ? s.theme.bad : sp.spanID == slow ? s.theme.warn : .plain
        f.put(label, x: 0, y: y, style: style, maxWidth: nameWidth)
        f.put(Fmt.ms(Double(sp.durationMicros) / 1000), x: nameWidth + 1, y: y, maxWidth: 7)
        WaterfallBar(start: sp.startMicros, duration: sp.durationMicros, windowStart: start, windowEnd: end, ascii: g.ascii)
            .draw(into: &f, x: barX, y: y, width: barWidth, style: style)
        if index == t.spanSelection { f.restyle(Rect(x: 0, y: y, width: s.width, height: 1)) { $0 = s.theme.selected } }
    }
    // The selected span's attributes.
    guard rows.indices.contains(t.spanSelection), detailRows > 0 else { return }
    let sp = rows[t.spanSelection].span
    var y = r.maxY - detailRows
    f.put("\(Names.printable(sp.name)) · \(Names.printable(sp.service)) · \(Names.printable(Waterfall.statusText(sp))) · span \(sp.spanID)", x: 0, y: y, style: Style(bold: true), maxWidth: s.width)
    y += 1
    for (k, v) in sp.attributes.sorted(by: { $0.key < $1.key }).prefix(detailRows - 1) {
        f.put("  \(Names.printable(k, limit: 40)) = \(Names.printable(v))", x: 0, y: y, maxWidth: s.width)
        y += 1
    }
}
