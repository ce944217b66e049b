import Foundation
import TerminalUI
import TowerAnalysis
import TowerDomain

// How verdicts, burn and change impact read on screen: the verdict word and the sample size come
// first, so a narrow terminal that cuts the line keeps them; the evidence follows.

enum VerdictText {
    /// 1234567 → "1,234,567".
    static func count(_ n: UInt64) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    /// "n = 412/3,980": canary (or after) / baseline (or before).
    static func samples(_ s: Pair<UInt64>?) -> String? {
        guard let s, s.count == 2 else { return nil }
        return "n = \(count(s[0]))/\(count(s[1]))"
    }

    static func pValue(_ p: Double?) -> String? {
        guard let p, p.isFinite else { return nil }
        return p < 0.001 ? "p < 0.001" : String(format: "p = %.3f", p)
    }

    /// A relative change: "+38 %".
    static func relative(_ r: Double) -> String { String(format: "%+.0f %%", r * 100) }

    /// An error ratio: "4.0 %", "0.25 %".
    static func ratio(_ r: Double) -> String { r < 0.01 && r > 0 ? String(format: "%.2f %%", r * 100) : String(format: "%.1f %%", r * 100) }

    static func confidence(_ c: Double) -> String { String(format: "%g %%", (c * 100 * 10).rounded() / 10) }

    /// "inconclusive: 23 of 50 samples" (the side still short, the canary's first).
    static func inconclusive(needed: Pair<UInt64>?, samples: Pair<UInt64>?) -> String {
        guard let needed, let samples, needed.count == 2, samples.count == 2 else { return "inconclusive" }
        let side = needed[0] > 0 ? 0 : 1
        let of = samples[side] + needed[side]
        return "inconclusive: \(count(samples[side])) of \(count(of)) samples" + (side == 1 ? " on the baseline" : "")
    }

    /// "latency +38 % [+21 %, +55 %]" (relative to the baseline's median), or in ms without one;
    /// the p95's shift when the tail test failed it.
    static func latencyEvidence(_ l: LatencyJudgement) -> String? {
        // Without a median shift (the rank test did not reject) a failing tail is the evidence:
        // "p95 +103 % [+52 %, +160 %]".
        if l.shiftMs == nil, let t = l.tail, t.verdict == .fail, let q = t.quantileMs, q.count == 2, q[1] > 0,
           let i = t.intervalRelative, i.count == 2, let lo = i[0] {
            let hi = i[1].map(relative) ?? "…"
            return "p95 \(relative(q[0] / q[1] - 1)) [\(relative(lo)), \(hi)]"
        }
        if let r = l.shiftRelative, let i = l.intervalRelative, i.count == 2 {
            return "latency \(relative(r)) [\(relative(i[0])), \(relative(i[1]))]"
        }
        if let s = l.shiftMs, let i = l.intervalMs, i.count == 2 {
            return String(format: "latency %+.0f ms [%+.0f, %+.0f]", s, i[0], i[1])
        }
        return nil
    }

    /// "errors 4.0 % vs 0.2 %, +3.8 pt [+2.9, +5.1]".
    static func errorEvidence(_ e: ErrorJudgement) -> String? {
        guard let r = e.ratios, r.count == 2 else { return nil }
        var text = "errors \(ratio(r[0])) vs \(ratio(r[1]))"
        if let i = e.interval, i.count == 2 {
            text += String(format: ", %+.1f pt [%+.1f, %+.1f]", (r[0] - r[1]) * 100, i[0] * 100, i[1] * 100)
        }
        return text
    }

    /// The verdict word with its glyph and style.
    static func word(_ v: Verdict, _ g: Glyphs, _ t: Theme) -> TableCell {
        switch v {
        case .pass: TableCell("\(g.ok) pass", t.ok)
        case .fail: TableCell("\(g.bad) fail", t.bad)
        case .inconclusive: TableCell("\(g.pending) inconclusive", t.warn)
        case .noData: TableCell("no data", t.dim)
        }
    }

