import Foundation
import GRDB
import Synchronization
import TowerDomain

/// A change was refused because the caller's revision is not the current one. Carries the current
/// state so the caller can show what changed and who changed it.
public struct StaleRevision: Error, Sendable {
    public var expected: Int64
    public var current: Endpoint
}

/// What a committed change produced.
public struct ChangeResult: Sendable {
    public var endpoint: Endpoint?
    public var entry: AuditEntry
}

/// What a `PUT` of a spec did: the endpoint as it now is, and the audit entry, which is nil when
/// the spec changed nothing (no revision was made).
public struct PutOutcome: Sendable {
    public var endpoint: Endpoint
    public var entry: AuditEntry?
    public var created: Bool
}

/// Durable registry state in SQLite (WAL, `synchronous=FULL`: a change is on disk before it is
/// acknowledged). Writes are serialised by GRDB's single writer; each change is one transaction
/// that checks the expected revision, applies the change, appends the audit entry and bumps the
/// revision. Reads of endpoints come from an in-memory copy that the writer updates after each
/// commit, so the read path never touches the disk. This process must be the only writer of
/// endpoints (token commands from other processes are fine: tokens are read from the database).
public final class RegistryStore: Sendable {
    let pool: DatabasePool
    public let drainTimeout: TimeInterval
    public let path: String
    private let cache: Mutex<Cache>
    let tokenCache: Mutex<[String: (principal: Principal?, fetched: Date)]> = Mutex([:])
    /// Called after each commit, on the writer, with the new last audit sequence number.
    private let onCommit: Mutex<[@Sendable (Int64) -> Void]> = Mutex([])
    /// Bumped by every write, so the rollout loop re-reads rollouts only when something changed.
    let rolloutGeneration = Atomic<Int64>(0)

    struct Cache {
        var endpoints: [String: Endpoint] = [:]
        var auditSeq: Int64 = 0
        var listBody: (bytes: [UInt8], validUntil: Date?)? = nil
    }

