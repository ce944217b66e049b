import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// The Endpoint screen's provenance (issue 15): who applied each version, where an imported one was
/// promoted from and who signed it, and which evaluation decided its gate.
@Suite struct ProvenanceSnapshotTests {
    static func fleet() -> [Endpoint] {
        var fleet = CF.fleet
        var fraud = fleet[2]
        fraud.versions[0].appliedBy = "ci-pipeline"
        fraud.versions[0].latestEvaluation = EvaluationStamp(suite: "fraud-eval-2026-10", sha256: "sha256:" + String(repeating: "1f", count: 32),
                                                            submittedBy: "ci-pipeline", submittedAt: CF.now.addingTimeInterval(-86_400 * 3))
        fraud.versions[0].gateSummary = "auc 0.912 >= 0.900; p99LatencyMs 210 <= 300"
        fraud.versions[1].appliedBy = "ci-pipeline"
        fraud.versions[1].latestEvaluation = EvaluationStamp(suite: "fraud-eval-2026-11", sha256: "sha256:" + String(repeating: "ab", count: 32),
                                                            submittedBy: "ci-pipeline", submittedAt: CF.now.addingTimeInterval(-600))
        fraud.versions[1].gateSummary = "auc 0.871 < 0.900; p99LatencyMs 240 <= 300"
        fleet[2] = fraud
        return fleet
    }

    @Test(arguments: SnapshotTests.sizes) func endpointScreenShowsWhoAppliedAndWhichSuiteDecided(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: Self.fleet(), auditSeq: 41), at: CF.now.addingTimeInterval(-1)))
        s.now = CF.now
        CF.keys(&s, [.char("j"), .char("j"), .enter])
        let frame = view(s)
        #expect(frame.text.contains("PROVENANCE"))
        #expect(frame.text.contains("applied by ci-pipeline"))
        try assertSnapshot(frame, named: "endpoint-provenance-\(size.0)x\(size.1)")
    }

    @Test func versionsWithoutProvenanceAddNoLines() {
        let s = CF.loaded()
        #expect(provenanceParts(CF.fleet[0].versions[0], s, Glyphs(ascii: false)).isEmpty)
    }

    /// A version imported from a signed promotion bundle says where it came from and who signed it.
    static func promoted(width: Int, height: Int) -> ConsoleState {
        var s = CF.loaded(width: width, height: height)
        var alpha = CF.fleet[0]
        var v3 = CF.v("v3", 0, gate: .pending, summary: "imported; awaiting an evaluation at this registry")
        v3.stage = .staging
        v3.promotedFrom = VersionPromotion(registry: "reg-3f9a0c27b1d4e865", signer: String(repeating: "5c1f0e9a", count: 8), bundle: "b-1",
                                           bundleSha256: String(repeating: "ab", count: 32), importedAt: CF.now.addingTimeInterval(-60), importedBy: "ines")
        alpha.versions.append(v3)
        alpha.revision = 4
        var fleet = CF.fleet
        fleet[0] = alpha
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 41), at: CF.now.addingTimeInterval(-1)))
        s.now = CF.now
        return s
    }

    @Test(arguments: SnapshotTests.sizes) func anImportedVersionShowsItsSourceAndSigner(_ size: (Int, Int)) throws {
        var s = Self.promoted(width: size.0, height: size.1)
        CF.keys(&s, [.enter])
        let frame = view(s)
        let line = try #require(frame.text.split(separator: "\n").first { $0.contains("promoted from") })
        #expect(line.hasPrefix("v3 ") && line.contains("promoted from registry reg-3f9a0c27b1d4e865, signed by 5c1f0e9a5c1f0e9a"))
        // A version declared here says nothing of the kind.
        #expect(frame.text.split(separator: "\n").filter { $0.contains("promoted from") }.count == 1)
        try assertSnapshot(frame, named: "endpoint-promoted-\(size.0)x\(size.1)")
    }
}
