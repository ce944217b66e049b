import Foundation
import TowerDomain

/// The registry's rows as SQL sees them: loading endpoints, writing an endpoint with its revision and
/// audit link, reading audit entries. Statics over an open transaction, shared by both backends.
extension RegistryStore {
    /// The endpoints as the database holds them and its last audit sequence number. With
    /// `changedAfter`, only the endpoints named by audit entries after that sequence: each with its
    /// body now, or nil when it no longer exists (deleted); every other endpoint is as the caller
    /// has it. `seq`, when the caller has just read it in the same transaction, saves asking again.
    static func loadEndpoints(_ db: any StoreDB, changedAfter: Int64?, seq known: Int64? = nil) throws -> (endpoints: [String: Endpoint?], seq: Int64) {
        try decode(loadEndpointRows(db, changedAfter: changedAfter, seq: known))
    }

    /// `loadEndpoints` with the bodies still JSON, for a write transaction: decoding them is most
    /// of its CPU, and done after the commit it no longer holds every replica's write lock.
    static func loadEndpointRows(_ db: any StoreDB, changedAfter: Int64?, seq known: Int64?) throws -> (bodies: [String: String?], seq: Int64) {
        let seq = try known ?? Int64.fetchOne(db, sql: maxSeqSQL) ?? 0
        var out: [String: String?] = [:]
        let rows = try changedAfter.map { try StoreRow.fetchAll(db, sql: changedEndpointsSQL, arguments: [$0]) }
            ?? StoreRow.fetchAll(db, sql: allEndpointsSQL)
        for row in rows {
            out[row["name"] as String] = row["body"] as String?
        }
        return (out, seq)
    }

    static func decode(_ raw: (bodies: [String: String?], seq: Int64)) throws -> (endpoints: [String: Endpoint?], seq: Int64) {
        var out: [String: Endpoint?] = [:]
        for (name, body) in raw.bodies {
            if let body { out[name] = try decodeEndpoint(body) } else { out[name] = .some(nil) }
        }
        return (out, raw.seq)
    }

    static let maxSeqSQL = "SELECT MAX(seq) FROM audit"
    static let allEndpointsSQL = "SELECT name, body FROM endpoint"
    /// Every change to an endpoint, its deletion included, appends an audit entry naming it in the
    /// same transaction, so the entries after a sequence name exactly the endpoints to read again:
    /// a catch-up reads those rows, not every endpoint's name (which it did once, to find
    /// deletions, at a cost that grew with the fleet and was paid by every commit).
    /// The upper bound costs nothing and keeps the audit's primary key in use where the table's
    /// statistics are stale (a fresh database, a burst of changes since autovacuum last ran): with
    /// `seq > ?` alone PostgreSQL guessed a third of the table and scanned all of it, per commit.
    static let changedEndpointsSQL = """
        SELECT a.endpoint AS name, e.body
        FROM (SELECT DISTINCT endpoint FROM audit WHERE seq > ? AND seq <= (SELECT MAX(seq) FROM audit)) a
        LEFT JOIN endpoint e ON e.name = a.endpoint
        """

    /// Writes `e` (encoded, unless the caller has its JSON already) with its revision and audit
    /// entry; returns the JSON written, which is also the API's form of the endpoint.
    @discardableResult
    static func write(_ e: Endpoint, entry: AuditEntry, db: any StoreDB, createdRevision: Int64?, body encoded: String? = nil) throws -> String {
        let body = try encoded ?? encode(e)
        db.notes?.lastLink = (entry.seq, entry.hash)
        if db.dialect == .postgres {
            // Not waited for: under the write lock, the next write's reads (or the commit) follow
            // it at once, and its failure is reported by them.
            // About this endpoint only: reads announced for others' changes in the batch stay good.
            let arguments = SQLArguments(
                (createdRevision.map { [e.name.sqlValue, e.revision.sqlValue, $0.sqlValue, entry.seq.sqlValue, body.sqlValue] }
                    ?? [e.revision.sqlValue, entry.seq.sqlValue, body.sqlValue, e.name.sqlValue])
                + revisionArguments(e, entry: entry, body: body).values + (try auditArguments(entry)).values)
            try db.writing(about: e.name) { try db.executeUnanswered(writeStatement(inserting: createdRevision != nil), arguments) }
            return body
        }
        if let createdRevision {
            try db.execute(sql: "INSERT INTO endpoint (name, revision, created_revision, last_seq, body) VALUES (?, ?, ?, ?, ?)",
                           arguments: [e.name, e.revision, createdRevision, entry.seq, body])
        } else {
            try db.execute(sql: "UPDATE endpoint SET revision = ?, last_seq = ?, body = ? WHERE name = ?",
                           arguments: [e.revision, entry.seq, body, e.name])
        }
        try db.execute(sql: "INSERT INTO revision (endpoint, revision, time_ms, actor, action, reason, summary, body) VALUES \(revisionValues)",
                       arguments: revisionArguments(e, entry: entry, body: body))
        try insertAudit(entry, db: db)
        return body
    }

