import Foundation
import GRDB

import Synchronization
import TowerDomain
import TowerRollouts

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
    /// The endpoint's JSON as written (the API's form too), when the change wrote it: the answer
    /// sends it instead of encoding the endpoint a second time.
    public var body: String? = nil

    public init(endpoint: Endpoint?, entry: AuditEntry, body: String? = nil) {
        self.endpoint = endpoint
        self.entry = entry
        self.body = body
    }
}

/// What a `PUT` of a spec did: the endpoint as it now is, and the audit entry, which is nil when
/// the spec changed nothing (no revision was made).
public struct PutOutcome: Sendable {
    public var endpoint: Endpoint
    public var entry: AuditEntry?
    public var created: Bool
}

/// Durable registry state, behind a `StoreBackend`: SQLite (embedded, one process) or PostgreSQL
/// (several replicas). Each change is one transaction, serialised against every writer of the
/// database, that checks the expected revision, applies the change, appends the audit entry and
/// bumps the revision; the domain logic is written once, on `StoreDB`. Reads of endpoints come
/// from an in-memory copy that each commit updates, so the read path never touches the database.
/// Another replica's commits reach the copy before this one writes (the write transaction
/// re-reads what changed) and, for reads, through `refresh()`.
public final class RegistryStore: Sendable {
    public let backend: any StoreBackend
    public let drainTimeout: TimeInterval
    private let cache: Mutex<Cache>
    let tokenCache: Mutex<[String: (principal: Principal?, fetched: Date)]> = Mutex([:])
    /// Called after each commit (this replica's, or another's seen by `refresh`) with the new last
    /// audit sequence number.
    private let onCommit: Mutex<[@Sendable (Int64) -> Void]> = Mutex([])
    /// Bumped by every write, so the rollout loop re-reads rollouts only when something changed.
    let rolloutGeneration = Atomic<Int64>(0)
    private let unavailable = Mutex<Date?>(nil)

    struct Cache {
        var endpoints: [String: Endpoint] = [:]
        var auditSeq: Int64 = 0
        var listBody: (bytes: [UInt8], validUntil: Date?)? = nil
    }

    /// Opens (creating if needed) the SQLite database in `directory` and applies pending migrations.
    public convenience init(directory: String, drainTimeout: TimeInterval = 30) throws {
        try self.init(backend: SQLiteBackend(directory: directory), drainTimeout: drainTimeout)
    }

    /// Applies pending migrations of `backend` and loads the endpoints.
    public init(backend: any StoreBackend, drainTimeout: TimeInterval = 30) throws {
        self.backend = backend
        self.drainTimeout = drainTimeout
        _ = try backend.migrate()
        let snapshot = try backend.read { db in try Self.loadEndpoints(db, changedAfter: nil) }
        var c = Cache()
        for e in snapshot.endpoints.values { if let e { c.endpoints[e.name] = e } }
        c.auditSeq = snapshot.seq
        cache = Mutex(c)
    }

    /// The SQLite file, for the embedded store ("" on another backend).
    public var path: String { (backend as? SQLiteBackend)?.path ?? "" }

    /// The GRDB pool of an SQLite store, for tests that reach under the store.
    var pool: GRDB.DatabasePool {
        guard let s = backend as? SQLiteBackend else { preconditionFailure("not an SQLite store: \(backend.location)") }
        return s.pool
    }

    /// Folds a snapshot from `loadEndpoints(changedAfter: c.auditSeq)` into the copy in memory,
    /// unless the copy is already as new.
    private static func merge(_ snapshot: (endpoints: [String: Endpoint?], seq: Int64), into c: inout Cache) -> Bool {
        guard snapshot.seq > c.auditSeq else { return false }
        for (name, e) in snapshot.endpoints { c.endpoints[name] = e }
        c.auditSeq = snapshot.seq
        c.listBody = nil
        return true
    }

    /// Set while the database cannot be reached (by whoever follows it: `ReplicaFollower`), so
    /// reads served from memory meanwhile can say so.
    public var unavailableSince: Date? { unavailable.withLock { $0 } }
    public func noteStoreReachable(_ reachable: Bool, now: Date = Date()) {
        unavailable.withLock { $0 = reachable ? nil : ($0 ?? now) }
    }

    /// Rollout rows changed elsewhere (another replica started, paused or resumed one, which
    /// makes no audit entry): the rollout loop reads them again on its next pass.
    public func rolloutsMayHaveChanged() {
        rolloutGeneration.add(1, ordering: .relaxed)
    }

