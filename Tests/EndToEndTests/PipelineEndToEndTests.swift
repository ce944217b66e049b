import Foundation
import Testing
import TowerDomain

/// The pipeline verbs (issue 15) against a real `tower-registry` process with the `tower` binary:
/// export → apply → diff finds nothing, a second apply makes no revision, and an evaluation
/// submitted with `tower gate submit` passes or fails the gate by the spec's policy.
@Suite(.serialized) struct PipelineEndToEndTests {
    typealias T = HeadlessVerbTests

    @Test func exportApplyDiffAndGateSubmit() throws {
        let reg = RegistryProcess()
        defer { reg.cleanUp() }
        let admin = try T.tokenFile(reg, "ada", "admin")
        let ci = try T.tokenFile(reg, "ci", "deployer")
        try reg.start(seed: try reg.writeSeed(), extra: ["--log-level", "warning"])
        let asAdmin = ["--registry", reg.url, "--token-file", admin]
        let asCI = ["--registry", reg.url, "--token-file", ci]
        let specs = reg.dataDir + "/specs.yaml"

        // What the registry holds, written as specs, reads back as nothing to do.
        let export = try T.tower(["export"] + asCI)
        #expect(export.status == 0, "\(export.err)")
        try export.out.write(toFile: specs, atomically: true, encoding: .utf8)
        let nothing = try T.tower(["diff", "-f", specs] + asCI)
        #expect(nothing.status == 0 && nothing.out.isEmpty, "diff after export: \(nothing.status) \(nothing.out) \(nothing.err)")

        // A pipeline adds v3 with a policy; the diff says so and exits 1, --dry-run changes nothing.
        let alphaDigest = "sha256:" + String(repeating: "3a", count: 32)
        let changed = export.out.replacingOccurrences(of: "versions:\n", with: """
            evaluation:
              require:
                - {metric: auc, min: 0.9}
                - {metric: p99LatencyMs, max: 300}
            versions:
              - name: "v3"
                artifact: {uri: "s3://models/alpha/v3", digest: "\(alphaDigest)"}
                stage: staging

            """)
        try changed.write(toFile: specs, atomically: true, encoding: .utf8)
        let differs = try T.tower(["diff", "-f", specs] + asCI)
        #expect(differs.status == 1, "\(differs.err)")
        #expect(differs.out.contains("~ update alpha") && differs.out.contains("+ version v3"), "\(differs.out)")
        let before = try T.tower(["status", "alpha", "--output", "json"] + asCI)
        let dry = try T.tower(["apply", "-f", specs, "--dry-run"] + asCI)
        #expect(dry.status == 0 && dry.out.contains("dry run: nothing was changed"), "\(dry.out) \(dry.err)")
        #expect(try T.tower(["status", "alpha", "--output", "json"] + asCI).out == before.out)

        // Apply twice: one revision.
        let applied = try T.tower(["apply", "-f", specs, "--reason", "release v3"] + asCI)
        #expect(applied.status == 0, "\(applied.out) \(applied.err)")
        #expect(applied.out.contains("~ alpha updated (revision 2)"), "\(applied.out)")
        let again = try T.tower(["apply", "-f", specs, "--output", "json"] + asCI)
        #expect(again.status == 0 && again.out.contains(#""changes" : ["#) && again.out.contains(#""unchanged" : 1"#), "\(again.out)")
        let revisions = try T.tower(["status", "alpha", "--output", "json"] + asCI)
        let alpha = try #require(try Wire.decoder().decode(EndpointList.self, from: Data(revisions.out.utf8)).endpoints.first)
        #expect(alpha.revision == 2 && alpha.version("v3")?.weight == 0 && alpha.version("v3")?.gate == .pending)
        #expect(try T.tower(["diff", "-f", specs] + asCI).status == 0)

        // Evidence decides the gate; the deployer still moves no traffic.
        let good = reg.dataDir + "/good.json", bad = reg.dataDir + "/bad.json"
        try #"{"suite": "alpha-eval-2026-11", "metrics": {"auc": 0.93, "p99LatencyMs": 210}}"#.write(toFile: good, atomically: true, encoding: .utf8)
        try #"{"suite": "alpha-eval-2026-12", "metrics": {"auc": 0.871, "p99LatencyMs": 210}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let passed = try T.tower(["gate", "submit", "alpha", "v3", "--results", good] + asCI)
        #expect(passed.status == 0 && passed.out.contains("alpha v3: gate passed (auc 0.930 >= 0.900; p99LatencyMs 210 <= 300)"), "\(passed.out) \(passed.err)")
        #expect(try T.tower(["shift", "alpha", "v1=80", "v2=10", "v3=10", "--reason", "canary"] + asCI).status == 4, "a deployer moves no traffic")
        #expect(try T.tower(["shift", "alpha", "v1=80", "v2=10", "v3=10", "--reason", "canary"] + asAdmin).status == 0)
        let failed = try T.tower(["gate", "submit", "alpha", "v3", "--results", bad, "--output", "json"] + asCI)
        #expect(failed.status == 8, "\(failed.out) \(failed.err)")
        let result = try Wire.decoder().decode(EvaluationResult.self, from: Data(failed.out.utf8))
        #expect(result.evaluation.gate == .failed && result.evaluation.gateSummary.contains("auc 0.871 < 0.900"))
        #expect(result.endpoint.version("v3")?.latestEvaluation?.suite == "alpha-eval-2026-12")
        let list = try T.tower(["gate", "list", "alpha", "v3"] + asCI)
        #expect(list.status == 0 && list.out.split(separator: "\n").count == 2, "\(list.out)")

        // --prune deletes only the owner's endpoints that the files no longer declare, and says which.
        func doc(_ name: String, owner: String) -> String {
            "name: \(name)\npath: /v1/models/\(name)\nowner: \(owner)\nversions:\n  - {name: v1, artifact: {uri: s3://m/\(name), digest: \"\(alphaDigest)\"}, stage: dev}\n"
        }
        let more = reg.dataDir + "/more.yaml"
        try (changed + "---\n" + doc("beta", owner: "team-vision") + "---\n" + doc("gamma", owner: "team-other")).write(toFile: more, atomically: true, encoding: .utf8)
        let created = try T.tower(["apply", "-f", more] + asCI)
        #expect(created.status == 0 && created.out.contains("+ beta created (revision 1, out of service"), "\(created.out) \(created.err)")
        let pruned = try T.tower(["apply", "-f", specs, "--prune", "--owner", "team-vision"] + asCI)
        #expect(pruned.status == 0 && pruned.out.contains("- beta deleted") && !pruned.out.contains("gamma"), "\(pruned.out) \(pruned.err)")
        let left = try Wire.decoder().decode(EndpointList.self, from: Data(try T.tower(["status", "--output", "json"] + asCI).out.utf8))
        #expect(left.endpoints.map(\.name) == ["alpha", "gamma"])

        // A refusal names the file and the key.
        try changed.replacingOccurrences(of: "stage: staging", with: "stage: staging\n    weight: 10").write(toFile: specs, atomically: true, encoding: .utf8)
        let refused = try T.tower(["apply", "-f", specs] + asCI)
        #expect(refused.status == 2 && refused.err.contains("\(specs), document 1, versions[0].weight: weight is state, not spec"), "\(refused.err)")
        #expect(try T.tower(["audit", "--verify"] + asCI).status == 0)
    }
}
