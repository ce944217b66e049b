import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import TowerRegistry

/// The registry's store on PostgreSQL, for several replicas over one database (DESIGN §12).
///
/// The shared domain code runs synchronously on `StoreDB` (as it does inside GRDB's write
/// closures), so each statement here waits on PostgresNIO's future from a thread of this
/// backend's own queues, never an event loop's: the writer queue for transactions (one at a
/// time, so commits are acknowledged in order) and the reader queue for reads. Writers on every
/// replica are serialised by a transaction-scoped advisory lock taken first thing, which is
/// what keeps If-Match exact and the audit sequence one gap-free chain across replicas. The lock
/// is held until the commit's WAL flush, so the writes one replica has queued meanwhile are
/// committed together, in one transaction (`Link.batch`): a flush per batch, not per change.
public final class PostgresBackend: StoreBackend {
    public let url: PostgresStoreURL
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    private let writer: Link
    private let reader: Link
    private let writerQueue = DispatchQueue(label: "tower.store.postgres.writer")
    private let readerQueue = DispatchQueue(label: "tower.store.postgres.reader")
    private let queued = QueuedWrites()

    public var dialect: SQLDialect { .postgres }
    public var location: String { url.display }

    /// Every writer of every replica takes this transaction-scoped lock first (the number is
    /// arbitrary; advisory locks are per database, so other databases on the server are not held).
    static let writeLockKey: Int64 = 0x746F_7765_7200_0001
    /// The LISTEN/NOTIFY channel every write transaction notifies on commit.
    public static let commitChannel = "tower_commits"
    /// Migrations take this one, so two replicas starting at once do not both migrate.
    static let migrateLockKey: Int64 = 0x746F_7765_7200_0002

    /// The payload of this backend's commit notifications, so its own follower can skip them:
    /// each of its commits has already reached its memory when the notification arrives.
    public let commitTag = UUID().uuidString

    /// Connects (once, now, so a wrong password or an unreachable server is said at start).
    public init(url: PostgresStoreURL, password: String?, logger: Logger = Logger(label: "tower.store.postgres")) throws {
        self.url = url
        self.logger = logger
        configuration = try Self.configuration(url, password: password)
        writer = Link(configuration: configuration, url: url, logger: logger, commitTag: commitTag)
        reader = Link(configuration: configuration, url: url, logger: logger)
        _ = try writer.connection()
    }

    static func configuration(_ url: PostgresStoreURL, password: String?) throws -> PostgresConnection.Configuration {
        var config: PostgresConnection.Configuration
        if let dir = url.socketDirectory {
            config = .init(unixSocketPath: "\(dir)/.s.PGSQL.\(url.port)", username: url.user, password: password, database: url.database)
        } else {
            config = .init(host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: try url.connectionTLS())
        }
        config.options.connectTimeout = .seconds(5)
        return config
    }

    // MARK: StoreBackend

    public func migrate() throws -> [String] {
        try writerQueue.sync { try PostgresSchema.migrate(self.writer) }
    }

    public func read<T>(_ body: (any StoreDB) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            try readerQueue.sync { try self.reader.transaction(readOnly: true, body) }
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreDB) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            readerQueue.async { cont.resume(with: Result { try self.reader.transaction(readOnly: true, body) }) }
        }
    }

    /// One statement (`CombinedReads`), one snapshot, no transaction: a follower's catch-up on
    /// every commit of another replica cost three statements before.
    public func readSnapshot(_ reads: [(sql: String, arguments: SQLArguments)]) async throws -> [[StoreRow]] {
        let reads = reads.map { SnapshotRead(sql: $0.sql, arguments: $0.arguments) }
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<[[StoreRow]], any Error>) in
            readerQueue.async {
                cont.resume(with: Result {
                    let db = PGDB(link: self.reader, connection: try self.reader.connection())
                    return try db.fetchTogether(reads.map { ($0.sql, $0.arguments) })
                })
            }
        }
    }

    /// Queued, and committed together with the writes queued beside it (`QueuedWrites`): the
    /// write lock and the commit's WAL flush are paid once per batch instead of once per change.
    public func write<T: Sendable>(announcing: (@Sendable (any StoreDB) -> Void)?, _ body: @escaping @Sendable (any StoreDB) throws -> T,
                                   afterCommit: @escaping @Sendable (T) -> Void) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            let value = WriteValue<T>()
            queued.append(QueuedWrite(
                announce: announcing,
                run: { db in value.value = try body(db) },
                committed: {
                    guard let v = value.value else { return cont.resume(throwing: PostgresStoreError("a write committed without a value")) }
                    afterCommit(v)
                    cont.resume(returning: v)
                },
                failed: { cont.resume(throwing: $0) }))
            writerQueue.async { self.commitQueuedWrites() }
        }
    }

    /// Runs on the writer queue: everything queued so far (up to a batch) in one transaction.
    /// Each write's answer waits for the commit, so none is acknowledged before it is durable.
    private func commitQueuedWrites() {
        var batch: [QueuedWrite] = []
        let outcomes: [(any Error)?]
        do {
            outcomes = try writer.batch {
                let more = self.queued.take(max: Self.maxBatch - batch.count)
                batch += more
                return more
            }
        } catch {
            for w in batch { w.failed(error) }
            return
        }
        for (w, outcome) in zip(batch, outcomes) {
            if let outcome { w.failed(outcome) } else { w.committed() }
        }
    }

    /// Writes accepted and not yet started (for tests).
    var queuedWrites: Int { queued.count }

    /// Bounds how long one replica holds the write lock while the others wait.
    static let maxBatch = 32

    public func write<T>(_ body: (any StoreDB) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            try writerQueue.sync { try self.writer.transaction(readOnly: false, body) }
        }
    }

    public func close() throws {
        writerQueue.sync { writer.close() }
        readerQueue.sync { reader.close() }
    }
}

