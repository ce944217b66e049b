import Foundation
import Testing
import TowerDomain
@testable import TowerRollouts

@Suite struct RolloutMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func book(_ yaml: String = """
        name: fast
        steps:
          - setWeight: 10
          - pause: 10s
          - setWeight: 50
          - pause: {}
          - setWeight: 100
        analysis: {interval: 5s, failureLimit: 1, inconclusiveLimit: 2, checks: [{metric: errorRatio, max: 0.05}]}
        onComplete: drainBaseline
        """) throws -> Runbook { try Runbook.parse(yaml: yaml) }

    func rollout(_ b: Runbook) -> Rollout {
        Rollout(id: 7, endpoint: "alpha", runbook: b, target: "v2", baseline: "v1", startedBy: "alice", reason: "ship v2", now: t0, weight: 0)
    }

    func round(_ verdict: CheckVerdict, at t: Date, value: Double? = 0.001) -> AnalysisRound {
        AnalysisRound(time: t, checks: [CheckResult(check: "errorRatio", value: value, threshold: "≤ 0.05", verdict: verdict)])
    }

    @Test func walksThroughTheStepsAndCompletes() throws {
        var r = rollout(try book())
        #expect(r.decide(now: t0) == .applyStep(index: 0, weights: ["v2": 10, "v1": 90], reason: "step 1/5 setWeight 10 (runbook fast, started by alice)"))
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        #expect(r.step == 1)
        // The pause runs from when it began; no round yet means no progress even once it is over.
        #expect(r.decide(now: t0.addingTimeInterval(3)) == .wait(until: t0.addingTimeInterval(10)))
        #expect(r.nextAnalysisAt == t0.addingTimeInterval(5))
        #expect(r.record(round(.pass, at: t0.addingTimeInterval(5))) == nil)
        #expect(r.decide(now: t0.addingTimeInterval(10)) == .finishPause(index: 1))
        r.pauseFinished(index: 1, now: t0.addingTimeInterval(10))
        guard case .applyStep(2, ["v2": 50, "v1": 50], _) = r.decide(now: t0.addingTimeInterval(10)) else { Issue.record("expected step 3"); return }
        r.stepApplied(index: 2, weight: 50, revision: 5, now: t0.addingTimeInterval(10))
        guard case .pauseForPerson(let p) = r.decide(now: t0.addingTimeInterval(11)) else { Issue.record("expected an open pause"); return }
        #expect(p.kind == .step)
        r.enterPause(p)
        #expect(r.phase == .paused)
        #expect(throws: RolloutRefusal.self) { try r.resume(by: "bob", reason: "go", now: t0.addingTimeInterval(12)) }
        try r.promote(by: "bob", reason: "looks good", now: t0.addingTimeInterval(12))
        #expect(r.phase == .running)
        #expect(r.step == 4)
        guard case .applyStep(4, ["v2": 100, "v1": 0], _) = r.decide(now: t0.addingTimeInterval(12)) else { Issue.record("expected the last step"); return }
        r.stepApplied(index: 4, weight: 100, revision: 6, now: t0.addingTimeInterval(12))
        #expect(r.decide(now: t0.addingTimeInterval(12)) == .complete(drainBaseline: true, reason: "complete: 5/5 steps (runbook fast, started by alice)"))
        r.markCompleted(reason: "done", revision: 7, now: t0.addingTimeInterval(12))
        #expect(r.phase == .completed)
        #expect(r.events.map(\.action) == [.start, .step, .step, .pause, .promote, .step, .complete])
        #expect(r.events.first { $0.action == .promote }?.actor == "bob")
        #expect(r.decide(now: t0.addingTimeInterval(99)) == .wait(until: nil))
    }

    @Test func aStepIsNotRecordedTwice() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        r.stepApplied(index: 0, weight: 10, revision: 5, now: t0.addingTimeInterval(1))
        #expect(r.step == 1)
        #expect(r.steps.filter { $0.index == 0 }.map(\.revision) == [4])
    }

    @Test func failuresPastTheLimitAbortWithTheCheck() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        #expect(r.record(round(.fail, at: t0.addingTimeInterval(5), value: 0.2)) == nil)
        #expect(r.failed == 1)
        guard case .abort(let why) = r.record(round(.fail, at: t0.addingTimeInterval(10), value: 0.2)) else {
            Issue.record("expected an abort"); return
        }
        #expect(why.contains("errorRatio 0.2 (≤ 0.05)"))
        #expect(why.contains("2 failed rounds, limit 1"))
        r.markAborted(by: r.actor, reason: why, revision: 5, now: t0.addingTimeInterval(10))
        #expect(r.phase == .aborted && r.weight == 0 && r.outcome == why)
    }

    @Test func aPassDoesNotForgiveFailures() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        _ = r.record(round(.fail, at: t0.addingTimeInterval(5)))
        _ = r.record(round(.pass, at: t0.addingTimeInterval(10)))
        #expect(r.record(round(.fail, at: t0.addingTimeInterval(15))) != nil)
    }

    @Test func failuresAbortEvenWhilePaused() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        try r.pause(by: "carol", reason: "lunch", now: t0.addingTimeInterval(1))
        _ = r.record(round(.fail, at: t0.addingTimeInterval(5)))
        guard case .abort = r.record(round(.fail, at: t0.addingTimeInterval(10))) else { Issue.record("expected an abort"); return }
    }

    @Test func inconclusiveRoundsPauseAndNeverProgress() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        for i in 1...2 {
            #expect(r.record(round(.inconclusive, at: t0.addingTimeInterval(Double(5 * i)), value: nil)) == nil)
        }
        // The pause is over, but nothing has passed: it waits rather than promoting blind.
        #expect(r.decide(now: t0.addingTimeInterval(11)) == .wait(until: t0.addingTimeInterval(15)))
        guard case .pauseForPerson(let p) = r.record(round(.inconclusive, at: t0.addingTimeInterval(15), value: nil)) else {
            Issue.record("expected a pause"); return
        }
        #expect(p.kind == .inconclusive)
        #expect(r.phase == .paused)
        #expect(r.decide(now: t0.addingTimeInterval(60)) == .wait(until: nil))
        // Further inconclusive rounds while paused change nothing; a resume starts the count again.
        _ = r.record(round(.inconclusive, at: t0.addingTimeInterval(20), value: nil))
        try r.resume(by: "dave", reason: "prometheus is back", now: t0.addingTimeInterval(21))
        #expect(r.inconclusive == 0 && r.phase == .running)
        #expect(r.decide(now: t0.addingTimeInterval(21)) == .wait(until: t0.addingTimeInterval(25)))
    }

    @Test func aPersonsPauseDoesNotEatATimedPause() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        _ = r.record(round(.pass, at: t0.addingTimeInterval(2)))
        try r.pause(by: "erin", reason: "checking", now: t0.addingTimeInterval(4))
        #expect(throws: RolloutRefusal.self) { try r.pause(by: "erin", reason: "again", now: t0.addingTimeInterval(5)) }
        try r.resume(by: "erin", reason: "ok", now: t0.addingTimeInterval(64))
        // 4 s had passed of the 10 s pause; 6 s are left after the resume.
        #expect(r.pauseEndsAt == t0.addingTimeInterval(70))
        #expect(r.decide(now: t0.addingTimeInterval(65)) == .wait(until: t0.addingTimeInterval(70)))
    }

    @Test func promoteSkipsATimedPause() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        try r.promote(by: "frank", reason: "hurry", now: t0.addingTimeInterval(1))
        #expect(r.step == 2)
        guard case .applyStep(2, _, _) = r.decide(now: t0.addingTimeInterval(1)) else { Issue.record("expected step 3"); return }
    }

    @Test func finishedRolloutsRefusePeople() throws {
        var r = rollout(try book())
        r.markAborted(by: "gina", reason: "no", revision: nil, now: t0)
        #expect(throws: RolloutRefusal.self) { try r.pause(by: "x", reason: "y", now: t0) }
        #expect(throws: RolloutRefusal.self) { try r.resume(by: "x", reason: "y", now: t0) }
        #expect(throws: RolloutRefusal.self) { try r.promote(by: "x", reason: "y", now: t0) }
        #expect(r.record(round(.fail, at: t0)) == nil)
    }

    @Test func withoutAnalysisTimedPausesEndOnTime() throws {
        var r = rollout(try book("name: b\nsteps:\n  - setWeight: 100\n  - pause: 1m\n"))
        r.stepApplied(index: 0, weight: 100, revision: 2, now: t0)
        #expect(r.nextAnalysisAt == nil)
        #expect(r.decide(now: t0.addingTimeInterval(60)) == .finishPause(index: 1))
        r.pauseFinished(index: 1, now: t0.addingTimeInterval(60))
        #expect(r.decide(now: t0.addingTimeInterval(60)) == .complete(drainBaseline: false, reason: "complete: 2/2 steps (runbook b, started by alice)"))
    }

    @Test func noAnalysisWhileTheTargetHasNoTraffic() throws {
        let r = rollout(try book())
        #expect(r.nextAnalysisAt == nil)
    }

    @Test func survivesEncoding() throws {
        var r = rollout(try book())
        r.stepApplied(index: 0, weight: 10, revision: 4, now: t0)
        _ = r.record(round(.pass, at: t0.addingTimeInterval(5)))
        let enc = JSONEncoder(); enc.dateEncodingStrategy = .millisecondsSince1970
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .millisecondsSince1970
        #expect(try dec.decode(Rollout.self, from: enc.encode(r)) == r)
    }
}

