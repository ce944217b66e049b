import Foundation
import GRDB
import Testing
import TowerDomain
@testable import TowerRegistry

/// The spec's `baseline` and `slo`: set by an admin's PUT, validated, audited, kept by routing
/// changes, and stored durably.
@Suite struct SLOSpecTests {
    static let sloJSON = #"{"availability":0.999,"latencyMs":300,"latencyTarget":0.99,"period":"30d"}"#
    static let slo = SLO(availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: "30d")

    /// alpha's seeded spec with the given extra fields.
    static func alphaSpec(_ extra: String) -> String {
        #"{"path":"/v1/models/alpha","owner":"team-vision",\#(extra)"versions":[{"name":"v1","artifact":{"uri":"s3://models/alpha/1","digest":"\#(Harness.digest(1))"},"weight":90,"gate":"passed","stage":"prod"},{"name":"v2","artifact":{"uri":"s3://models/alpha/2","digest":"\#(Harness.digest(2))"},"weight":10,"gate":"passed","stage":"prod"}]}"#
    }

    static let withSLO = alphaSpec(#""baseline":"v1","slo":\#(sloJSON),"reason":"alpha's objectives","#)

    @Test(arguments: StoreKind.available) func anAdminSetsThemAndEveryReadCarriesThem(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.withSLO)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.text.contains(#""baseline":"v1""#) && r.text.contains(#""slo":\#(Self.sloJSON)"#), "camelCase JSON: \(r.text)")
            let one = try await c.call(.get, "/v1/endpoints/alpha", token: h.viewer).decode(Endpoint.self)
            #expect(one.baseline == "v1" && one.slo == Self.slo)
            let list = try await c.call(.get, "/v1/endpoints", token: h.viewer).decode(EndpointList.self)
            #expect(list.endpoints.first { $0.name == "alpha" }?.slo == Self.slo)
            // Endpoints without them still have neither key.
            let fraud = try await c.call(.get, "/v1/endpoints/fraud", token: h.viewer)
            #expect(!fraud.text.contains("slo") && !fraud.text.contains("baseline"))
        }
    }

    @Test(arguments: StoreKind.available) func theAuditEntrySaysWhatTheSpecDidToThem(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            _ = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.withSLO)
            var e = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(e.action == .update && e.actor == "ada" && e.role == .admin && e.reason == "alpha's objectives")
            #expect(e.sloBefore == nil && e.sloAfter == "{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}")
            #expect(e.baselineBefore == nil && e.baselineAfter == "v1")
            #expect(e.summary == "baseline none→v1, slo none→{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}")

