import Foundation

/// What the registry should do next for a rollout. The machine decides; the registry applies,
/// recording the result in the same transaction as any revision it makes.
public enum RolloutDecision: Sendable, Equatable {
    /// Nothing to do before `until` (nil: until something else happens: a round, a person).
    case wait(until: Date?)
    /// Set the weights (a revision by the rollout's actor) and move to the next step.
    case applyStep(index: Int, weights: [String: Int], reason: String)
    /// A timed pause is over: move to the next step (no revision).
    case finishPause(index: Int)
    /// Stop and wait for a person.
    case pauseForPerson(RolloutPause)
    /// Every step has run: drain the baseline if the runbook says so, and finish.
    case complete(drainBaseline: Bool, reason: String)
    /// Send the target's traffic back to the baseline and finish.
    case abort(reason: String)
}

/// A person's request was refused: it does not fit the rollout's state.
public struct RolloutRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

extension Rollout {
    /// The weights a setWeight of `w` means: the target `w`, the baseline the rest, others none.
    public func weights(targetWeight w: Int) -> [String: Int] {
        [target: w, baseline: 100 - w]
    }

    /// Whether the checks let the rollout go on past a timed pause or finish: with checks, the
    /// latest round must have passed; without a pass it waits (and the inconclusive count decides).
    var analysisAllowsProgress: Bool {
        guard let a = runbook.analysis, !a.checks.isEmpty else { return true }
        return rounds.last?.verdict == .pass
    }

    /// The next thing to do at `now`.
    public func decide(now: Date) -> RolloutDecision {
        guard phase == .running else { return .wait(until: nil) }
        let total = runbook.steps.count
        guard step < total else {
            if !analysisAllowsProgress { return .wait(until: nextAnalysisAt) }
            return .complete(drainBaseline: runbook.onComplete == .drainBaseline,
                             reason: "complete: \(total)/\(total) steps (runbook \(runbook.name), started by \(startedBy))")
        }
        switch runbook.steps[step] {
        case .setWeight(let w):
            return .applyStep(index: step, weights: weights(targetWeight: w),
                              reason: "\(stepLabel(step)) (runbook \(runbook.name), started by \(startedBy))")
        case .pause(nil):
            return .pauseForPerson(RolloutPause(kind: .step, by: actor,
                                                reason: "\(stepLabel(step)): waiting for someone to promote", at: now))
        case .pause(let seconds?):
            let end = stepStartedAt.addingTimeInterval(seconds)
            if now < end { return .wait(until: end) }
            if !analysisAllowsProgress { return .wait(until: nextAnalysisAt) }
            return .finishPause(index: step)
        }
    }

    /// When the next round of checks is due, if analysis runs now: while active, with checks,
    /// once the target carries traffic (with none there is nothing to measure).
    public var nextAnalysisAt: Date? {
        guard isActive, weight > 0, let a = runbook.analysis, !a.checks.isEmpty else { return nil }
        return (lastAnalysisAt ?? steps.first { $0.revision != nil }?.finishedAt ?? startedAt).addingTimeInterval(a.interval)
    }

    // MARK: Transitions the registry records

    /// A setWeight step was applied as `revision`: the next step begins.
    public mutating func stepApplied(index: Int, weight w: Int, revision: Int64?, now: Date) {
        guard index == step else { return }
        weight = w
        finish(step: index, revision: revision, now: now)
        log(RolloutEvent(time: now, actor: actor, action: .step, reason: stepLabel(index), revision: revision))
    }

    /// A timed pause ended.
    public mutating func pauseFinished(index: Int, now: Date) {
        guard index == step else { return }
        finish(step: index, revision: nil, now: now)
    }

    private mutating func finish(step index: Int, revision: Int64?, now: Date) {
        if let i = steps.lastIndex(where: { $0.index == index }) {
            steps[i].finishedAt = now
            steps[i].revision = revision
        }
        step = index + 1
        stepStartedAt = now
        if step < runbook.steps.count {
            steps.append(StepRecord(index: step, label: runbook.steps[step].label, startedAt: now))
        }
    }