@Suite struct RolloutChecksTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let analysis = RunbookAnalysis(interval: 5, failureLimit: 0, inconclusiveLimit: 0,
                                   checks: [.metric(.errorRatio, min: nil, max: 0.01), .metric(.rps, min: 1, max: nil), .judgeBaseline])

    func figures(errors: Double, requests: Double) -> Figures {
        Figures(rps: requests / 60, errorRatio: errors / requests, p99Ms: 20, samples: requests, readAt: now,
                window: WindowCounts(seconds: 60, requests: requests, errors: errors,
                                     latencyBuckets: [Bucket(le: 10, count: requests / 2), Bucket(le: 50, count: requests), Bucket(le: .infinity, count: requests)]))
    }

    @Test func boundsAndTheJudge() {
        let good = RolloutChecks.evaluate(analysis, target: figures(errors: 0, requests: 600), baseline: figures(errors: 0, requests: 6000),
                                          targetName: "v2", baselineName: "v1", now: now)
        #expect(good.checks.map(\.verdict) == [.pass, .pass, .pass])
        #expect(good.verdict == .pass)
        let bad = RolloutChecks.evaluate(analysis, target: figures(errors: 120, requests: 600), baseline: figures(errors: 0, requests: 6000),
                                         targetName: "v2", baselineName: "v1", now: now)
        #expect(bad.checks[0].verdict == .fail)
        #expect(bad.checks[0].value == 0.2)
        #expect(bad.checks[2].verdict == .fail)
        #expect(bad.verdict == .fail)
    }

    @Test func missingFiguresAreInconclusiveNeverPass() {
        let none = RolloutChecks.evaluate(analysis, target: nil, baseline: nil, targetName: "v2", baselineName: "v1", now: now)
        #expect(none.checks.map(\.verdict) == [.inconclusive, .inconclusive, .inconclusive])
        let down = RolloutChecks.evaluate(analysis, target: figures(errors: 0, requests: 600), baseline: nil, targetName: "v2",
                                          baselineName: "v1", unavailable: "prometheus: connection refused", now: now)
        #expect(down.verdict == .inconclusive)
        #expect(down.checks[0].detail == "prometheus: connection refused")
        let few = RolloutChecks.evaluate(analysis, target: figures(errors: 0, requests: 10), baseline: figures(errors: 0, requests: 6000),
                                         targetName: "v2", baselineName: "v1", now: now)
        #expect(few.checks[2].verdict == .inconclusive)
    }
}
