import Foundation
import GRDB
import Synchronization
import Testing
import TowerDomain
import TowerRollouts
@testable import TowerRegistry

/// A metrics source under the test's control: good or bad figures for alpha, or a failure.
final class FakeMetrics: RolloutMetricsReader, Sendable {
    enum Mode: Sendable { case healthy, failingV2, down }
    let mode: Mutex<Mode>
    let name = "fake"
    init(_ m: Mode) { mode = Mutex(m) }

    func read() async throws -> [String: Figures] {
        let now = Date()
        func f(_ errors: Double) -> Figures {
            let n = 6000.0
            return Figures(rps: n / 60, errorRatio: errors, p99Ms: 40, samples: n, readAt: now,
                           window: WindowCounts(seconds: 60, requests: n, errors: n * errors,
                                                latencyBuckets: [Bucket(le: 25, count: n / 2), Bucket(le: 50, count: n), Bucket(le: .infinity, count: n)]))
        }
        switch mode.withLock({ $0 }) {
        case .healthy: return [EndpointVersionKey("alpha", "v1").description: f(0.001), EndpointVersionKey("alpha", "v2").description: f(0.001)]
        case .failingV2: return [EndpointVersionKey("alpha", "v1").description: f(0.001), EndpointVersionKey("alpha", "v2").description: f(0.2)]
        case .down: throw MetricsDown()
        }
    }
    struct MetricsDown: Error, CustomStringConvertible { var description: String { "connection refused" } }
}

@Suite struct RolloutTests {
    static func runbook(pause: String = "1s", interval: String = "1s", failureLimit: Int = 1, inconclusiveLimit: Int = 1,
                        onComplete: String = "drainBaseline") -> String {
        """
        {"name":"quick","steps":[{"setWeight":50},{"pause":"\(pause)"},{"setWeight":100}],
         "analysis":{"interval":"\(interval)","failureLimit":\(failureLimit),"inconclusiveLimit":\(inconclusiveLimit),
                     "checks":[{"metric":"errorRatio","max":0.05},{"judge":"baseline"}]},
         "onComplete":"\(onComplete)"}
        """
    }

    static func start(_ c: Client, _ h: Harness, runbook: String = runbook(), target: String = "v2", endpoint: String = "alpha") async throws -> Reply {
        try await c.call(.post, "/v1/endpoints/\(endpoint)/rollouts", token: h.op,
                         json: #"{"runbook":\#(runbook),"target":"\#(target)","reason":"ship it"}"#)
    }

    /// Ticks the loop until `done` holds of the stored rollout, or fails after `seconds`.
    static func tick(_ ctl: RolloutController, _ store: RegistryStore, until done: (RolloutStatus) -> Bool,
                     seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation) async throws -> RolloutStatus {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            await ctl.tick()
            let s = try await store.rolloutStatus(endpoint: "alpha")
            if done(s) { return s }
            if Date() > deadline {
                Issue.record("timed out; rollout is \(String(describing: s.current ?? s.last))", sourceLocation: sourceLocation)
                return s
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func rolloutEntries(_ h: Harness) async throws -> [AuditEntry] {
        try await h.store.audit(after: 0, limit: 1000).entries.filter { $0.actor.hasPrefix("rollout:") }
    }

    @Test(arguments: StoreKind.available) func aHealthyTargetCompletesAndTheBaselineDrains(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await Self.start(c, h)
            #expect(r.status == 201)
            let started = try r.decode(RolloutStatus.self)
            #expect(started.current?.startedBy == "otto" && started.current?.baseline == "v1")
            let ctl = RolloutController(store: h.store, metrics: FakeMetrics(.healthy))
            let done = try await Self.tick(ctl, h.store) { $0.current == nil }
            let last = try #require(done.last)
            #expect(last.phase == .completed)
            #expect(last.rounds.contains { $0.verdict == .pass && $0.checks.count == 2 })
            let e = try #require(h.store.endpoint("alpha"))
            #expect(e.weights == ["v1": 0, "v2": 100])
            #expect(e.version("v1")?.state == .draining)
            let entries = try await rolloutEntries(h)
            #expect(entries.map(\.actor) == ["rollout:1", "rollout:1", "rollout:1"])
            #expect(entries[0].reason == "step 1/3 setWeight 50 (runbook quick, started by otto)")
            #expect(entries[1].reason.hasPrefix("step 3/3 setWeight 100"))
            #expect(entries[2].action == .drain && entries[2].version == "v1")
            #expect(entries.map(\.toRevision) == [2, 3, 4])
            #expect(try h.store.verifyAudit() == nil)
        }
    }

    /// The loop reads every active row after each commit; a row read again is not decoded again,
    /// and what comes back is what a decode of the stored text gives.
    @Test(arguments: StoreKind.available) func storedRowsAreDecodedOnceAndTheMemoIsBounded(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await Self.start(c, h).status == 201)
            let body = try #require(try await h.store.backend.read { db in try String.fetchOne(db, sql: "SELECT body FROM rollout") })
            let fresh = try Wire.decoder().decode(Rollout.self, from: Data(body.utf8))
            let first = try h.store.activeRollouts(), again = try h.store.activeRollouts()
            #expect(first == [fresh] && again == [fresh])
            #expect(RegistryStore.decoded.lookup(body) == fresh)
            let memo = DecodedRollouts()
            for i in 0...DecodedRollouts.capacity { memo.remember("row \(i)", fresh) }
            #expect(memo.lookup("row \(DecodedRollouts.capacity)") == fresh)
            #expect(memo.lookup("row 0") == nil)
        }
    }

