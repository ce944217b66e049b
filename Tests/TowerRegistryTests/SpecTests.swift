import Foundation
import Testing
import TowerDomain
@testable import TowerRegistry

@Suite struct SpecTests {
    static func spec(path: String = "/v1/models/beta", weight1: Int = 100, gate2: String = "passed", weight2: Int = 0, extra: String = "") -> String {
        #"{"path":"\#(path)","owner":"team-b",\#(extra)"versions":[{"name":"v1","artifact":{"uri":"s3://b/1","digest":"\#(Harness.digest(7))"},"weight":\#(weight1),"gate":"passed","stage":"prod"},{"name":"v2","artifact":{"uri":"s3://b/2","digest":"\#(Harness.digest(8))"},"weight":\#(weight2),"gate":"\#(gate2)","stage":"staging"}]}"#
    }

    @Test(arguments: StoreKind.available) func putCreatesThenReplacesUnderIfMatch(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let created = try await c.call(.put, "/v1/endpoints/beta", token: h.admin, json: Self.spec())
            #expect(created.status == 201)
            #expect(created.headers[.eTag] == "\"1\"")
            #expect(try await c.call(.put, "/v1/endpoints/beta", token: h.admin, json: Self.spec(weight1: 60, weight2: 40)).status == 428)
            #expect(try await c.call(.put, "/v1/endpoints/beta", token: h.admin, ifMatch: "\"7\"", json: Self.spec(weight1: 60, weight2: 40)).status == 412)
            let replaced = try await c.call(.put, "/v1/endpoints/beta", token: h.admin, ifMatch: "\"1\"", json: Self.spec(weight1: 60, weight2: 40, extra: #""reason":"promote v2","#))
            #expect(replaced.status == 200)
            #expect(try replaced.decode(Endpoint.self).weights == ["v1": 60, "v2": 40])
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.action == .update && entry.reason == "promote v2" && entry.actor == "ada")
        }
    }

    @Test(arguments: [
        ("/v1/endpoints/be.ta", spec(), 422, "no dots"),
        ("/v1/endpoints/Beta", spec(), 422, "a-z, 0-9"),
        ("/v1/endpoints/be%20ta", spec(), 422, "no dots, spaces"),
        ("/v1/endpoints/beta", spec(path: "models/beta"), 422, "must start with '/'"),
        ("/v1/endpoints/beta", spec(path: "/v1/models/alpha"), 409, "already served by endpoint 'alpha'"),
        ("/v1/endpoints/beta", spec(weight1: 90), 422, "add up to 90"),
        ("/v1/endpoints/beta", spec(weight1: 90, gate2: "failed", weight2: 10), 409, "gate is failed"),
        ("/v1/endpoints/beta", spec(weight1: 90, gate2: "failed", weight2: 10, extra: #""override":true,"#), 422, "override needs a reason"),
        ("/v1/endpoints/beta", spec(gate2: "maybe"), 400, "versions[1].gate is invalid"),
        ("/v1/endpoints/beta", spec(extra: #""name":"gamma","#), 422, "the body names endpoint 'gamma'"),
        ("/v1/endpoints/beta", #"{"path":"/x","owner":"o","versions":[]}"#, 422, "has no versions"),
        ("/v1/endpoints/beta", #"{"path":"/x","owner":"o"}"#, 400, "versions is missing"),
    ])
    func badSpecsAreRefusedAndChangeNothing(uri: String, body: String, status: Int, detail: String) async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            let r = try await c.call(.put, uri, token: h.admin, json: body)
            #expect(r.status == status)
            #expect(r.problem?.detail.contains(detail) == true, "detail was: \(r.problem?.detail ?? r.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func anAdminMayCreateWithAGateOverrideAndAReason(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await c.call(.put, "/v1/endpoints/beta", token: h.admin,
                                     json: Self.spec(weight1: 90, gate2: "failed", weight2: 10, extra: #""override":true,"reason":"shadow test approved","#))
            #expect(r.status == 201)
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.override && entry.action == .create)
        }
    }

    @Test(arguments: StoreKind.available) func deleteNeedsIfMatchAndAReasonAndRevisionsKeepGrowing(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.delete, "/v1/endpoints/alpha?reason=retired", token: h.admin).status == 428)
            #expect(try await c.call(.delete, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"").status == 422)
            let d = try await c.call(.delete, "/v1/endpoints/alpha?reason=retired", token: h.admin, ifMatch: "\"1\"")
            #expect(d.status == 200)
            #expect(try d.decode(AuditEntry.self).action == .delete)
            #expect(try await c.call(.get, "/v1/endpoints/alpha", token: h.viewer).status == 404)
            let again = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, json: Self.spec(path: "/v1/models/alpha"))
            #expect(again.status == 201)
            // A new incarnation continues the revision count, so an old ETag can never match it.
            #expect(again.headers[.eTag] == "\"3\"")
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"3\"", json: #"{"reason":"x"}"#).status == 409)
        }
    }
}
