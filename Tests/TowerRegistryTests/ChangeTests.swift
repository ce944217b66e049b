import Foundation
import Testing
import TowerDomain
@testable import TowerRegistry

@Suite struct ChangeTests {
    @Test(arguments: StoreKind.available) func shiftAppliesAuditsAndBumpsTheRevision(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"",
                                     json: #"{"weights":{"v1":70,"v2":30},"reason":"canary 30%"}"#)
            #expect(r.status == 200)
            #expect(r.headers[.eTag] == "\"2\"")
            let e = try r.decode(Endpoint.self)
            #expect(e.revision == 2 && e.weights == ["v1": 70, "v2": 30] && e.updatedBy == "otto")
            #expect(try h.store.auditCount() == 3)
            // A bare number is accepted as well as the quoted ETag.
            #expect(try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "2",
                                     json: #"{"weights":{"v1":100},"reason":"all to v1"}"#).status == 200)
        }
    }

    @Test(arguments: StoreKind.available) func concurrencyControlRefusesMissingAndStaleRevisions(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.admin, ifMatch: "\"1\"", json: #"{"weights":{"v1":80,"v2":20},"reason":"first"}"#)
            let before = try await h.state()
            let missing = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, json: #"{"weights":{"v1":50,"v2":50},"reason":"x"}"#)
            #expect(missing.status == 428)
            #expect(missing.problem?.detail.contains("If-Match") == true)
            let stale = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"x"}"#)
            #expect(stale.status == 412)
            let p = try #require(stale.problem)
            #expect(p.current?.revision == 2 && p.current?.weights == ["v1": 80, "v2": 20])
            #expect(p.changedBy == "ada" && p.changedAt != nil)
            #expect(p.detail.contains("revision 2, not 1: ada changed it"))
            #expect(stale.headers[.eTag] == "\"2\"")
            let nan = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"two\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"x"}"#)
            #expect(nan.status == 400)
            #expect(nan.problem?.detail.contains("not a revision number") == true)
            try await h.expectUnchanged(since: before)
        }
    }

    /// Every way a shift body can be wrong: a 4xx whose detail says what to fix, and nothing moves.
    @Test(arguments: [
        (#"{"weights":{"v1":90,"v2":5},"reason":"x"}"#, 422, "add up to 95"),
        (#"{"weights":{"v1":110,"v2":-10},"reason":"x"}"#, 422, "whole percent from 0 to 100"),
        (#"{"weights":{"v1":-5,"v2":105},"reason":"x"}"#, 422, "whole percent"),
        (#"{"weights":{"v1":90,"v9":10},"reason":"x"}"#, 422, "has no version 'v9'; it has v1, v2"),
        (#"{"weights":{"v1":90,"v2":10},"reason":"  "}"#, 422, "reason is empty"),
        (#"{"weights":{"v1":90,"v2":10},"reason":""}"#, 422, "reason is empty"),
        (#"{"weights":{"v1":90,"v2":10}}"#, 400, "reason is missing"),
        (#"{"weights":{"v1":"ninety","v2":10},"reason":"x"}"#, 400, "weights.v1 must be a whole number"),
        (#"{"weights":[90,10],"reason":"x"}"#, 400, "weights must be"),
        (#"{"weights":{"v1":90,"v2":10},"reason":"x""#, 400, "not valid JSON"),
        (#"not json"#, 400, "not valid JSON"),
        (#""#, 400, "needs a JSON body"),
    ])
    func badShiftsAreRefusedAndChangeNothing(body: String, status: Int, detail: String) async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: body)
            #expect(r.status == status)
            #expect(r.headers[.contentType] == "application/problem+json")
            #expect(r.problem?.detail.contains(detail) == true, "detail was: \(r.problem?.detail ?? r.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func aBodyOverOneMebibyteIs413(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            let big = #"{"weights":{"v1":90,"v2":10},"reason":""# + String(repeating: "x", count: (1 << 20) + 10) + #""}"#
            let r = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: big)
            #expect(r.status == 413)
            #expect(r.problem?.detail == "the request body is larger than 1 MiB")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func rolesAreEnforcedByTheServer(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            let viewer = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.viewer, ifMatch: "\"1\"", json: #"{"version":"v2","reason":"x"}"#)
            #expect(viewer.status == 403)
            #expect(viewer.problem?.detail == "this needs the operator role; the token 'vera' has viewer")
            let spec = #"{"path":"/v1/models/beta","owner":"o","versions":[{"name":"v1","artifact":{"uri":"s3://b/1","digest":"\#(Harness.digest(9))"},"weight":100,"gate":"passed","stage":"prod"}]}"#
            #expect(try await c.call(.put, "/v1/endpoints/beta", token: h.op, json: spec).status == 403)
            #expect(try await c.call(.delete, "/v1/endpoints/alpha?reason=x", token: h.op, ifMatch: "\"1\"").status == 403)
            let override = try await c.call(.post, "/v1/endpoints/fraud/shift", token: h.op, ifMatch: "\"1\"",
                                            json: #"{"weights":{"v3":90,"v4":10},"reason":"try it","override":true}"#)
            #expect(override.status == 403)
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func gatesRefuseWeightUnlessAnAdminOverridesWithAReason(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            let refused = try await c.call(.post, "/v1/endpoints/fraud/shift", token: h.op, ifMatch: "\"1\"",
                                           json: #"{"weights":{"v3":90,"v4":10},"reason":"canary"}"#)
            #expect(refused.status == 409)
            #expect(refused.problem?.detail.contains("v4's evaluation gate is failed (AUC 0.871 < 0.900)") == true)
            try await h.expectUnchanged(since: before)
            let ok = try await c.call(.post, "/v1/endpoints/fraud/shift", token: h.admin, ifMatch: "\"1\"",
                                      json: #"{"weights":{"v3":90,"v4":10},"reason":"ship despite AUC: incident 42","override":true}"#)
            #expect(ok.status == 200)
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.override && entry.actor == "ada" && entry.role == .admin && entry.reason == "ship despite AUC: incident 42")
        }
    }

    @Test(arguments: StoreKind.available) func drainAVersionThenUndrainIt(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let d = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"version":"v2","reason":"p99 red"}"#)
            #expect(d.status == 200)
            let e = try d.decode(Endpoint.self)
            #expect(e.weights == ["v1": 100, "v2": 0] && e.version("v2")?.state == .draining)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"2\"", json: #"{"version":"v2","reason":"again"}"#).status == 409)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"2\"", json: #"{"version":"v7","reason":"x"}"#).status == 422)
            let u = try await c.call(.post, "/v1/endpoints/alpha/undrain", token: h.op, ifMatch: "\"2\"", json: #"{"version":"v2","reason":"fixed"}"#)
            #expect(u.status == 200)
            #expect(try u.decode(Endpoint.self).version("v2")?.state == .serving)
            #expect(try u.decode(Endpoint.self).weights == ["v1": 100, "v2": 0])
        }
    }

    @Test(arguments: StoreKind.available) func drainedAfterTheTimeoutWithoutANewRevision(store: StoreKind) async throws {
        try await Harness.run(store: store, drainTimeout: 0.5) { h, c in
            let d = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"version":"v2","reason":"x"}"#)
            #expect(try d.decode(Endpoint.self).version("v2")?.state == .draining)
            // Bounded wait: under a loaded test run the first read may already be past the timeout.
            var e = try await c.call(.get, "/v1/endpoints", token: h.viewer).decode(EndpointList.self).endpoints[0]
            let deadline = ContinuousClock.now + .seconds(10)
            while e.version("v2")?.state != .drained && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                e = try await c.call(.get, "/v1/endpoints", token: h.viewer).decode(EndpointList.self).endpoints[0]
            }
            #expect(e.version("v2")?.state == .drained && e.revision == 2)
        }
    }

    @Test(arguments: StoreKind.available) func drainTheWholeEndpointAndBringItBack(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let d = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"reason":"incident 7"}"#)
            #expect(d.status == 200)
            #expect(try d.decode(Endpoint.self).state == .outOfService)
            let shift = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"2\"", json: #"{"weights":{"v1":100},"reason":"x"}"#)
            #expect(shift.status == 409)
            #expect(shift.problem?.detail.contains("out of service") == true)
            let u = try await c.call(.post, "/v1/endpoints/alpha/undrain", token: h.op, ifMatch: "\"2\"", json: #"{"reason":"resolved"}"#)
            #expect(try u.decode(Endpoint.self).state == .serving)
            #expect(try u.decode(Endpoint.self).weights == ["v1": 90, "v2": 10])
        }
    }

    @Test(arguments: StoreKind.available) func rollbackToThePreviousOrANamedRevision(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"half"}"#)
            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"2\"", json: #"{"weights":{"v1":0,"v2":100},"reason":"all"}"#)
            let prev = try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"3\"", json: #"{"reason":"errors up"}"#)
            #expect(prev.status == 200)
            let e = try prev.decode(Endpoint.self)
            #expect(e.revision == 4 && e.weights == ["v1": 50, "v2": 50])
            let named = try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"4\"", json: #"{"toRevision":1,"reason":"back to start"}"#)
            #expect(try named.decode(Endpoint.self).weights == ["v1": 90, "v2": 10])
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.action == .rollback && entry.fromRevision == 4 && entry.toRevision == 5)
            let before = try await h.state()
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"5\"", json: #"{"toRevision":9,"reason":"x"}"#).status == 422)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"5\"", json: #"{"toRevision":0,"reason":"x"}"#).status == 422)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"5\"", json: #"{"toRevision":"one","reason":"x"}"#).status == 400)
            #expect(try await c.call(.post, "/v1/endpoints/fraud/rollback", token: h.op, ifMatch: "\"1\"", json: #"{"reason":"x"}"#).status == 409)
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func changesToAnUnknownEndpointAre404(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await c.call(.post, "/v1/endpoints/ghost/drain", token: h.op, ifMatch: "\"1\"", json: #"{"reason":"x"}"#)
            #expect(r.status == 404)
            #expect(r.problem?.detail == "no endpoint named 'ghost'")
        }
    }
}
