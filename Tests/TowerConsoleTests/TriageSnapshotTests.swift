import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// The triage screens as frames (issue 11), at the smallest supported working size and a common
/// larger one: the flagged overview, a drained version's row, a long conflict dialog, the audit
/// entry view and the help of the screen it was opened from.
@Suite struct TriageSnapshotTests {
    static let sizes: [(Int, Int)] = [(80, 24), (120, 40)]

    @Test(arguments: sizes) func flaggedOverview(_ size: (Int, Int)) throws {
        var s = JF.judged(width: size.0, height: size.1)
        s.sort = .attention
        let f = view(s)
        let rows = f.text.split(separator: "\n").map(String.init)
        let titles = try #require(rows.firstIndex { $0.hasPrefix("STATE") })
        #expect(rows[titles + 1].contains("alpha") && rows[titles + 1].contains("✗ v2"), "the failing canary first, named")
        try assertSnapshot(f, named: "triage-flagged-overview-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func drainedVersion(_ size: (Int, Int)) throws {
        var s = QuietVersionTests.drainedCanary()
        _ = update(&s, .resize(width: size.0, height: size.1))
        s.drainTimeout = 30
        _ = update(&s, .tick(CF.now))
        #expect(s.endpoints[0].versions[1].state == .drained, "95 s after a 30 s drain began")
        try assertSnapshot(view(s), named: "triage-drained-version-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func longConflictDialog(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.enter, .char("j"), .char("d")] + CF.type("p99 red on v2 since the 03:10 deploy; paging the owning team, see INC-4711 for the timeline"))
        var now = CF.fleet[0]
        now.revision = 4
        now.versions[0].weight = 70
        now.versions[1].weight = 30
        now.updatedBy = "bob"
        now.updatedAt = CF.now.addingTimeInterval(-40)
        _ = update(&s, .changeFailed(.stale(current: now, detail:
            "endpoint 'alpha' is at revision 4, not 3: bob changed it 40 s ago with the reason 'moving more traffic to v2 after the load test came back clean'")))
        let text = view(s).text
        #expect(text.contains("now r4 by bob 40s ago"), "who and when")
        #expect(text.contains("v1 70 v2 30"), "the weights now")
        #expect(text.contains("clean' — Enter re-applies"), "the message is wrapped, not cut")
        try assertSnapshot(view(s), named: "triage-conflict-dialog-\(size.0)x\(size.1)")
    }

    static func auditEntries() -> [AuditEntry] {
        var prev = AuditEntry.genesisHash
        var out: [AuditEntry] = []
        let reasons = ["seeded", "canary 10%",
                       "p99 red on v2 since the 03:10 deploy; draining it while the owning team looks at the slow span in the tokenizer",
                       "undo"]
        for (i, r) in reasons.enumerated() {
            let e = AuditEntry(seq: Int64(i + 1), time: CF.now.addingTimeInterval(Double(i * 60)), actor: i == 0 ? "seed" : "oncall-maria",
                               role: .operator, action: [.create, .shift, .drain, .rollback][i], endpoint: "alpha", version: i == 2 ? "v2" : nil,
                               fromRevision: Int64(i), toRevision: Int64(i + 1), reason: r,
                               weightsBefore: i == 2 ? ["v1": 90, "v2": 10] : [:], weightsAfter: i == 2 ? ["v1": 100, "v2": 0] : [:],
                               override: false, summary: i == 2 ? "v1 90→100, v2 10→0 (draining)" : "s\(i)", prevHash: prev)
            prev = e.hash
            out.insert(e, at: 0)
        }
        return out
    }

    @Test(arguments: sizes) func auditReasonsStayAndAnEntryOpensWhole(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        // From alpha's Endpoint screen, Enter opens its history.
        let fx = CF.keys(&s, [.enter, .enter])
        #expect(s.screen == .audit && s.audit.endpoint == "alpha")
        #expect(fx.contains(.loadAudit(endpoint: "alpha")))
        _ = update(&s, .auditLoaded(Self.auditEntries(), AuditVerification(intact: true, entries: 4, firstBreak: nil), at: CF.now))
        let table = view(s).text.split(separator: "\n").map(String.init)
        let header = try #require(table.first { $0.hasPrefix("SEQ") })
        #expect(header.contains("REASON"), "the reason keeps a column at \(size.0) columns: \(header)")
        #expect(table.contains { $0.hasPrefix("3 ") && $0.contains("p99 red") })
        try assertSnapshot(view(s), named: "triage-audit-\(size.0)x\(size.1)")
        // Enter on seq 3 (the third row, newest first): the entry whole.
        CF.keys(&s, [.char("j"), .enter])
        #expect(s.screen == .auditEntry(3))
        let whole = view(s).text
        #expect(whole.contains("oncall-maria (operator)") && whole.contains("v1 90 → 100, v2 10 → 0"))
        #expect(whole.replacingOccurrences(of: "\n", with: " ").contains("tokenizer"), "the full reason, wrapped")
        #expect(whole.contains(Self.auditEntries()[1].hash.prefix(20)), "its hash")
        try assertSnapshot(view(s), named: "triage-audit-entry-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func helpShowsTheKeysOfTheScreenItWasOpenedFrom(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.enter, .char("?")])
        let endpointHelp = view(s).text
        #expect(endpointHelp.contains("KEYS ON THE ENDPOINT SCREEN (alpha)") && endpointHelp.contains("drain the selected version"))
        #expect(!endpointHelp.contains("filter endpoints"), "no overview-only key on the Endpoint screen's help")
        try assertSnapshot(view(s), named: "triage-help-endpoint-\(size.0)x\(size.1)")
        // Read-only: no action it would refuse, in the help or the footer.
        var ro = CF.loaded(width: size.0, height: size.1, readOnly: true)
        CF.keys(&ro, [.enter])
        #expect(!view(ro).text.contains("drain/undrain"), "the read-only footer offers no action")
        CF.keys(&ro, [.char("?")])
        let roHelp = view(ro).text
        #expect(!roHelp.contains("drain the selected version") && roHelp.contains("routing changes are disabled"))
    }
}
