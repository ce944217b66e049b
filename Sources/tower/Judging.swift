import Foundation
import TowerAnalysis
import TowerDomain
import TowerMetrics

/// From figures and the endpoint's spec to verdicts and SLO burn, for `status` and `judge`: the
/// same `Judge` and `SLOStatus` the console uses.
enum Judging {
    /// Each non-baseline version's judgement against the baseline (the spec's `baseline`, else the
    /// version with the most weight), from the window counts of `figures` (keyed by `FigureKey`).
    /// A version without counts is judged `no-data`, with the reason. By the spec's `judge` settings
    /// unless a policy is given.
    static func judgements(_ e: Endpoint, figures: [String: Figures], policy: JudgePolicy? = nil) -> [String: Judgement] {
        let windows = e.versions.map { v in
            let w = figures[EndpointVersionKey(e.name, v.name).description]?.window
            return VersionWindow(name: v.name, weight: v.weight, latencyBuckets: w?.latencyBuckets, requests: w?.requests, errors: w?.errors)
        }
        return Judge.endpoint(windows, baseline: e.baseline, policy: policy ?? JudgePolicy(e.judge))
    }

    /// The baseline's name, as `Judge` picks it.
    static func baseline(_ e: Endpoint) -> String? {
        Judge.baseline(of: e.versions.map { VersionWindow(name: $0.name, weight: $0.weight, latencyBuckets: nil, requests: nil, errors: nil) },
                       named: e.baseline)?.name
    }

    /// The burn-rate windows and each SLO's period, in seconds.
    static func burnWindows(_ endpoints: [Endpoint]) -> [Int] {
        var s = Set(BurnWindow.allCases.map(\.seconds))
        for e in endpoints { if let slo = e.slo { s.insert(slo.periodSeconds) } }
        return s.sorted()
    }

    /// Bad ratios for every endpoint with an SLO, from the first source that can say (Prometheus
    /// comes first). Nil with the reasons when none can.
    static func badRatios(_ endpoints: [Endpoint], sources: [any MetricsSource]) async -> (ratios: [String: BadRatios]?, errors: [String]) {
        let withSLO = endpoints.filter { $0.slo != nil }
        guard !withSLO.isEmpty else { return (nil, []) }
        var latency: [String: Double] = [:]
        for e in withSLO { if let ms = e.slo?.latencyMs { latency[e.name] = ms } }
        var errors: [String] = []
        for src in sources {
            do { return (try await src.badRatios(windows: burnWindows(withSLO), latencyMs: latency), errors) } catch {
                errors.append("\(src.name) burn rates: \(error)")
            }
        }
        return (nil, errors)
    }

    /// An endpoint's `slo` object: SLOStatus from the ratios; windows longer than the source's
    /// history are still shown but listed in `partialWindows`, and a partial period gives no budget.
    static func slo(_ slo: SLO, _ ratios: BadRatios?) -> SLOOutput {
        var errors: [BurnWindow: Double] = [:], slow: [BurnWindow: Double] = [:]
        for w in BurnWindow.allCases {
            errors[w] = ratios?.errors[w.seconds]
            slow[w] = ratios?.slow[w.seconds]
        }
        let period = slo.periodSeconds
        let whole = ratios.map { !$0.partial.contains(period) } ?? false
        let status = SLOStatus.evaluate(slo, errorRatios: errors, periodErrorRatio: whole ? ratios?.errors[period] : nil,
                                        slowRatios: slow, periodSlowRatio: whole ? ratios?.slow[period] : nil)
        let partial = BurnWindow.allCases.filter { ratios?.partial.contains($0.seconds) == true }.map(\.rawValue)
        return SLOOutput(spec: slo, status: status, partialWindows: partial)
    }

    struct SLOOutput: Encodable {
        var spec: SLO
        var status: SLOStatus
        var partialWindows: [String]
        enum K: String, CodingKey { case latencyMs, latencyTarget, period, partialWindows }
        func encode(to encoder: any Encoder) throws {
            try status.encode(to: encoder)
            var c = encoder.container(keyedBy: K.self)
            try c.encodeIfPresent(spec.latencyMs, forKey: .latencyMs)
            try c.encodeIfPresent(spec.latencyTarget, forKey: .latencyTarget)
            try c.encode(spec.period ?? SLO.defaultPeriod, forKey: .period)
            try c.encode(partialWindows, forKey: .partialWindows)
        }
    }

    // MARK: Words

