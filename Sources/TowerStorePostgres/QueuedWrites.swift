import Synchronization
import TowerRegistry

/// One write waiting for the writer queue: its body, and what to do once its batch committed or
/// could not.
struct QueuedWrite: Sendable {
    /// Announces the body's first reads (`StoreDB.prefetch`), before any write of its batch runs.
    let announce: (@Sendable (any StoreDB) -> Void)?
    let run: @Sendable (any StoreDB) throws -> Void
    let committed: @Sendable () -> Void
    let failed: @Sendable (any Error) -> Void
}

/// The writes a replica has accepted but not yet started, in arrival order.
final class QueuedWrites: Sendable {
    private let items = Mutex<[QueuedWrite]>([])

    func append(_ w: QueuedWrite) { items.withLock { $0.append(w) } }

    var count: Int { items.withLock { $0.count } }

    /// The oldest `max` writes, removed from the queue.
    func take(max: Int) -> [QueuedWrite] {
        items.withLock { q in
            let n = min(q.count, max)
            let out = Array(q.prefix(n))
            q.removeFirst(n)
            return out
        }
    }
}

/// A write's result, set by its body on the writer queue and read there after the commit.
final class WriteValue<T>: @unchecked Sendable {
    var value: T?
}
