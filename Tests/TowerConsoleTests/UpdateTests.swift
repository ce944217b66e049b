import Foundation
import TerminalUI
import Testing
import TowerDomain
@testable import TowerConsole

@Suite struct UpdateTests {
    @Test func loadingTheFleetStartsAWatchFromItsSequence() {
        var s = ConsoleState(width: 80, height: 24, now: CF.now)
        let fx = update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 40), at: CF.now))
        #expect(fx == [.watch(after: 40), .loadRolloutList])
        #expect(s.endpoints.count == 5 && s.lastRead == CF.now)
    }

    @Test func movingAndOpeningAnEndpointLoadsItsHistory() {
        var s = CF.loaded()
        let fx = CF.keys(&s, [.char("j"), .down, .char("k"), .enter])
        #expect(s.screen == .endpoint("doc-embed"))
        #expect(fx == [.loadRevisions("doc-embed"), .loadRollout("doc-embed")])
        CF.keys(&s, [.escape])
        #expect(s.screen == .overview)
    }

    @Test func plusOpensADialogAndEnterSubmitsTheShiftWithItsReason() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("j"), .char("+")])
        let d = try! #require(s.dialog)
        #expect(d.before == ["v1": 90, "v2": 10] && d.after == ["v1": 85, "v2": 15])
        #expect(d.focus == .reason)
        #expect(CF.keys(&s, [.enter]).isEmpty, "no reason, no change")
        #expect(s.dialog?.error?.contains("reason is empty") == true)
        let fx = CF.keys(&s, CF.type("canary 15") + [.enter])
        #expect(fx == [.submit(ChangeRequest(endpoint: "alpha", expected: 3, kind: .shift(["v1": 85, "v2": 15]), reason: "canary 15"))])
        #expect(s.dialog?.submitting == true)
        var applied = CF.fleet[0]
        applied.versions[0].weight = 85; applied.versions[1].weight = 15; applied.revision = 4
        #expect(update(&s, .changeApplied(applied)) == [.loadRevisions("alpha"), .loadGateways])
        #expect(s.dialog == nil && s.toast == "alpha: revision 4 applied")
    }

    @Test func escapeCancelsAndChangesNothing() {
        var s = CF.loaded()
        let fx = CF.keys(&s, [.enter, .char("d")] + CF.type("oops") + [.escape])
        #expect(s.dialog == nil && s.toast == "cancelled: nothing was changed")
        #expect(!fx.contains { if case .submit = $0 { true } else { false } })
    }

    @Test func drainingAVersionPreviewsTheRedistribution() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("j"), .char("d")])
        #expect(s.dialog?.after == ["v1": 100, "v2": 0])
        let fx = CF.keys(&s, CF.type("p99 red") + [.enter])
        #expect(fx == [.submit(ChangeRequest(endpoint: "alpha", expected: 3, kind: .drain(version: "v2"), reason: "p99 red"))])
    }

    @Test func drainingTheWholeEndpointNeedsItsNameTyped() {
        var s = CF.loaded()
        CF.keys(&s, [.char("D")])
        #expect(s.dialog?.needsTypedName == true && s.dialog?.focus == .typedName)
        CF.keys(&s, CF.type("alpah") + [.tab] + CF.type("incident 7") + [.enter])
        #expect(s.dialog?.error == "type the endpoint's name, alpha, to confirm")
        CF.keys(&s, [.backspace, .backspace, .backspace] + CF.type("pha"))
        let fx = CF.keys(&s, [.tab, .enter])
        #expect(fx == [.submit(ChangeRequest(endpoint: "alpha", expected: 3, kind: .drain(version: nil), reason: "incident 7"))])
    }

    @Test func aConflictShowsWhoWonAndEnterReappliesOnTheirRevision() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("j"), .char("+")] + CF.type("canary") + [.enter])
        var theirs = CF.fleet[0]
        theirs.revision = 4; theirs.updatedBy = "bob"
        _ = update(&s, .changeFailed(.stale(current: theirs, detail: "endpoint 'alpha' is at revision 4, not 3: bob changed it")))
        #expect(s.dialog?.error?.contains("bob changed it") == true)
        #expect(s.dialog?.submitting == false)
        #expect(CF.keys(&s, [.enter]).isEmpty)
        #expect(s.dialog?.request.expected == 4 && s.dialog?.error == nil)
        let fx = CF.keys(&s, [.enter])
        #expect(fx == [.submit(ChangeRequest(endpoint: "alpha", expected: 4, kind: .shift(["v1": 85, "v2": 15]), reason: "canary"))])
    }

    @Test func refusalsAndOutagesReadAsSentences() {
        var s = CF.loaded()
        CF.keys(&s, [.char("D")] + CF.type("alpha") + [.tab] + CF.type("x") + [.enter])
        _ = update(&s, .changeFailed(.refused(status: 403, detail: "this needs the operator role; the token 'vera' has viewer")))
        #expect(s.dialog?.error == "not allowed: this needs the operator role; the token 'vera' has viewer")
        CF.keys(&s, [.enter])
        _ = update(&s, .changeFailed(.unreachable("connection refused")))
        #expect(s.dialog?.error == "the registry did not answer (connection refused); nothing was changed")
    }

    @Test func readOnlyRefusesEveryAction() {
        var s = CF.loaded(readOnly: true)
        for key: KeyEvent in [.char("D"), .char("r")] {
            let fx = CF.keys(&s, [key])
            #expect(fx.isEmpty && s.dialog == nil)
            #expect(s.toast == "read-only: actions are disabled in context 'local'")
        }
    }

    @Test func rollbackPicksThePreviousRevisionAndCanChooseAnother() {
        var s = CF.loaded()
        let fx = CF.keys(&s, [.enter, .char("r")])
        #expect(fx == [.loadRevisions("alpha"), .loadRollout("alpha"), .loadRevisions("alpha")])
        let r2 = RevisionRecord(revision: 2, time: CF.now, actor: "bob", action: .shift, reason: "half", summary: "v1 90→50", endpoint: CF.e("alpha", [CF.v("v1", 50), CF.v("v2", 50)], revision: 2))
        let r1 = RevisionRecord(revision: 1, time: CF.now, actor: "seed", action: .create, reason: "seeded", summary: "created", endpoint: CF.e("alpha", [CF.v("v1", 100), CF.v("v2", 0)], revision: 1))
        let r3 = RevisionRecord(revision: 3, time: CF.now, actor: "alice", action: .shift, reason: "now", summary: "", endpoint: CF.fleet[0])
        _ = update(&s, .revisionsLoaded(endpoint: "alpha", [r3, r2, r1]))
        #expect(s.dialog?.request.kind == .rollback(toRevision: 2) && s.dialog?.after == ["v1": 50, "v2": 50])
        CF.keys(&s, [.down])
        #expect(s.dialog?.request.kind == .rollback(toRevision: 1) && s.dialog?.after == ["v1": 100, "v2": 0])
        // The dialog's own fresh read arrives after the choice moved (late, under load): the choice stays.
        _ = update(&s, .revisionsLoaded(endpoint: "alpha", [r3, r2, r1]))
        #expect(s.dialog?.request.kind == .rollback(toRevision: 1) && s.dialog?.after == ["v1": 100, "v2": 0])
    }

    @Test func filterBySubstringAndRegex() {
        var s = CF.loaded()
        CF.keys(&s, [.char("/")] + CF.type("ra") + [.enter])
        #expect(s.visibleEndpoints.map(\.name) == ["fraud-score", "translate-ru"])
        CF.keys(&s, [.char("/"), .backspace, .backspace] + CF.type("/^(alpha|vision)/") + [.enter])
        #expect(s.visibleEndpoints.map(\.name) == ["alpha", "vision-ocr"])
    }

    /// Found on the local stack: with a filter applied, "revision N applied" was drawn over by the
    /// filter's line, so an operator never saw the outcome of an action.
    @Test func anActionsOutcomeShowsWhileAFilterStaysApplied() {
        var s = CF.loaded(width: 100, height: 30)
        CF.keys(&s, [.char("/")] + CF.type("alpha") + [.enter])
        s.toast = "alpha: revision 4 applied"
        let text = view(s).text
        #expect(text.contains("alpha: revision 4 applied"))
        #expect(text.contains("/alpha  (1 of"), "the filter stays visible beside it")
        s.toast = nil
        #expect(view(s).text.contains("/alpha  (1 of"))
    }

    @Test func theWeightEditorSetsEveryVersionAndChecksTheSum() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("s"), .backspace, .backspace] + CF.type("6") + [.down, .backspace, .backspace] + CF.type("30"))
        #expect(s.dialog?.after == ["v1": 6, "v2": 30])
        CF.keys(&s, [.tab] + CF.type("x") + [.enter])
        #expect(s.dialog?.error == "the weights add up to 36; they must add up to 100")
        CF.keys(&s, [.tab, .backspace] + CF.type("70"))
        #expect(s.dialog?.after == ["v1": 70, "v2": 30])
        let fx = CF.keys(&s, [.tab, .tab, .enter])
        #expect(fx == [.submit(ChangeRequest(endpoint: "alpha", expected: 3, kind: .shift(["v1": 70, "v2": 30]), reason: "x"))])
    }

    @Test func sortingPutsTroubleFirstByDefaultAndCycles() {
        var s = CF.loaded()
        s.sort = .attention
        // fraud-score's failed gate is on v4, at weight 0: not an incident, so it sorts with the healthy.
        #expect(s.visibleEndpoints.map(\.name) == ["vision-ocr", "translate-ru", "alpha", "doc-embed", "fraud-score"])
        CF.keys(&s, [.char("o")])
        #expect(s.sort == .name && s.visibleEndpoints.first?.name == "alpha")
        CF.keys(&s, [.char("o")])
        #expect(s.sort == .changed && s.visibleEndpoints.first?.name == "translate-ru")
    }

    @Test func theCommandLineOpensTheAuditAndSwitchesContextAndTheme() {
        var s = CF.loaded()
        #expect(CF.keys(&s, [.char(":")] + CF.type("audit") + [.enter]) == [.loadAudit()])
        #expect(s.screen == .audit)
        #expect(CF.keys(&s, [.char(":")] + CF.type("ctx prod") + [.enter]) == [.switchContext("prod")])
        #expect(CF.keys(&s, [.char(":")] + CF.type("ctx") + [.enter]) == [.listContexts], "`:ctx` alone lists them")
        #expect(CF.keys(&s, [.char(":")] + CF.type("theme light") + [.enter]) == [.loadTheme("light")])
        CF.keys(&s, [.char(":")] + CF.type("bogus") + [.enter])
        #expect(s.toast?.hasPrefix("unknown command :bogus") == true)
        #expect(CF.keys(&s, [.char(":")] + CF.type("endpoints") + [.enter]).isEmpty && s.screen == .overview)
        #expect(update(&s, .contextSwitched(name: "prod", readOnly: true)) == [.loadEndpoints])
        #expect(s.readOnly && s.endpoints.isEmpty && s.contextName == "prod")
        #expect(CF.keys(&s, [.char(":"), .char("q"), .enter]) == [.quit])
    }

    @Test func theAuditScreenChecksTheLinksItShows() {
        var s = CF.loaded()
        var prev = AuditEntry.genesisHash
        var entries: [AuditEntry] = []
        for i in 1...3 {
            let e = AuditEntry(seq: Int64(i), time: CF.now, actor: "otto", role: .operator, action: .shift, endpoint: "alpha", version: nil,
                               fromRevision: Int64(i), toRevision: Int64(i + 1), reason: "r\(i)", weightsBefore: [:], weightsAfter: [:],
                               override: false, summary: "", prevHash: prev)
            prev = e.hash
            entries.insert(e, at: 0)
        }
        _ = update(&s, .auditLoaded(entries, AuditVerification(intact: true, entries: 3, firstBreak: nil), at: CF.now))
        #expect(s.audit.linksIntact)
        entries[1].reason = "edited"
        _ = update(&s, .auditLoaded(entries, AuditVerification(intact: true, entries: 3, firstBreak: nil), at: CF.now))
        #expect(!s.audit.linksIntact, "an entry whose content no longer matches its hash is caught on screen too")
    }

    @Test func undrainAVersionOrTheWholeEndpoint() {
        var s = CF.loaded()
        // translate-ru's v3 is draining.
        CF.keys(&s, [.char("j"), .char("j"), .char("j"), .enter, .char("j"), .char("u")] + CF.type("fixed") )
        #expect(CF.keys(&s, [.enter]) == [.submit(ChangeRequest(endpoint: "translate-ru", expected: 9, kind: .undrain(version: "v3"), reason: "fixed"))])
        var t = CF.loaded()
        // vision-ocr is out of service: u on the overview brings the endpoint back.
        CF.keys(&t, [.char("j"), .char("j"), .char("j"), .char("j"), .char("u")] + CF.type("resolved"))
        #expect(CF.keys(&t, [.enter]) == [.submit(ChangeRequest(endpoint: "vision-ocr", expected: 21, kind: .undrain(version: nil), reason: "resolved"))])
        var u = CF.loaded()
        CF.keys(&u, [.enter, .char("u")])
        #expect(u.dialog == nil && u.toast == "nothing to undrain: select a draining or drained version")
    }

    @Test func aRefusedTokenSaysSo() {
        var s = CF.loaded()
        CF.keys(&s, [.enter, .char("d")] + CF.type("x") + [.enter])
        _ = update(&s, .changeFailed(.refused(status: 401, detail: "a valid token is required")))
        #expect(s.dialog?.error == "not signed in: the token was refused (a valid token is required)")
    }

    @Test func aFailingRegistryKeepsTheLastStateAndMarksItStale() {
        var s = CF.loaded()
        _ = update(&s, .registryFailed("unreachable (connection refused)", at: CF.now.addingTimeInterval(5)))
        #expect(s.endpoints.count == 5 && s.registryError == "unreachable (connection refused)")
        #expect(s.isStale)
        #expect(view(s).text.contains("registry ✗ data 6s old: unreachable"))
        _ = update(&s, .endpointsLoaded(EndpointList(endpoints: CF.fleet, auditSeq: 41), at: CF.now.addingTimeInterval(6)))
        #expect(!s.isStale && s.registryError == nil)
        // Nothing of the error is left on screen once the registry reads again (issue 9's flaky tmux test).
        let back = view(s).text
        #expect(back.contains("registry ✓ live") && !back.contains("unreachable"), "\(back)")
    }

    @Test func theAuditFilterMatchesActorsEndpointsAndReasons() {
        var s = CF.loaded()
        let e = AuditEntry(seq: 1, time: CF.now, actor: "otto", role: .operator, action: .drain, endpoint: "alpha", version: "v2",
                           fromRevision: 1, toRevision: 2, reason: "p99 red", weightsBefore: [:], weightsAfter: [:], override: false,
                           summary: "", prevHash: AuditEntry.genesisHash)
        var f = e
        f.actor = "ada"; f.reason = "retire"; f.endpoint = "fraud-score"
        _ = update(&s, .auditLoaded([e, f], nil, at: CF.now))
        CF.keys(&s, [.char(":")] + CF.type("audit") + [.enter, .char("/")] + CF.type("p99") + [.enter])
        #expect(s.visibleAudit.map(\.actor) == ["otto"])
    }
}
