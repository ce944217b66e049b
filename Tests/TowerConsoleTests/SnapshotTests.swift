import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

/// Frames as text against `__Snapshots__/*.txt`. Re-record with TOWER_RECORD_SNAPSHOTS=1; a missing
/// snapshot is written and the test fails, so CI never passes on one it has not seen.
func assertSnapshot(_ frame: Frame, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try assertSnapshotText(frame.text, named: name, sourceLocation: sourceLocation)
}

func assertSnapshotText(_ body: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let file = dir.appendingPathComponent(name + ".txt")
    let text = body + "\n"
    let record = ProcessInfo.processInfo.environment["TOWER_RECORD_SNAPSHOTS"] == "1"
    if record || !FileManager.default.fileExists(atPath: file.path) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        if !record { Issue.record("recorded a new snapshot \(name); check it and run again", sourceLocation: sourceLocation) }
        return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(text == expected, "snapshot \(name) differs:\n\(text)", sourceLocation: sourceLocation)
}

@Suite struct SnapshotTests {
    static let sizes: [(Int, Int)] = [(80, 24), (160, 48)]

    @Test(arguments: sizes) func overview(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.char("j")])
        try assertSnapshot(view(s), named: "overview-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func endpointScreen(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.char("j"), .char("j"), .enter])
        _ = update(&s, .revisionsLoaded(endpoint: "fraud-score", [
            RevisionRecord(revision: 5, time: CF.now.addingTimeInterval(-300), actor: "alice", action: .shift, reason: "v4 gate failed, back out",
                           summary: "v3 90→100, v4 10→0", endpoint: CF.fleet[2]),
        ]))
        try assertSnapshot(view(s), named: "endpoint-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func shiftDialog(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.enter, .char("j"), .char("+")] + CF.type("canary 15%"))
        try assertSnapshot(view(s), named: "dialog-shift-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func drainEndpointDialogWithAConflict(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.char("D")] + CF.type("alpha") + [.tab] + CF.type("incident 7") + [.enter])
        _ = update(&s, .changeFailed(.stale(current: CF.fleet[0], detail: "endpoint 'alpha' is at revision 4, not 3: bob changed it")))
        try assertSnapshot(view(s), named: "dialog-drain-endpoint-\(size.0)x\(size.1)")
    }

    @Test(arguments: sizes) func helpIsGeneratedFromTheKeymap(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.char("?")])
        try assertSnapshot(view(s), named: "help-\(size.0)x\(size.1)")
    }

    static let history: [RevisionRecord] = [
        RevisionRecord(revision: 3, time: CF.now.addingTimeInterval(-120), actor: "alice", action: .shift, reason: "canary 10%",
                       summary: "v1 100→90, v2 0→10", endpoint: CF.fleet[0]),
        RevisionRecord(revision: 2, time: CF.now.addingTimeInterval(-900), actor: "bob", action: .undrain, reason: "v2 rebuilt",
                       summary: "v2 drained→serving", endpoint: CF.e("alpha", [CF.v("v1", 100), CF.v("v2", 0)], revision: 2)),
        RevisionRecord(revision: 1, time: CF.now.addingTimeInterval(-3600), actor: "seed", action: .create, reason: "seeded",
                       summary: "created: v1 100, v2 0", endpoint: CF.e("alpha", [CF.v("v1", 100), CF.v("v2", 0)], revision: 1)),
    ]

    /// Every other dialog, at both sizes: drain a version, undrain, roll back, the weight editor.
    @Test(arguments: ["drain", "undrain", "rollback", "editor"], sizes)
    func dialogs(_ kind: String, _ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        switch kind {
        case "drain": CF.keys(&s, [.enter, .char("j"), .char("d")] + CF.type("p99 red"))
        case "undrain":
            CF.keys(&s, [.char("j"), .char("j"), .char("j"), .enter, .char("j"), .char("u")] + CF.type("fixed"))
        case "rollback":
            CF.keys(&s, [.enter, .char("r")])
            _ = update(&s, .revisionsLoaded(endpoint: "alpha", Self.history))
            CF.keys(&s, CF.type("undo canary"))
        default: CF.keys(&s, [.enter, .char("s"), .backspace] + CF.type("5"))
        }
        #expect(s.dialog != nil)
        try assertSnapshot(view(s), named: "dialog-\(kind)-\(size.0)x\(size.1)")
    }

    @Test func tooSmallSaysSo() throws {
        try assertSnapshot(view(CF.loaded(width: 50, height: 12)), named: "too-small-50x12")
    }

    @Test func asciiFallbackAndADeadRegistry() throws {
        var s = CF.loaded()
        s.ascii = true
        _ = update(&s, .registryFailed("connection refused", at: CF.now))
        let f = view(s)
        #expect(f.text.unicodeScalars.allSatisfy { $0.isASCII })
        try assertSnapshot(f, named: "overview-ascii-registry-down-80x24")
    }

    @Test(arguments: ["default", "light", "high-contrast", "monochrome", "colorblind"])
    func eachThemeInMonochromeStillMarksStateAndSelection(_ name: String) throws {
        var s = CF.loaded()
        s.theme = try #require(Theme.builtIn[name]).monochrome()
        CF.keys(&s, [.char("j")])
        let f = view(s)
        try assertSnapshot(f, named: "overview-80x24")
        try assertSnapshotText(f.styleText, named: "monochrome-styles-\(name)-80x24")
    }

    @Test(arguments: [(80, 24), (160, 48), (120, 30)]) func auditScreen(_ size: (Int, Int)) throws {
        var s = CF.loaded(width: size.0, height: size.1)
        CF.keys(&s, [.char(":")] + CF.type("audit") + [.enter])
        var prev = AuditEntry.genesisHash
        var entries: [AuditEntry] = []
        for (i, r) in ["seeded", "canary 10%", "p99 red on v2", "undo"].enumerated() {
            let e = AuditEntry(seq: Int64(i + 1), time: CF.now.addingTimeInterval(Double(i * 60)), actor: i == 0 ? "seed" : "otto", role: .operator,
                               action: [.create, .shift, .drain, .rollback][i], endpoint: "alpha", version: i == 2 ? "v2" : nil,
                               fromRevision: Int64(i), toRevision: Int64(i + 1), reason: r, weightsBefore: [:], weightsAfter: [:],
                               override: false, summary: "s\(i)", prevHash: prev)
            prev = e.hash
            entries.insert(e, at: 0)
        }
        _ = update(&s, .auditLoaded(entries, AuditVerification(intact: true, entries: 4, firstBreak: nil), at: CF.now))
        try assertSnapshot(view(s), named: "audit-\(size.0)x\(size.1)")
        _ = update(&s, .auditLoaded(entries, AuditVerification(intact: false, entries: 4, firstBreak: ChainBreak(seq: 3, problem: "its hash does not match its content: the entry was edited")), at: CF.now))
        try assertSnapshot(view(s), named: "audit-broken-\(size.0)x\(size.1)")
    }

    @Test func selectionAndStateAreNotToldByColourAlone() {
        let f = view(CF.loaded())
        #expect(f.text.contains("✗ out ") && f.text.contains("✓ serving") && f.text.contains("… draining"))
        #expect(f[2, 2].style.reverse, "the selected row is reversed, not only coloured")
    }
}
