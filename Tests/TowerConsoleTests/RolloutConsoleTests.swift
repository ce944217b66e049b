import Foundation
import TerminalUI
import Testing
import TowerDomain
import TowerRollouts
@testable import TowerConsole

/// A rollout of alpha's v2 against v1 at step 4/7 (a 5-minute pause begun 2 minutes ago), one
/// failed round of checks so far, as the registry would answer `GET …/rollout`.
enum RF {
    static let runbookYAML = """
    name: canary-standard
    steps:
      - setWeight: 5
      - pause: 2m
      - setWeight: 25
      - pause: 5m
      - setWeight: 50
      - pause: {}
      - setWeight: 100
    analysis:
      interval: 30s
      failureLimit: 2
      inconclusiveLimit: 4
      checks:
        - {metric: errorRatio, max: 0.01}
        - {metric: p99Ms, max: 500}
        - {judge: baseline}
    onComplete: drainBaseline
    """

    static func rollout(phase: RolloutPhase = .running) throws -> Rollout {
        let book = try Runbook.parse(yaml: runbookYAML, file: "canary.yaml")
        var r = Rollout(id: 12, endpoint: "alpha", runbook: book, target: "v2", baseline: "v1", startedBy: "alice",
                        reason: "canary v2", now: CF.now.addingTimeInterval(-600), weight: 0)
        r.step = 3
        r.stepStartedAt = CF.now.addingTimeInterval(-120)
        r.weight = 25
        r.failed = 1
        r.lastAnalysisAt = CF.now.addingTimeInterval(-10)
        r.rounds = [AnalysisRound(time: CF.now.addingTimeInterval(-10), checks: [
            CheckResult(check: "p99Ms", value: 212, threshold: "≤ 500", verdict: .pass),
            CheckResult(check: "errorRatio", value: 0.023, threshold: "≤ 0.01", verdict: .fail),
            CheckResult(check: "judge baseline", value: nil, threshold: "verdict pass", verdict: .inconclusive, detail: "n=40 < 100"),
        ])]
        r.phase = phase
        if phase == .paused {
            r.pause = RolloutPause(kind: .person, by: "bob", reason: "looking at the errors", at: CF.now.addingTimeInterval(-30))
            r.events.append(RolloutEvent(time: CF.now.addingTimeInterval(-30), actor: "bob", action: .pause, reason: "looking at the errors"))
        }
        return r
    }

    static func status(phase: RolloutPhase = .running) throws -> RolloutStatus {
        RolloutStatus(endpoint: "alpha", now: CF.now, current: try rollout(phase: phase), last: nil)
    }

    /// The console on alpha's Endpoint screen, v2 selected, with the rollout read.
    static func onAlpha(width: Int = 80, height: Int = 24, phase: RolloutPhase = .running) throws -> ConsoleState {
        var s = CF.loaded(width: width, height: height)
        var fleet = CF.fleet
        fleet[0] = CF.e("alpha", [CF.v("v1", 75), CF.v("v2", 25)], revision: 7, by: "rollout:12", ago: 130)
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 44), at: CF.now))
        CF.keys(&s, [.enter, .char("j")])
        _ = update(&s, .rolloutLoaded(try status(phase: phase), at: CF.now))
        return s
    }
}

@Suite struct RolloutConsoleTests {
    @Test func openingAnEndpointReadsItsRollout() {
        var s = CF.loaded()
        let effects = CF.keys(&s, [.enter])
        #expect(effects == [.loadRevisions("alpha"), .loadRollout("alpha")])
    }

    @Test func aChangeOfTheEndpointOnScreenReadsItAgainAndOthersDoNot() {
        var s = CF.loaded()
        CF.keys(&s, [.enter])
        var fleet = CF.fleet
        fleet[1] = CF.e("doc-embed", [CF.v("v7", 60), CF.v("v8", 40)], revision: 13, by: "bob")
        #expect(!update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 41), at: CF.now)).contains(.loadRollout("alpha")))
        fleet[0] = CF.e("alpha", [CF.v("v1", 75), CF.v("v2", 25)], revision: 4, by: "rollout:12")
        #expect(update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 42), at: CF.now)).contains(.loadRollout("alpha")))
    }

