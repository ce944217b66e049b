import Foundation
import TowerDomain

/// A rollout as the registry stores it: the runbook, where it is, what analysis found and who did
/// what. Everything the state machine needs is here, so after a restart it resumes from this alone.
public struct Rollout: Codable, Sendable, Equatable {
    public var id: Int64
    public var endpoint: String
    public var runbook: Runbook
    public var target: String
    public var baseline: String
    public var startedBy: String
    public var startedAt: Date
    public var reason: String
    public var phase: RolloutPhase
    /// Why it is paused, while it is.
    public var pause: RolloutPause?
    /// The step being worked on; `runbook.steps.count` once all have run.
    public var step: Int
    /// When the current step began: a timed pause ends `seconds` after this (moved on by the time
    /// spent paused by a person, so a pause is never cut short by one).
    public var stepStartedAt: Date
    /// Every step begun, with its times and the revision a setWeight made.
    public var steps: [StepRecord]
    /// The target's weight as the rollout last set it.
    public var weight: Int
    /// Failed rounds (never reset within a rollout) and inconclusive rounds since the last resume.
    public var failed: Int
    public var inconclusive: Int
    /// The most recent rounds of checks, newest last (at most `keptRounds`: a minute at 5 s).
    public var rounds: [AnalysisRound]
    public var lastAnalysisAt: Date?
    /// Who did what: started, paused, resumed, promoted, aborted, and what the rollout did itself.
    public var events: [RolloutEvent]
    public var finishedAt: Date?
    /// Why it ended, for an abort: the failing check with its value and threshold, or who aborted.
    public var outcome: String?

    public static let keptRounds = 12
    public static let keptEvents = 200

    public var actor: String { Vocabulary.rolloutActor(id) }
    public var isActive: Bool { phase == .running || phase == .paused }

    public init(id: Int64, endpoint: String, runbook: Runbook, target: String, baseline: String, startedBy: String,
                reason: String, now: Date, weight: Int) {
        self.id = id; self.endpoint = endpoint; self.runbook = runbook; self.target = target; self.baseline = baseline
        self.startedBy = startedBy; self.startedAt = now; self.reason = reason
        phase = .running; pause = nil; step = 0; stepStartedAt = now; steps = [StepRecord(index: 0, label: runbook.steps[0].label, startedAt: now)]
        self.weight = weight; failed = 0; inconclusive = 0; rounds = []; lastAnalysisAt = nil
        events = [RolloutEvent(time: now, actor: startedBy, action: .start, reason: reason)]
        finishedAt = nil; outcome = nil
    }

    /// "step 3/7 setWeight 25".
    public func stepLabel(_ i: Int) -> String {
        guard i < runbook.steps.count else { return "done" }
        return "step \(i + 1)/\(runbook.steps.count) \(runbook.steps[i].label)"
    }

    /// When a timed pause at the current step ends, if the current step is one.
    public var pauseEndsAt: Date? {
        guard step < runbook.steps.count, case .pause(let s?) = runbook.steps[step] else { return nil }
        return stepStartedAt.addingTimeInterval(s)
    }

    mutating func log(_ e: RolloutEvent) {
        events.append(e)
        if events.count > Self.keptEvents { events.removeFirst(events.count - Self.keptEvents) }
    }
}

public enum RolloutPhase: String, Codable, Sendable, Equatable {
    case running, paused, completed, aborted
}

public struct RolloutPause: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, Equatable {
        /// An open pause step (`pause: {}`): waits for promote.
        case step
        /// A person paused it.
        case person
        /// Too many inconclusive rounds: no one can tell whether the target is good.
        case inconclusive
        /// Someone changed the endpoint's routing by hand.
        case manualChange = "manual-change"
        /// A step could not be applied (the registry refused the change).
        case blocked
    }
    public var kind: Kind
    public var by: String
    public var reason: String
    public var at: Date

    public init(kind: Kind, by: String, reason: String, at: Date) {
        self.kind = kind; self.by = by; self.reason = reason; self.at = at
    }
}

public struct StepRecord: Codable, Sendable, Equatable {
    public var index: Int
    public var label: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// The revision this step made (setWeight), once applied.
    public var revision: Int64?

    public init(index: Int, label: String, startedAt: Date, finishedAt: Date? = nil, revision: Int64? = nil) {
        self.index = index; self.label = label; self.startedAt = startedAt; self.finishedAt = finishedAt; self.revision = revision
    }
}

public struct RolloutEvent: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable, Equatable {
        case start, step, pause, resume, promote, abort, complete
    }
    public var time: Date
    public var actor: String
    public var action: Action
    public var reason: String
    public var revision: Int64?

    public init(time: Date, actor: String, action: Action, reason: String, revision: Int64? = nil) {
        self.time = time; self.actor = actor; self.action = action; self.reason = reason; self.revision = revision
    }
}

public enum CheckVerdict: String, Codable, Sendable, Equatable {
    case pass, fail, inconclusive
}

/// One check in one round: what was measured against what it had to be.
public struct CheckResult: Codable, Sendable, Equatable {
    public var check: String
    public var value: Double?
    public var threshold: String
    public var verdict: CheckVerdict
    /// Why inconclusive, or the judge's evidence.
    public var detail: String?

    public init(check: String, value: Double?, threshold: String, verdict: CheckVerdict, detail: String? = nil) {
        self.check = check; self.value = value; self.threshold = threshold; self.verdict = verdict; self.detail = detail
    }

    /// "errorRatio 0.2 (≤ 0.01)".
    public var summary: String {
        let v = value.map { Self.format($0) } ?? "no value"
        return "\(check) \(v) (\(threshold))" + (verdict == .inconclusive ? ", inconclusive" + (detail.map { ": \($0)" } ?? "") : "")
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e12 { return String(Int(x)) }
        return String(format: abs(x) < 1 ? "%.4g" : "%.1f", x)
    }
}

public struct AnalysisRound: Codable, Sendable, Equatable {
    public var time: Date
    public var checks: [CheckResult]
    public var verdict: CheckVerdict

    public init(time: Date, checks: [CheckResult]) {
        self.time = time; self.checks = checks
        verdict = checks.contains { $0.verdict == .fail } ? .fail
            : checks.contains { $0.verdict == .inconclusive } ? .inconclusive : .pass
    }
}
