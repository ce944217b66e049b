import Foundation

import TowerDomain

/// Promotion bundles (DESIGN §13): what this registry vouches for when a version leaves, and the
/// import of a version from another registry's signed bundle.
extension RegistryStore {
    /// This registry's stable id, made once by the "v6-promotion" migration.
    public func registryID() throws -> String {
        try backend.read { db in try String.fetchOne(db, sql: "SELECT id FROM registry_identity WHERE singleton = 1") } ?? "unknown"
    }

    /// The most audit entries a bundle carries (the newest ones): enough for any version's history,
    /// and a bound on the bundle's size.
    static let bundleAuditLimit = 200

    /// The unsigned content of a bundle for `version` of `endpoint`.
    public func promotionPayload(endpoint name: String, version v: String, exportedBy: String, now: Date = Date()) async throws -> PromotionPayload {
        guard let e = endpoint(name, now: now) else { throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'") }
        guard let ver = e.version(v) else {
            throw RoutingError.notFound("endpoint '\(name)' has no version '\(Names.printable(v))'; it has \(e.versions.map(\.name).joined(separator: ", "))")
        }
        let (registry, entries, evaluations) = try await backend.read { db in
            let registry = try String.fetchOne(db, sql: "SELECT id FROM registry_identity WHERE singleton = 1") ?? "unknown"
            // This incarnation of the endpoint only: a deleted namesake's history is not this version's.
            let created = try Int64.fetchOne(db, sql: "SELECT created_revision FROM endpoint WHERE name = ?", arguments: [name]) ?? 1
            let rows = try StoreRow.fetchAll(db, sql: "SELECT * FROM audit WHERE endpoint = ? AND to_revision >= ? ORDER BY seq",
                                        arguments: [name, created])
            let entries = try rows.map(Self.auditEntry).filter { $0.version == v || $0.weightsAfter[v] != nil || $0.weightsBefore[v] != nil }
            return (registry, Array(entries.suffix(Self.bundleAuditLimit)),
                    try Self.promotedEvaluations(db, endpoint: name, version: v, digest: ver.artifact.digest))
        }
        return PromotionPayload(sourceRegistry: registry, endpoint: name, path: e.path, owner: e.owner,
                                version: PromotedVersion(name: ver.name, artifact: ver.artifact, stage: ver.stage, gate: ver.gate, gateSummary: ver.gateSummary),
                                artifactDigest: ver.artifact.digest, evaluations: evaluations, audit: entries,
                                exportedBy: exportedBy, exportedAt: now)
    }

    /// The most evaluation documents a bundle carries (the newest).
    static let bundleEvaluationLimit = 50

    /// The evaluation documents stored for a version's artifact, oldest first, as a bundle carries
    /// them: the exact canonical text that was hashed, so the hash holds wherever it lands.
    static func promotedEvaluations(_ db: any StoreDB, endpoint: String, version: String, digest: String) throws -> [PromotedEvaluation] {
        let rows = try StoreRow.fetchAll(db, sql: """
            SELECT body, sha256, submitted_by, submitted_ms FROM evaluation
            WHERE endpoint = ? AND version = ? AND artifact_digest = ? ORDER BY id DESC LIMIT ?
            """, arguments: [endpoint, version, digest, bundleEvaluationLimit])
        return rows.reversed().map { row in
            PromotedEvaluation(document: row["body"], sha256: row["sha256"], submittedBy: row["submitted_by"],
                               submittedAt: Timestamp.date(ms: row["submitted_ms"]))
        }
    }

    /// Verifies `bytes` as a bundle and lands its version in one transaction, or changes nothing.
    /// The signer must be in `trusted` (the registry's configuration) and in `narrowedTo` when the
    /// importer names keys. The version lands at weight 0, serving, in the bundle's stage, with
    /// the gate this registry's own policy gives it; a bundle whose evidence fails that policy is
    /// refused rather than landed failed (docs/pipelines.md, Promotion).
    public func importPromotion(_ bytes: [UInt8], trusted: TrustedPromotionKeys, narrowedTo: Set<String>?, principal: Principal,
                                reason: String?, now clock: @escaping @Sendable () -> Date = { Date() }) async throws -> PromotionImportResult {
        if let reason, let p = Reason.problem(reason) { throw RoutingError.invalid(p) }
        let verified = try PromotionBundle.read(bytes)
        try verified.checkTrust(trusted, narrowedTo: narrowedTo)
        try verified.checkExpiry(now: clock())
        let p = verified.payload, signed = verified.signed
        let fp = verified.signer.fingerprint
        let why = reason ?? "promoted from registry \(p.sourceRegistry) (bundle \(signed.id))"
        // Read and checked against their text and hashes by `PromotionBundle.read`.
        let documents = p.evaluations.compactMap { try? JSONDecoder().decode(EvaluationDocument.self, from: Data($0.document.utf8)) }
        let result = try await commit { [drainTimeout] db, now, seq, prevHash in
            // Checked again at the moment of landing: the bundle may expire while it waits.
            if now >= signed.expiresAt || clock() >= signed.expiresAt { try verified.checkExpiry(now: max(now, clock())) }
            if let when = try Int64.fetchOne(db, sql: "SELECT imported_ms FROM promotion_import WHERE bundle_id = ?", arguments: [signed.id]) {
                throw PromotionRefusal(.alreadyImported, "bundle \(signed.id) was already imported here at \(Timestamp.rfc3339(ms: when)); a bundle lands once")
            }
            guard let body = try String.fetchOne(db, sql: "SELECT body FROM endpoint WHERE name = ?", arguments: [p.endpoint]) else {
                throw PromotionRefusal(.conflict, "this registry has no endpoint named '\(p.endpoint)'; declare it here (its path, owner and evaluation policy) before promoting versions into it")
            }
            let before = try Self.decodeEndpoint(body).resolvingDrains(now: now, timeout: drainTimeout)
            if let existing = before.version(p.version.name) {
                if existing.artifact.digest == p.artifactDigest {
                    throw PromotionRefusal(.conflict, "'\(p.endpoint)' already has \(p.version.name) with this artifact (\(p.artifactDigest)); nothing to import")
                }
                throw PromotionRefusal(.conflict, "'\(p.endpoint)' already has a \(p.version.name) with another artifact (\(existing.artifact.digest)); artifacts are immutable, so the bundle's cannot replace it")
            }
            let gate = try Self.destinationGate(db, endpoint: before, payload: p, documents: documents)
            let promotion = VersionPromotion(registry: p.sourceRegistry, signer: fp, bundle: signed.id, bundleSha256: verified.sha256,
                                             importedAt: now, importedBy: principal.name)
            var after = before
            after.versions.append(Version(name: p.version.name, artifact: p.version.artifact, weight: 0, gate: gate.status,
                                          gateSummary: gate.summary, stage: p.version.stage, latestEvaluation: gate.stamp,
                                          promotedFrom: promotion))
            after.revision = before.revision + 1
            after.updatedAt = now
            after.updatedBy = principal.name
            do { try after.validate() } catch { throw PromotionRefusal(.conflict, "the version cannot land on '\(p.endpoint)': \((error as? RoutingError)?.detail ?? "\(error)")") }
            let entry = AuditEntry(seq: seq, time: now, actor: principal.name, role: principal.role, action: .importBundle,
                                   endpoint: p.endpoint, version: p.version.name, fromRevision: before.revision, toRevision: after.revision,
                                   reason: why, weightsBefore: before.weights, weightsAfter: after.weights, override: false,
                                   summary: "\(p.version.name) imported at 0 from registry \(p.sourceRegistry), signed by \(PromotionPublicKey.shortID(fp)); gate \(gate.status.rawValue)",
                                   bundleSha256: verified.sha256, signerKey: fp, sourceRegistry: p.sourceRegistry, prevHash: prevHash)
            try Self.write(after, entry: entry, db: db, createdRevision: nil)
            try Self.storeImportedEvaluations(db, endpoint: before, payload: p, documents: documents)
            try db.execute(sql: """
                INSERT INTO promotion_import (bundle_id, bundle_sha256, signer, source_registry, endpoint, version, imported_ms, audit_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [signed.id, verified.sha256, fp, p.sourceRegistry, p.endpoint, p.version.name, Timestamp.ms(now), seq])
            return ChangeResult(endpoint: after, entry: entry)
        }
        guard let endpoint = result.endpoint else { throw RoutingError.invalid("the import made no endpoint") }
        return PromotionImportResult(endpoint: endpoint, version: p.version.name, bundle: signed.id, bundleSha256: verified.sha256,
                                     signer: fp, sourceRegistry: p.sourceRegistry, auditSeq: result.entry.seq)
    }

    /// The gate the destination's own policy gives the bundle's latest evaluation. Without a
    /// policy here, or without evidence in the bundle, there is no verdict: pending. Evidence that
    /// fails the policy is refused, not landed failed (docs/pipelines.md, Promotion).
    static func destinationGate(_ db: any StoreDB, endpoint e: Endpoint, payload p: PromotionPayload,
                                documents: [EvaluationDocument]) throws -> (status: GateStatus, summary: String, stamp: EvaluationStamp?) {
        guard let policy = e.evaluation else {
            return (.pending, "imported from registry \(p.sourceRegistry); '\(e.name)' declares no evaluation policy here", nil)
        }
        guard let latest = documents.last, let carried = p.evaluations.last else {
            return (.pending, "imported from registry \(p.sourceRegistry) without evaluations; submit one here", nil)
        }
        let baseline = try baselineDocument(db: db, endpoint: e, for: p.version.name, own: latest)
        let (gate, summary) = policy.evaluate(latest, baseline: baseline)
        if gate == .failed {
            throw PromotionRefusal(.policy, "\(p.version.name)'s evaluation \(latest.suite) fails this registry's policy for '\(e.name)': \(summary); nothing was imported")
        }
        return (gate, summary, EvaluationStamp(suite: latest.suite, sha256: carried.sha256, submittedBy: carried.submittedBy, submittedAt: carried.submittedAt))
    }

    /// Stores the bundle's evaluation documents as this version's, their text unchanged (so their
    /// SHA-256 is the same here), each with the gate this registry's policy gives it.
    static func storeImportedEvaluations(_ db: any StoreDB, endpoint e: Endpoint, payload p: PromotionPayload, documents: [EvaluationDocument]) throws {
        for (carried, doc) in zip(p.evaluations, documents) {
            let (gate, summary) = e.evaluation.map { $0.evaluate(doc, baseline: try? baselineDocument(db: db, endpoint: e, for: p.version.name, own: doc)) }
                ?? (.pending, "imported from registry \(p.sourceRegistry)")
            try db.execute(sql: """
                INSERT INTO evaluation (endpoint, version, artifact_digest, sha256, body, submitted_by, submitted_ms, gate, gate_summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [p.endpoint, p.version.name, p.artifactDigest, carried.sha256, carried.document, carried.submittedBy,
                                 Timestamp.ms(carried.submittedAt), gate.rawValue, summary])
        }
    }
}
