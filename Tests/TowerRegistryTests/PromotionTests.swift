import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TowerDomain
@testable import TowerRegistry

/// Promotion between two registries in one process: a source whose alpha has a v3, a destination
/// (the ordinary harness, alpha with v1 and v2) that trusts the source's key. Every refusal leaves
/// the destination's endpoints and audit exactly as they were.
@Suite struct PromotionTests {
    static let key = PromotionSigningKey()
    static let v3 = Artifact(uri: "s3://models/alpha/3", digest: Harness.digest(33))

    static let evidence = EvaluationDocument(suite: "alpha-eval-2026-11", dataset: "sha256:" + String(repeating: "d", count: 64),
                                             metrics: ["auc": 0.93, "p99LatencyMs": 210])

    /// The source registry's bundle content for alpha v3, with its evaluation when `evaluated`.
    static func payload(evaluated: Bool = false) async throws -> PromotionPayload {
        let src = try await Harness()
        defer { src.cleanUp() }
        var spec = Harness.seed[0]
        spec.versions.append(.init(name: "v3", artifact: v3, weight: 0, gate: .pending, stage: .staging))
        spec.reason = "add v3"
        if evaluated { spec.evaluation = EvaluationPolicy(require: [.init(metric: "auc", min: 0.9)]) }
        _ = try await src.store.put(spec, expected: 1, principal: Principal(name: "ci", role: .admin), defaultReason: "")
        if evaluated {
            _ = try await src.store.submitEvaluation(endpoint: "alpha", version: "v3", document: evidence, principal: Principal(name: "ci", role: .deployer))
        }
        return try await src.store.promotionPayload(endpoint: "alpha", version: "v3", exportedBy: "ada")
    }

    /// Gives the destination's alpha an evaluation policy of its own.
    static func destinationPolicy(_ h: Harness, _ policy: EvaluationPolicy) async throws {
        var spec = Harness.seed[0]
        spec.evaluation = policy
        spec.reason = "our own bar"
        _ = try await h.store.put(spec, expected: 1, principal: Principal(name: "ada", role: .admin), defaultReason: "")
    }

    static func sign(_ p: PromotionPayload, key: PromotionSigningKey = key, id: String = UUID().uuidString.lowercased(),
                     now: Date = Date(), validFor: TimeInterval = 86400) throws -> [UInt8] {
        try PromotionBundle.sign(p, with: key, id: id, now: now, validFor: validFor)
    }

    static func run(trusting keys: [PromotionPublicKey] = [key.publicKey], _ body: @escaping @Sendable (Harness, Client) async throws -> Void) async throws {
        let h = try await Harness()
        defer { h.cleanUp() }
        let app = Application(router: buildRouter(store: h.store, promotion: PromotionOptions(trusted: TrustedPromotionKeys(keys))))
        try await app.test(.router) { client in try await body(h, Client(client: client)) }
    }

    static func importing(_ c: Client, _ h: Harness, _ bytes: [UInt8], query: String = "") async throws -> Reply {
        try await c.call(.post, "/v1/promotions" + query, token: h.admin, raw: bytes)
    }

    @Test func theSourceVouchesForTheVersionItsAuditAndItself() async throws {
        let p = try await Self.payload()
        #expect(p.endpoint == "alpha" && p.version.name == "v3" && p.artifactDigest == Self.v3.digest && p.version.stage == .staging)
        #expect(p.sourceRegistry.hasPrefix("reg-") && p.sourceRegistry.count == 20)
        // The entries that touched v3 only (alpha's creation did not), each verifiable on its own.
        #expect(p.audit.map(\.action) == [.update] && p.audit[0].reason == "add v3" && p.audit[0].computedHash() == p.audit[0].hash)
    }

