import Dispatch
import Foundation
import Logging
import PostgresNIO

/// Work that must run on one replica at a time (the rollout controller): held as a session-level
/// advisory lock on a connection of its own. PostgreSQL releases it when that connection ends, so
/// when the holder dies (or loses the database) another replica takes it on its next try, within
/// one `interval`. The holder checks its connection every `interval` and stops the work as soon as
/// it cannot, so two replicas never both think they hold it for longer than that.
public struct PostgresLease: Sendable {
    public let backend: PostgresBackend
    public let key: Int64
    public let name: String
    public let interval: Duration
    public let logger: Logger

    /// The rollout controller's lease.
    public static let rolloutsKey: Int64 = 0x746F_7765_7200_0010

    public init(backend: PostgresBackend, key: Int64 = PostgresLease.rolloutsKey, name: String = "rollouts",
                interval: Duration = .milliseconds(250), logger: Logger) {
        self.backend = backend; self.key = key; self.name = name; self.interval = interval; self.logger = logger
    }

    /// Runs `work` whenever this replica holds the lease, until the task is cancelled.
    public func run(_ work: @escaping @Sendable () async -> Void) async {
        let link = Link(configuration: backend.configuration, url: backend.url, logger: backend.logger)
        var running: Task<Void, Never>? = nil
        defer { running?.cancel(); link.close() }
        while !Task.isCancelled {
            let held: Bool
            do {
                held = try await Self.holdOrTake(link, key: key, holding: running != nil)
            } catch {
                held = false
            }
            if held && running == nil {
                logger.notice("lease taken: this replica runs \(name)")
                running = Task { await work() }
            } else if !held, let r = running {
                logger.warning("lease lost: this replica stops running \(name)")
                r.cancel()
                running = nil
                link.close()
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Its own thread: statements here wait on PostgresNIO's futures.
    static let queue = DispatchQueue(label: "tower.store.postgres.lease")

    /// Holding: the connection still answers (the lock lives as long as it does). Not holding:
    /// try to take it.
    static func holdOrTake(_ link: Link, key: Int64, holding: Bool) async throws -> Bool {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Bool, any Error>) in
            queue.async {
                cont.resume(with: Result {
                    let db = PGDB(link: link, connection: try link.connection())
                    if holding {
                        // After a reconnect this session holds nothing: the lease was lost.
                        let rows = try db.fetchRows("SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()", [])
                        return (rows.first.map { $0["n"] as Int64 } ?? 0) > 0
                    }
                    let rows = try db.fetchRows("SELECT pg_try_advisory_lock(\(key)) AS held", [])
                    return rows.first.map { $0["held"] as Bool } ?? false
                })
            }
        }
    }

    /// Whether some session holds the lease now (for tests and status).
    public func isHeldAnywhere() throws -> Bool {
        try backend.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = ?)",
                              arguments: [key])
        } ?? false
    }
}
