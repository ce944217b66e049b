import Foundation
import TowerAnalysis
import TowerDomain

// What the console makes of the numbers (issue 10): verdicts from window counts, SLO burn, and the
// impact of a change. All pure, computed in `update` when the figures arrive, never per frame.

/// An endpoint's SLO as last read: its burn per objective, and the windows the source could only
/// partly cover (a scrape source holds the history since the console started).
public struct SLOReading: Equatable, Sendable {
    public var status: SLOStatus
    public var partial: [BurnWindow]
    /// The period is longer than the source's history: the budget left is of what it has seen.
    public var partialBudget: Bool
    public var readAt: Date

    public init(status: SLOStatus, partial: [BurnWindow] = [], partialBudget: Bool = false, readAt: Date) {
        self.status = status; self.partial = partial; self.partialBudget = partialBudget; self.readAt = readAt
    }

    /// The source's bad-event ratios (keyed by window seconds) evaluated against `slo`.
    public static func from(_ slo: SLO, _ r: BadRatios, at: Date) -> SLOReading {
        func byWindow(_ d: [Int: Double]) -> [BurnWindow: Double] {
            var out: [BurnWindow: Double] = [:]
            for w in BurnWindow.allCases { if let v = d[w.seconds] { out[w] = v } }
            return out
        }
        let period = slo.periodSeconds
        let status = SLOStatus.evaluate(slo, errorRatios: byWindow(r.errors), periodErrorRatio: r.errors[period],
                                        slowRatios: byWindow(r.slow), periodSlowRatio: r.slow[period])
        return SLOReading(status: status, partial: BurnWindow.allCases.filter { r.partial.contains($0.seconds) },
                          partialBudget: r.partial.contains(period), readAt: at)
    }

    /// The windows a burn poll asks for: the alerting windows and every SLO's period (for the budget).
    public static func windows(for slos: some Collection<SLO>) -> [Int] {
        Set(BurnWindow.allCases.map(\.seconds) + slos.map(\.periodSeconds)).sorted()
    }
}

/// The SLOs the runtime polls burn for, and what it last said.
public struct SLOView: Equatable, Sendable {
    public var readings: [String: SLOReading] = [:]
    /// Why burn could not be read (the source cannot, or failed); cleared by the next answer.
    public var error: String?
    /// The endpoints with an SLO, as last handed to the runtime (`.pollBurn`).
    public var targets: [String: SLO] = [:]
    public init() {}
}

/// The burn the overview shows for an endpoint: of the alerting pair when one fires, else of the
/// fastest pair that can be read; a pair burns as fast as the slower of its two windows (both
/// must exceed the threshold to alert).
public struct BurnFigure: Equatable, Sendable {
    public var alert: BurnAlert
    public var rate: Double
    /// "1h/5m".
    public var pair: String
    /// "errors" or "latency": which objective.
    public var objective: String

    public static func of(_ s: SLOStatus) -> BurnFigure? {
        var reports: [(String, [BurnWindow: Double], BurnAlert, String?)] = []
        if s.availability != nil { reports.append(("errors", s.burnRates, s.alert, s.firing)) }
        if let l = s.latency { reports.append(("latency", l.burnRates, l.alert, l.firing)) }
        var best: BurnFigure?
        for (objective, rates, alert, firing) in reports {
            let pairs = BurnPair.standard.filter { firing == nil || "\($0.long.rawValue)/\($0.short.rawValue)" == firing }
            guard let p = pairs.first(where: { rates[$0.long] != nil && rates[$0.short] != nil }),
                  let long = rates[p.long], let short = rates[p.short] else { continue }
            let f = BurnFigure(alert: alert, rate: min(long, short), pair: "\(p.long.rawValue)/\(p.short.rawValue)", objective: objective)
            if best == nil || (f.alert, f.rate) > (best!.alert, best!.rate) { best = f }
        }
        return best
    }
}

/// Both windows around one revision, as read from a metrics source: figures by `Telemetry.key`.
public struct ImpactWindows: Equatable, Sendable {
    public var before: [String: Figures]
    public var after: [String: Figures]
    public var windowSeconds: Int
    /// Less than `windowSeconds` while the window after the change is still open.
    public var afterSeconds: Int