    @Test func theBundleRouteIsForAdminsAndNamesWhatIsMissing() async throws {
        try await Self.run { h, c in
            let ok = try await c.call(.get, "/v1/endpoints/alpha/versions/v2/bundle", token: h.admin)
            #expect(ok.status == 200)
            let p = try ok.decode(PromotionPayload.self)
            let id = try h.store.registryID()
            #expect(p.version.name == "v2" && p.exportedBy == "ada" && p.sourceRegistry == id)
            #expect(try await c.call(.get, "/v1/endpoints/alpha/versions/v2/bundle", token: h.op).status == 403)
            #expect(try await c.call(.get, "/v1/endpoints/alpha/versions/v9/bundle", token: h.admin).problem?.detail.contains("has no version 'v9'") == true)
            #expect(try await c.call(.get, "/v1/endpoints/ghost/versions/v1/bundle", token: h.admin).status == 404)
        }
    }

    @Test func aTrustedBundleLandsAtZeroWithItsProvenanceAndAnAuditedHashAndSigner() async throws {
        let bytes = try Self.sign(try await Self.payload(), id: "bundle-landing")
        try await Self.run { h, c in
            let r = try await Self.importing(c, h, bytes, query: "?trust=\(Self.key.publicKey.fingerprint)")
            #expect(r.status == 201, "\(r.text)")
            let result = try r.decode(PromotionImportResult.self)
            let v3 = try #require(result.endpoint.version("v3"))
            #expect(v3.weight == 0 && v3.state == .serving && v3.stage == .staging && v3.artifact == Self.v3)
            #expect(result.endpoint.weights == ["v1": 90, "v2": 10, "v3": 0] && result.endpoint.revision == 2)
            #expect(v3.promotedFrom?.signer == Self.key.publicKey.fingerprint && v3.promotedFrom?.bundle == "bundle-landing")
            #expect(v3.promotedFrom?.line.hasPrefix("promoted from registry reg-") == true)
            // No policy here and no say from the source: the gate waits for this registry's evidence.
            #expect(v3.gate == .pending)
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(entry.action == .importBundle && entry.version == "v3" && entry.actor == "ada")
            #expect(entry.bundleSha256 == Hex.sha256(bytes) && entry.signerKey == Self.key.publicKey.fingerprint)
            #expect(entry.sourceRegistry == v3.promotedFrom?.registry)
            #expect(try h.store.verifyAudit() == nil)
            // What a reader of the endpoint sees, and a spec applied later keeps it.
            let read = try await c.call(.get, "/v1/endpoints/alpha", token: h.viewer).decode(Endpoint.self)
            #expect(read.version("v3")?.promotedFrom == v3.promotedFrom)
            // A declarative apply of the destination's spec, naming v3 now, keeps where it came from.
            let spec = EndpointSpec(name: "alpha", path: "/v1/models/alpha", owner: "team-vision", versions: [
                .init(name: "v1", artifact: Artifact(uri: "s3://models/alpha/1", digest: Harness.digest(1)), stage: .prod),
                .init(name: "v2", artifact: Artifact(uri: "s3://models/alpha/2", digest: Harness.digest(2)), stage: .prod),
                .init(name: "v3", artifact: Self.v3, stage: .prod),
            ], reason: "v3 to prod stage")
            let applied = try await h.store.put(spec, expected: 2, principal: Principal(name: "ci", role: .deployer), defaultReason: "")
            #expect(applied.endpoint.version("v3")?.stage == .prod && applied.endpoint.version("v3")?.promotedFrom == v3.promotedFrom)
        }
    }

