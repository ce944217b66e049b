import Foundation
import Testing
import TowerDomain
import TowerHTTP
import TowerSim

/// Rollouts run by the registry on the whole stack (real Envoy, Prometheus with the envoy profile,
/// model servers under load), asserted on Envoy's own routing and counters and on the audit. On one
/// stack, to keep CI short: alpha's healthy v2 with the fast runbook completes, after a manual
/// shift during it paused it (naming who) and `resume` went on from the step it was on with the
/// weights as they were; search-rank's v8, answering 20 % errors, aborts within (failureLimit + 1)
/// intervals; then, with Prometheus killed, a second rollout of that bad v8 sees only inconclusive
/// checks, pauses at the inconclusive limit and never promotes.
@Suite(.serialized) struct RolloutStackEndToEndTests {
    static let scenario = """
        endpoints:
          search-rank: {versions: {v8: {p50Ms: 40, p99Ms: 160, errorRatio: 0.2}}}

        """

    /// For the Prometheus-down proof: checks every second and a low inconclusive limit, so the
    /// pause comes within a few seconds; the timed pause would let a blind rollout go on to 100.
    static let blindRunbook = """
        name: e2e-blind
        steps:
          - setWeight: 10
          - pause: 2s
          - setWeight: 100
        analysis:
          interval: 1s
          failureLimit: 3
          inconclusiveLimit: 2
          checks:
            - {metric: errorRatio, max: 0.05}
        onComplete: drainBaseline

        """

    static let runbook = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/runbooks/canary-fast.yaml").path

    @Test func aHealthyTargetCompletesAndABadOneAborts() throws {
        let file = NSTemporaryDirectory() + "tower-rollout-scenario-" + UUID().uuidString.prefix(8) + ".yaml"
        try Self.scenario.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let s = try StackEndToEndTests.StackProcess(rateScale: 1, scenario: file)
        defer { s.cleanUp() }
        let env = ["XDG_CONFIG_HOME": s.config]
        func tower(_ args: [String]) throws -> HeadlessVerbTests.Run { try HeadlessVerbTests.tower(args + ["--context", "local"], env: env) }
        let api = RawClient(base: s.m.registry, token: s.token(s.m.tokens.operator))

        // From all-baseline, so each setWeight is a revision of its own.
        let reset = try tower(["shift", "alpha", "v1=100", "v2=0", "--reason", "before the rollout"])
        #expect(reset.status == 0, "\(reset.err)")
        for (endpoint, target) in [("alpha", "v2"), ("search-rank", "v8")] {
            let r = try tower(["rollout", "start", endpoint, "--runbook", Self.runbook, "--target", target, "--reason", "e2e \(endpoint)"])
            #expect(r.status == 0, "start \(endpoint): \(r.out) \(r.err)")
        }
        let second = try tower(["rollout", "start", "alpha", "--runbook", Self.runbook, "--target", "v2", "--reason", "again"])
        #expect(second.status == 3, "a second rollout on alpha is a conflict: \(second.err)")

        try Self.manualShiftPausesAndResumeGoesOn(s, api, tower)

        // The bad one: exit 8 from --watch, the abort's audit entry names the check.
        let bad = try tower(["rollout", "status", "search-rank", "--watch", "--output", "json"])
        #expect(bad.status == 8, "search-rank: exit \(bad.status) \(bad.out.suffix(1500)) \(bad.err)")
        let badStatus = try JSONSerialization.jsonObject(with: Data(bad.out.utf8)) as? [String: Any]
        let last = try #require(badStatus?["last"] as? [String: Any])
        let outcome = last["outcome"] as? String ?? ""
        #expect(outcome.contains("errorRatio") && outcome.contains("≤ 0.05"), "abort reason: \(outcome)")
        if let started = (last["startedAt"] as? String).flatMap(Self.date), let finished = (last["finishedAt"] as? String).flatMap(Self.date) {
            // failureLimit 1 at a 5 s interval: the second failed round, plus a round's slack.
            #expect(finished.timeIntervalSince(started) <= 16, "aborted after \(finished.timeIntervalSince(started)) s")
        }

        // The healthy one: exit 0, then Envoy sends all of alpha to v2 and search-rank's v8 nothing.
        let good = try tower(["rollout", "status", "alpha", "--watch"])
        #expect(good.status == 0, "alpha: exit \(good.status) \(good.out.suffix(2000)) \(good.err)")
        let routed = Self.until { StackEndToEndTests.envoyWeights(s)?.filter { $0.value > 0 } == ["v2": 100] }
        #expect(routed, "Envoy routes alpha: \(String(describing: StackEndToEndTests.envoyWeights(s)))")
        #expect(Self.until { StackEndToEndTests.envoyWeights(s, endpoint: "search-rank")?["v8"] ?? 0 == 0 },
                "Envoy routes search-rank: \(String(describing: StackEndToEndTests.envoyWeights(s, endpoint: "search-rank")))")
        let before = try StackEndToEndTests.envoyCounts(s), beforeSR = try StackEndToEndTests.envoyCounts(s, endpoint: "search-rank")
        let answers = StackEndToEndTests.send(s, 100)
        _ = StackEndToEndTests.send(s, 50, path: "/v1/models/search-rank")
        let after = try StackEndToEndTests.envoyCounts(s), afterSR = try StackEndToEndTests.envoyCounts(s, endpoint: "search-rank")
        #expect(answers[200, default: 0] >= 95, "answers: \(answers)")
        #expect(after["v1", default: 0] == before["v1", default: 0], "the drained baseline got requests: \(before) → \(after)")
        #expect(after["v2", default: 0] - before["v2", default: 0] >= 100)
        #expect(afterSR["v8", default: 0] == beforeSR["v8", default: 0], "the aborted target got requests: \(beforeSR) → \(afterSR)")

