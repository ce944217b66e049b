import Foundation
import TowerDomain

/// A plan for moving an endpoint's traffic from a baseline version to a target (DESIGN §11):
/// steps that set the target's weight or pause, and the analysis checked while it runs.
/// Only `Runbook.parse` makes one, so a runbook that exists is one that can run.
public struct Runbook: Sendable, Equatable {
    public var name: String
    public var steps: [RunbookStep]
    public var analysis: RunbookAnalysis?
    public var onComplete: OnComplete

    public enum OnComplete: String, Sendable, Equatable, CaseIterable {
        /// Drain the baseline once the target carries everything.
        case drainBaseline
        /// Leave the baseline serving at weight 0, for a quick way back.
        case keep
    }

    /// The weight the target carries once every step has run.
    public var finalWeight: Int {
        steps.reduce(0) { w, s in if case .setWeight(let n) = s { n } else { w } }
    }

    /// How many steps, for "step 3/7".
    public var stepCount: Int { steps.count }
}

public enum RunbookStep: Sendable, Equatable {
    /// The target's weight in whole percent; the baseline takes the rest.
    case setWeight(Int)
    /// A timed pause (seconds), or, without a duration, one that lasts until someone promotes.
    case pause(seconds: Double?)

    /// "setWeight 25", "pause 2m", "pause until promoted".
    public var label: String {
        switch self {
        case .setWeight(let w): "setWeight \(w)"
        case .pause(let s?): "pause \(RunbookDuration.format(s))"
        case .pause(nil): "pause until promoted"
        }
    }
}

public struct RunbookAnalysis: Sendable, Equatable {
    /// Seconds between rounds of checks.
    public var interval: Double
    /// Failed rounds tolerated; one more aborts.
    public var failureLimit: Int
    /// Inconclusive rounds tolerated; one more pauses the rollout for a person.
    public var inconclusiveLimit: Int
    public var checks: [RunbookCheck]
}

public enum RunbookCheck: Sendable, Equatable {
    /// A figure of the target version against a bound (either or both).
    case metric(RunbookMetric, min: Double?, max: Double?)
    /// TowerAnalysis's verdict of the target against the baseline.
    case judgeBaseline

    /// "errorRatio", "judge baseline".
    public var name: String {
        switch self {
        case .metric(let m, _, _): m.rawValue
        case .judgeBaseline: "judge baseline"
        }
    }

    /// "≤ 0.01", "≥ 5 and ≤ 500", "verdict not fail".
    public var threshold: String {
        switch self {
        case .metric(_, let lo, let hi):
            [lo.map { "≥ \(RunbookDuration.plain($0))" }, hi.map { "≤ \(RunbookDuration.plain($0))" }].compactMap { $0 }.joined(separator: " and ")
        case .judgeBaseline: "verdict pass"
        }
    }
}

/// The figures a check may bound: those every metrics profile gives per version.
public enum RunbookMetric: String, Sendable, Equatable, CaseIterable {
    case errorRatio, p50Ms, p95Ms, p99Ms, rps

    public func value(_ f: Figures) -> Double? {
        switch self {
        case .errorRatio: f.errorRatio
        case .p50Ms: f.p50Ms
        case .p95Ms: f.p95Ms
        case .p99Ms: f.p99Ms
        case .rps: f.rps
        }
    }
}

/// Durations as runbooks write them: `30s`, `2m`, `1h`, `500ms`, `1m30s`, or a bare number of seconds.
public enum RunbookDuration {
    public static func parse(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return nil }
        if let n = Double(t), n.isFinite { return n }
        var total = 0.0
        var rest = Substring(t)
        let negative = rest.hasPrefix("-")
        if negative { rest = rest.dropFirst() }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let n = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += n / 1000
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            default: return nil
            }
        }
        return negative ? -total : total
    }

    /// `2m`, `90s`, `1h`, `1.5s`.
    public static func format(_ seconds: Double) -> String {
        // Past 1e15 s `Int(…)` would trap (a request's `interval: 3.4e38` crashed the registry): `plain` writes those.
        if seconds >= 3600, seconds < 1e15, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds < 1e15, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return "\(plain(seconds))s"
    }

    /// A number without a trailing `.0`.
    static func plain(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