    /// Records a round of checks. Returns `.abort` when failures pass the limit (the caller then
    /// aborts in one transaction), `.pauseForPerson` when inconclusive rounds do (already applied).
    public mutating func record(_ round: AnalysisRound) -> RolloutDecision? {
        guard isActive else { return nil }
        rounds.append(round)
        if rounds.count > Self.keptRounds { rounds.removeFirst(rounds.count - Self.keptRounds) }
        lastAnalysisAt = round.time
        let a = runbook.analysis
        switch round.verdict {
        case .pass:
            return nil
        case .fail:
            // A failure counts whatever the phase: a bad target waiting at an open pause at 3 a.m.
            // must still be stopped.
            failed += 1
            if failed > (a?.failureLimit ?? 0) {
                let bad = round.checks.filter { $0.verdict == .fail }.map(\.summary).joined(separator: "; ")
                return .abort(reason: "abort: \(bad); \(failed) failed rounds, limit \(a?.failureLimit ?? 0) (runbook \(runbook.name))")
            }
            return nil
        case .inconclusive:
            guard phase == .running else { return nil }
            inconclusive += 1
            if inconclusive > (a?.inconclusiveLimit ?? 0) {
                let why = round.checks.filter { $0.verdict == .inconclusive }.map(\.summary).joined(separator: "; ")
                let p = RolloutPause(kind: .inconclusive, by: actor,
                                     reason: "\(inconclusive) inconclusive rounds, limit \(a?.inconclusiveLimit ?? 0): \(why)", at: round.time)
                enterPause(p)
                return .pauseForPerson(p)
            }
            return nil
        }
    }

    /// Stops for a person (an open pause step, inconclusive checks, a manual change, a blocked step).
    public mutating func enterPause(_ p: RolloutPause) {
        guard isActive else { return }
        if phase == .paused, pause?.kind == p.kind, pause?.by == p.by { return }
        phase = .paused
        pause = p
        log(RolloutEvent(time: p.at, actor: p.by, action: .pause, reason: p.reason))
    }

    /// A person pauses it.
    public mutating func pause(by who: String, reason: String, now: Date) throws(RolloutRefusal) {
        guard isActive else { throw RolloutRefusal("the rollout has \(phase.rawValue); there is nothing to pause") }
        if phase == .paused { throw RolloutRefusal("the rollout is already paused (\(pause?.reason ?? "")) by \(pause?.by ?? "?")") }
        enterPause(RolloutPause(kind: .person, by: who, reason: reason, at: now))
    }

    /// A person lets it go on from the step it is on, with the weights as they are. A timed pause
    /// keeps the time it had left; the inconclusive count starts again.
    public mutating func resume(by who: String, reason: String, now: Date) throws(RolloutRefusal) {
        guard isActive else { throw RolloutRefusal("the rollout has \(phase.rawValue); it cannot be resumed") }
        guard phase == .paused, let p = pause else { throw RolloutRefusal("the rollout is running, not paused") }
        if p.kind == .step { throw RolloutRefusal("the rollout waits at an open pause (\(stepLabel(step))); promote it to go on") }
        unpause(since: p.at, now: now)
        log(RolloutEvent(time: now, actor: who, action: .resume, reason: reason))
    }

    /// A person skips the current pause (timed or open) and lets it go on; also resumes a paused one.
    public mutating func promote(by who: String, reason: String, now: Date) throws(RolloutRefusal) {
        guard isActive else { throw RolloutRefusal("the rollout has \(phase.rawValue); it cannot be promoted") }
        if let p = pause, phase == .paused { unpause(since: p.at, now: now) }
        log(RolloutEvent(time: now, actor: who, action: .promote, reason: reason))
        if step < runbook.steps.count, case .pause = runbook.steps[step] { pauseFinished(index: step, now: now) }
        // A person vouched for the target: the latest round need not have passed to go on.
        if let a = runbook.analysis, !a.checks.isEmpty, rounds.last?.verdict != .pass {
            rounds.append(AnalysisRound(time: now, checks: [CheckResult(check: "promoted", value: nil, threshold: "by a person",
                                                                        verdict: .pass, detail: "\(who): \(reason)")]))
        }
    }

    private mutating func unpause(since: Date, now: Date) {
        if case .pause(_?) = step < runbook.steps.count ? runbook.steps[step] : .setWeight(0) {
            stepStartedAt = stepStartedAt.addingTimeInterval(max(0, now.timeIntervalSince(since)))
        }
        phase = .running
        pause = nil
        inconclusive = 0
    }

    public mutating func markAborted(by who: String, reason: String, revision: Int64?, now: Date) {
        guard isActive else { return }
        phase = .aborted
        pause = nil
        weight = 0
        finishedAt = now
        outcome = reason
        log(RolloutEvent(time: now, actor: who, action: .abort, reason: reason, revision: revision))
    }

    public mutating func markCompleted(reason: String, revision: Int64?, now: Date) {
        guard isActive else { return }
        phase = .completed
        pause = nil
        finishedAt = now
        outcome = reason
        log(RolloutEvent(time: now, actor: actor, action: .complete, reason: reason, revision: revision))
    }
}