    @Test func anActiveRolloutIsReadAgainOnTheTickAndAFinishedOneIsNot() throws {
        var s = try RF.onAlpha()
        s.rollouts.requestedAt["alpha"] = CF.now
        #expect(update(&s, .tick(CF.now.addingTimeInterval(1))).contains(.loadRollout("alpha")) == false)
        #expect(update(&s, .tick(CF.now.addingTimeInterval(RolloutsView.interval))).contains(.loadRollout("alpha")))
        var done = try RF.rollout()
        done.phase = .completed
        _ = update(&s, .rolloutLoaded(RolloutStatus(endpoint: "alpha", now: CF.now, current: nil, last: done), at: CF.now))
        #expect(!update(&s, .tick(CF.now.addingTimeInterval(60))).contains(.loadRollout("alpha")))
        // Back on the overview nothing is read on the tick, whatever the rollout does.
        _ = update(&s, .rolloutLoaded(try RF.status(), at: CF.now))
        CF.keys(&s, [.escape])
        #expect(!update(&s, .tick(CF.now.addingTimeInterval(120))).contains(.loadRollout("alpha")))
    }

    @Test func theOverviewMarksTheRolloutItReadExactlyAndOthersByTheirLastActor() throws {
        var s = try RF.onAlpha()
        CF.keys(&s, [.escape])
        var fleet = CF.fleet
        fleet[1] = CF.e("doc-embed", [CF.v("v7", 60), CF.v("v8", 40)], revision: 13, by: "rollout:7")
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 41), at: CF.now))
        let g = Glyphs(ascii: false)
        #expect(RolloutText.overviewMark(fleet[0], s, g)?.text == "▶ 4/7 25%")
        #expect(RolloutText.overviewMark(fleet[1], s, g)?.text == "▶ rollout")
        #expect(RolloutText.overviewMark(fleet[2], s, g) == nil)
        _ = update(&s, .rolloutLoaded(try RF.status(phase: .paused), at: CF.now))
        #expect(RolloutText.overviewMark(fleet[0], s, g)?.text == "⏸ paused: by bob")
        var aborted = try RF.rollout()
        aborted.phase = .aborted
        fleet[0] = CF.e("alpha", [CF.v("v1", 100), CF.v("v2", 0)], revision: 5, by: "rollout:12")
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 43), at: CF.now))
        _ = update(&s, .rolloutLoaded(RolloutStatus(endpoint: "alpha", now: CF.now, current: nil, last: aborted), at: CF.now))
        #expect(RolloutText.overviewMark(fleet[0], s, g)?.text == "✗ aborted")
        #expect(view(s).text.contains("ROLLOUT"))
    }

    /// The list covers endpoints never opened: a paused rollout whose last revision was a
    /// person's still shows, a finished one only while it made the last revision, and a list too
    /// old to believe gives way to what the endpoints say.
    @Test func theListMarksEndpointsNeverOpenedAndAgesOut() throws {
        var s = CF.loaded()
        var fleet = CF.fleet
        fleet[1] = CF.e("doc-embed", [CF.v("v7", 60), CF.v("v8", 40)], revision: 13, by: "bob")
        fleet[2] = CF.e(fleet[2].name, fleet[2].versions, revision: 9, by: "rollout:3")
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 41), at: CF.now))
        let g = Glyphs(ascii: false)
        #expect(RolloutText.overviewMark(fleet[1], s, g) == nil)
        var paused = RolloutSummary(try RF.rollout(phase: .paused))
        paused.endpoint = "doc-embed"
        var done = RolloutSummary(try RF.rollout())
        done.id = 3; done.endpoint = fleet[2].name; done.phase = .completed
        _ = update(&s, .rolloutListLoaded(RolloutList(now: CF.now, rollouts: [paused, done]), at: CF.now))
        #expect(RolloutText.overviewMark(fleet[1], s, g)?.text == "⏸ paused: by bob")
        #expect(RolloutText.overviewMark(fleet[2], s, g)?.text == "✓ done")
        #expect(view(s).text.contains("⏸ paused: by"))
        // Someone shifts after the rollout finished: its mark goes.
        fleet[2] = CF.e(fleet[2].name, fleet[2].versions, revision: 10, by: "carol")
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 42), at: CF.now))
        #expect(RolloutText.overviewMark(fleet[2], s, g) == nil)
        // The list stops arriving: past `listFreshFor` it is not believed.
        _ = update(&s, .tick(CF.now.addingTimeInterval(RolloutsView.listFreshFor + 1)))
        #expect(RolloutText.overviewMark(fleet[1], s, g) == nil)
    }

    @Test func theListIsReadOnTheTickAndWhenTheEndpointsChangeButNotTwiceASecond() {
        var s = CF.loaded()
        s.rollouts.listRequestedAt = CF.now
        #expect(!update(&s, .tick(CF.now.addingTimeInterval(1))).contains(.loadRolloutList))
        #expect(update(&s, .tick(CF.now.addingTimeInterval(RolloutsView.listInterval))).contains(.loadRolloutList))
        let at = CF.now.addingTimeInterval(RolloutsView.listInterval)
        #expect(!update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 50), at: at)).contains(.loadRolloutList))
        #expect(update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 51), at: at.addingTimeInterval(1))).contains(.loadRolloutList))
    }

    @Test func pauseThenResumeGoThroughTheDialogWithAReason() throws {
        var s = try RF.onAlpha()
        CF.keys(&s, [.char("p")])
        #expect(s.dialog?.title.hasPrefix("Pause the rollout of alpha") == true)
        #expect(CF.keys(&s, [.enter]).isEmpty, "no reason: nothing is sent")
        let sent = CF.keys(&s, CF.type("errors up") + [.enter])
        #expect(sent == [.submit(ChangeRequest(endpoint: "alpha", expected: 7, kind: .rollout(.pause), reason: "errors up"))])
        _ = update(&s, .rolloutChanged(try RF.status(phase: .paused), verb: "pause"))
        #expect(s.dialog == nil)
        CF.keys(&s, [.char("p")])
        #expect(s.dialog?.request.kind == .rollout(.resume))
    }

    @Test func promoteAndAbortAndTheirAfterWeights() throws {
        var s = try RF.onAlpha()
        CF.keys(&s, [.char("P")])
        #expect(s.dialog?.request.kind == .rollout(.promote))
        CF.keys(&s, [.escape, .char("A")])
        #expect(s.dialog?.request.kind == .rollout(.abort))
        #expect(s.dialog?.after == ["v1": 100, "v2": 0])
    }

    @Test func withoutARolloutOrReadOnlyTheKeysSaySo() throws {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("A")])
        #expect(s.dialog == nil)
        #expect(s.toast?.contains("no rollout running on alpha") == true)
        var ro = CF.loaded(readOnly: true)
        CF.keys(&ro, [.enter, .char("p")])
        #expect(ro.dialog == nil && ro.toast?.hasPrefix("read-only") == true)
        CF.keys(&s, [.escape, .char("p")])
        #expect(s.dialog == nil, "the overview has no rollout keys")
    }

    @Test func startChoosesARunbookFromTheListingAndTheSelectedVersion() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("j")])
        #expect(CF.keys(&s, [.char("R")]) == [.listRunbooks])
        _ = update(&s, .runbooksListed(folder: "/cfg/tower/runbooks", ["blue-green.yaml", "canary.yaml"], error: nil))
        #expect(s.dialog?.request.kind == .startRollout(runbook: "/cfg/tower/runbooks/blue-green.yaml", target: "v2"))
        let sent = CF.keys(&s, [.down] + CF.type("canary v2") + [.enter])
        #expect(sent == [.submit(ChangeRequest(endpoint: "alpha", expected: 3, kind: .startRollout(runbook: "/cfg/tower/runbooks/canary.yaml", target: "v2"), reason: "canary v2"))])
    }

    @Test func startWithoutRunbooksSaysWhereToPutThem() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("j"), .char("R")])
        _ = update(&s, .runbooksListed(folder: "/cfg/tower/runbooks", [], error: nil))
        #expect(CF.keys(&s, CF.type("go") + [.enter]).isEmpty)
        #expect(s.dialog?.error?.contains("/cfg/tower/runbooks") == true)
    }

    @Test func thePanelCountsDownThePauseByTheRegistrysClock() throws {
        var s = try RF.onAlpha(width: 160, height: 48)
        #expect(view(s).text.contains("3m00s left"))
        // The console's clock runs 30 s behind the registry's: the countdown follows the registry.
        _ = update(&s, .rolloutLoaded(try RF.status(), at: CF.now.addingTimeInterval(-30)))
        #expect(view(s).text.contains("2m30s left"))
    }

    @Test func aFailedReadKeepsTheLastOneAndSaysSo() throws {
        var s = try RF.onAlpha(width: 160, height: 48)
        #expect(!view(s).text.contains("the last read failed"))
        _ = update(&s, .rolloutFailed(endpoint: "alpha", "unreachable (connection refused)", at: CF.now))
        let text = view(s).text
        #expect(text.contains("ROLLOUT ▶ RUNNING") && text.contains("the last read failed: unreachable (connection refused)"))
        _ = update(&s, .rolloutLoaded(try RF.status(), at: CF.now))
        #expect(!view(s).text.contains("the last read failed"))
    }

    @Test func anotherContextForgetsTheRolloutsRead() throws {
        var s = try RF.onAlpha()
        #expect(s.rollouts.status["alpha"] != nil)
        _ = update(&s, .contextSwitched(name: "prod", readOnly: false))
        #expect(s.rollouts == RolloutsView(), "another registry's alpha is another endpoint")
    }

    static let sizes: [(Int, Int)] = [(80, 24), (160, 48)]

    @Test(arguments: sizes) func rolloutPanel(_ size: (Int, Int)) throws {
        let s = try RF.onAlpha(width: size.0, height: size.1)
        let text = view(s).text
        for essential in ["RUNNING", "step 4/7", "3m00s left", "errorRatio 0.023 against ≤ 0.01: fail"] {
            #expect(text.contains(essential), "\(essential) is on screen at \(size.0)x\(size.1)")
        }
        try assertSnapshot(view(s), named: "rollout-panel-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func pausedRolloutPanel(_ size: (Int, Int)) throws {
        let s = try RF.onAlpha(width: size.0, height: size.1, phase: .paused)
        try assertSnapshot(view(s), named: "rollout-panel-paused-\(size.0)x\(size.1)")
    }

    /// The overview with a rollout read (alpha) and one only known by its last actor (doc-embed),
    /// with and without live figures: the ROLLOUT column keeps its marks at 80 columns.
    @Test(arguments: sizes) func overviewMarks(_ size: (Int, Int)) throws {
        for live in [false, true] {
            var s = live ? TelemetryViewTests.live(width: size.0, height: size.1) : CF.loaded(width: size.0, height: size.1)
            var fleet = CF.fleet
            fleet[0] = CF.e("alpha", [CF.v("v1", 75), CF.v("v2", 25)], revision: 7, by: "rollout:12", ago: 130)
            fleet[1] = CF.e("doc-embed", [CF.v("v7", 60), CF.v("v8", 40)], revision: 13, by: "rollout:7", ago: 30)
            _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 44), at: CF.now))
            _ = update(&s, .rolloutLoaded(try RF.status(), at: CF.now))
            let text = view(s).text
            #expect(text.contains("▶ 4/7 25%") && text.contains("▶ rollout"), "\(text)")
            try assertSnapshot(view(s), named: "rollout-overview\(live ? "-live" : "")-\(size.0)x\(size.1)")
        }
    }
}