struct SnapshotRead: Sendable {
    let sql: String
    let arguments: SQLArguments
}

/// One connection, made again after it breaks. Used from one queue at a time.
final class Link: @unchecked Sendable {
    let configuration: PostgresConnection.Configuration
    let url: PostgresStoreURL
    let logger: Logger
    private var current: PostgresConnection?
    private static let nextID = Atomic<Int>(1)
    /// What the current connection has prepared; a new connection starts with none.
    var statements = PreparedStatements()

    init(configuration: PostgresConnection.Configuration, url: PostgresStoreURL, logger: Logger, commitTag: String = "") {
        self.configuration = configuration
        self.url = url
        self.logger = logger
        // A UUID: letters, digits and dashes, safe inside the literal.
        lockAndNotify = "SELECT pg_advisory_xact_lock(\(PostgresBackend.writeLockKey)), pg_notify('\(PostgresBackend.commitChannel)', '\(commitTag)')"
    }

    func connection() throws -> PostgresConnection {
        if let c = current, !c.isClosed { return c }
        current = nil
        let id = Self.nextID.add(1, ordering: .relaxed).newValue
        do {
            let c = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                   id: id, logger: logger).wait()
            current = c
            statements = PreparedStatements()
            return c
        } catch {
            throw PostgresErrors.describe(error, url: url, connecting: true)
        }
    }

    func close() {
        try? current?.close().wait()
        current = nil
    }

    // A backend dropped without close() (a store that failed to open, say) still closes its
    // connection: PostgresNIO requires it, and the server would otherwise keep the session.
    deinit {
        guard let c = current, !c.isClosed else { return }
        let closing: EventLoopFuture<Void> = c.close()
        if !c.eventLoop.inEventLoop { try? closing.wait() }
    }

    /// Runs `body` in one transaction; a writer's holds the replicas' write lock.
    func transaction<T>(readOnly: Bool, _ body: (any StoreDB) throws -> T) throws -> T {
        let db = PGDB(link: self, connection: try connection())
        // Sent without waiting: the next statement waits for both, one thread wake-up instead of two.
        db.send(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
        do {
            // Sent without waiting too: the body's first reads follow it in the same round trip.
            if !readOnly { db.send(lockAndNotify) }
            let value = try body(db)
            if readOnly {
                // Nothing to make durable, and its answer changes nothing: the next statement on
                // this connection runs after it, so a read costs one wait for its thread, not two.
                db.send("COMMIT")
            } else {
                try db.run("COMMIT")
            }
            return value
        } catch {
            // A broken connection has no transaction left to roll back; the next use reconnects.
            if let c = current, !c.isClosed { _ = try? db.run("ROLLBACK") }
            throw error
        }
    }

    /// Every writer of every replica takes the write lock first thing, so If-Match and the audit
    /// sequence hold across replicas. The notification, queued in the same statement, is
    /// delivered to every replica's listener when (and only if) the transaction commits.
    let lockAndNotify: String

    /// Several writes in one transaction under one write lock, each run after the ones before it
    /// and seeing what they wrote, exactly as consecutive transactions would, and committed
    /// together (one WAL flush). `take` gives the writes waiting: first, and again whenever those
    /// are done, so writes that arrived while this replica waited for the lock or ran the others
    /// join the transaction instead of waiting for the next one (the commit flush, the lock and
    /// the other replicas' catch-up are paid per transaction).
    ///
    /// A write that fails is undone alone, as it would have been in a transaction of its own:
    /// most fail before writing anything (a stale revision, a refused change), and the others go
    /// on in the same transaction; one that fails after writing, or whose statement the server
    /// refused (which ends the transaction), is left out and the others run again in a new
    /// transaction. No savepoints: each was two more round trips per write under the lock.
    /// Throws (failing every write) when the transaction as a whole cannot commit.
    func batch(_ take: () -> [QueuedWrite]) throws -> [(any Error)?] {
        var bodies = take()
        var outcomes = [(any Error)?](repeating: nil, count: bodies.count)
        var left = Set<Int>()
        while !bodies.isEmpty {
            let db = PGDB(link: self, connection: try connection())
            db.send("BEGIN")
            var undoneBy: Int? = nil
            do {
                db.send(lockAndNotify)
                // Every write's first reads, made together when the first of them is needed.
                for (j, w) in bodies.enumerated() where !left.contains(j) { w.announce?(db) }
                var i = 0
                writes: while true {
                    while i < bodies.count {
                        defer { i += 1 }
                        if left.contains(i) { continue }
                        let (wrote, refused) = (db.wrote, db.refused)
                        db.owner = i
                        do {
                            try bodies[i].run(db)
                            outcomes[i] = nil
                        } catch {
                            if db.connection.isClosed { throw db.brokenBy ?? error }
                            if db.wrote != wrote || db.refused != refused || db.brokenBy != nil {
                                // An earlier write's unanswered statement may be what failed here.
                                let culprit = db.refusedOwner ?? i
                                outcomes[culprit] = db.refusedOwner == nil ? error : (db.brokenBy ?? error)
                                undoneBy = culprit
                                break writes
                            }
                            outcomes[i] = error
                        }
                    }
                    let more = take()
                    if more.isEmpty { break }
                    for w in more { w.announce?(db) }
                    bodies += more
                    outcomes += Array(repeating: nil, count: more.count)
                }
                if undoneBy == nil {
                    // Every write refused: nothing to commit, and nobody to wake.
                    if outcomes.allSatisfy({ $0 != nil }) {
                        _ = try? db.run("ROLLBACK")
                        return outcomes
                    }
                    do {
                        try db.run("COMMIT")
                        return outcomes
                    } catch {
                        // The last write's unanswered statement, refused: undone alone like the others.
                        guard !db.connection.isClosed, let owner = db.refusedOwner else { throw error }
                        outcomes[owner] = error
                        undoneBy = owner
                    }
                }
            } catch {
                if let c = current, !c.isClosed { _ = try? db.run("ROLLBACK") }
                throw error
            }
            _ = try? db.run("ROLLBACK")
            if let i = undoneBy { left.insert(i) }
            if left.count == bodies.count { return outcomes }
        }
        return outcomes
    }

    /// The connection failed inside a transaction (PGDB says so): the next use opens a new one.
    func broke() { current = nil }
}