    @Test(arguments: StoreKind.available) func aFailingTargetAbortsAndTheAuditSaysWhy(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await Self.start(c, h, runbook: Self.runbook(pause: "1h")).status == 201)
            let ctl = RolloutController(store: h.store, metrics: FakeMetrics(.failingV2))
            let done = try await Self.tick(ctl, h.store) { $0.current == nil }
            let last = try #require(done.last)
            #expect(last.phase == .aborted)
            #expect(last.failed == 2)
            #expect(h.store.endpoint("alpha")?.weights == ["v1": 100, "v2": 0])
            let abort = try #require(try await rolloutEntries(h).last)
            #expect(abort.weightsAfter == ["v1": 100, "v2": 0])
            #expect(abort.reason.contains("errorRatio 0.2 (≤ 0.05)"))
            #expect(abort.reason.contains("2 failed rounds, limit 1"))
            #expect(last.outcome == abort.reason)
        }
    }

    @Test(arguments: StoreKind.available) func aManualChangePausesAndResumeGoesOn(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await Self.start(c, h, runbook: Self.runbook(pause: "2s", inconclusiveLimit: 100)).status == 201)
            let ctl = RolloutController(store: h.store, metrics: FakeMetrics(.healthy))
            _ = try await Self.tick(ctl, h.store) { $0.current?.step == 1 }
            let shift = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.admin, ifMatch: "\"2\"",
                                         json: #"{"weights":{"v1":60,"v2":40},"reason":"hold back a bit"}"#)
            #expect(shift.status == 200)
            let paused = try await h.store.rolloutStatus(endpoint: "alpha")
            #expect(paused.current?.phase == .paused)
            #expect(paused.current?.pause?.kind == .manualChange)
            #expect(paused.current?.pause?.by == "ada")
            #expect(paused.current?.pause?.reason.contains("hold back a bit") == true)
            // While paused, nothing moves.
            for _ in 0..<3 { await ctl.tick() }
            #expect(h.store.endpoint("alpha")?.weights == ["v1": 60, "v2": 40])
            let resumed = try await c.call(.post, "/v1/endpoints/alpha/rollout/resume", token: h.op, json: #"{"reason":"carry on"}"#)
            #expect(resumed.status == 200)
            #expect(try resumed.decode(RolloutStatus.self).current?.phase == .running)
            let done = try await Self.tick(ctl, h.store) { $0.current == nil }
            #expect(done.last?.phase == .completed)
            #expect(done.last?.events.map(\.action).contains(.resume) == true)
            #expect(done.last?.events.first { $0.action == .resume }?.actor == "otto")
            #expect(h.store.endpoint("alpha")?.weights == ["v1": 0, "v2": 100])
        }
    }

    @Test(arguments: StoreKind.available) func withoutMetricsItPausesAndNeverPromotes(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await Self.start(c, h).status == 201)
            let ctl = RolloutController(store: h.store, metrics: FakeMetrics(.down))
            let paused = try await Self.tick(ctl, h.store) { $0.current?.phase == .paused }
            #expect(paused.current?.pause?.kind == .inconclusive)
            #expect(paused.current?.rounds.last?.checks.first?.detail?.contains("connection refused") == true)
            for _ in 0..<5 { await ctl.tick() }
            #expect(h.store.endpoint("alpha")?.weights == ["v1": 50, "v2": 50])
            // With no source at all, likewise.
            let none = RolloutController(store: h.store, metrics: nil)
            _ = try await c.call(.post, "/v1/endpoints/alpha/rollout/resume", token: h.op, json: #"{"reason":"try again"}"#)
            let again = try await Self.tick(none, h.store) { $0.current?.phase == .paused }
            #expect(again.current?.rounds.last?.checks.first?.detail?.contains("no metrics source") == true)
            #expect(h.store.endpoint("alpha")?.weights == ["v1": 50, "v2": 50])
        }
    }

    @Test(arguments: StoreKind.available) func theListHasEveryEndpointsRunningPausedAndRecentlyFinishedRollout(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.get, "/v1/rollouts", token: nil).status == 401)
            #expect(try await c.call(.get, "/v1/rollouts", token: h.viewer).decode(RolloutList.self).rollouts.isEmpty)
            #expect(try await Self.start(c, h, runbook: Self.runbook(pause: "1h")).status == 201)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollout/pause", token: h.op, json: #"{"reason":"look"}"#).status == 200)
            let paused = try await c.call(.get, "/v1/rollouts", token: h.viewer).decode(RolloutList.self).rollouts
            #expect(paused.map(\.endpoint) == ["alpha"])
            #expect(paused.first?.phase == .paused && paused.first?.pause?.by == "otto" && paused.first?.steps == 3)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollout/abort", token: h.op, json: #"{"reason":"no"}"#).status == 200)
            let ended = try await c.call(.get, "/v1/rollouts", token: h.viewer).decode(RolloutList.self).rollouts
            #expect(ended.map(\.phase) == [.aborted] && ended.first?.finishedAt != nil)
            // A new rollout on the endpoint hides the finished one.
            #expect(try await Self.start(c, h, runbook: Self.runbook(pause: "1h")).status == 201)
            let again = try await c.call(.get, "/v1/rollouts", token: h.viewer).decode(RolloutList.self).rollouts
            #expect(again.map(\.phase) == [.running] && again.first?.id == 2)
        }
    }

    @Test(arguments: StoreKind.available) func promoteAndAbortByAPerson(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await Self.start(c, h, runbook: Self.runbook(pause: "1h", inconclusiveLimit: 100)).status == 201)
            let ctl = RolloutController(store: h.store, metrics: FakeMetrics(.healthy))
            _ = try await Self.tick(ctl, h.store) { $0.current?.step == 1 }
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollout/pause", token: h.op, json: #"{"reason":"look"}"#).status == 200)
            let twice = try await c.call(.post, "/v1/endpoints/alpha/rollout/pause", token: h.op, json: #"{"reason":"look"}"#)
            #expect(twice.status == 409)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollout/promote", token: h.viewer, json: #"{"reason":"x"}"#).status == 403)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollout/promote", token: h.op, json: #"{"reason":""}"#).status == 422)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollout/promote", token: h.op, json: #"{"reason":"skip the wait"}"#).status == 200)
            _ = try await Self.tick(ctl, h.store) { $0.current?.step == 3 }
            let abort = try await c.call(.post, "/v1/endpoints/alpha/rollout/abort", token: h.op, json: #"{"reason":"changed my mind"}"#)
            #expect(abort.status == 200)
            let s = try abort.decode(RolloutStatus.self)
            #expect(s.current == nil && s.last?.phase == .aborted)
            #expect(s.last?.events.last?.actor == "otto")
            #expect(h.store.endpoint("alpha")?.weights == ["v1": 100, "v2": 0])
            let entry = try #require(try await rolloutEntries(h).last)
            #expect(entry.reason.hasPrefix("abort by otto: changed my mind"))
            let none = try await c.call(.post, "/v1/endpoints/alpha/rollout/resume", token: h.op, json: #"{"reason":"x"}"#)
            #expect(none.status == 409)
            #expect(none.problem?.detail.contains("no rollout") == true)
        }
    }

    @Test(arguments: StoreKind.available) func aRestartMidPauseResumesWithoutRepeatingAStep(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await Self.start(c, h, runbook: Self.runbook(pause: "2s", inconclusiveLimit: 100)).status == 201)
            let first = RolloutController(store: h.store, metrics: FakeMetrics(.healthy))
            let mid = try await Self.tick(first, h.store) { $0.current?.step == 1 }
            let pauseEnds = try #require(mid.pauseEndsAt)
            // A new process on the same data: the first controller and store are never used again.
            let reopened = try h.reopen()
            let second = RolloutController(store: reopened, metrics: FakeMetrics(.healthy))
            let carried = try await reopened.rolloutStatus(endpoint: "alpha")
            #expect(carried.pauseEndsAt == pauseEnds)
            let done = try await Self.tick(second, reopened) { $0.current == nil }
            #expect(done.last?.phase == .completed)
            let entries = try await reopened.audit(after: 0, limit: 100).entries.filter { $0.actor == "rollout:1" }
            #expect(entries.filter { $0.reason.hasPrefix("step 1/3") }.count == 1)
            #expect(entries.filter { $0.reason.hasPrefix("step 3/3") }.count == 1)
            let third = try #require(done.last?.steps.first { $0.index == 2 })
            #expect(third.startedAt >= pauseEnds)
        }
    }

    @Test(arguments: StoreKind.available) func badStartsAreRefusedAndChangeNothing(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            let over = try await Self.start(c, h, runbook: #"{"name":"x","steps":[{"setWeight":150}]}"#)
            #expect(over.status == 400)
            #expect(over.problem?.detail.contains("steps[0].setWeight") == true)
            let down = try await Self.start(c, h, runbook: #"{"name":"x","steps":[{"setWeight":50},{"setWeight":20}]}"#)
            #expect(down.problem?.detail.contains("goes down") == true)
            let negative = try await Self.start(c, h, runbook: #"{"name":"x","steps":[{"setWeight":50},{"pause":"-3s"}]}"#)
            #expect(negative.problem?.detail.contains("negative") == true)
            let metric = try await Self.start(c, h, runbook: #"{"name":"x","steps":[{"setWeight":50}],"analysis":{"interval":"5s","checks":[{"metric":"vibes","max":1}]}}"#)
            #expect(metric.problem?.detail.contains("unknown metric 'vibes'") == true)
            let gate = try await Self.start(c, h, target: "v4", endpoint: "fraud")
            #expect(gate.status == 409)
            #expect(gate.problem?.detail.contains("gate is failed") == true)
            let unknown = try await Self.start(c, h, target: "v9")
            #expect(unknown.status == 422)
            #expect(try await Self.start(c, h, endpoint: "nope").status == 404)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollouts", token: h.viewer,
                                     json: #"{"runbook":\#(Self.runbook()),"target":"v2","reason":"x"}"#).status == 403)
            let huge = try await c.call(.post, "/v1/endpoints/alpha/rollouts", token: h.op,
                                        raw: Array(#"{"runbook":{"name":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 10 << 20) + Array(#""}}"#.utf8))
            #expect(huge.status == 413)
            try await h.expectUnchanged(since: before)
            #expect(try await Self.start(c, h).status == 201)
            let second = try await Self.start(c, h)
            #expect(second.status == 409)
            #expect(second.problem?.detail.contains("already has rollout 1") == true)
            #expect(try await c.call(.get, "/v1/endpoints/alpha/rollout", token: h.viewer).status == 200)
        }
    }
}

@Suite struct RolloutReadsTests {
    /// Ten rollouts started at different moments share the metrics reads: about one per interval,
    /// not one per rollout per interval.
    @Test(arguments: StoreKind.available) func readsPerIntervalDoNotGrowWithRollouts(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let digest = Harness.digest(7)
            try await Seed.apply((0..<10).map { i in
                EndpointSpec(name: "m\(i)", path: "/v1/models/m\(i)", owner: "o", versions: [
                    .init(name: "v1", artifact: Artifact(uri: "s3://m/\(i)/1", digest: digest), weight: 100, gate: .passed, stage: .prod),
                    .init(name: "v2", artifact: Artifact(uri: "s3://m/\(i)/2", digest: digest), weight: 0, gate: .passed, stage: .prod),
                ])
            }, to: h.store, source: "test")
            let metrics = FakeMetrics(.healthy)
            let ctl = RolloutController(store: h.store, metrics: metrics)
            let book = #"{"name":"long","steps":[{"setWeight":10},{"pause":"1h"}],"analysis":{"interval":"1s","inconclusiveLimit":1000,"checks":[{"metric":"rps","min":0}]}}"#
            let start = Date()
            for i in 0..<10 {
                let r = try await c.call(.post, "/v1/endpoints/m\(i)/rollouts", token: h.op, json: #"{"runbook":\#(book),"target":"v2","reason":"r"}"#)
                #expect(r.status == 201)
                await ctl.tick()
                try await Task.sleep(for: .milliseconds(100))
            }
            // Run the loop until every rollout has had several rounds (a condition, not a time: on
            // two busy cores the four intervals this takes idle can take much longer).
            func roundsSoFar() async throws -> Int {
                var n = 0
                for i in 0..<10 { n += try await h.store.rolloutStatus(endpoint: "m\(i)").current?.rounds.count ?? 0 }
                return n
            }
            var rounds = 0
            while Date().timeIntervalSince(start) < 60 {
                await ctl.tick()
                rounds = try await roundsSoFar()
                if rounds >= 30 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let elapsed = Date().timeIntervalSince(start)
            let reads = ctl.reads.load(ordering: .relaxed)
            #expect(rounds >= 30, "every rollout had its rounds: \(rounds)")
            #expect(Double(reads) <= elapsed * 2 + 1, "\(reads) reads in \(elapsed) s for \(rounds) rounds")
        }
    }
}