    /// "+38 % [+21 %, +55 %] (+12.0 ms)", or in ms only without a baseline median.
    static func shift(_ l: LatencyJudgement) -> String? {
        guard let ms = l.shiftMs else { return nil }
        if let r = l.shiftRelative, let i = l.intervalRelative, i.count == 2 {
            return "\(percent(r)) [\(percent(i[0])), \(percent(i[1]))] (\(signed(ms, digits: 1)) ms)"
        }
        if let i = l.intervalMs, i.count == 2 { return "\(signed(ms, digits: 1)) ms [\(signed(i[0], digits: 1)), \(signed(i[1], digits: 1))]" }
        return "\(signed(ms, digits: 1)) ms"
    }

    /// The tail test: "p95 212 → 480 ms [+120, +310] (8 vs 2 % above 250 ms, p = 0.0001)".
    static func tail(_ t: TailJudgement) -> String {
        var text = "tail \(t.verdict.rawValue)"
        if let q = t.quantileMs, q.count == 2 { text += ": p95 \(Int(q[1].rounded())) → \(Int(q[0].rounded())) ms" }
        if let i = t.intervalMs, i.count == 2 {
            text += " [\(i[0].map { signed($0, digits: 0) } ?? "−∞"), \(i[1].map { signed($0, digits: 0) } ?? "+∞")]"
        }
        let p = t.pValue < 0.0001 ? "p < 0.0001" : "p = \(pValue(t.pValue))"
        return text + " (above \(Int(t.thresholdMs)) ms: \(grouped(t.above[0]))/\(grouped(t.above[1])), \(p))"
    }

    /// One version's verdict with its evidence, e.g.
    /// `v2 fail against v1 over 5m at 98 %`
    /// `  latency fail: +38 % [+21 %, +55 %] (+12.0 ms), p = 0.0001, n = 412/3,980`.
    static func text(version: String, _ j: Judgement, window: String, minSamples: Int) -> String {
        var lines = ["\(version) \(j.verdict.rawValue) against \(j.baseline) over \(window) at \(percentPlain(j.confidence))"]
        func evidence(_ verdict: Verdict, _ samples: Pair<UInt64>?, _ needed: Pair<UInt64>?, _ reason: String?, _ details: [String]) -> String {
            switch verdict {
            case .noData: return "no-data: \(reason ?? "no figures")"
            case .inconclusive:
                let have = samples?.min() ?? 0
                return "inconclusive: \(grouped(have)) of \(minSamples) samples" + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
            default:
                return verdict.rawValue + ": " + details.joined(separator: ", ")
            }
        }
        var l: [String] = []
        if let s = shift(j.latency) { l.append(s) }
        if let p = j.latency.pValue { l.append("p = \(pValue(p))") }
        if let t = j.latency.tail { l.append(tail(t)) }
        if let n = j.latency.samples, n.count == 2 { l.append("n = \(grouped(n[0]))/\(grouped(n[1]))") }
        lines.append("  latency " + evidence(j.latency.verdict, j.latency.samples, j.latency.samplesNeeded, j.latency.reason, l))
        var e: [String] = []
        if let r = j.errors.ratios, r.count == 2 { e.append("\(percent2(r[0])) vs \(percent2(r[1])) errors") }
        if let i = j.errors.interval, i.count == 2 { e.append("difference [\(signed(i[0] * 100, digits: 2)), \(signed(i[1] * 100, digits: 2))] pt") }
        if let p = j.errors.pValue { e.append("p = \(pValue(p))") }
        if let n = j.errors.samples, n.count == 2 { e.append("n = \(grouped(n[0]))/\(grouped(n[1]))") }
        lines.append("  errors  " + evidence(j.errors.verdict, j.errors.samples, j.errors.samplesNeeded, j.errors.reason, e))
        return lines.joined(separator: "\n")
    }

    static func percent(_ x: Double) -> String { signed(x * 100, digits: 0) + " %" }
    static func percentPlain(_ x: Double) -> String { String(format: "%g %%", x * 100) }
    static func percent2(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }
    static func signed(_ x: Double, digits: Int) -> String { (x >= 0 ? "+" : "") + String(format: "%.\(digits)f", x) }
    static func pValue(_ p: Double) -> String { p < 0.0001 ? "< 0.0001" : String(format: "%.4g", p) }

    /// 3980 → "3,980".
    static func grouped(_ n: UInt64) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }

    /// `5m`, `300s`, `1h`, `300` → seconds; nil for anything else or below one second.
    static func seconds(_ text: String) -> Int? {
        let units: [(Character, Int)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var body = Substring(text), scale = 1
        if let last = text.last, let u = units.first(where: { $0.0 == last }) { body = text.dropLast(); scale = u.1 }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(body), n > 0, n <= 90 * 86_400 / scale else { return nil }
        return n * scale
    }
}
