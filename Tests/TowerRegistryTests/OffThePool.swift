import Foundation

/// Runs blocking set-up (a `createdb` process, a connection, migrations, a copy) on a thread of its
/// own. Swift's cooperative pool has one thread per core, two in CI: set-up that blocks one of them
/// stalls every other test in the process, and tests elsewhere that poll for a condition ran out
/// of their 90 s bound (at load 12) while the PostgreSQL runs of the store suite made their
/// databases one `createdb` after another on the pool's threads.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread { c.resume(with: Result { try body() }) }.start()
    }
}
