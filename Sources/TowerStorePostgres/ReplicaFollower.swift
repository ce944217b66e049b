import Foundation
import Logging
import TowerRegistry

/// Keeps a replica's memory (endpoints, the list it serves, watchers, xDS answers) up with
/// commits made through other replicas of the same database. It asks the database for its last
/// audit sequence number every `interval` (one indexed read) and catches up from the audit
/// sequence when it moved, so a replica that lost its connection catches up on the first
/// answer after it comes back.
public struct ReplicaFollower: Sendable {
    public let store: RegistryStore
    public let logger: Logger
    public var interval: Duration

    public init(store: RegistryStore, logger: Logger, interval: Duration = .milliseconds(100)) {
        self.store = store
        self.logger = logger
        self.interval = interval
    }

    public func run() async {
        var failing = false, passes = 0
        while !Task.isCancelled {
            passes += 1
            // A rollout started or paused through another replica makes no audit entry; the
            // lease holder's loop re-reads rollout rows about once a second for it.
            if passes % 10 == 0 { store.rolloutsMayHaveChanged() }
            do {
                try await store.refresh()
                store.noteStoreReachable(true)
                if failing { logger.notice("store reachable again; caught up", metadata: ["seq": .stringConvertible(store.auditSeq)]) }
                failing = false
            } catch {
                if !failing { logger.warning("cannot follow other replicas: \(error)") }
                store.noteStoreReachable(false)
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
