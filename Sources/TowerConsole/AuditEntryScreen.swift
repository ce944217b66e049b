import Foundation
import TerminalUI
import TowerDomain

/// One audit entry whole: who (and as what role), when, what it did to the weights, the reason
/// in full (wrapped, never cut), and where it sits in the hash chain. The audit table has to cut
/// reasons to fit a row; this is where one is read.
func auditEntryScreen(_ f: inout Frame, _ s: ConsoleState, _ seq: Int64, _ r: Rect, _ g: Glyphs) {
    guard let e = s.audit.entries.first(where: { $0.seq == seq }) else {
        f.put("audit entry \(seq) is no longer in the log read", x: 2, y: r.y + 1, style: s.theme.bad)
        return
    }
    f.put("AUDIT ENTRY \(e.seq)  \(e.action.rawValue)\(e.version.map { " " + $0 } ?? "") \(e.endpoint)  r\(e.fromRevision) \(g.arrow) r\(e.toRevision)",
          x: 0, y: r.y, style: s.theme.title, maxWidth: s.width)
    let labelWidth = 10
    var y = r.y + 2
    func row(_ label: String, _ text: String, _ style: Style = .plain) {
        guard y < r.maxY else { return }
        f.put(label, x: 0, y: y, style: s.theme.title, maxWidth: labelWidth)
        for line in DialogBox.wrapped(text, width: max(10, s.width - labelWidth), style: style) where y < r.maxY {
            f.put(line.text, x: labelWidth, y: y, style: style, maxWidth: s.width - labelWidth)
            y += 1
        }
    }
    let time = String(Timestamp.rfc3339(ms: Timestamp.ms(e.time)).prefix(19)).replacingOccurrences(of: "T", with: " ")
    row("time", "\(time) UTC (\(ageText(s.now.timeIntervalSince(e.time))) ago)")
    row("actor", Vocabulary.actor(e.actor, role: e.role))
    row("action", e.action.rawValue + (e.override ? "  \(Vocabulary.override.word) of a gate that had not \(Vocabulary.word(GateStatus.passed))" : ""), e.override ? s.theme.warn : .plain)
    let versions = Set(e.weightsBefore.keys).union(e.weightsAfter.keys).sorted()
    let weights = versions.map { v in "\(v) \(e.weightsBefore[v].map(String.init) ?? "—") \(g.arrow) \(e.weightsAfter[v].map(String.init) ?? "—")" }
    row("weights", weights.isEmpty ? "unchanged" : weights.joined(separator: ", "))
    if e.sloBefore != nil || e.sloAfter != nil { row("slo", "\(e.sloBefore ?? "none") \(g.arrow) \(e.sloAfter ?? "none")") }
    if e.baselineBefore != nil || e.baselineAfter != nil { row("baseline", "\(e.baselineBefore ?? "none") \(g.arrow) \(e.baselineAfter ?? "none")") }
    row("summary", e.summary)
    row("reason", Names.printable(e.reason, limit: Reason.maxLength), Style(bold: true))
    y += 1
    row("hash", e.hash)
    row("previous", e.prevHash)
    let intact = e.computedHash() == e.hash
    row("chain", intact ? "\(g.ok) this entry's hash matches its content" : "\(g.bad) this entry's hash does NOT match its content",
        intact ? s.theme.ok : s.theme.bad)
}
