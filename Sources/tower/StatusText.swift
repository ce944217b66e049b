import Foundation
import TowerAnalysis
import TowerDomain

/// Plain-text renderings for the headless verbs: fixed columns, no colour, states, gates and actors
/// in `Vocabulary`'s words (JSON keeps the API's enum values).
enum StatusText {
    static func split(_ e: Endpoint) -> String {
        let parts = e.versions.map { v -> String in
            var s = "\(v.name)=\(v.weight)"
            if v.state != .serving { s += " (\(Vocabulary.word(v.state)))" }
            if v.gate != .passed { s += " [gate \(Vocabulary.word(v.gate))]" }
            return s
        }
        return (e.state == .outOfService ? Vocabulary.word(e.state) + ", " : "") + parts.joined(separator: " ")
    }

    /// The VERDICT column: the most urgent of the judged versions (fail, then no-data, then
    /// inconclusive), e.g. `v2 fail`; `pass` when all pass; `-` with nothing judged.
    static func verdict(_ judgements: [String: Judgement]) -> String {
        let order: [Verdict] = [.fail, .noData, .inconclusive]
        for v in order {
            let names = judgements.filter { $0.value.verdict == v }.keys.sorted()
            if !names.isEmpty { return names.joined(separator: ",") + " " + v.rawValue }
        }
        return judgements.isEmpty ? "-" : "pass"
    }

    static func table(_ endpoints: [Endpoint], now: Date, figures: [String: Figures]? = nil, verdicts: [String: String]? = nil) -> String {
        var rows = [["ENDPOINT", "STATE", "REV", "SPLIT", "CHANGED"] + (figures == nil ? [] : ["RPS", "ERR%", "P50", "P95", "P99", "N"])
                    + (verdicts == nil ? [] : ["VERDICT"])]
        func n(_ v: Double?, _ scale: Double = 1, _ digits: Int = 1) -> String {
            guard let v, v.isFinite else { return "-" }
            return String(format: "%.\(digits)f", v * scale)
        }
        for e in endpoints {
            var row = [e.name, Vocabulary.word(e.state), String(e.revision), split(e), "\(Vocabulary.actor(e.updatedBy)) \(age(now.timeIntervalSince(e.updatedAt))) ago"]
            if let figures {
                let f = figures[EndpointVersionKey(e.name).description]
                row += [n(f?.rps), n(f?.errorRatio, 100, 2), n(f?.p50Ms, 1, 0), n(f?.p95Ms, 1, 0), n(f?.p99Ms, 1, 0), n(f?.samples, 1, 0)]
            }
            if let verdicts { row.append(verdicts[e.name] ?? "-") }
            rows.append(row)
        }
        return columns(rows)
    }

    static func audit(_ entries: [AuditEntry]) -> String {
        var rows = [["SEQ", "TIME", "ACTOR", "ACTION", "ENDPOINT", "REV", "REASON"]]
        for e in entries {
            rows.append([String(e.seq), Timestamp.rfc3339(ms: Timestamp.ms(e.time)), Vocabulary.actor(e.actor, role: e.role),
                         e.action.rawValue + (e.version.map { " \($0)" } ?? "") + (e.override ? " " + Vocabulary.override.word : ""),
                         e.endpoint, "\(e.fromRevision)→\(e.toRevision)", Names.printable(e.reason)])
        }
        return columns(rows)
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86400 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }

    static func columns(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.map(\.count).max() ?? 0)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0) }.joined()
        }.joined(separator: "\n")
    }
}