    /// Catches up with commits made through other replicas (or processes) of the same database:
    /// reads the last audit sequence number and, when it moved, the endpoints written since.
    /// Observers hear of it as of a commit here. Returns whether anything changed.
    @discardableResult
    public func refresh() async throws -> Bool {
        let known = auditSeq
        // One statement on PostgreSQL: under load every commit of another replica brings a
        // replica here.
        let answers = try await backend.readSnapshot([(Self.maxSeqSQL, SQLArguments([])), (Self.changedEndpointsSQL, SQLArguments([.int(known)]))])
        let latest = answers.first?.first.map { Int64.from($0.first) ?? 0 } ?? 0
        guard latest > known, answers.count == 2 else { return false }
        var bodies: [String: String?] = [:]
        for row in answers[1] { bodies[row["name"] as String] = row["body"] as String? }
        let snapshot = try Self.decode((bodies, latest))
        let moved = cache.withLock { c -> Bool in
            // Written by this replica meanwhile: its own commit brought the copy past `known`.
            guard c.auditSeq == known else { return false }
            return Self.merge(snapshot, into: &c)
        }
        guard moved else { return false }
        rolloutGeneration.add(1, ordering: .relaxed)
        for f in onCommit.withLock({ $0 }) { f(snapshot.seq) }
        return true
    }

    /// Applies migrations to the database in `directory` without serving.
    public static func migrate(directory: String) throws -> [String] {
        try SQLiteBackend(directory: directory).migrate()
    }

    public func addCommitObserver(_ f: @escaping @Sendable (Int64) -> Void) {
        onCommit.withLock { $0.append(f) }
    }

    // MARK: Reads

    public var auditSeq: Int64 { cache.withLock { $0.auditSeq } }

