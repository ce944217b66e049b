import Foundation
import Testing
import TowerDomain
@testable import TowerSources

@Suite struct SpecFileTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static let alpha = """
        name: alpha
        path: /v1/models/alpha
        owner: team-vision
        baseline: v1
        slo: {availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}
        evaluation:
          require:
            - {metric: auc, min: 0.90}
            - {metric: p99LatencyMs, max: 300}
            - {metric: auc, minVsBaseline: -0.005}
        versions:
          - name: v1
            artifact: {uri: s3://models/alpha/1, digest: "\(digest)"}
            stage: prod
          - name: v2
            artifact: {uri: s3://models/alpha/2, digest: "\(digest)"}
            stage: staging
            upstream: 127.0.0.1:9002
        """

    @Test func readsManyDocumentsWithTheirPolicy() throws {
        let specs = try SpecFile.parse(Self.alpha + "\n---\n" + Self.alpha.replacingOccurrences(of: "alpha", with: "beta") + "\n---\n")
        #expect(specs.map(\.name) == ["alpha", "beta"])
        let a = specs[0]
        #expect(a.isDeclarative && a.baseline == "v1" && a.slo?.availability == 0.999)
        #expect(a.evaluation?.require.count == 3 && a.evaluation?.require[2].minVsBaseline == -0.005)
        #expect(a.versions[1].upstream == "127.0.0.1:9002" && a.versions[1].stage == .staging)
    }

    @Test(arguments: [
        ("weight: 100", "versions[0].weight: weight is state, not spec"),
        ("gate: passed", "versions[0].gate: gate is state, not spec"),
        ("colour: red", "versions[0].colour: unknown key 'colour'; a version takes name, artifact, stage, upstream"),
        ("stage: prodd", "versions[0].stage: 'prodd' is not a stage"),
    ])
    func stateAndUnknownKeysInAVersionAreRefusedByKey(line: String, expected: String) {
        let yaml = Self.alpha.replacingOccurrences(of: "    stage: prod\n", with: "    stage: prod\n    \(line)\n")
            .replacingOccurrences(of: "    stage: prod\n    stage: prodd\n", with: "    stage: prodd\n")
        #expect {
            try SpecFile.parse(yaml, file: "specs/alpha.yaml")
        } throws: { e in
            let d = (e as? SpecFileError)?.description ?? ""
            return d.hasPrefix("specs/alpha.yaml, document 1, ") && d.contains(expected)
        }
    }

    @Test(arguments: [
        ("name: alpha\npath: /a\nowner: o\nversions: []", "versions", "has no versions"),
        ("name: Alpha\npath: /a\nowner: o\nversions: []", "name", "a-z, 0-9"),
        ("path: /a\nowner: o\nversions: []", "name", "is missing"),
        ("name: a\npath: /a\nowner: o\nowner: p\nversions: []", "", "not valid YAML"),
        ("name: a\npath: /a\nowner: o\nversions:\n  - {name: v1, artifact: {uri: s3://x, digest: \"sha256:00\"}, stage: prod}", "versions", "artifact digest of v1"),
        ("name: a\npath: /a\nowner: o\nslo: {availability: 2}\nversions: []", "slo", "slo.availability is 2"),
        ("name: a\npath: /a\nowner: o\nevaluation: {require: [{metric: auc, min: \"0.9\"}]}\nversions: []", "evaluation.require[0].min", "must be a number"),
        ("name: a\npath: /a\nowner: o\nevaluation: {require: [{metric: auc, min: .nan}]}\nversions: []", "evaluation.require[0].min", "finite"),
        ("name: a\npath: /a\nowner: o\nevaluation: {require: []}\nversions: []", "evaluation", "evaluation.require is empty"),
        ("- name: a", "", "an endpoint spec must be a mapping, not a list"),
        ("name: a\npath: /a\nowner: ~\nversions: []", "owner", "must be a string, not null"),
    ])
    func badDocumentsAreRefusedNamingTheKey(yaml: String, key: String, expected: String) {
        #expect {
            try SpecFile.parse(yaml, file: "f.yaml")
        } throws: { e in
            guard let e = e as? SpecFileError else { return false }
            return e.key == key && e.problem.contains(expected) && e.file == "f.yaml"
        }
    }

    @Test func aliasesCannotBlowAFileUp() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...8 { yaml += "a\(i): &a\(i) [*a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1)]\n" }
        yaml += "name: x\npath: /x\nowner: o\nversions: *a8\n"
        #expect(throws: SpecFileError.self) { try SpecFile.parse(yaml) }
    }

    @Test func aFolderIsReadInNameOrderAndANameDeclaredTwiceIsRefused() throws {
        let dir = NSTemporaryDirectory() + "tower-specs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.alpha.replacingOccurrences(of: "alpha", with: "zeta").write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try Self.alpha.write(toFile: dir + "/b.yml", atomically: true, encoding: .utf8)
        try "not a spec".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
        #expect(try SpecFile.read(path: dir).map(\.name) == ["zeta", "alpha"])
        try Self.alpha.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        #expect {
            try SpecFile.read(path: dir)
        } throws: { e in
            (e as? SpecFileError)?.description == "\(dir)/c.yaml, name: endpoint 'alpha' is declared twice (also in \(dir)/b.yml)"
        }
    }

    @Test func exportReadsBackUnchangedAndDiffsNothing() throws {
        let specs = try SpecFile.parse(Self.alpha)
        var tricky = specs[0]
        tricky.name = "tricky"
        tricky.owner = "team \"quoted\" #not-a-comment: yes"
        tricky.judge = JudgeSpec(latencyTolerance: 0.25, minSamples: 50)
        tricky.evaluation = EvaluationPolicy(require: [.init(metric: "auc", min: 1e-7, maxVsBaseline: 20)])
        // Characters YAML will not take unescaped in a stream, in the one free-text field that allows them.
        tricky.versions[0].artifact.uri = "s3://x/\u{7F}\u{9F}\u{FEFF}é\\\"'#"
        let text = SpecExport.yaml(specs + [tricky])
        let back = try SpecFile.parse(text)
        #expect(back == specs + [tricky], "\(text)")
        #expect(SpecExport.yaml(back) == text, "the same specs always export the same bytes")
    }

    @Test func thePlanCreatesUpdatesAndPrunesOnlyTheOwners() throws {
        let a = try SpecFile.parse(Self.alpha)[0]
        func endpoint(_ s: EndpointSpec, owner: String? = nil) throws -> Endpoint {
            var s = s
            if let owner { s.owner = owner }
            return try s.endpoint(replacing: nil, revision: 1, at: Date(timeIntervalSince1970: 0), by: "x")
        }
        var changed = a
        changed.versions[1].stage = .prod
        let gone = EndpointSpec(name: "gone", path: "/gone", owner: "team-vision", versions: a.versions)
        let other = EndpointSpec(name: "other", path: "/other", owner: "team-speech", versions: a.versions)
        let current = [try endpoint(a), try endpoint(gone), try endpoint(other)]
        #expect(SpecDiff.plan(desired: [a], current: current).isEmpty)
        let plan = SpecDiff.plan(desired: [changed, EndpointSpec(name: "new", path: "/new", owner: "team-vision", versions: a.versions)],
                                 current: current, pruneOwner: "team-vision")
        #expect(plan.map(\.endpoint) == ["alpha", "new", "gone"])
        guard case .update(_, let lines) = plan[0] else { Issue.record("not an update"); return }
        #expect(lines == ["  - version v2: {artifact: s3://models/alpha/2 \(Self.digest), stage: staging, upstream: 127.0.0.1:9002}",
                          "  + version v2: {artifact: s3://models/alpha/2 \(Self.digest), stage: prod, upstream: 127.0.0.1:9002}"])
        #expect(SpecDiff.text(plan).contains("- delete gone"))
        #expect(!SpecDiff.text(plan).contains("other"), "another team's endpoint is never pruned")
    }
}
