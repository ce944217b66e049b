import Foundation
import Testing
import TowerDomain
@testable import TowerRegistry

/// The spec's `judge` settings: set by an admin's PUT, validated, audited, kept by routing changes.
@Suite struct JudgeSpecRouterTests {
    static let judgeJSON = #"{"confidence":0.99,"errorTolerancePoints":0.5,"latencyTolerance":0.1,"minSamples":200}"#
    static let judge = JudgeSpec(latencyTolerance: 0.1, errorTolerancePoints: 0.5, minSamples: 200, confidence: 0.99)
    static let withJudge = SLOSpecTests.alphaSpec(#""judge":\#(judgeJSON),"reason":"stricter canaries","#)

    @Test(arguments: StoreKind.available) func anAdminSetsThemReadsCarryThemAndTheAuditSaysSo(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.withJudge)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.text.contains(#""judge":\#(Self.judgeJSON)"#), "camelCase JSON: \(r.text)")
            #expect(try await c.call(.get, "/v1/endpoints/alpha", token: h.viewer).decode(Endpoint.self).judge == Self.judge)
            let fraud = try await c.call(.get, "/v1/endpoints/fraud", token: h.viewer)
            #expect(!fraud.text.contains("judge"), "no judge key without settings")

            var e = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(e.judgeBefore == nil && e.judgeAfter == "{latencyTolerance: 0.1, errorTolerancePoints: 0.5, minSamples: 200, confidence: 0.99}")
            #expect(e.summary == "judge none→{latencyTolerance: 0.1, errorTolerancePoints: 0.5, minSamples: 200, confidence: 0.99}")
            #expect(e.sloAfter == nil && e.baselineAfter == nil)

            // Cleared by a spec without it, and the entry says what it was.
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"2\"", json: SLOSpecTests.alphaSpec("")).status == 200)
            e = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(e.judgeBefore == "{latencyTolerance: 0.1, errorTolerancePoints: 0.5, minSamples: 200, confidence: 0.99}" && e.judgeAfter == nil)
            #expect(h.store.endpoint("alpha")?.judge == nil)

            let page = try await c.call(.get, "/v1/audit?after=0", token: h.viewer)
            #expect(page.text.contains(#""judgeBefore":"{latencyTolerance: 0.1"#))
            #expect(try h.store.verifyAudit() == nil, "the chain over the new fields verifies")
        }
    }

    @Test(arguments: [
        (#""judge":{"latencyTolerance":-0.1},"#, 422, "judge.latencyTolerance is -0.1; it must be a share of the baseline's median from 0 to 10"),
        (#""judge":{"errorTolerancePoints":100},"#, 422, "judge.errorTolerancePoints is 100;"),
        (#""judge":{"minSamples":0},"#, 422, "judge.minSamples is 0; it must be a whole number of requests from 1"),
        (#""judge":{"confidence":1},"#, 422, "judge.confidence is 1; it must be from 0.5 to below 1"),
        (#""judge":{"confidence":0.2},"#, 422, "judge.confidence is 0.2;"),
        (#""judge":{},"#, 422, "judge needs at least one setting"),
        (#""judge":{"minSamples":12.5},"#, 400, "judge.minSamples must be a whole number, not 12.5"),
        (#""judge":{"confidence":"high"},"#, 400, "judge.confidence must be a number"),
    ])
    func invalidValuesAreRefusedWithASentenceAndChangeNothing(extra: String, status: Int, detail: String) async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: SLOSpecTests.alphaSpec(extra))
            #expect(r.status == status, "\(r.text)")
            #expect(r.problem?.detail.contains(detail) == true, "detail was: \(r.problem?.detail ?? r.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func onlyAnAdminSetsThemAndRoutingChangesKeepThem(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.withJudge).status == 200)
            let smuggled = #""judge":{"confidence":0.5},"#
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.op, ifMatch: "\"2\"", json: SLOSpecTests.alphaSpec(smuggled)).status == 403)
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"2\"",
                                     json: #"{"weights":{"v1":80,"v2":20},\#(smuggled)"reason":"canary"}"#)
            #expect(r.status == 200, "\(r.text)")
            #expect(try r.decode(Endpoint.self).judge == Self.judge, "a shift kept the judge settings")
            let back = try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"3\"", json: #"{"reason":"back"}"#)
            #expect(back.status == 200, "\(back.text)")
            #expect(try back.decode(Endpoint.self).judge == Self.judge, "a rollback kept them")
        }
    }
}