        // Every step of alpha's in the audit once, by the rollout; the manual shift between them,
        // by the operator; revisions consecutive across both.
        let all = try Self.audit(tower, endpoint: "alpha").filter { ($0["toRevision"] as? Int ?? 0) >= 3 }
        let entries = all.filter { ($0["actor"] as? String ?? "").hasPrefix("rollout:") }
        let reasons = entries.compactMap { $0["reason"] as? String }
        #expect(reasons.count == 4 && Set(reasons).count == 4, "alpha's rollout entries: \(reasons)")
        #expect(reasons.first?.hasPrefix("step 1/5 setWeight 10 (runbook canary-fast") == true)
        #expect(reasons.dropFirst().first?.hasPrefix("step 3/5 setWeight 50") == true)
        #expect(all.compactMap { $0["toRevision"] as? Int } == [3, 4, 5, 6, 7], "\(all.map { "\($0["toRevision"] ?? "?") \($0["actor"] ?? "?")" })")
        #expect(entries.compactMap { $0["toRevision"] as? Int } == [3, 5, 6, 7])
        #expect(all.first { $0["toRevision"] as? Int == 4 }?["actor"] as? String == "stack-operator", "the manual shift, by the operator")
        #expect(entries.last?["action"] as? String == "drain")

        try Self.prometheusDownPausesAndNeverPromotes(s, api, tower)
    }

    /// While alpha's rollout waits in its first timed pause, the operator shifts alpha by hand: the
    /// rollout pauses, saying who; Envoy routes the operator's weights; `resume` goes on from the
    /// step it was on with those weights (no step applied again), and the next step moves them.
    static func manualShiftPausesAndResumeGoesOn(_ s: StackEndToEndTests.StackProcess, _ api: RawClient,
                                                 _ tower: ([String]) throws -> HeadlessVerbTests.Run) throws {
        let inPause = wait(15) { current(api, "alpha").map { $0["step"] as? Int == 1 && $0["phase"] as? String == "running" } ?? false }
        try #require(inPause, "alpha's rollout in its first pause: \(String(describing: current(api, "alpha")))")
        let shift = try tower(["shift", "alpha", "v1=80", "v2=20", "--reason", "by hand during the rollout"])
        try #require(shift.status == 0, "\(shift.out) \(shift.err)")

        // Paused in the shift's own transaction; read until seen, in case of a slow answer.
        _ = wait(5) { current(api, "alpha")?["phase"] as? String == "paused" }
        let paused = current(api, "alpha")
        let pause = paused?["pause"] as? [String: Any]
        #expect(paused?["phase"] as? String == "paused" && pause?["kind"] as? String == "manual-change" && pause?["by"] as? String == "stack-operator",
                "\(String(describing: paused))")
        let text = try tower(["rollout", "status", "alpha"])
        #expect(text.out.contains("paused by stack-operator"), "the status says who: \(text.out)")
        #expect(StackEndToEndTests.untilEnvoyRoutes(s, ["v1": 80, "v2": 20]) != nil, "Envoy routes the manual weights")
        let before = try StackEndToEndTests.envoyCounts(s)
        _ = StackEndToEndTests.send(s, 100)
        let after = try StackEndToEndTests.envoyCounts(s)
        let d1 = after["v1", default: 0] - before["v1", default: 0], d2 = after["v2", default: 0] - before["v2", default: 0]
        #expect(d2 > 0 && d1 > d2, "by 80/20: v1 +\(d1), v2 +\(d2)")

        let resume = try tower(["rollout", "resume", "alpha", "--reason", "the manual weights are fine"])
        #expect(resume.status == 0, "\(resume.out) \(resume.err)")
        let resumed = current(api, "alpha")
        #expect(resumed?["phase"] as? String == "running" && resumed?["step"] as? Int == 1, "on from the step it was on: \(String(describing: resumed))")
        let weights = try Wire.decoder().decode(Endpoint.self, from: Data(api.get("/v1/endpoints/alpha").body)).weights
        #expect(weights == ["v1": 80, "v2": 20], "with the weights as they are: \(weights)")
        // The next step moves them: Envoy routes setWeight 50 (it holds for the 10 s pause after it).
        #expect(wait(20) { StackEndToEndTests.envoyWeights(s) == ["v1": 50, "v2": 50] }, "\(String(describing: StackEndToEndTests.envoyWeights(s)))")
    }

    /// Prometheus killed: a rollout of search-rank's bad v8 (20 % errors, invisible now) has only
    /// inconclusive checks, pauses at the inconclusive limit, and stays there: no promotion, no
    /// step past the first, Envoy keeps v8 at 10 %.
    static func prometheusDownPausesAndNeverPromotes(_ s: StackEndToEndTests.StackProcess, _ api: RawClient,
                                                     _ tower: ([String]) throws -> HeadlessVerbTests.Run) throws {
        let pid = try #require(s.m.processes["prometheus"], "stack.json names Prometheus's pid: \(s.m.processes)")
        #expect(kill(pid, SIGKILL) == 0)
        let down = wait(10) { (try? CurlSession().perform(HTTPRequest(url: s.m.prometheus + "/-/ready", timeout: .seconds(1))))?.status != 200 }
        try #require(down, "Prometheus still answers")

        let file = NSTemporaryDirectory() + "tower-blind-" + UUID().uuidString.prefix(8) + ".yaml"
        try blindRunbook.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let start = try tower(["rollout", "start", "search-rank", "--runbook", file, "--target", "v8", "--reason", "e2e blind"])
        try #require(start.status == 0, "\(start.out) \(start.err)")

        // 1 s interval, limit 2: the third inconclusive round pauses it.
        let pausedInTime = wait(20) { current(api, "search-rank").map { $0["phase"] as? String == "paused" } ?? false }
        let r = try #require(current(api, "search-rank"))
        let pause = r["pause"] as? [String: Any]
        #expect(pausedInTime && pause?["kind"] as? String == "inconclusive", "\(r)")
        let rounds = r["rounds"] as? [[String: Any]] ?? []
        let verdicts = rounds.flatMap { ($0["checks"] as? [[String: Any]] ?? []).compactMap { $0["verdict"] as? String } }
        #expect(!verdicts.isEmpty && verdicts.allSatisfy { $0 == "inconclusive" }, "checks without Prometheus: \(verdicts)")

        // Held: three intervals later by the registry's clock, still paused at 10 %, past the timed
        // pause that would otherwise have let it go on.
        let pausedAt = (pause?["at"] as? String).flatMap(date) ?? Date.distantFuture
        var later: [String: Any]?
        let held = wait(15) {
            guard let st = status(api, "search-rank"), let now = (st["now"] as? String).flatMap(date), now >= pausedAt.addingTimeInterval(3) else { return false }
            later = st["current"] as? [String: Any]
            return true
        }
        #expect(held && later?["phase"] as? String == "paused" && later?["weight"] as? Int == 10, "\(String(describing: later))")
        let actions = (later?["events"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        #expect(!actions.contains("promote") && !actions.contains("complete"), "\(actions)")
        #expect(StackEndToEndTests.envoyWeights(s, endpoint: "search-rank")?.filter { $0.value > 0 } == ["v7": 90, "v8": 10])

        // The audit: this rollout's first step only; nothing promoted, nothing drained.
        let actor = "rollout:\(r["id"] as? Int ?? -1)"
        let mine = try audit(tower, endpoint: "search-rank").filter { $0["actor"] as? String == actor }
        let reasons = mine.compactMap { $0["reason"] as? String }
        #expect(reasons.count == 1 && reasons.first?.hasPrefix("step 1/3 setWeight 10") == true, "\(reasons)")
        #expect(!mine.contains { $0["action"] as? String == "drain" || ($0["reason"] as? String ?? "").contains("setWeight 100") })
    }

    /// The endpoint's audit entries, oldest first.
    static func audit(_ tower: ([String]) throws -> HeadlessVerbTests.Run, endpoint: String) throws -> [[String: Any]] {
        let audit = try tower(["audit", "--output", "json", "--limit", "100"])
        return ((try JSONSerialization.jsonObject(with: Data(audit.out.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? [])
            .filter { $0["endpoint"] as? String == endpoint }
            .sorted { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }
    }

    static func status(_ api: RawClient, _ endpoint: String) -> [String: Any]? {
        guard let r = try? api.get("/v1/endpoints/\(endpoint)/rollout"), r.status == 200 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any]
    }

    static func current(_ api: RawClient, _ endpoint: String) -> [String: Any]? {
        status(api, endpoint)?["current"] as? [String: Any]
    }

    /// Polls `condition` until it holds or `seconds` pass.
    static func wait(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }

    /// Waits up to 5 s for `condition`.
    static func until(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
