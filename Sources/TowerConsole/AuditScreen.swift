import TerminalUI
import TowerDomain

/// The audit log, newest first, under the verdict on its hash chain.
func auditScreen(_ f: inout Frame, _ s: ConsoleState, _ r: Rect, _ g: Glyphs) {
    let x = f.put("AUDIT LOG  ", x: 0, y: r.y, style: s.theme.title)
    if let v = s.audit.verification {
        if v.intact && s.audit.linksIntact {
            f.put("\(g.ok) chain verified (\(v.entries) entries)", x: x, y: r.y, style: s.theme.ok)
        } else if let b = v.firstBreak {
            f.put("\(g.bad) chain BROKEN at entry \(b.seq): \(b.problem)", x: x, y: r.y, style: s.theme.bad, maxWidth: s.width - x)
        } else {
            f.put("\(g.bad) the entries shown do not link up", x: x, y: r.y, style: s.theme.bad)
        }
    } else {
        f.put("\(g.pending) verifying…", x: x, y: r.y, style: s.theme.warn)
    }
    if let scope = s.audit.endpoint { f.put("of \(scope)", x: s.width - scope.count - 4, y: r.y, style: s.theme.title) }
    // The reason is never the column dropped: it is why the change was made. A narrow screen
    // shortens the time (no year) and the others instead, and the selected entry's reason also
    // gets a line of its own below the table; Enter opens an entry whole.
    let wide = s.width >= 120
    let columns: [TableColumn<AuditEntry>] = [
        TableColumn("SEQ", width: 5) { TableCell(String($0.seq)) },
        TableColumn("TIME (UTC)", width: wide ? 19 : 14, priority: 3) { e in
            let t = String(Timestamp.rfc3339(ms: Timestamp.ms(e.time)).prefix(19)).replacingOccurrences(of: "T", with: " ")
            return TableCell(wide ? t : String(t.dropFirst(5)))
        },
        TableColumn("ACTOR", width: wide ? 14 : 8, priority: 1) { TableCell(Vocabulary.actor($0.actor)) },
        TableColumn("ACTION", width: 13) { e in
            TableCell(e.action.rawValue + (e.version.map { " \($0)" } ?? "") + (e.override ? " !" + Vocabulary.override.short : ""), e.override ? s.theme.warn : .plain)
        },
        TableColumn("ENDPOINT", width: 12) { TableCell($0.endpoint) },
        TableColumn("REV", minWidth: 5, maxWidth: 7, priority: 2) { e in TableCell("\(e.fromRevision)\(g.arrow)\(e.toRevision)") },
        TableColumn("REASON", minWidth: 12) { TableCell(Names.printable($0.reason)) },
    ]
    let rows = s.visibleAudit
    let visible = max(0, r.height - 3 - (wide ? 0 : 1))
    Table(columns: columns, rows: rows, selection: s.audit.selection, titleStyle: s.theme.title, selectedStyle: s.theme.selected)
        .draw(into: &f, in: Rect(x: 0, y: r.y + 2, width: s.width, height: visible + 1))
    if !wide, rows.indices.contains(s.audit.selection) {
        let e = rows[s.audit.selection]
        f.put("\(Vocabulary.actor(e.actor, role: e.role)): \(Names.printable(e.reason))  [\(e.summary)]", x: 0, y: r.maxY - 1, style: Style(bold: true), maxWidth: s.width)
    }
    if rows.isEmpty { f.put(s.audit.loadedAt == nil ? "loading the audit log…" : "no entries", x: 2, y: r.y + 4, style: s.theme.dim) }
}