    /// After the word: the sample size, then the evidence (the failing metric first), or what
    /// is missing.
    static func evidence(_ j: Judgement) -> String {
        switch j.verdict {
        case .noData:
            return [j.errors.reason, j.latency.reason].compactMap { $0 }.first.map { ": " + $0 } ?? ""
        case .inconclusive:
            let m: (needed: Pair<UInt64>?, samples: Pair<UInt64>?) = j.errors.verdict == .inconclusive
                ? (j.errors.samplesNeeded, j.errors.samples) : (j.latency.samplesNeeded, j.latency.samples)
            // "inconclusive" is the word already; the rest says how far from a verdict.
            return String(inconclusive(needed: m.needed, samples: m.samples).dropFirst("inconclusive".count))
        case .pass, .fail:
            var metrics = [errorEvidence(j.errors), latencyEvidence(j.latency)]
            if j.latency.verdict == .fail && j.errors.verdict != .fail { metrics.reverse() }
            let parts = ([samples(j.errors.samples ?? j.latency.samples)] + metrics).compactMap { $0 }
            return "  " + parts.joined(separator: "  ") + "  at \(confidence(j.confidence))"
        }
    }

    /// The BURN cell: page and ticket by symbol as well as colour; blank without an SLO.
    static func burnCell(_ e: Endpoint, _ s: ConsoleState, _ g: Glyphs) -> TableCell {
        guard e.slo != nil else { return "" }
        guard let b = s.slo.readings[e.name].flatMap({ BurnFigure.of($0.status) }) else { return TableCell("—", s.theme.dim) }
        let rate = b.rate >= 10 ? String(format: "%.0f", b.rate) : String(format: "%.1f", b.rate)
        switch b.alert {
        case .page: return TableCell("\(g.bad) \(rate)", s.theme.bad)
        case .ticket: return TableCell("! \(rate)", s.theme.warn)
        case .none: return TableCell(rate)
        }
    }

    /// The overview's mark for a row in trouble, naming the version: a failing verdict on a
    /// version that takes traffic, else a page- or ticket-level burn. Nil when nothing is known to
    /// be wrong.
    static func flag(_ e: Endpoint, _ s: ConsoleState, _ g: Glyphs) -> TableCell? {
        let judgements = s.telemetry.judgements[e.name]
        let failing = Judging.failing(e, judgements)
        if let v = failing.first, let j = judgements?[v.name] {
            var what: [String] = []
            // Spelled as the table beside it spells figures ("2.1%"), so 80 columns keep the whole mark.
            if j.errors.verdict == .fail, let r = j.errors.ratios?.first { what.append("errors \(Fmt.ratio(r))") }
            if j.latency.verdict == .fail {
                let fig = s.telemetry.figures
                if let c = fig[Telemetry.key(e.name, v.name)]?.p99Ms, let base = Judging.baseline(e),
                   let b = fig[Telemetry.key(e.name, base)]?.p99Ms, b > 0, c.isFinite {
                    what.append("p99 " + String(format: "%+.0f%%", (c / b - 1) * 100))
                } else if let r = j.latency.shiftRelative {
                    what.append("latency " + String(format: "%+.0f%%", r * 100))
                } else {
                    what.append("latency")
                }
            }
            let more = failing.count > 1 ? " +\(failing.count - 1)" : ""
            return TableCell("\(g.bad) \(v.name) \(what.joined(separator: ", "))\(more)", s.theme.bad)
        }
        guard let b = s.slo.readings[e.name].flatMap({ BurnFigure.of($0.status) }), b.alert != .none else { return nil }
        // The pair is on the Endpoint screen's SLO line; here the level and the objective fit 80 columns.
        return b.alert == .page ? TableCell("\(g.bad) page: \(b.objective)", s.theme.bad)
            : TableCell("! ticket: \(b.objective)", s.theme.warn)
    }