    /// Opens (creating if needed) the database in `directory` and applies pending migrations.
    public init(directory: String, drainTimeout: TimeInterval = 30) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("registry.sqlite")
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        self.drainTimeout = drainTimeout
        try Schema.migrator.migrate(pool)
        var c = Cache()
        try pool.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT body FROM endpoint") {
                let e = try Self.decodeEndpoint(row["body"])
                c.endpoints[e.name] = e
            }
            c.auditSeq = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
        }
        cache = Mutex(c)
    }

    /// Applies migrations to the database in `directory` without serving.
    public static func migrate(directory: String) throws -> [String] {
        let store = try RegistryStore(directory: directory)
        return try store.pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    public func addCommitObserver(_ f: @escaping @Sendable (Int64) -> Void) {
        onCommit.withLock { $0.append(f) }
    }

    // MARK: Reads

    public var auditSeq: Int64 { cache.withLock { $0.auditSeq } }

    public func endpoint(_ name: String, now: Date = Date()) -> Endpoint? {
        cache.withLock { $0.endpoints[name] }?.resolvingDrains(now: now, timeout: drainTimeout)
    }

    public func list(now: Date = Date()) -> EndpointList {
        let (eps, seq) = cache.withLock { c in (Array(c.endpoints.values), c.auditSeq) }
        return EndpointList(endpoints: eps.sorted { $0.name < $1.name }.map { $0.resolvingDrains(now: now, timeout: drainTimeout) }, auditSeq: seq,
                            drainTimeoutSeconds: drainTimeout)
    }

    /// The encoded list, reused until something changes or a drain completes: the hottest call.
    public func listJSON(now: Date = Date()) throws -> [UInt8] {
        if let hit = cache.withLock({ c -> [UInt8]? in
            guard let b = c.listBody, b.validUntil.map({ now < $0 }) ?? true else { return nil }
            return b.bytes
        }) { return hit }
        let list = list(now: now)
        let bytes = Array(try Wire.encoder().encode(list))
        let until = list.endpoints.compactMap { $0.nextDrainDeadline(timeout: drainTimeout) }.min()
        cache.withLock { c in if c.auditSeq == list.auditSeq { c.listBody = (bytes, until) } }
        return bytes
    }

    public func revisions(of name: String, limit: Int = 50) async throws -> RevisionList {
        guard endpoint(name) != nil else { throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'") }
        // Rows are decoded inside the read: GRDB's async read needs a Sendable result, which Row is not.
        let records = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.* FROM revision r JOIN endpoint e ON e.name = r.endpoint
                WHERE r.endpoint = ? AND r.revision >= e.created_revision
                ORDER BY r.revision DESC LIMIT ?
                """, arguments: [name, limit]).map { row in
                RevisionRecord(revision: row["revision"], time: Timestamp.date(ms: row["time_ms"]), actor: row["actor"],
                               action: AuditAction(rawValue: row["action"]) ?? .update, reason: row["reason"],
                               summary: row["summary"], endpoint: try Self.decodeEndpoint(row["body"]))
            }
        }
        return RevisionList(endpoint: name, revisions: records)
    }

    public func audit(after: Int64, limit: Int) async throws -> AuditPage {
        try await pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit])
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
            return AuditPage(entries: try rows.map(Self.auditEntry), lastSeq: last)
        }
    }

    /// Newest first, for people reading the log.
    public func recentAudit(limit: Int, endpoint: String?) async throws -> AuditPage {
        try await pool.read { db in
            let rows: [Row]
            if let endpoint {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE endpoint = ? ORDER BY seq DESC LIMIT ?", arguments: [endpoint, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq DESC LIMIT ?", arguments: [limit])
            }
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
            return AuditPage(entries: try rows.map(Self.auditEntry), lastSeq: last)
        }
    }

    /// Walks the whole chain. Returns nil when intact, else the first bad entry.
    public func verifyAudit() throws -> ChainBreak? {
        try pool.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
            var prev: (seq: Int64, hash: String)? = nil
            while let row = try cursor.next() {
                let e: AuditEntry
                do { e = try Self.auditEntry(row) } catch {
                    return ChainBreak(seq: row["seq"], problem: "the entry cannot be read: \(error)")
                }
                if let broken = AuditEntry.verifyChain([e], startingAfter: prev) { return broken }
                prev = (e.seq, e.hash)
            }
            return nil
        }
    }

    public func auditCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0 }
    }

    // MARK: Changes

    /// Applies a routing change to `name` if its revision is still `expected`. A change by a person
    /// pauses the endpoint's rollout, in the same transaction, saying who.
    public func change(_ name: String, expected: Int64, principal: Principal, reason: String, override: Bool,
                       resolve: @escaping @Sendable (Endpoint, Database) throws -> RoutingChange) async throws -> ChangeResult {
        if let p = Reason.problem(reason) { throw RoutingError.invalid(p) }
        return try await commit { [drainTimeout] db, now, seq, prevHash in
            let result = try Self.applyChange(db: db, name: name, expected: expected, principal: principal, reason: reason,
                                              override: override, now: now, seq: seq, prevHash: prevHash,
                                              drainTimeout: drainTimeout, resolve: resolve)
            if !Self.isRolloutActor(principal.name) {
                try Self.pauseRolloutForManualChange(db: db, endpoint: name, by: principal.name,
                                                     what: "\(result.entry.action.rawValue) to revision \(result.entry.toRevision): \(reason)", now: now)
            }
            return result
        }
    }

    /// One routing change inside an open transaction: check the revision (when `expected` is
    /// given), apply the domain rule, write endpoint, revision and the audit chain's next link.
    static func applyChange(db: Database, name: String, expected: Int64?, principal: Principal, reason: String, override: Bool,
                            now: Date, seq: Int64, prevHash: String, drainTimeout: TimeInterval,
                            resolve: (Endpoint, Database) throws -> RoutingChange) throws -> ChangeResult {
        guard let row = try Row.fetchOne(db, sql: "SELECT body, created_revision FROM endpoint WHERE name = ?", arguments: [name]) else {
            throw RoutingError.notFound("no endpoint named '\(Names.printable(name))'")
        }
        let before = try Self.decodeEndpoint(row["body"]).resolvingDrains(now: now, timeout: drainTimeout)
        if let expected, before.revision != expected { throw StaleRevision(expected: expected, current: before) }
        let change = try resolve(before, db)
        var after = try before.applying(change, now: now, role: principal.role, override: override)
        after.revision = before.revision + 1
        after.updatedAt = now
        after.updatedBy = principal.name
        let entry = AuditEntry(seq: seq, time: now, actor: principal.actor, role: principal.role, action: change.action,
                               endpoint: name, version: change.version, fromRevision: before.revision,
                               toRevision: after.revision, reason: reason, weightsBefore: before.weights,
                               weightsAfter: after.weights, override: !after.gateOverrides(comparedTo: before).isEmpty,
                               summary: ChangeSummary.describe(before: before, after: after), prevHash: prevHash)
        try Self.write(after, entry: entry, db: db, createdRevision: nil)
        return ChangeResult(endpoint: after, entry: entry)
    }

    /// The routing of an earlier revision, for rollback. Without `to`, the revision before `current`.
    static func rollbackTarget(_ current: Endpoint, to: Int64?, db: Database) throws -> Endpoint {
        let created = try Int64.fetchOne(db, sql: "SELECT created_revision FROM endpoint WHERE name = ?", arguments: [current.name]) ?? 1
        let target = to ?? current.revision - 1
        if target < created {
            if to == nil { throw RoutingError.conflict("'\(current.name)' has no revision before \(current.revision) to roll back to") }
            throw RoutingError.notFound("'\(current.name)' has no revision \(target); its revisions run from \(created) to \(current.revision)")
        }
        if target >= current.revision {
            throw RoutingError.invalid("revision \(target) is not earlier than the current revision \(current.revision)")
        }
        guard let body = try String.fetchOne(db, sql: "SELECT body FROM revision WHERE endpoint = ? AND revision = ?", arguments: [current.name, target]) else {
            throw RoutingError.notFound("'\(current.name)' has no revision \(target)")
        }
        return try decodeEndpoint(body)
    }

    /// Runs one change as one transaction on the serialised writer, then, still on the writer,
    /// updates the in-memory copy and tells observers. `body` gets the time, the next audit
    /// sequence number and the previous entry's hash.
    func commit(_ body: @escaping @Sendable (Database, Date, Int64, String) throws -> ChangeResult) async throws -> ChangeResult {
        try await commitMany { db, now in
            let (seq, prevHash) = try Self.nextLink(db)
            let r = try body(db, now, seq, prevHash)
            return (r, [r])
        }
    }

    /// The next audit sequence number and the hash it chains to.
    static func nextLink(_ db: Database) throws -> (Int64, String) {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return ((last?["seq"] ?? 0) + 1, last?["hash"] ?? AuditEntry.genesisHash)
    }

    /// One transaction that may make any number of changes (none, for a rollout's own
    /// bookkeeping), each listed in the result so the in-memory copy and observers follow.
    func commitMany<T: Sendable>(_ body: @escaping @Sendable (Database, Date) throws -> (T, [ChangeResult])) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var out: (T, [ChangeResult])? = nil
            try db.inTransaction(.immediate) {
                out = try body(db, Timestamp.now())
                return .commit
            }
            guard let (value, results) = out else { throw RoutingError.invalid("no change was made") }
            self.rolloutGeneration.add(1, ordering: .relaxed)
            guard let lastSeq = results.last?.entry.seq else { return value }
            self.cache.withLock { c in
                for result in results {
                    if let e = result.endpoint { c.endpoints[e.name] = e } else { c.endpoints[result.entry.endpoint] = nil }
                }
                c.auditSeq = lastSeq
                c.listBody = nil
            }
            for f in self.onCommit.withLock({ $0 }) { f(lastSeq) }
            return value
        }
    }

    static func write(_ e: Endpoint, entry: AuditEntry, db: Database, createdRevision: Int64?) throws {
        let body = try encode(e)
        if let createdRevision {
            try db.execute(sql: "INSERT INTO endpoint (name, revision, created_revision, last_seq, body) VALUES (?, ?, ?, ?, ?)",
                           arguments: [e.name, e.revision, createdRevision, entry.seq, body])
        } else {
            try db.execute(sql: "UPDATE endpoint SET revision = ?, last_seq = ?, body = ? WHERE name = ?",
                           arguments: [e.revision, entry.seq, body, e.name])
        }
        try db.execute(sql: """
            INSERT INTO revision (endpoint, revision, time_ms, actor, action, reason, summary, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [e.name, e.revision, Timestamp.ms(entry.time), entry.actor, entry.action.rawValue, entry.reason, entry.summary, body])
        try insertAudit(entry, db: db)
    }

    static func insertAudit(_ e: AuditEntry, db: Database) throws {
        try db.execute(sql: """
            INSERT INTO audit (seq, time_ms, actor, role, action, endpoint, version, from_revision, to_revision, reason,
                               weights_before, weights_after, override, summary, prev_hash, hash,
                               slo_before, slo_after, baseline_before, baseline_after, judge_before, judge_after,
                               bundle_sha256, signer_key, source_registry)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [e.seq, Timestamp.ms(e.time), e.actor, e.role.rawValue, e.action.rawValue, e.endpoint, e.version,
                             e.fromRevision, e.toRevision, e.reason, try weightsJSON(e.weightsBefore), try weightsJSON(e.weightsAfter),
                             e.override ? 1 : 0, e.summary, e.prevHash, e.hash,
                             e.sloBefore, e.sloAfter, e.baselineBefore, e.baselineAfter, e.judgeBefore, e.judgeAfter,
                             e.bundleSha256, e.signerKey, e.sourceRegistry])
    }

    static func auditEntry(_ row: Row) throws -> AuditEntry {
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
}

/// A change to an existing resource came without `If-Match`.
public struct PreconditionRequired: Error, Sendable {}