    /// Each refusal: a sentence naming the reason, and the destination exactly as it was.
    @Test func everyRefusalSaysWhyAndChangesNothing() async throws {
        let payload = try await Self.payload()
        let good = try Self.sign(payload)
        let other = PromotionSigningKey()
        var wrongDigest = payload
        wrongDigest.artifactDigest = Harness.digest(99)
        var flipped = good
        flipped[flipped.count / 2] ^= 0x01
        let cases: [(String, [UInt8], String, Int, String)] = [
            ("one byte changed", flipped, "", 0, ""),
            ("truncated", Array(good.prefix(good.count / 3)), "", 400, "truncated"),
            ("not signed by a trusted key", try Self.sign(payload, key: other), "", 422, "which this registry does not trust"),
            ("narrowed away", good, "?trust=\(other.publicKey.fingerprint)", 422, "not among the keys the import names"),
            ("expired", try Self.sign(payload, now: Date().addingTimeInterval(-7200), validFor: 3600), "", 422, "expired at"),
            ("digest mismatch", try Self.sign(wrongDigest), "", 422, "is not the digest of v3's artifact"),
            ("too large", [UInt8](repeating: 0x20, count: PromotionBundle.maxBytes + 1), "", 413, ""),
        ]
        try await Self.run(trusting: [Self.key.publicKey, PromotionSigningKey().publicKey]) { h, c in
            for (name, bytes, query, status, detail) in cases {
                let before = try await h.state()
                let r = try await Self.importing(c, h, bytes, query: query)
                if status != 0 { #expect(r.status == status, "\(name): \(r.status) \(r.text)") } else { #expect(r.status >= 400, "\(name): \(r.text)") }
                #expect(r.problem.map { detail.isEmpty || $0.detail.contains(detail) } == true, "\(name): \(r.problem?.detail ?? r.text)")
                try await h.expectUnchanged(since: before)
            }
        }
    }

    @Test func theGateIsTheDestinationsPolicyOnTheCarriedEvidenceAndTheEvidenceKeepsItsHash() async throws {
        let payload = try await Self.payload(evaluated: true)
        #expect(payload.evaluations.count == 1 && payload.evaluations[0].sha256 == Self.evidence.sha256)
        #expect(payload.evaluations[0].document == Self.evidence.canonical.text)
        #expect(payload.audit.map(\.action) == [.update, .evaluate])
        let bytes = try Self.sign(payload)
        try await Self.run { h, c in
            // A stricter bar here than at the source: refused, naming the requirement, nothing changed.
            try await Self.destinationPolicy(h, EvaluationPolicy(require: [.init(metric: "auc", min: 0.95), .init(metric: "p99LatencyMs", max: 300)]))
            let before = try await h.state()
            let refused = try await Self.importing(c, h, bytes)
            #expect(refused.status == 409 && refused.problem?.type == "urn:tower:promotion:policy", "\(refused.text)")
            #expect(refused.problem?.detail.contains("fails this registry's policy for 'alpha': auc 0.930 < 0.950") == true, "\(refused.problem?.detail ?? refused.text)")
            try await h.expectUnchanged(since: before)
            #expect(try await h.store.evaluations(endpoint: "alpha", version: "v1").evaluations.isEmpty)

            // The same bundle once the bar is met: it lands passed, with the evidence as it was hashed.
            var spec = Harness.seed[0]
            spec.evaluation = EvaluationPolicy(require: [.init(metric: "auc", min: 0.9), .init(metric: "p99LatencyMs", max: 300)])
            spec.reason = "our bar, revised"
            _ = try await h.store.put(spec, expected: 2, principal: Principal(name: "ada", role: .admin), defaultReason: "")
            let landed = try await Self.importing(c, h, bytes)
            #expect(landed.status == 201, "\(landed.text)")
            let v3 = try #require(try landed.decode(PromotionImportResult.self).endpoint.version("v3"))
            #expect(v3.gate == .passed && v3.weight == 0 && v3.gateSummary?.contains("auc 0.930 >= 0.900") == true, "\(v3.gateSummary ?? "")")
            #expect(v3.latestEvaluation?.suite == "alpha-eval-2026-11" && v3.latestEvaluation?.sha256 == Self.evidence.sha256)
            let stored = try await h.store.evaluations(endpoint: "alpha", version: "v3").evaluations
            #expect(stored.map(\.sha256) == [Self.evidence.sha256] && stored.first?.document == Self.evidence)
        }
    }

    @Test func withoutAPolicyOrWithoutEvidenceTheGateWaits() async throws {
        let evaluated = try Self.sign(try await Self.payload(evaluated: true))
        let bare = try Self.sign(try await Self.payload())
        try await Self.run { h, c in
            let r = try await Self.importing(c, h, evaluated)
            let v3 = try #require(try r.decode(PromotionImportResult.self).endpoint.version("v3"))
            #expect(v3.gate == .pending && v3.gateSummary?.contains("declares no evaluation policy here") == true)
        }
        try await Self.run { h, c in
            try await Self.destinationPolicy(h, EvaluationPolicy(require: [.init(metric: "auc", min: 0.9)]))
            let r = try await Self.importing(c, h, bare)
            let v3 = try #require(try r.decode(PromotionImportResult.self).endpoint.version("v3"))
            #expect(v3.gate == .pending && v3.gateSummary?.contains("without evaluations") == true)
        }
    }

    @Test func aBundleLandsOnceAndTheSecondImportChangesNothing() async throws {
        let bytes = try Self.sign(try await Self.payload(), id: "bundle-once")
        try await Self.run { h, c in
            #expect(try await Self.importing(c, h, bytes).status == 201)
            let before = try await h.state()
            let again = try await Self.importing(c, h, bytes)
            #expect(again.status == 409)
            #expect(again.problem?.detail.contains("bundle bundle-once was already imported here") == true, "\(again.text)")
            #expect(again.problem?.type == "urn:tower:promotion:alreadyImported")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test func theDestinationDecidesWhatMayLand() async throws {
        let payload = try await Self.payload()
        var v2 = payload
        v2.version.name = "v2"
        var ghost = payload
        ghost.endpoint = "ghost"
        ghost.audit = []
        let refused = [
            (try Self.sign(v2), 409, "already has a v2 with another artifact"),
            (try Self.sign(ghost), 409, "has no endpoint named 'ghost'; declare it here"),
        ]
        try await Self.run { h, c in
            for (bytes, status, detail) in refused {
                let before = try await h.state()
                let r = try await Self.importing(c, h, bytes)
                #expect(r.status == status && r.problem?.detail.contains(detail) == true, "\(r.text)")
                try await h.expectUnchanged(since: before)
            }
            let before = try await h.state()
            #expect(try await c.call(.post, "/v1/promotions", token: h.op, raw: try Self.sign(payload)).status == 403)
            #expect(try await c.call(.post, "/v1/promotions?trust=abc", token: h.admin, raw: try Self.sign(payload)).status == 400)
            try await h.expectUnchanged(since: before)
        }
    }

    @Test func aRegistryThatTrustsNoKeyImportsNothing() async throws {
        let bytes = try Self.sign(try await Self.payload())
        try await Self.run(trusting: []) { h, c in
            let before = try await h.state()
            let r = try await Self.importing(c, h, bytes)
            #expect(r.status == 422 && r.problem?.detail.contains("trusts no promotion keys") == true, "\(r.text)")
            try await h.expectUnchanged(since: before)
        }
    }
}

extension PromotionTests {
    /// OpenAPIConformanceTests' requests for the promotion calls: each documented status, produced.
    static func conformanceCase(_ op: OpenAPIConformanceTests.Operation) async throws {
        let payload = try await payload()
        try await run { h, c in
            let reply: Reply
            if op.method == "GET" {
                let uri = "/v1/endpoints/alpha/versions/v1/bundle"
                switch op.status {
                case 200: reply = try await c.call(.get, uri, token: h.admin)
                case 401: reply = try await c.call(.get, uri, token: nil)
                case 403: reply = try await c.call(.get, uri, token: h.op)
                case 404: reply = try await c.call(.get, "/v1/endpoints/ghost/versions/v1/bundle", token: h.admin)
                default: Issue.record("no way to produce \(op) is known to this test"); return
                }
            } else {
                let good = try sign(payload)
                switch op.status {
                case 201: reply = try await importing(c, h, good)
                case 400: reply = try await importing(c, h, Array("{oops".utf8))
                case 401: reply = try await c.call(.post, "/v1/promotions", token: nil, raw: good)
                case 403: reply = try await c.call(.post, "/v1/promotions", token: h.op, raw: good)
                case 409:
                    #expect(try await importing(c, h, good).status == 201)
                    reply = try await importing(c, h, good)
                case 413: reply = try await importing(c, h, [UInt8](repeating: 0x20, count: PromotionBundle.maxBytes + 1))
                case 422: reply = try await importing(c, h, try sign(payload, key: PromotionSigningKey()))
                default: Issue.record("no way to produce \(op) is known to this test"); return
                }
            }
            #expect(reply.status == op.status, "\(op): got \(reply.status) \(reply.text.prefix(300))")
        }
    }
}
