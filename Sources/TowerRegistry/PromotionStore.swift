import Foundation
import GRDB
import TowerDomain

/// Promotion bundles (DESIGN §13): what this registry vouches for when a version leaves, and the
/// import of a version from another registry's signed bundle.
extension RegistryStore {
    /// This registry's stable id, made once by the "v6-promotion" migration.
    public func registryID() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT id FROM registry_identity WHERE singleton = 1") } ?? "unknown"
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
        let (registry, entries, evaluations) = try await pool.read { db in
            let registry = try String.fetchOne(db, sql: "SELECT id FROM registry_identity WHERE singleton = 1") ?? "unknown"
            // This incarnation of the endpoint only: a deleted namesake's history is not this version's.
            let created = try Int64.fetchOne(db, sql: "SELECT created_revision FROM endpoint WHERE name = ?", arguments: [name]) ?? 1
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE endpoint = ? AND to_revision >= ? ORDER BY seq",
                                        arguments: [name, created])
            let entries = try rows.map(Self.auditEntry).filter { $0.version == v || $0.weightsAfter[v] != nil || $0.weightsBefore[v] != nil }
            return (registry, Array(entries.suffix(Self.bundleAuditLimit)), try Self.promotedEvaluations(db, endpoint: name, version: v))
        }
        return PromotionPayload(sourceRegistry: registry, endpoint: name, path: e.path, owner: e.owner,
                                version: PromotedVersion(name: ver.name, artifact: ver.artifact, stage: ver.stage, gate: ver.gate, gateSummary: ver.gateSummary),
                                artifactDigest: ver.artifact.digest, evaluations: evaluations, audit: entries,
                                exportedBy: exportedBy, exportedAt: now)
    }

    /// The evaluation documents stored for a version, oldest first, as a bundle carries them.
    static func promotedEvaluations(_ db: Database, endpoint: String, version: String) throws -> [PromotedEvaluation] {
        []
    }

    /// Verifies `bytes` as a bundle and lands its version in one transaction, or changes nothing.
    /// The signer must be in `trusted` (the registry's configuration) and in `narrowedTo` when the
    /// importer names keys. The version lands at weight 0, serving, in the bundle's stage, with
    /// the gate this registry's own policy gives it; a bundle whose evidence fails that policy is
    /// refused rather than landed failed (see docs/promotion.md).
    public func importPromotion(_ bytes: [UInt8], trusted: TrustedPromotionKeys, narrowedTo: Set<String>?, principal: Principal,
                                reason: String?, now clock: @escaping @Sendable () -> Date = { Date() }) async throws -> PromotionImportResult {
        if let reason, let p = Reason.problem(reason) { throw RoutingError.invalid(p) }
        let verified = try PromotionBundle.read(bytes)
        try verified.checkTrust(trusted, narrowedTo: narrowedTo)
        try verified.checkExpiry(now: clock())
        let p = verified.payload, signed = verified.signed
        let fp = verified.signer.fingerprint
        let why = reason ?? "promoted from registry \(p.sourceRegistry) (bundle \(signed.id))"
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
            let gate = try Self.destinationGate(db, endpoint: before, payload: p)
            let promotion = VersionPromotion(registry: p.sourceRegistry, signer: fp, bundle: signed.id, bundleSha256: verified.sha256,
                                             importedAt: now, importedBy: principal.name)
            var after = before
            after.versions.append(Version(name: p.version.name, artifact: p.version.artifact, weight: 0, gate: gate.status,
                                          gateSummary: gate.summary, stage: p.version.stage, promotedFrom: promotion))
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
            try Self.storeImportedEvaluations(db, payload: p, entry: entry)
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

    /// The gate the destination's own policy gives the bundle's evidence.
    static func destinationGate(_ db: Database, endpoint: Endpoint, payload: PromotionPayload) throws -> (status: GateStatus, summary: String?) {
        (.pending, "imported; awaiting an evaluation at this registry")
    }

    /// Stores the bundle's evaluation documents as this version's, unchanged (same SHA-256).
    static func storeImportedEvaluations(_ db: Database, payload: PromotionPayload, entry: AuditEntry) throws {}
}