    /// PostgreSQL's form of `write`: the endpoint row, its revision row and the audit entry in one
    /// statement (data-modifying CTEs), one round trip instead of three while the write lock is held.
    private static func writeStatement(inserting: Bool) -> String {
        let endpoint = inserting
            ? "INSERT INTO endpoint (name, revision, created_revision, last_seq, body) VALUES (?, ?, ?, ?, ?)"
            : "UPDATE endpoint SET revision = ?, last_seq = ?, body = ? WHERE name = ?"
        return """
            WITH e AS (\(endpoint)),
                 r AS (INSERT INTO revision (endpoint, revision, time_ms, actor, action, reason, summary, body) VALUES \(revisionValues))
            \(auditInsert)
            """
    }

    private static let revisionValues = "(?, ?, ?, ?, ?, ?, ?, ?)"

    private static func revisionArguments(_ e: Endpoint, entry: AuditEntry, body: String) -> SQLArguments {
        [e.name, e.revision, Timestamp.ms(entry.time), entry.actor, entry.action.rawValue, entry.reason, entry.summary, body]
    }

    private static let auditInsert = """
        INSERT INTO audit (seq, time_ms, actor, role, action, endpoint, version, from_revision, to_revision, reason,
                           weights_before, weights_after, override, summary, prev_hash, hash,
                           slo_before, slo_after, baseline_before, baseline_after, judge_before, judge_after,
                           bundle_sha256, signer_key, source_registry)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static func auditArguments(_ e: AuditEntry) throws -> SQLArguments {
        [e.seq, Timestamp.ms(e.time), e.actor, e.role.rawValue, e.action.rawValue, e.endpoint, e.version,
         e.fromRevision, e.toRevision, e.reason, try weightsJSON(e.weightsBefore), try weightsJSON(e.weightsAfter),
         e.override ? 1 : 0, e.summary, e.prevHash, e.hash,
         e.sloBefore, e.sloAfter, e.baselineBefore, e.baselineAfter, e.judgeBefore, e.judgeAfter,
         e.bundleSha256, e.signerKey, e.sourceRegistry]
    }

    static func insertAudit(_ e: AuditEntry, db: any StoreDB) throws {
        db.notes?.lastLink = (e.seq, e.hash)
        try db.execute(sql: auditInsert, arguments: try auditArguments(e))
    }

    static func auditEntry(_ row: StoreRow) throws -> AuditEntry {
        let dec = JSONDecoder()
        guard let role = Role(rawValue: row["role"]), let action = AuditAction(rawValue: row["action"]) else {
            throw RoutingError.invalid("unknown role or action")
        }
        var e = AuditEntry(seq: row["seq"], time: Timestamp.date(ms: row["time_ms"]), actor: row["actor"], role: role,
                           action: action, endpoint: row["endpoint"], version: row["version"],
                           fromRevision: row["from_revision"], toRevision: row["to_revision"], reason: row["reason"],
                           weightsBefore: try dec.decode([String: Int].self, from: Data((row["weights_before"] as String).utf8)),
                           weightsAfter: try dec.decode([String: Int].self, from: Data((row["weights_after"] as String).utf8)),
                           override: (row["override"] as Int64) != 0, summary: row["summary"],
                           sloBefore: row["slo_before"], sloAfter: row["slo_after"],
                           baselineBefore: row["baseline_before"], baselineAfter: row["baseline_after"],
                           judgeBefore: row["judge_before"], judgeAfter: row["judge_after"],
                           bundleSha256: row["bundle_sha256"], signerKey: row["signer_key"], sourceRegistry: row["source_registry"],
                           prevHash: row["prev_hash"])
        e.hash = row["hash"]
        return e
    }

    private static func weightsJSON(_ w: [String: Int]) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: try e.encode(w), as: UTF8.self)
    }

    static func encode(_ e: Endpoint) throws -> String { String(decoding: try Wire.encoder().encode(e), as: UTF8.self) }

    static func decodeEndpoint(_ body: String) throws -> Endpoint { try Wire.decoder().decode(Endpoint.self, from: Data(body.utf8)) }

    /// The last audit entry's sequence number and hash (0 and the genesis hash when there is none).
    static func lastLink(_ db: any StoreDB) throws -> (seq: Int64, hash: String) {
        let last = try StoreRow.fetchOne(db, sql: lastLinkSQL)
        return (last?["seq"] ?? 0, last?["hash"] ?? AuditEntry.genesisHash)
    }

    static let lastLinkSQL = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"

    /// The next audit sequence number and the hash it chains to.
    static func nextLink(_ db: any StoreDB) throws -> (Int64, String) {
        let last = try lastLink(db)
        return (last.seq + 1, last.hash)
    }
}