/// PostgresNIO's errors as sentences. Its own description hides the server's message (so that
/// secrets cannot leak into logs); these name the server, its message and the SQLSTATE.
enum PostgresErrors {
    static func describe(_ error: any Error, url: PostgresStoreURL, connecting: Bool) -> any Error {
        if let tls = url.tlsFailure(error) { return tls }
        guard let e = error as? PSQLError else {
            if connecting { return StoreUnavailable("PostgreSQL at \(url.display) cannot be reached: \(cause(error))") }
            return error
        }
        if e.code == .server, let info = e.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "an error"
            switch state {
            case "28P01", "28000":
                return PostgresStoreError("PostgreSQL at \(url.display) refused the login: \(message) (check --store-password-file or PGPASSFILE)")
            case "3D000":
                return PostgresStoreError("PostgreSQL at \(url.display): \(message); create it first (createdb) or name another in --store")
            case "57P01", "57P02", "57P03", "08000", "08003", "08006":
                return StoreUnavailable("PostgreSQL at \(url.display) is unavailable: \(message)")
            default:
                return PostgresStoreError("PostgreSQL at \(url.display): \(message) (SQLSTATE \(state))")
            }
        }
        switch e.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            let why = e.underlying.map { " (\(cause($0)))" } ?? ""
            return StoreUnavailable("PostgreSQL at \(url.display) cannot be reached\(why)")
        case .sslUnsupported:
            return PostgresStoreError("PostgreSQL at \(url.display) does not offer TLS, and sslmode is \(url.sslMode.rawValue)")
        case .authMechanismRequiresPassword:
            return PostgresStoreError("PostgreSQL at \(url.display) asks for a password: give --store-password-file or set PGPASSFILE")
        default:
            return PostgresStoreError("PostgreSQL at \(url.display): \(e.code)")
        }
    }

    /// The cause in a few words, for a sentence an operator reads: NIO's connection error lists
    /// every address it tried with its internals ("Connection errors: SingleConnectionFailure(…)").
    static func cause(_ error: any Error) -> String {
        if let c = error as? NIOConnectionError {
            if let first = c.connectionErrors.first { return cause(first.error) }
            if let dns = c.dnsAAAAError ?? c.dnsAError { return "the name did not resolve: \(dns)" }
            return "no address to connect to"
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }
}
