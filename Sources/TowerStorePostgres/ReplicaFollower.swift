import Foundation
import Logging
import PostgresNIO
import TowerRegistry

/// Keeps a replica's memory (endpoints, the list it serves, watchers, xDS answers, the rollout
/// loop's rows) up with commits made through other replicas of the same database. Every write
/// transaction notifies `tower_commits` (PostgresBackend); this LISTENs on a connection of its own
/// and catches up from the audit sequence on each notification. A notification missed while that
/// connection was down is made good by catching up when it is back, and by asking for the last
/// sequence number every `pollInterval` besides, so no replica serves routing older than that.
public struct ReplicaFollower: Sendable {
    public let store: RegistryStore
    public let backend: PostgresBackend
    public let logger: Logger
    public var pollInterval: Duration

    public init(store: RegistryStore, backend: PostgresBackend, logger: Logger, pollInterval: Duration = .milliseconds(500)) {
        self.store = store
        self.backend = backend
        self.logger = logger
        self.pollInterval = pollInterval
    }

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listen() }
            group.addTask { await poll() }
        }
    }

    /// One catch-up: the endpoints written since the copy's sequence number, watchers woken.
    func catchUp() async throws {
        // Rollout rows change without audit entries (a start, a pause): re-read them too.
        store.rolloutsMayHaveChanged()
        try await store.refresh()
    }

    func listen() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: backend.configuration,
                                                                      id: 1_000_000 + attempt, logger: logger)
                do {
                    try await connection.listen(on: PostgresBackend.commitChannel) { notifications in
                        // Listening from here on: whatever committed before is read now.
                        try await catchUp()
                        store.noteStoreReachable(true)
                        // Notifications that arrive during a catch-up are answered by one more,
                        // not one each: under load another replica commits hundreds a second.
                        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                do {
                                    for await _ in wakes { try await catchUp() }
                                } catch {
                                    // Ends the notifications too: listen again after a pause, as before.
                                    try? await connection.close()
                                    throw error
                                }
                            }
                            for try await n in notifications where n.payload != backend.commitTag { wake.yield() }
                            wake.finish()
                            try await group.waitForAll()
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if attempt % 20 == 0 { logger.warning("cannot listen for other replicas' commits (polling meanwhile): \(error)") }
            }
            attempt += 1
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func poll() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await catchUp()
                if failing { logger.notice("store reachable again; caught up", metadata: ["seq": .stringConvertible(store.auditSeq)]) }
                store.noteStoreReachable(true)
                failing = false
            } catch {
                if !failing { logger.warning("cannot follow other replicas: \(error)") }
                store.noteStoreReachable(false)
                failing = true
            }
            try? await Task.sleep(for: pollInterval)
        }
    }
}
