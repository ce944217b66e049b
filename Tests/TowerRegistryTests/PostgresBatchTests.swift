import Foundation
import Synchronization
import Testing
import TowerRegistry
@testable import TowerStorePostgres

/// A replica's writes queued while its writer is busy commit together (`Link.batch`), each as if
/// in a transaction of its own.
@Suite struct PostgresBatchTests {
    struct Refused: Error {}

    /// Six writes queued behind a busy writer: they share one transaction (one id), the one that
    /// throws after writing and the one the database refuses (a duplicate name) are undone alone
    /// with their own errors, the others commit and hear of it.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func queuedWritesShareOneTransactionAndAFailingOneIsUndoneAlone() async throws {
        let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
        defer { try? backend.close() }
        _ = try backend.migrate()
        let heard = Heard()

        // Holds the writer until every write below is queued, so they form one batch.
        let held = Thread {
            _ = try? backend.write { _ in
                while backend.queuedWrites < 6 { usleep(1_000) }
            }
        }
        held.start()
        let outcomes = await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
            for i in 0..<6 {
                group.addTask {
                    do {
                        let txid = try await backend.write({ db -> Int64 in
                            // Write 4 reuses write 0's name, which the table's UNIQUE refuses.
                            let name = i == 4 ? "t0" : "t\(i)"
                            try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES (?, ?, 'viewer', ?, 0)",
                                           arguments: ["id\(i)", name, "h\(i)"])
                            if i == 2 { throw Refused() }
                            return try Int64.fetchOne(db, sql: "SELECT txid_current()") ?? -1
                        }, afterCommit: { _ in heard.values.withLock { $0.append(i) } })
                        return (i, .success(txid))
                    } catch {
                        return (i, .failure(error))
                    }
                }
            }
            var all: [Int: Result<Int64, any Error>] = [:]
            for await (i, r) in group { all[i] = r }
            return all
        }
        let committed = try [0, 1, 3, 5].map { try #require(outcomes[$0]).get() }
        #expect(Set(committed).count == 1, "the committed writes were one transaction: \(committed)")
        #expect(throws: Refused.self) { try outcomes[2]?.get() }
        #expect(throws: (any Error).self) { try outcomes[4]?.get() }
        let names = try await backend.read { db in try String.fetchAll(db, sql: "SELECT name FROM token ORDER BY name") }
        #expect(names == ["t0", "t1", "t3", "t5"])
        #expect(heard.values.withLock { $0 }.sorted() == [0, 1, 3, 5])
    }
}

/// Which writes heard of their commit.
final class Heard: Sendable {
    let values = Mutex<[Int]>([])
}
