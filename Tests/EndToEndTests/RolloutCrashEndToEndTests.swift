import Foundation
import Testing

/// A real registry killed with SIGKILL during a rollout's timed pause and restarted on the same
/// data: the rollout resumes where it was, the pause counted from its stored start, and no step is
/// applied twice. No metrics are needed: the runbook has no analysis.
@Suite(.serialized) struct RolloutCrashEndToEndTests {
    static let runbook = """
        name: crash-test
        steps:
          - setWeight: 20
          - pause: 3s
          - setWeight: 60
          - pause: 2s
          - setWeight: 100
        onComplete: keep

        """

    @Test func killNineMidPauseResumesWithoutRepeatingAStep() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let seed = try reg.writeSeed()
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        let file = reg.dataDir + "/crash.yaml"
        try Self.runbook.write(toFile: file, atomically: true, encoding: .utf8)
        try reg.start(seed: seed)
        func tower(_ args: [String]) throws -> HeadlessVerbTests.Run {
            try HeadlessVerbTests.tower(args + ["--registry", reg.url, "--token-file", op])
        }
        func status() throws -> [String: Any] {
            let r = try tower(["rollout", "status", "alpha", "--output", "json"])
            return (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]) ?? [:]
        }
        let start = try tower(["rollout", "start", "alpha", "--runbook", file, "--target", "v2", "--reason", "crash test"])
        #expect(start.status == 0, "\(start.err)")

        // Into the first pause, then SIGKILL.
        let deadline = Date().addingTimeInterval(10)
        var inPause = false
        while Date() < deadline {
            if ((try status())["current"] as? [String: Any])?["step"] as? Int == 1 { inPause = true; break }
            usleep(50_000)
        }
        let atKill = try status()
        #expect(inPause, "the rollout reached its pause: \(atKill)")
        reg.kill(signal: SIGKILL)
        try reg.start()

        let done = Date().addingTimeInterval(20)
        var last: [String: Any]? = nil
        while Date() < done {
            let s = try status()
            if s["current"] == nil, let l = s["last"] as? [String: Any] { last = l; break }
            usleep(100_000)
        }
        let after = try status()
        let finished = try #require(last, "the rollout finished after the restart: \(after)")
        #expect(finished["phase"] as? String == "completed")
        let steps = finished["steps"] as? [[String: Any]] ?? []
        #expect(steps.compactMap { $0["index"] as? Int } == [0, 1, 2, 3, 4], "each step begun once: \(steps)")
        if steps.count == 5, let p = (steps[1]["startedAt"] as? String).flatMap(RolloutStackEndToEndTests.date),
           let next = (steps[2]["startedAt"] as? String).flatMap(RolloutStackEndToEndTests.date) {
            #expect(next.timeIntervalSince(p) >= 3, "the pause lasted its 3 s across the restart")
            #expect(next.timeIntervalSince(p) < 10, "the pause was counted from its stored start, not from the restart")
        }

        // The audit: one revision per setWeight, by the rollout, consecutive.
        let audit = try tower(["audit", "--output", "json", "--limit", "20"])
        let entries = ((try JSONSerialization.jsonObject(with: Data(audit.out.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? [])
            .filter { ($0["actor"] as? String) == "rollout:1" }
            .sorted { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }
        #expect(entries.compactMap { ($0["reason"] as? String)?.prefix(6).description } == ["step 1", "step 3", "step 5"])
        #expect(entries.compactMap { $0["toRevision"] as? Int } == [2, 3, 4])
        let verify = try tower(["audit", "--verify"])
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
    }
}