    public init(before: [String: Figures], after: [String: Figures], windowSeconds: Int, afterSeconds: Int) {
        self.before = before; self.after = after; self.windowSeconds = windowSeconds; self.afterSeconds = afterSeconds
    }

    public var complete: Bool { afterSeconds >= windowSeconds }
}

/// One version after a change against itself before it.
public struct VersionImpact: Equatable, Sendable {
    public var version: String
    public var before: Figures?
    public var after: Figures?
    public var judgement: Judgement
}

public struct RevisionKey: Hashable, Sendable {
    public var endpoint: String
    public var revision: Int64
    public init(_ endpoint: String, _ revision: Int64) { self.endpoint = endpoint; self.revision = revision }
}

public enum ImpactState: Equatable, Sendable {
    case loading
    case loaded([VersionImpact], ImpactWindows)
    case failed(String)
}

/// The change impact panel: 5 minutes either side of a revision by default.
public enum ImpactPolicy {
    public static let windowSeconds = 300
    /// The newest revisions whose impact is fetched when the Endpoint screen shows them.
    public static let revisions = 5
}

enum Judging {
    /// Each version's window counts as the statistics take them; nil when the source gave no
    /// counts for any version (it cannot say, so there is nothing to judge).
    static func windows(_ e: Endpoint, _ figures: [String: Figures]) -> [VersionWindow]? {
        var any = false
        let out = e.versions.map { v -> VersionWindow in
            let w = figures[Telemetry.key(e.name, v.name)]?.window
            if w != nil { any = true }
            return VersionWindow(name: v.name, weight: v.weight, latencyBuckets: w?.latencyBuckets, requests: w?.requests, errors: w?.errors)
        }
        return any ? out : nil
    }

    /// Every version but the baseline against the baseline (the spec's, else the most weight), by
    /// the spec's `judge` settings.
    static func endpoint(_ e: Endpoint, _ figures: [String: Figures]) -> [String: Judgement]? {
        guard e.versions.count > 1, let w = windows(e, figures) else { return nil }
        return Judge.endpoint(w, baseline: e.baseline, policy: JudgePolicy(e.judge))
    }

    /// The version judged against, as `Judge.endpoint` picks it.
    static func baseline(_ e: Endpoint) -> String? {
        if let b = e.baseline { return b }
        var best: Version?
        for v in e.versions where best == nil || v.weight > best!.weight { best = v }
        return best?.name
    }

    /// Each version after the change against itself before it, with the same tests.
    static func impact(endpoint: String, versions: [String], _ w: ImpactWindows, policy: JudgePolicy = .standard) -> [VersionImpact] {
        versions.compactMap { name in
            let key = Telemetry.key(endpoint, name)
            let before = w.before[key], after = w.after[key]
            guard before != nil || after != nil else { return nil }
            func window(_ f: Figures?) -> VersionWindow {
                VersionWindow(name: name, weight: 0, latencyBuckets: f?.window?.latencyBuckets, requests: f?.window?.requests, errors: f?.window?.errors)
            }
            return VersionImpact(version: name, before: before, after: after,
                                 judgement: Judge.judge(canary: window(after), baseline: window(before), policy: policy))
        }
    }

    /// Since when a version with weight 0 has had no new traffic: the revision that took its last
    /// weight away, from the endpoint's history (newest first) when it reaches back that far, else
    /// when its drain began; nil when neither says.
    static func quietSince(_ v: Version, _ history: [RevisionRecord]?) -> Date? {
        guard v.weight == 0 else { return nil }
        var since: Date?
        for rec in history ?? [] {
            guard let then = rec.endpoint.version(v.name), then.weight == 0 else {
                return since ?? v.drainingSince
            }
            since = rec.time
        }
        return v.drainingSince
    }

    /// A version that takes traffic judged `fail`, in the endpoint's order.
    static func failing(_ e: Endpoint, _ judgements: [String: Judgement]?) -> [Version] {
        guard let judgements else { return [] }
        return e.versions.filter { $0.weight > 0 && judgements[$0.name]?.verdict == .fail }
    }
}
