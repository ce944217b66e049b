import Foundation
import Testing

/// `tower rollout …` against a real registry (no metrics needed: the runbooks have no analysis):
/// the exit codes of `status --watch` (0 completed, 8 aborted, 9 waiting for a person), promote
/// past an open pause, pause, a manual change, abort, and bad runbook files refused with the key.
@Suite(.serialized) struct RolloutVerbEndToEndTests {
    @Test func verbsSteerARolloutWithTheirExitCodes() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let seed = try reg.writeSeed()
        let op = try HeadlessVerbTests.tokenFile(reg, "otto", "operator")
        try reg.start(seed: seed)
        func tower(_ args: [String]) throws -> HeadlessVerbTests.Run {
            try HeadlessVerbTests.tower(args + ["--registry", reg.url, "--token-file", op])
        }
        func file(_ name: String, _ text: String) throws -> String {
            let path = reg.dataDir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let gated = try file("gated.yaml", "name: gated\nsteps:\n  - setWeight: 30\n  - pause: {}\n  - setWeight: 100\n")
        let long = try file("long.yaml", "name: long\nsteps:\n  - setWeight: 50\n  - pause: 1h\n  - setWeight: 100\n")
        let bad = try file("bad.yaml", "name: bad\nsteps:\n  - setWeight: 50\n  - setWeight: 20\n")
        let typo = try file("typo.yaml", "name: typo\nsteps:\n  - setWeight: 50\nonCompletion: keep\n")

        let refused = try tower(["rollout", "start", "alpha", "--runbook", bad, "--target", "v2", "--reason", "r"])
        #expect(refused.status == 2)
        #expect(refused.err.contains("bad.yaml: steps[1].setWeight: 20 goes down from 50"), "\(refused.err)")
        let unknown = try tower(["rollout", "start", "alpha", "--runbook", typo, "--target", "v2", "--reason", "r"])
        #expect(unknown.status == 2 && unknown.err.contains("typo.yaml: onCompletion: unknown key"), "\(unknown.err)")
        #expect(try tower(["rollout", "start", "alpha", "--runbook", reg.dataDir + "/none.yaml", "--target", "v2", "--reason", "r"]).status == 2)
        #expect(try tower(["rollout", "promote", "alpha", "--reason", "r"]).status == 3, "nothing to promote")

        // An open pause: watch returns 9; resume is refused (promote it); promote lets it finish.
        #expect(try tower(["rollout", "start", "alpha", "--runbook", gated, "--target", "v2", "--reason", "gated"]).status == 0)
        let waiting = try tower(["rollout", "status", "alpha", "--watch", "--interval", "0.2"])
        #expect(waiting.status == 9, "\(waiting.out) \(waiting.err)")
        #expect(waiting.out.contains("waiting for someone to promote"), "\(waiting.out)")
        let resume = try tower(["rollout", "resume", "alpha", "--reason", "go"])
        #expect(resume.status == 3 && resume.err.contains("promote it"), "\(resume.err)")
        #expect(try tower(["rollout", "promote", "alpha", "--reason", "30% is fine"]).status == 0)
        let completed = try tower(["rollout", "status", "alpha", "--watch", "--interval", "0.2", "--output", "json"])
        #expect(completed.status == 0, "\(completed.out) \(completed.err)")
        #expect(completed.out.contains("\"promote\""))

        // Back the other way, then a pause, a manual shift, and an abort: 8 from watch.
        #expect(try tower(["rollout", "start", "alpha", "--runbook", long, "--target", "v1", "--baseline", "v2", "--reason", "back"]).status == 0)
        #expect(try tower(["rollout", "pause", "alpha", "--reason", "hold"]).status == 0)
        #expect(try tower(["rollout", "pause", "alpha", "--reason", "hold"]).status == 3, "already paused")
        #expect(try tower(["rollout", "status", "alpha", "--watch"]).status == 9)
        #expect(try tower(["shift", "alpha", "v1=40", "v2=60", "--reason", "by hand"]).status == 0)
        let byHand = try tower(["rollout", "status", "alpha"])
        #expect(byHand.out.contains("otto made a manual change"), "\(byHand.out)")
        let abort = try tower(["rollout", "abort", "alpha", "--reason", "enough", "--output", "json"])
        #expect(abort.status == 0, "\(abort.err)")
        #expect(try tower(["rollout", "status", "alpha", "--watch"]).status == 8)
        let alpha = try tower(["status", "--output", "json"])
        let eps = (try JSONSerialization.jsonObject(with: Data(alpha.out.utf8)) as? [String: Any])?["endpoints"] as? [[String: Any]] ?? []
        let weights = (eps.first { $0["name"] as? String == "alpha" }?["versions"] as? [[String: Any]] ?? [])
            .reduce(into: [String: Int]()) { $0[$1["name"] as? String ?? ""] = $1["weight"] as? Int }
        #expect(weights == ["v1": 0, "v2": 100], "the aborted target's traffic went back to the baseline: \(weights)")
    }
}
