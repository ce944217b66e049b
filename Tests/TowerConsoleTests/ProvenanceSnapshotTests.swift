import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// A version imported from a signed promotion bundle says where it came from and who signed it.
@Suite struct ProvenanceSnapshotTests {
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
        #expect(frame.text.contains("v3 promoted from registry reg-3f9a0c27b1d4e865, signed by 5c1f0e9a5c1f0e9a"))
        // A version declared here says nothing of the kind.
        #expect(!frame.text.contains("v1 promoted") && !frame.text.contains("v2 promoted"))
        try assertSnapshot(frame, named: "endpoint-promoted-\(size.0)x\(size.1)")
    }
}
