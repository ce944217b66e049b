import Foundation

import TowerDomain

/// Evaluations (DESIGN §13): stored with their hash and submitter, and the gate that follows from
/// the endpoint's policy, set in the same transaction as the revision and audit entry it makes.
extension RegistryStore {
    public static let maxEvaluationsListed = 100

    /// Stores `document` as evidence for `version` and sets its gate from the endpoint's policy.
    /// The baseline, when the policy compares with it, is the latest evaluation of the endpoint's
    /// baseline version (the spec's, else the serving version with the most weight); the baseline
    /// version itself is compared with its own document, so its comparisons hold trivially.
    public func submitEvaluation(endpoint name: String, version: String, document: EvaluationDocument,
                                 principal: Principal) async throws -> EvaluationResult {
        if let p = document.problem { throw RoutingError.invalid(p) }
        return try await commitMany { [drainTimeout] db, now in
            let (seq, prevHash) = try Self.nextLink(db)
            guard let body = try String.fetchOne(db, sql: "SELECT body FROM endpoint WHERE name = ?", arguments: [name]) else {
                throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'")
            }
            let before = try Self.decodeEndpoint(body).resolvingDrains(now: now, timeout: drainTimeout)
            guard let i = before.versions.firstIndex(where: { $0.name == version }) else { throw before.unknownVersion(version) }
            guard let policy = before.evaluation else {
                throw RoutingError.conflict("'\(name)' declares no evaluation policy, so no evaluation can decide its gates; add evaluation: {require: [...]} to its spec")
            }
            let v = before.versions[i]
            let baseline = try Self.baselineDocument(db: db, endpoint: before, for: version, own: document)
            let (gate, summary) = policy.evaluate(document, baseline: baseline)
            let r = EvaluationRecord(endpoint: name, version: version, artifactDigest: v.artifact.digest, document: document,
                                     submittedBy: principal.name, submittedAt: now, gate: gate, gateSummary: summary)
            try db.execute(sql: """
                INSERT INTO evaluation (endpoint, version, artifact_digest, sha256, body, submitted_by, submitted_ms, gate, gate_summary)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, version, r.artifactDigest, r.sha256, document.canonical.text, r.submittedBy,
                                 Timestamp.ms(now), gate.rawValue, summary])
            var after = before
            after.versions[i].gate = gate
            after.versions[i].gateSummary = summary
            after.versions[i].latestEvaluation = EvaluationStamp(r)
            after.revision = before.revision + 1
            after.updatedAt = now
            after.updatedBy = principal.name
            try after.validate()
            let entry = AuditEntry(seq: seq, time: now, actor: principal.actor, role: principal.role, action: .evaluate,
                                   endpoint: name, version: version, fromRevision: before.revision, toRevision: after.revision,
                                   reason: "evaluation \(document.suite) \(r.sha256)", weightsBefore: before.weights,
                                   weightsAfter: after.weights, override: false,
                                   summary: "\(version) gate \(v.gate.rawValue)→\(gate.rawValue): \(summary)", prevHash: prevHash)
            try Self.write(after, entry: entry, db: db, createdRevision: nil)
            return (EvaluationResult(evaluation: r, endpoint: after), [ChangeResult(endpoint: after, entry: entry)])
        }
    }

    /// A version's evaluations, newest first.
    public func evaluations(endpoint name: String, version: String, limit: Int = RegistryStore.maxEvaluationsListed) async throws -> EvaluationList {
        guard let e = endpoint(name) else { throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'") }
        guard e.version(version) != nil else { throw e.unknownVersion(version) }
        let records = try await backend.read { db in
            try StoreRow.fetchAll(db, sql: "SELECT * FROM evaluation WHERE endpoint = ? AND version = ? ORDER BY id DESC LIMIT ?",
                             arguments: [name, version, limit]).map(Self.evaluationRecord)
        }
        return EvaluationList(endpoint: name, version: version, evaluations: records)
    }

    static func evaluationRecord(_ row: StoreRow) throws -> EvaluationRecord {
        let doc = try JSONDecoder().decode(EvaluationDocument.self, from: Data((row["body"] as String).utf8))
        var r = EvaluationRecord(endpoint: row["endpoint"], version: row["version"], artifactDigest: row["artifact_digest"],
                                 document: doc, submittedBy: row["submitted_by"], submittedAt: Timestamp.date(ms: row["submitted_ms"]),
                                 gate: GateStatus(rawValue: row["gate"]) ?? .pending, gateSummary: row["gate_summary"])
        r.sha256 = row["sha256"]
        return r
    }

    /// The latest evaluation of `version` of `endpoint` for the artifact `digest`, if any.
    static func latestEvaluation(db: any StoreDB, endpoint: String, version: String, digest: String) throws -> EvaluationRecord? {
        try StoreRow.fetchOne(db, sql: """
            SELECT * FROM evaluation WHERE endpoint = ? AND version = ? AND artifact_digest = ? ORDER BY id DESC LIMIT 1
            """, arguments: [endpoint, version, digest]).map(evaluationRecord)
    }

    /// The document a policy's baseline comparisons use for `version` of `e`.
    static func baselineDocument(db: any StoreDB, endpoint e: Endpoint, for version: String, own: EvaluationDocument) throws -> EvaluationDocument? {
        guard e.evaluation?.usesBaseline == true else { return nil }
        let name = e.baseline ?? e.servingVersions.max(by: { $0.weight < $1.weight })?.name
        guard let name, let b = e.version(name) else { return nil }
        if name == version { return own }
        return try latestEvaluation(db: db, endpoint: e.name, version: name, digest: b.artifact.digest)?.document
    }

    /// The gate a version added by a spec gets from evidence already stored for its artifact (it
    /// was removed and added again, say); nil when there is none, so it starts pending.
    static func gateFromEvidence(db: any StoreDB, endpoint e: Endpoint, version: String) throws -> (gate: GateStatus, summary: String, stamp: EvaluationStamp)? {
        guard let policy = e.evaluation, let v = e.version(version),
              let latest = try latestEvaluation(db: db, endpoint: e.name, version: version, digest: v.artifact.digest) else { return nil }
        let (gate, summary) = policy.evaluate(latest.document, baseline: try baselineDocument(db: db, endpoint: e, for: version, own: latest.document))
        return (gate, summary, EvaluationStamp(latest))
    }
}
