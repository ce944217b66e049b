import Foundation
import Testing
import TowerSim

/// Rollouts run by the registry on the whole stack (real Envoy, Prometheus with the envoy profile,
/// model servers under load), asserted on Envoy's own routing and counters and on the audit. Two
/// rollouts at once on one stack, to keep CI short: alpha's healthy v2 with the fast runbook
/// completes; search-rank's v8, answering 20 % errors, aborts within (failureLimit + 1) intervals.
@Suite(.serialized) struct RolloutStackEndToEndTests {
    static let scenario = """
        endpoints:
          search-rank: {versions: {v8: {p50Ms: 40, p99Ms: 160, errorRatio: 0.2}}}

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

        // From all-baseline, so each setWeight is a revision of its own.
        let reset = try tower(["shift", "alpha", "v1=100", "v2=0", "--reason", "before the rollout"])
        #expect(reset.status == 0, "\(reset.err)")
        for (endpoint, target) in [("alpha", "v2"), ("search-rank", "v8")] {
            let r = try tower(["rollout", "start", endpoint, "--runbook", Self.runbook, "--target", target, "--reason", "e2e \(endpoint)"])
            #expect(r.status == 0, "start \(endpoint): \(r.out) \(r.err)")
        }
        let second = try tower(["rollout", "start", "alpha", "--runbook", Self.runbook, "--target", "v2", "--reason", "again"])
        #expect(second.status == 3, "a second rollout on alpha is a conflict: \(second.err)")

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

        // Every step of alpha's in the audit, by the rollout, in consecutive revisions.
        let audit = try tower(["audit", "--output", "json", "--limit", "50"])
        let entries = ((try JSONSerialization.jsonObject(with: Data(audit.out.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? [])
            .filter { $0["endpoint"] as? String == "alpha" && ($0["actor"] as? String ?? "").hasPrefix("rollout:") }
            .sorted { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }
        let reasons = entries.compactMap { $0["reason"] as? String }
        #expect(reasons.count == 4, "alpha's rollout entries: \(reasons)")
        #expect(reasons.first?.hasPrefix("step 1/5 setWeight 10 (runbook canary-fast") == true)
        #expect(reasons.dropFirst().first?.hasPrefix("step 3/5 setWeight 50") == true)
        #expect(entries.compactMap { $0["toRevision"] as? Int } == [3, 4, 5, 6])
        #expect(entries.last?["action"] as? String == "drain")
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
