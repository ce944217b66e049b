import Foundation
import Testing
import TowerDomain
@testable import TowerRegistry

/// Declarative specs (DESIGN §13) through the router: what `tower apply` sends.
@Suite struct ApplyTests {
    static let policy = #""evaluation":{"require":[{"metric":"auc","min":0.9},{"metric":"auc","minVsBaseline":-0.005}]},"#

    /// A declarative spec of `beta`: versions without weights or gates.
    static func spec(versions: [(String, Int)] = [("v1", 7)], owner: String = "team-b", stage: String = "prod", extra: String = "") -> String {
        let vs = versions.map { #"{"name":"\#($0.0)","artifact":{"uri":"s3://b/\#($0.0)","digest":"\#(Harness.digest($0.1))"},"stage":"\#(stage)"}"# }
        return #"{"path":"/v1/models/beta","owner":"\#(owner)",\#(extra)"versions":[\#(vs.joined(separator: ","))]}"#
    }

    /// alpha's spec as a pipeline declares it (the seed's versions and artifacts, no state).
    static func alpha(extra: String = "", v3: Bool = false, v1Digest: Int = 1, v1Stage: String = "prod") -> String {
        var vs = [#"{"name":"v1","artifact":{"uri":"s3://models/alpha/1","digest":"\#(Harness.digest(v1Digest))"},"stage":"\#(v1Stage)"}"#,
                  #"{"name":"v2","artifact":{"uri":"s3://models/alpha/2","digest":"\#(Harness.digest(2))"},"stage":"prod"}"#]
        if v3 { vs.append(#"{"name":"v3","artifact":{"uri":"s3://models/alpha/3","digest":"\#(Harness.digest(33))"},"stage":"staging"}"#) }
        return #"{"path":"/v1/models/alpha","owner":"team-vision",\#(extra)"versions":[\#(vs.joined(separator: ","))]}"#
    }

    @Test(arguments: StoreKind.available) func aNewEndpointStartsOutOfServiceWithGatesPendingUntilAnOperatorShifts(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await c.call(.put, "/v1/endpoints/beta", token: h.deployer, json: Self.spec(versions: [("v1", 7), ("v2", 8)]))
            #expect(r.status == 201, "\(r.text)")
            let e = try r.decode(Endpoint.self)
            #expect(e.state == .outOfService && e.weights == ["v1": 0, "v2": 0])
            #expect(e.versions.allSatisfy { $0.gate == .pending && $0.appliedBy == "ci" })
            // The deployer may not move it into service; an operator may, once a gate has passed.
            #expect(try await c.call(.post, "/v1/endpoints/beta/shift", token: h.deployer, ifMatch: "\"1\"",
                                     json: #"{"weights":{"v1":100},"reason":"go"}"#).status == 403)
            let refused = try await c.call(.post, "/v1/endpoints/beta/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":100},"reason":"go"}"#)
            #expect(refused.status == 409 && refused.problem?.detail.contains("gate is pending") == true, "\(refused.text)")
            let undrain = try await c.call(.post, "/v1/endpoints/beta/undrain", token: h.op, ifMatch: "\"1\"", json: #"{"reason":"go"}"#)
            #expect(undrain.status == 409 && undrain.problem?.detail.contains("never served") == true, "\(undrain.text)")
            let forced = try await c.call(.post, "/v1/endpoints/beta/shift", token: h.admin, ifMatch: "\"1\"",
                                          json: #"{"weights":{"v1":100},"reason":"bootstrap","override":true}"#)
            #expect(forced.status == 200, "\(forced.text)")
            #expect(try forced.decode(Endpoint.self).state == .serving, "the first shift brings a never-served endpoint into service")
        }
    }

    @Test(arguments: StoreKind.available) func initialWeightsServeAtOnceButStillRespectGates(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let pending = try await c.call(.put, "/v1/endpoints/beta", token: h.deployer, json: Self.spec(extra: #""initialWeights":{"v1":100},"#))
            #expect(pending.status == 409 && pending.problem?.detail.contains("gate is pending") == true, "\(pending.text)")
            let r = try await c.call(.put, "/v1/endpoints/beta", token: h.admin,
                                     json: Self.spec(extra: #""initialWeights":{"v1":100},"override":true,"reason":"migrating beta into pipelines","#))
            #expect(r.status == 201, "\(r.text)")
            #expect(try r.decode(Endpoint.self).state == .serving)
            let bad = try await c.call(.put, "/v1/endpoints/gamma", token: h.admin, json: Self.spec(extra: #""initialWeights":{"v9":100},"#).replacingOccurrences(of: "/beta", with: "/gamma"))
            #expect(bad.status == 422 && bad.problem?.detail.contains("initialWeights names v9") == true, "\(bad.text)")
        }
    }

    @Test(arguments: StoreKind.available) func applyKeepsWeightsDrainsAndGatesAndAnUnchangedSpecMakesNoRevision(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            _ = try await c.call(.post, "/v1/endpoints/alpha/drain", token: h.op, ifMatch: "\"1\"", json: #"{"version":"v2","reason":"slow"}"#)
            let before = try await h.state()
            let same = try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"2\"", json: Self.alpha())
            #expect(same.status == 200, "\(same.text)")
            #expect(try same.decode(Endpoint.self).revision == 2)
            try await h.expectUnchanged(since: before)

            let added = try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"2\"", json: Self.alpha(v3: true))
            #expect(added.status == 200, "\(added.text)")
            let e = try added.decode(Endpoint.self)
            #expect(e.revision == 3 && e.weights == ["v1": 100, "v2": 0, "v3": 0])
            #expect(e.version("v2")?.state != .serving && e.version("v2")?.gate == .passed, "the drain and the gate are state, kept")
            #expect(e.version("v3")?.gate == .pending && e.version("v3")?.appliedBy == "ci")
            #expect(e.version("v1")?.appliedBy == "seed", "an unchanged version keeps who applied it")
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.action == .update && entry.actor == "ci" && entry.role == .deployer && entry.summary.contains("v3 added (0)"))
            // Twice: idempotent.
            let count = try h.store.auditCount()
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"3\"", json: Self.alpha(v3: true)).status == 200)
            #expect(try h.store.auditCount() == count)
        }
    }

    @Test(arguments: StoreKind.available) func aStaleRevisionIsRefusedAndNothingIsOverwritten(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            _ = try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"1\"", json: #"{"weights":{"v1":50,"v2":50},"reason":"incident"}"#)
            let before = try await h.state()
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"1\"", json: Self.alpha(v3: true))
            #expect(r.status == 412)
            #expect(r.problem?.changedBy == "otto", "the refusal says who changed it meanwhile")
            try await h.expectUnchanged(since: before)
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, json: Self.alpha(v3: true)).status == 428)
        }
    }