            // A tighter objective, same baseline: only the SLO is recorded.
            let tighter = Self.alphaSpec(#""baseline":"v1","slo":{"availability":0.9995},"reason":"tighter","#)
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"2\"", json: tighter).status == 200)
            e = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(e.sloBefore == "{availability: 0.999, latencyMs: 300, latencyTarget: 0.99, period: 30d}")
            #expect(e.sloAfter == "{availability: 0.9995}")
            #expect(e.baselineBefore == nil && e.baselineAfter == nil, "the baseline did not change")

            // Left out of the next spec, both are cleared, and the entry says what they were.
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"3\"", json: Self.alphaSpec("")).status == 200)
            e = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(e.sloBefore == "{availability: 0.9995}" && e.sloAfter == nil)
            #expect(e.baselineBefore == "v1" && e.baselineAfter == nil)
            let cleared = try #require(h.store.endpoint("alpha"))
            #expect(cleared.slo == nil && cleared.baseline == nil)

            // The API serves the fields, and the chain over them verifies.
            let page = try await c.call(.get, "/v1/audit?after=0", token: h.viewer)
            #expect(page.text.contains(#""sloAfter":"{availability: 0.9995}""#))
            #expect(try h.store.verifyAudit() == nil)
        }
    }

    @Test(arguments: [
        (#""baseline":"v9","#, 422, "baseline 'v9' is not a version of 'alpha'; it has v1, v2"),
        (#""slo":{"availability":1.5},"#, 422, "slo.availability is 1.5; it must be a share between 0 and 1, exclusive"),
        (#""slo":{"availability":1},"#, 422, "slo.availability is 1;"),
        (#""slo":{"latencyMs":300,"latencyTarget":0},"#, 422, "slo.latencyTarget is 0;"),
        (#""slo":{"latencyMs":-1,"latencyTarget":0.99},"#, 422, "slo.latencyMs is -1;"),
        (#""slo":{"latencyMs":300},"#, 422, "slo.latencyMs needs slo.latencyTarget"),
        (#""slo":{"availability":0.99,"period":"100d"},"#, 422, "slo.period is 100d; it must be from 1h to 90d"),
        (#""slo":{"availability":0.99,"period":"2w"},"#, 422, "slo.period '2w' must be a whole number of days or hours"),
        (#""slo":{},"#, 422, "slo needs at least one objective"),
        (#""slo":{"availability":"high"},"#, 400, "slo.availability must be a number"),
        (#""baseline":7,"#, 400, "baseline must be a string"),
    ])
    func invalidValuesAreRefusedWithASentenceAndChangeNothing(extra: String, status: Int, detail: String) async throws {
        try await Harness.run { h, c in
            let before = try await h.state()
            let r = try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.alphaSpec(extra))
            #expect(r.status == status, "\(r.text)")
            #expect(r.problem?.detail.contains(detail) == true, "detail was: \(r.problem?.detail ?? r.text)")
            try await h.expectUnchanged(since: before)
        }
    }

    @Test(arguments: StoreKind.available) func anOperatorCannotChangeThemByAnyRoute(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.withSLO).status == 200)
            let smuggled = #""slo":{"availability":0.5},"baseline":"v2","#
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.op, ifMatch: "\"2\"", json: Self.alphaSpec(smuggled)).status == 403)
            // Routing bodies have no such fields: extra keys are ignored, the spec stays.
            let calls: [(String, String)] = [
                ("shift", #"{"weights":{"v1":80,"v2":20},\#(smuggled)"reason":"canary"}"#),
                ("drain", #"{"version":"v2",\#(smuggled)"reason":"pause"}"#),
                ("undrain", #"{"version":"v2",\#(smuggled)"reason":"resume"}"#),
                ("rollback", #"{\#(smuggled)"reason":"back"}"#),
            ]
            for (i, (action, body)) in calls.enumerated() {
                let r = try await c.call(.post, "/v1/endpoints/alpha/\(action)", token: h.op, ifMatch: "\"\(i + 2)\"", json: body)
                #expect(r.status == 200, "\(action): \(r.text)")
                let e = try r.decode(Endpoint.self)
                #expect(e.slo == Self.slo && e.baseline == "v1", "\(action) changed the spec")
            }
            let entries = try await h.store.recentAudit(limit: 4, endpoint: "alpha").entries
            #expect(entries.count == 4 && entries.allSatisfy { $0.sloBefore == nil && $0.sloAfter == nil && $0.baselineAfter == nil })
        }
    }

    /// A rollback restores routing, not the spec: rolling traffic back must not undo an admin's SLO.
    @Test(arguments: StoreKind.available) func aRollbackRestoresRoutingButKeepsTheCurrentSpec(store: StoreKind) async throws {
        try await Harness.run(store: store) { h, c in
            // r2: the first SLO, baseline v1. r3: a shift. r4: a new SLO and baseline v2.
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"1\"", json: Self.withSLO).status == 200)
            #expect(try await c.call(.post, "/v1/endpoints/alpha/shift", token: h.op, ifMatch: "\"2\"",
                                     json: #"{"weights":{"v1":50,"v2":50},"reason":"half"}"#).status == 200)
            let newer = Self.alphaSpec(#""baseline":"v2","slo":{"availability":0.99,"period":"7d"},"reason":"v2 is the reference now","#)
                .replacingOccurrences(of: #""weight":90"#, with: #""weight":50"#).replacingOccurrences(of: #""weight":10"#, with: #""weight":50"#)
            #expect(try await c.call(.put, "/v1/endpoints/alpha", token: h.admin, ifMatch: "\"3\"", json: newer).status == 200)

            let back = try await c.call(.post, "/v1/endpoints/alpha/rollback", token: h.op, ifMatch: "\"4\"",
                                        json: #"{"toRevision":2,"reason":"back to 90/10"}"#)
            #expect(back.status == 200, "\(back.text)")
            let e = try back.decode(Endpoint.self)
            #expect(e.weights == ["v1": 90, "v2": 10], "routing is r2's")
            #expect(e.slo == SLO(availability: 0.99, period: "7d") && e.baseline == "v2", "the spec is the current one, not r2's")
            let entry = try #require(try await h.store.recentAudit(limit: 1, endpoint: "alpha").entries.first)
            #expect(entry.action == .rollback && entry.sloAfter == nil && entry.baselineAfter == nil)
        }
    }

    @Test func theDemoFleetAndTheExampleSeedGiveAlphaItsObjectives() async throws {
        let dir = NSTemporaryDirectory() + "tower-slo-demo-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RegistryStore(directory: dir)
        try await DemoFleet.seed(store)
        let alpha = try #require(store.endpoint("alpha"))
        #expect(alpha.baseline == "v1" && alpha.slo == Self.slo)
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/seed.yaml").path
        let seeded = try #require(try Seed.load(path: example).first { $0.name == "alpha" })
        #expect(seeded.baseline == "v1" && seeded.slo == Self.slo)
    }

    @Test func theyOutliveARestartOfTheStore() async throws {
        let dir = NSTemporaryDirectory() + "tower-slo-restart-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ada = Principal(name: "ada", role: .admin)
        var spec = Harness.seed[0]
        spec.baseline = "v1"
        spec.slo = Self.slo
        spec.reason = "objectives"
        do {
            let store = try RegistryStore(directory: dir)
            _ = try await store.put(spec, expected: nil, principal: ada, defaultReason: "x")
            _ = try await store.change("alpha", expected: 1, principal: Principal(name: "otto", role: .operator), reason: "canary",
                                       override: false) { _, _ in .shift(["v1": 80, "v2": 20]) }
            try store.pool.close()
        }
        let reopened = try RegistryStore(directory: dir)
        let e = try #require(reopened.endpoint("alpha"))
        #expect(e.slo == Self.slo && e.baseline == "v1" && e.weights == ["v1": 80, "v2": 20])
        let history = try await reopened.revisions(of: "alpha")
        #expect(history.revisions.allSatisfy { $0.endpoint.slo == Self.slo }, "every revision's snapshot holds the spec")
        let created = try #require(try await reopened.audit(after: 0, limit: 10).entries.first)
        #expect(created.sloAfter == Self.slo.notation && created.baselineAfter == "v1")
        #expect(try reopened.verifyAudit() == nil)
    }
}

/// A database written before the spec fields existed (migration `v1` only, rows as the code of
/// that time inserted them) opens, migrates, verifies, and takes new entries on the same chain.
@Suite struct SchemaMigrationTests {
    /// Writes one endpoint and a create plus a shift entry exactly as the v1 code did.
    static func writeV1Database(in dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: (dir as NSString).appendingPathComponent("registry.sqlite"))
        try Schema.migrator.migrate(pool, upTo: "v1")
        let t0 = Timestamp.date(ms: 1_795_000_000_000)
        let v1 = try Harness.seed[0].endpoint(replacing: nil, revision: 1, at: t0, by: "seed")
        var v2 = try v1.applying(.shift(["v1": 80, "v2": 20]), now: t0, role: .operator)
        v2.revision = 2
        let create = AuditEntry(seq: 1, time: t0, actor: "seed", role: .admin, action: .create, endpoint: "alpha", version: nil,
                                fromRevision: 0, toRevision: 1, reason: "seeded", weightsBefore: [:], weightsAfter: v1.weights,
                                override: false, summary: "created: v1 90, v2 10", prevHash: AuditEntry.genesisHash)
        let shift = AuditEntry(seq: 2, time: t0, actor: "otto", role: .operator, action: .shift, endpoint: "alpha", version: nil,
                               fromRevision: 1, toRevision: 2, reason: "canary", weightsBefore: v1.weights, weightsAfter: v2.weights,
                               override: false, summary: "v1 90→80, v2 10→20", prevHash: create.hash)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO endpoint (name, revision, created_revision, last_seq, body) VALUES ('alpha', 2, 1, 2, ?)",
                           arguments: [try RegistryStore.encode(v2)])
            for (e, body) in [(create, v1), (shift, v2)] {
                try db.execute(sql: """
                    INSERT INTO revision (endpoint, revision, time_ms, actor, action, reason, summary, body)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [e.endpoint, e.toRevision, Timestamp.ms(e.time), e.actor, e.action.rawValue, e.reason, e.summary,
                                     try RegistryStore.encode(body)])
                // The v1 INSERT: sixteen columns, no spec fields.
                try db.execute(sql: """
                    INSERT INTO audit (seq, time_ms, actor, role, action, endpoint, version, from_revision, to_revision, reason,
                                       weights_before, weights_after, override, summary, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [e.seq, Timestamp.ms(e.time), e.actor, e.role.rawValue, e.action.rawValue, e.endpoint, e.version,
                                     e.fromRevision, e.toRevision, e.reason, weights(e.weightsBefore), weights(e.weightsAfter),
                                     0, e.summary, e.prevHash, e.hash])
            }
        }
        try pool.close()
    }

    static func weights(_ w: [String: Int]) -> String {
        "{" + w.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    @Test func aVersionOneDatabaseOpensVerifiesAndGrowsTheSameChain() async throws {
        let dir = NSTemporaryDirectory() + "tower-migrate-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeV1Database(in: dir)

        let store = try RegistryStore(directory: dir)
        let applied = try await store.pool.read { db in try Schema.migrator.appliedMigrations(db) }
        #expect(applied == ["v1", "v2-audit-spec-fields", "v3-audit-judge-spec", "v4-rollouts", "v5-evaluations", "v6-promotion"])
        #expect(try store.verifyAudit() == nil, "the old entries' hashes must still verify")
        let old = try #require(store.endpoint("alpha"))
        #expect(old.weights == ["v1": 80, "v2": 20] && old.slo == nil && old.baseline == nil)

        var spec = Harness.seed[0]
        spec.versions[0].weight = 80
        spec.versions[1].weight = 20
        spec.baseline = "v1"
        spec.slo = SLOSpecTests.slo
        let out = try await store.put(spec, expected: 2, principal: Principal(name: "ada", role: .admin), defaultReason: "objectives")
        #expect(out.entry?.seq == 3 && out.entry?.sloAfter == SLOSpecTests.slo.notation)
        #expect(try store.verifyAudit() == nil, "new entries chain onto the old ones")
        try store.pool.close()

        // And once more, now that the database holds both shapes of entry.
        let again = try RegistryStore(directory: dir)
        #expect(try again.verifyAudit() == nil)
        #expect(try again.auditCount() == 3)
        #expect(again.endpoint("alpha")?.slo == SLOSpecTests.slo)
    }
}
