import Foundation
import Testing
import TowerDomain
@testable import TowerConsole

/// One vocabulary on every surface (issue 11 item 8): the console's overview and Endpoint screen,
/// its audit views and dialogs name states, gates and actors only in `Vocabulary`'s words.
@Suite struct VocabularyViewTests {
    /// Every endpoint state, version state and gate at least once.
    static let fleet: [Endpoint] = [
        CF.e("alpha", [CF.v("v1", 90), CF.v("v2", 10, gate: .pending), CF.v("v3", 0, state: .drained)]),
        CF.e("fraud-score", [CF.v("v3", 100), CF.v("v4", 0, gate: .failed, summary: "AUC 0.871 < 0.900")], revision: 5),
        CF.e("translate-ru", [CF.v("v2", 100), CF.v("v3", 0, state: .draining)], revision: 9, by: "rollout:4", ago: 20),
        CF.e("vision-ocr", [CF.v("v1", 50), CF.v("v2", 50)], state: .outOfService, revision: 21, by: "carol", ago: 400),
    ]

    static func loaded(width: Int, height: Int) -> ConsoleState {
        var s = ConsoleState(width: width, height: height, now: CF.now, contextName: "local")
        s.sort = .name
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: fleet, auditSeq: 40), at: CF.now))
        return s
    }

    /// The state each row must show, in the table's word (or its abbreviation, in a narrow column).
    static func expectedState(_ e: Endpoint) -> Vocabulary.Term {
        if e.state == .outOfService { return Vocabulary.term(EndpointState.outOfService) }
        if e.versions.contains(where: { $0.state == .draining }) { return Vocabulary.term(VersionState.draining) }
        return Vocabulary.term(EndpointState.serving)
    }

    static let sizes = [(80, 24), (160, 48)]

    @Test(arguments: sizes) func theOverviewNamesStatesInTheTablesWords(_ size: (Int, Int)) {
        let s = Self.loaded(width: size.0, height: size.1)
        let lines = view(s).text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for e in Self.fleet {
            let row = lines.first { $0.contains(" \(e.name) ") } ?? ""
            let state = Self.expectedState(e)
            // The STATE column is the first: glyph, space, the word or its fixed abbreviation.
            let cell = row.dropFirst(2).prefix(while: { $0 != " " || state.short.contains(" ") })
            #expect(row.dropFirst(2).hasPrefix(state.short + " "), "\(e.name): '\(cell)' in \(row)")
        }
        // Header and rows (the footer lists actions, which are verbs, not states).
        let body = lines.dropLast().joined(separator: "\n")
        #expect(Vocabulary.strayWords(in: body).isEmpty, "\(Vocabulary.strayWords(in: body))\n\(body)")
    }

    /// The overview with live figures (its own, denser columns) keeps to the table too.
    @Test(arguments: sizes) func theLiveOverviewNamesStatesInTheTablesWords(_ size: (Int, Int)) {
        let s = TelemetryViewTests.live(width: size.0, height: size.1)
        let lines = view(s).text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for e in CF.fleet {
            let row = lines.first { $0.contains(" \(e.name) ") } ?? ""
            #expect(row.dropFirst(2).hasPrefix(Self.expectedState(e).short + " "), "\(e.name): \(row)")
        }
        let body = lines.dropLast().joined(separator: "\n")
        #expect(Vocabulary.strayWords(in: body).isEmpty, "\(Vocabulary.strayWords(in: body))\n\(body)")
    }

    @Test(arguments: sizes) func theEndpointScreenNamesStatesAndGatesInTheTablesWords(_ size: (Int, Int)) {
        for e in Self.fleet {
            var s = Self.loaded(width: size.0, height: size.1)
            s.screens = [.overview, .endpoint(e.name)]
            let lines = view(s).text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // Its header line: the endpoint's state in full, never abbreviated.
            let head = lines.first { $0.hasPrefix(e.name + "  ") } ?? ""
            #expect(head.contains(" " + Self.expectedState(e).word + "  "), "\(head)")
            for v in e.versions {
                let row = lines.first { $0.hasPrefix(v.name + " ") && $0.contains("%") } ?? ""
                #expect(row.contains(" " + Vocabulary.word(v.state) + " "), "\(e.name) \(v.name): \(row)")
                if size.0 >= 120 || v.gate != .passed {
                    #expect(row.contains(Vocabulary.word(v.gate)), "\(e.name) \(v.name): \(row)")
                }
            }
            // The header, the version table and the gate's summary; the revisions below list actions.
            let upTo = lines.firstIndex { $0.hasPrefix("RECENT REVISIONS") } ?? (lines.count - 1)
            let top = lines[..<upTo].joined(separator: "\n")
            #expect(Vocabulary.strayWords(in: top).isEmpty, "\(Vocabulary.strayWords(in: top))\n\(top)")
        }
    }

    @Test func dialogsAndToastsUseTheTablesWords() {
        var s = Self.loaded(width: 100, height: 30)
        s.screens = [.overview, .endpoint("vision-ocr")]
        CF.keys(&s, [.char("D")])
        #expect(s.toast == "vision-ocr is already \(Vocabulary.word(EndpointState.outOfService))")
        s.screens = [.overview, .endpoint("alpha")]
        s.versionSelection = 2
        CF.keys(&s, [.char("d")])
        #expect(s.toast == "v3 is already \(Vocabulary.word(VersionState.drained))")
        s.versionSelection = 0
        s.toast = nil
        CF.keys(&s, [.char("D")])
        #expect(s.dialog?.title == "Take alpha \(Vocabulary.word(EndpointState.outOfService)) (the gateway answers 503)")
        let frame = view(s).text
        #expect(Vocabulary.strayWords(in: frame.split(separator: "\n").dropLast().joined(separator: "\n")).isEmpty, "\(frame)")
    }

    @Test func theAuditWritesActorsAndOverridesAsTheTableDoes() {
        var s = Self.loaded(width: 80, height: 24)
        let e = AuditEntry(seq: 1, time: CF.now, actor: "otto", role: .admin, action: .shift, endpoint: "fraud-score", version: "v4",
                           fromRevision: 4, toRevision: 5, reason: "known-good despite the gate", weightsBefore: ["v3": 100, "v4": 0],
                           weightsAfter: ["v3": 90, "v4": 10], override: true, summary: "v3 100→90, v4 0→10", prevHash: AuditEntry.genesisHash)
        _ = update(&s, .auditLoaded([e], AuditVerification(intact: true, entries: 1, firstBreak: nil), at: CF.now))
        s.screens = [.overview, .audit]
        let table = view(s).text
        #expect(table.contains("shift v4 !" + Vocabulary.override.short), "\(table)")
        #expect(table.contains(Vocabulary.actor("otto", role: .admin) + ": known-good"), "\(table)")
        s.screens = [.overview, .auditEntry(1)]
        let entry = view(s).text
        #expect(entry.contains(Vocabulary.actor("otto", role: .admin)) && entry.contains(Vocabulary.override.word + " of a gate"), "\(entry)")
        for text in [table, entry] {
            #expect(!text.contains("OVR") && !text.contains("OVERRIDE") && !text.contains("as admin"))
        }
    }
}