    @Test(arguments: StoreKind.available) func artifactsAreImmutableAndAVersionWithTrafficCannotBeLeftOut(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"1\"", json: Self.alpha(v1Digest: 99))
            #expect(r.status == 409)
            #expect(r.problem?.detail.contains("artifacts are immutable, so add a version (like v3)") == true, "\(r.text)")
            let admin = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.alpha(v1Digest: 99))
            #expect(admin.status == 409, "not even an admin rewrites an artifact")
            let dropped = try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"1\"",
                                           json: Self.alpha().replacingOccurrences(of: #"{"name":"v2","artifact":{"uri":"s3://models/alpha/2","digest":"\#(Harness.digest(2))"},"stage":"prod"}"#, with: "").replacingOccurrences(of: ",]", with: "]"))
            #expect(dropped.status == 409 && dropped.problem?.detail.contains("v2 carries 10%") == true, "\(dropped.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func aDeployerAppliesSpecsButMovesNoTrafficAndSetsNoGates(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            for (method, uri, body) in [
                ("POST", "/v1/endpoints/alpha/shift", #"{"weights":{"v1":0,"v2":100},"reason":"x"}"#),
                ("POST", "/v1/endpoints/alpha/drain", #"{"version":"v2","reason":"x"}"#),
                ("POST", "/v1/endpoints/alpha/rollback", #"{"reason":"x"}"#),
                ("PUT", "/v1/endpoints/alpha", SpecTests.spec(path: "/v1/models/alpha")),
            ] {
                let r = try await c.call(method == "PUT" ? .put : .post, uri, token: h.deployer, ifMatch: "\"1\"", json: body)
                #expect(r.status == 403, "\(method) \(uri): \(r.text)")
            }
            // An operator, though it outranks a deployer, does not apply specs: a capability, not a rank.
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.op, ifMatch: "\"1\"", json: Self.alpha(v3: true)).status == 403)
            #expect(try await c.call(.delete, "/v1/endpoints/alpha?reason=x", token: h.deployer, ifMatch: "\"1\"").status == 403,
                    "a serving endpoint is not a deployer's to delete")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func aGateSetByHandIsAnAuditedAdminOverride(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let failed = SpecTests.spec(path: "/v1/models/alpha", gate2: "failed").replacingOccurrences(of: "s3://b/", with: "s3://models/alpha/")
                .replacingOccurrences(of: Harness.digest(7), with: Harness.digest(1)).replacingOccurrences(of: Harness.digest(8), with: Harness.digest(2))
                .replacingOccurrences(of: #""weight":100"#, with: #""weight":90"#).replacingOccurrences(of: #""weight":0"#, with: #""weight":10"#)
                .replacingOccurrences(of: #""stage":"staging""#, with: #""stage":"prod""#)
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: failed)
            #expect(r.status == 409 && r.problem?.detail.contains("by hand is an admin override") == true, "\(r.text)")
            let ok = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"",
                                      json: failed.replacingOccurrences(of: #""owner""#, with: #""override":true,"reason":"red team found a leak","owner""#))
            #expect(ok.status == 200, "\(ok.text)")
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.override && entry.reason == "red team found a leak" && entry.summary.contains("v2 gate passed→failed"))
        }
    }

    @Test(arguments: StoreKind.available) func aDeployerDeletesOnlyWhatIsOutOfService(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.put, "/v1/endpoints/beta", token: h.deployer, json: Self.spec()).status == 201)
            let r = try await c.call(.delete, "/v1/endpoints/beta?reason=pruned", token: h.deployer, ifMatch: "\"1\"")
            #expect(r.status == 200, "\(r.text)")
            #expect(h.store.endpoint("beta") == nil)
        }
    }

    @Test(arguments: StoreKind.available) func evaluationsSetTheGateFromThePolicyWithTheirHashAndSubmitter(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let applied = try await c.call(.put, "/v1/endpoints/alpha", token: h.deployer, ifMatch: "\"1\"", json: Self.alpha(extra: Self.policy, v3: true))
            #expect(applied.status == 200, "\(applied.text)")
            // The baseline (most weight: v1) has no evaluation yet: the comparison waits.
            let doc = #"{"suite":"alpha-eval-2026-11","dataset":"sha256:\#(String(repeating: "c", count: 64))","metrics":{"auc":0.93}}"#
            let first = try await c.call(.post, "/v1/endpoints/alpha/versions/v3/evaluations", token: h.deployer, json: doc)
            #expect(first.status == 201, "\(first.text)")
            let res = try first.decode(EvaluationResult.self)
            #expect(res.evaluation.gate == .pending && res.evaluation.gateSummary.contains("no baseline evaluation yet"))
            #expect(res.evaluation.sha256 == (try JSONDecoder().decode(EvaluationDocument.self, from: Data(doc.utf8))).sha256)
            #expect(first.headers[.eTag] == "\"\(res.endpoint.revision)\"")

            _ = try await c.call(.post, "/v1/endpoints/alpha/versions/v1/evaluations", token: h.deployer, json: #"{"suite":"alpha-eval-2026-11","metrics":{"auc":0.932}}"#)
            let pass = try await c.call(.post, "/v1/endpoints/alpha/versions/v3/evaluations", token: h.admin, json: doc)
            let passed = try pass.decode(EvaluationResult.self)
            #expect(passed.evaluation.gate == .passed, "\(passed.evaluation.gateSummary)")
            #expect(passed.endpoint.version("v3")?.latestEvaluation?.suite == "alpha-eval-2026-11")
            #expect(passed.endpoint.version("v3")?.latestEvaluation?.submittedBy == "ada")

            let fail = try await c.call(.post, "/v1/endpoints/alpha/versions/v3/evaluations", token: h.deployer,
                                        json: #"{"suite":"alpha-eval-2026-12","metrics":{"auc":0.871}}"#)
            let failed = try fail.decode(EvaluationResult.self)
            #expect(failed.evaluation.gate == .failed && failed.evaluation.gateSummary.contains("auc 0.871 < 0.900"), "\(failed.evaluation.gateSummary)")
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: nil).entries.first)
            #expect(entry.action == .evaluate && entry.version == "v3" && entry.actor == "ci" && entry.summary.contains("gate passed→failed"))
            #expect(try h.store.verifyAudit() == nil)

            let list = try await c.call(.get, "/v1/endpoints/alpha/versions/v3/evaluations", token: h.viewer)
            let l = try list.decode(EvaluationList.self)
            #expect(l.evaluations.map(\.document.suite) == ["alpha-eval-2026-12", "alpha-eval-2026-11", "alpha-eval-2026-11"], "newest first")
        }
    }

    @Test(arguments: StoreKind.available) func evaluationsAreRefusedWithoutPolicyRoleOrSoundDocument(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let before = try await h.state()
            let ok = #"{"suite":"s","metrics":{"auc":0.95}}"#
            for (token, uri, body, status, detail) in [
                (h.op, "/v1/endpoints/alpha/versions/v1/evaluations", ok, 403, "deployer or admin"),
                (h.deployer, "/v1/endpoints/alpha/versions/v1/evaluations", ok, 409, "declares no evaluation policy"),
                (h.deployer, "/v1/endpoints/alpha/versions/v9/evaluations", ok, 422, "has no version 'v9'"),
                (h.deployer, "/v1/endpoints/nope/versions/v1/evaluations", ok, 404, "no endpoint named 'nope'"),
                (h.deployer, "/v1/endpoints/alpha/versions/v1/evaluations", #"{"suite":"s","metrics":{"auc":0.9,"auc":0.95}}"#, 400, "metrics.auc appears twice"),
                (h.deployer, "/v1/endpoints/alpha/versions/v1/evaluations", #"{"suite":"s","metrics":{}}"#, 400, "metrics is empty"),
                (h.deployer, "/v1/endpoints/alpha/versions/v1/evaluations", #"{"suite":"s","metrics":{"auc":1e999}}"#, 400, "metrics.auc"),
            ] {
                let r = try await c.call(.post, uri, token: token, json: body)
                #expect(r.status == status, "\(uri) \(body): \(r.text)")
                #expect(r.problem?.detail.contains(detail) == true, "detail was: \(r.problem?.detail ?? r.text)")
            }
            try await h.expectUnchanged(since: before)
        }
    }
}
