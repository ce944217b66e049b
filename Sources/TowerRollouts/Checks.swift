import Foundation
import TowerAnalysis
import TowerDomain

/// Turns one reading of the metrics into a round of checks. A figure that cannot be read is
/// inconclusive, never a pass: a rollout does not promote blind.
public enum RolloutChecks {
    /// - Parameters:
    ///   - target, baseline: the versions' figures from the reading; nil when the reading had none.
    ///   - unavailable: why there was no reading at all (no source, or it failed); every check is
    ///     then inconclusive with this reason.
    public static func evaluate(_ analysis: RunbookAnalysis, target: Figures?, baseline: Figures?, targetName: String,
                                baselineName: String, unavailable: String? = nil, now: Date,
                                policy: JudgePolicy = .standard) -> AnalysisRound {
        let results = analysis.checks.map { check -> CheckResult in
            if let unavailable {
                return CheckResult(check: check.name, value: nil, threshold: check.threshold, verdict: .inconclusive, detail: unavailable)
            }
            switch check {
            case .metric(let metric, let lo, let hi):
                guard let f = target else {
                    return CheckResult(check: check.name, value: nil, threshold: check.threshold, verdict: .inconclusive,
                                       detail: "no figures for \(targetName)")
                }
                guard let v = metric.value(f), v.isFinite else {
                    return CheckResult(check: check.name, value: nil, threshold: check.threshold, verdict: .inconclusive,
                                       detail: "\(targetName) has no \(metric.rawValue) (no traffic?)")
                }
                let ok = (lo.map { v >= $0 } ?? true) && (hi.map { v <= $0 } ?? true)
                return CheckResult(check: check.name, value: v, threshold: check.threshold, verdict: ok ? .pass : .fail)
            case .judgeBaseline:
                let w = { (name: String, f: Figures?) in
                    VersionWindow(name: name, weight: 0, latencyBuckets: f?.window?.latencyBuckets,
                                  requests: f?.window?.requests, errors: f?.window?.errors)
                }
                let j = Judge.judge(canary: w(targetName, target), baseline: w(baselineName, baseline), policy: policy)
                let verdict: CheckVerdict = switch j.verdict {
                case .pass: .pass
                case .fail: .fail
                case .inconclusive, .noData: .inconclusive
                }
                return CheckResult(check: check.name, value: j.latency.pValue.map { min($0, j.errors.pValue ?? 1) } ?? j.errors.pValue,
                                   threshold: check.threshold, verdict: verdict, detail: evidence(j))
            }
        }
        return AnalysisRound(time: now, checks: results)
    }

    /// The judge's evidence in one line: each metric's verdict and what decided it.
    static func evidence(_ j: Judgement) -> String {
        func part(_ name: String, _ v: Verdict, _ reason: String?, _ extra: String?) -> String {
            "\(name) \(v.rawValue)" + ([reason, extra].compactMap { $0 }.first.map { " (\($0))" } ?? "")
        }
        let shift = j.latency.shiftRelative.map { String(format: "%+.0f %% p-shift", $0 * 100) }
        let ratios = j.errors.ratios.flatMap { $0.count == 2 ? String(format: "%.2f %% vs %.2f %%", $0[0] * 100, $0[1] * 100) : nil }
        return "against \(j.baseline): " + part("latency", j.latency.verdict, j.latency.reason, shift) + "; "
            + part("errors", j.errors.verdict, j.errors.reason, ratios)
    }
}