    /// The copy in memory of `name` and the audit sequence the copy is as of, read together: the
    /// copy holds every write up to that sequence (each write of an endpoint appends an audit
    /// entry in its transaction, and the copy advances only past writes it has folded in).
    func endpointInMemory(_ name: String) -> (endpoint: Endpoint?, asOf: Int64) {
        cache.withLock { c in (c.endpoints[name], c.auditSeq) }
    }

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
        let records = try await backend.read { db in
            try StoreRow.fetchAll(db, sql: """
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
        try await backend.read { db in
            let rows = try StoreRow.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit])
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
            return AuditPage(entries: try rows.map(Self.auditEntry), lastSeq: last)
        }
    }

    /// Newest first, for people reading the log.
    public func recentAudit(limit: Int, endpoint: String?) async throws -> AuditPage {
        try await backend.read { db in
            let rows: [StoreRow]
            if let endpoint {
                rows = try StoreRow.fetchAll(db, sql: "SELECT * FROM audit WHERE endpoint = ? ORDER BY seq DESC LIMIT ?", arguments: [endpoint, limit])
            } else {
                rows = try StoreRow.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq DESC LIMIT ?", arguments: [limit])
            }
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit") ?? 0
            return AuditPage(entries: try rows.map(Self.auditEntry), lastSeq: last)
        }
    }

    /// Walks the whole chain. Returns nil when intact, else the first bad entry.
    public func verifyAudit() throws -> ChainBreak? {
        try Self.verifyAudit(backend)
    }

    /// The chain check on any backend, a page at a time so a long log is never all in memory.
    public static func verifyAudit(_ backend: any StoreBackend) throws -> ChainBreak? {
        var prev: (seq: Int64, hash: String)? = nil
        while true {
            let rows = try backend.read { db in
                try StoreRow.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT 1000", arguments: [prev?.seq ?? -1])
            }
            if rows.isEmpty { return nil }
            for row in rows {
                let e: AuditEntry
                do { e = try Self.auditEntry(row) } catch {
                    return ChainBreak(seq: row["seq"], problem: "the entry cannot be read: \(error)")
                }
                if let broken = AuditEntry.verifyChain([e], startingAfter: prev) { return broken }
                prev = (e.seq, e.hash)
            }
        }
    }

    public func auditCount() throws -> Int {
        try backend.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0 }
    }

    /// Runs one change as one transaction on the serialised writer, then, still on the writer,
    /// updates the in-memory copy and tells observers. `body` gets the time, the next audit
    /// sequence number and the previous entry's hash.
    func commit(prefetch: (@Sendable (any StoreDB) -> Void)? = nil,
                _ body: @escaping @Sendable (any StoreDB, Date, Int64, String) throws -> ChangeResult) async throws -> ChangeResult {
        try await commitLinked(prefetch: prefetch) { db, now, last in
            let r = try body(db, now, last.seq + 1, last.hash)
            return (r, [r])
        }
    }

    /// One transaction that may make any number of changes (none, for a rollout's own
    /// bookkeeping), each listed in the result so the in-memory copy and observers follow. When
    /// another replica committed since the copy was last brought up to date, the transaction
    /// reads what it wrote first, so the copy never goes back.
    func commitMany<T: Sendable>(_ body: @escaping @Sendable (any StoreDB, Date) throws -> (T, [ChangeResult])) async throws -> T {
        try await commitLinked { db, now, _ in try body(db, now) }
    }

    /// `commitMany`, whose body also gets the last audit entry as the transaction began (read
    /// anyway, to tell whether another replica committed meanwhile). `prefetch` names the body's
    /// first reads (`StoreDB.prefetch`), sent with the transaction's own.
    func commitLinked<T: Sendable>(prefetch: (@Sendable (any StoreDB) -> Void)? = nil,
                                   _ body: @escaping @Sendable (any StoreDB, Date, (seq: Int64, hash: String)) throws -> (T, [ChangeResult])) async throws -> T {
        let known = auditSeq
        do {
            return try await commitMany(known: known, prefetch: prefetch, body)
        } catch let stale as StaleRevision {
            // Refused because another replica moved the endpoint: bring the copy up to date so
            // the caller's next read shows what it must re-read the revision from.
            _ = try? await refresh()
            throw stale
        }
    }

    private func commitMany<T: Sendable>(known: Int64, prefetch: (@Sendable (any StoreDB) -> Void)?,
                                         _ body: @escaping @Sendable (any StoreDB, Date, (seq: Int64, hash: String)) throws -> (T, [ChangeResult])) async throws -> T {
        let out = try await backend.write(announcing: prefetch, { db -> (T, [ChangeResult], (bodies: [String: String?], seq: Int64)?) in
            // On PostgreSQL these reads go out behind the write lock's statement, in one round trip:
            // the lock is held while this replica waits for answers, so every wait counts.
            let last: (seq: Int64, hash: String)
            let behind: (bodies: [String: String?], seq: Int64)?
            if let link = db.notes?.lastLink, let caught = db.notes?.caughtUp, caught.from <= known {
                // A later write of the same transaction: nothing can have changed but its own.
                prefetch?(db)
                (last, behind) = (link, caught.rows)
            } else {
                db.prefetch(Self.lastLinkSQL, [])
                db.prefetch(Self.changedEndpointsSQL, [known])
                prefetch?(db)
                last = try Self.lastLink(db)
                behind = last.seq > known ? try Self.loadEndpointRows(db, changedAfter: known, seq: last.seq) : nil
                db.notes?.lastLink = last
                db.notes?.caughtUp = (known, behind)
            }
            let (value, results) = try body(db, Timestamp.now(), last)
            return (value, results, behind)
        }, afterCommit: { [self] out in
            let (_, results, rows) = out
            self.rolloutGeneration.add(1, ordering: .relaxed)
            guard let lastSeq = results.last?.entry.seq ?? rows?.seq else { return }
            // Decoded only when the copy is older (an earlier write of the same batch may have
            // brought it up already). A body that cannot be decoded leaves the copy as it was, so
            // the follower's next catch-up reads again and reports it.
            var behind: (endpoints: [String: Endpoint?], seq: Int64)? = nil
            if let rows, rows.seq > self.auditSeq {
                guard let decoded = try? Self.decode(rows) else { return }
                behind = decoded
            }
            let moved = self.cache.withLock { c -> Bool in
                if let behind { _ = Self.merge(behind, into: &c) }
                guard lastSeq > c.auditSeq else { return behind != nil }
                for result in results {
                    if let e = result.endpoint { c.endpoints[e.name] = e } else { c.endpoints[result.entry.endpoint] = nil }
                }
                c.auditSeq = lastSeq
                c.listBody = nil
                return true
            }
            if moved { for f in self.onCommit.withLock({ $0 }) { f(lastSeq) } }
        })
        return out.0
    }

}

/// A change to an existing resource came without `If-Match`.
public struct PreconditionRequired: Error, Sendable {}
