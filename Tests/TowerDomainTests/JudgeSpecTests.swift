import Foundation
import Testing
@testable import TowerDomain

@Suite struct JudgeSpecTests {
    @Test func anySingleSettingIsValidAndTheNotationHasOnlyTheDeclaredOnes() {
        #expect(JudgeSpec(latencyTolerance: 0.25).problem == nil)
        #expect(JudgeSpec(minSamples: 1).problem == nil)
        #expect(JudgeSpec(errorTolerancePoints: 0).problem == nil, "zero tolerance: any significant rise fails")
        #expect(JudgeSpec(confidence: 0.5).problem == nil)
        #expect(JudgeSpec(latencyTolerance: 0.25, errorTolerancePoints: 0.1, minSamples: 50, confidence: 0.98).notation
                == "{latencyTolerance: 0.25, errorTolerancePoints: 0.1, minSamples: 50, confidence: 0.98}")
        #expect(JudgeSpec(minSamples: 200).notation == "{minSamples: 200}")
    }

    @Test(arguments: [
        (JudgeSpec(), "judge needs at least one setting"),
        (JudgeSpec(latencyTolerance: -0.01), "judge.latencyTolerance is -0.01;"),
        (JudgeSpec(latencyTolerance: 11), "judge.latencyTolerance is 11;"),
        (JudgeSpec(latencyTolerance: .nan), "judge.latencyTolerance is nan;"),
        (JudgeSpec(errorTolerancePoints: -1), "judge.errorTolerancePoints is -1;"),
        (JudgeSpec(errorTolerancePoints: .infinity), "judge.errorTolerancePoints is inf;"),
        (JudgeSpec(minSamples: 0), "judge.minSamples is 0;"),
        (JudgeSpec(minSamples: 2_000_000), "judge.minSamples is 2000000;"),
        (JudgeSpec(confidence: 1), "judge.confidence is 1;"),
        (JudgeSpec(confidence: 0.49), "judge.confidence is 0.49;"),
        (JudgeSpec(confidence: 98), "judge.confidence is 98;"),
    ])
    func invalidSettingsAreNamedByField(_ spec: JudgeSpec, _ expected: String) {
        #expect(spec.problem?.hasPrefix(expected) == true, "problem was: \(spec.problem ?? "none")")
    }

    @Test func anEndpointWithBadSettingsIsRefusedAndTheSummaryNamesAChange() throws {
        let v = Version(name: "v1", artifact: Artifact(uri: "s3://a/1", digest: "sha256:" + String(repeating: "a", count: 64)),
                        weight: 100, gate: .passed, stage: .prod)
        #expect(throws: RoutingError.self) {
            _ = try Endpoint(name: "a", path: "/a", owner: "o", revision: 1, versions: [v], updatedAt: Date(), updatedBy: "x",
                             judge: JudgeSpec(confidence: 2))
        }
        let before = try Endpoint(name: "a", path: "/a", owner: "o", revision: 1, versions: [v], updatedAt: Date(), updatedBy: "x")
        var after = before
        after.judge = JudgeSpec(minSamples: 100)
        #expect(ChangeSummary.describe(before: before, after: after) == "judge none→{minSamples: 100}")
        // Decoding checks it too: a stored or received endpoint cannot carry bad settings.
        var json = String(decoding: try JSONEncoder().encode(after), as: UTF8.self)
        json = json.replacingOccurrences(of: #""minSamples":100"#, with: #""minSamples":-3"#)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Endpoint.self, from: Data(json.utf8)) }
    }
}