    /// The Endpoint screen's SLO line: the alert first, then the burn and the budget left.
    static func sloLine(_ slo: SLO, _ reading: SLOReading?, error: String?, _ g: Glyphs, _ t: Theme) -> (String, Style) {
        var objectives: [String] = []
        if let a = slo.availability { objectives.append("\(confidence(a)) available") }
        if let ms = slo.latencyMs, let target = slo.latencyTarget { objectives.append("\(confidence(target)) < \(Fmt.ms(ms))") }
        let declared = objectives.joined(separator: ", ") + " over \(slo.period ?? SLO.defaultPeriod)"
        guard let reading else {
            if let error { return ("SLO: burn unavailable: \(error)  (\(declared))", t.warn) }
            return ("SLO: reading burn rates" + g.ellipsis + "  (\(declared))", t.dim)
        }
        let st = reading.status
        var parts: [String] = []
        let style: Style
        let alert = st.overallAlert
        switch alert {
        case .page: parts.append("SLO \(g.bad) page"); style = t.bad
        case .ticket: parts.append("SLO ! ticket"); style = t.warn
        case .none: parts.append("SLO \(g.ok) no alert"); style = .plain
        }
        if let b = BurnFigure.of(st) {
            parts.append(String(format: "burn %.1f", b.rate) + " (\(b.objective) \(b.pair))")
        } else {
            parts.append("burn: no window pair read")
        }
        var budgets: [String] = []
        if st.availability != nil, let r = st.budgetRemaining { budgets.append(relativeBudget(r, st.latency != nil ? "errors" : nil)) }
        if let l = st.latency, let r = l.budgetRemaining { budgets.append(relativeBudget(r, st.availability != nil ? "latency" : nil)) }
        if !budgets.isEmpty { parts.append("budget left " + budgets.joined(separator: ", ") + (reading.partialBudget ? " (partial)" : "")) }
        parts.append(declared)
        if !reading.partial.isEmpty {
            parts.append("partial: \(reading.partial.map(\.rawValue).joined(separator: ", ")) longer than the history held")
        }
        if let error { parts.append("last read failed: \(error)") }
        return (parts.joined(separator: "  "), style)
    }

    private static func relativeBudget(_ r: Double, _ label: String?) -> String {
        (label.map { $0 + " " } ?? "") + String(format: "%.0f %%", r * 100)
    }

    /// One revision's impact, failing versions first: "v2 p99 212 → 640 ms, worse (p < 0.001,
    /// n = 380/2,950)"; the others as "no worse", "inconclusive …" or "no data".
    static func impact(_ state: ImpactState, _ g: Glyphs, _ t: Theme) -> (String, Style) {
        switch state {
        case .loading: return ("impact: reading" + g.ellipsis, t.dim)
        case .failed(let why): return ("impact unavailable: \(why)", t.dim)
        case .loaded(let versions, let w):
            guard !versions.isEmpty else { return ("impact: no figures for this endpoint around the change", t.dim) }
            var worse: [String] = [], noWorse: [String] = [], other: [String] = []
            for v in versions {
                let j = v.judgement
                switch j.verdict {
                case .fail:
                    let stats = [pValue(j.errors.verdict == .fail ? j.errors.pValue : j.latency.pValue),
                                 samples(j.errors.samples ?? j.latency.samples)].compactMap { $0 }.joined(separator: ", ")
                    var what: [String] = []
                    if j.errors.verdict == .fail, let r = j.errors.ratios {
                        what.append("errors \(ratio(r[1])) \(g.arrow) \(ratio(r[0]))")
                    }
                    if j.latency.verdict == .fail {
                        if let b = v.before?.p99Ms, let a = v.after?.p99Ms {
                            what.append("p99 \(Int(b.rounded())) \(g.arrow) \(Int(a.rounded())) ms")
                        } else if let e = latencyEvidence(j.latency) {
                            what.append(e)
                        }
                    }
                    worse.append("\(v.version) \(what.joined(separator: ", ")), worse (\(stats))")
                case .pass: noWorse.append(v.version)
                case .inconclusive: other.append("\(v.version) " + inconclusive(needed: j.errors.samplesNeeded ?? j.latency.samplesNeeded,
                                                                                 samples: j.errors.samples ?? j.latency.samples))
                case .noData: other.append("\(v.version) no data")
                }
            }
            var parts = worse
            if !noWorse.isEmpty { parts.append("\(noWorse.joined(separator: ", ")) no worse") }
            parts += other
            var text = parts.joined(separator: "; ")
            if !w.complete { text += " (after: \(ageText(Double(w.afterSeconds))) of \(ageText(Double(w.windowSeconds))) so far)" }
            return (text, worse.isEmpty ? .plain : t.bad)
        }
    }
}
