import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// With several registry replicas the header names the one answering, a move to another is said
/// once as a toast, and a switch to another context forgets the replica.
@Suite struct RegistryReplicaTests {
    static func header(_ s: ConsoleState) -> String {
        String(view(s).text.split(separator: "\n", omittingEmptySubsequences: false)[0])
    }

    @Test func theHeaderNamesTheAnsweringReplicaAndAMoveIsSaid() {
        var s = CF.loaded(width: 100, height: 24)
        #expect(!Self.header(s).contains("via"), "one registry: no replica named")
        _ = update(&s, .registryReplica("10.0.0.1:8470"))
        #expect(Self.header(s).contains("registry ✓ live via 10.0.0.1:8470"), "\(Self.header(s))")
        #expect(s.toast == nil, "the first replica named is not news")
        _ = update(&s, .registryReplica("10.0.0.2:8470"))
        #expect(Self.header(s).contains("live via 10.0.0.2:8470"))
        #expect(s.toast == "registry: now answered by 10.0.0.2:8470 (10.0.0.1:8470 did not answer)")
        _ = update(&s, .contextSwitched(name: "lab", readOnly: false))
        #expect(s.registryReplica == nil)
    }

    @Test func aLostAnswerKeepsTheDialogOpenWithWhatIsKnown() {
        var s = CF.loaded(width: 100, height: 24)
        _ = update(&s, .key(.enter))
        _ = update(&s, .key(.char("j")))
        _ = update(&s, .key(.char("+")))
        guard s.dialog != nil else { Issue.record("no dialog opened"); return }
        s.dialog?.submitting = true
        let why = "the answer to POST /v1/endpoints/alpha/shift was lost (timed out); alpha is now at revision 8, by otto: if that is this change, it was applied; nothing was sent again"
        _ = update(&s, .changeFailed(.outcomeUnknown(why)))
        #expect(s.dialog?.error == why && s.dialog?.submitting == false)
    }
}
