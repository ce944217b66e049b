import Foundation
import Synchronization
import Testing
import TowerRegistry
@testable import TowerStorePostgres

/// A replica's writes queued while its writer is busy commit together (`Link.batch`), each as if
/// in a transaction of its own.
@Suite struct PostgresBatchTests {
    struct Refused: Error {}

    /// Nine writes queued behind a busy writer: they share one transaction (one id); the one
    /// that throws before writing, the one that throws after writing, the one the database
    /// refuses (a duplicate name), and two whose refused statement was not waited for (found out
    /// by a later write's statement, or by the commit, whichever the order makes it) are undone
    /// alone with their own errors; the others commit and hear of it.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func queuedWritesShareOneTransactionAndAFailingOneIsUndoneAlone() async throws {
        let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
        defer { try? backend.close() }
        _ = try backend.migrate()
        let heard = Heard()

        try await holdWriter(backend, until: 9) { db in
            try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES ('pre', 'pre', 'viewer', 'pre', 0)", arguments: [])
        }
        let outcomes = await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
            for i in 0..<9 {
                group.addTask {
                    do {
                        let txid = try await backend.write({ db -> Int64 in
                            if i == 6 { throw Refused() }
                            if i >= 7 {
                                try db.executeUnanswered("INSERT INTO token (id, name, role, hash, created_ms) VALUES (?, 'pre', 'viewer', ?, 0)",
                                                         ["id\(i)", "h\(i)"])
                                return -1
                            }
                            // Write 4 reuses a name taken before, which the table's UNIQUE refuses.
                            let name = i == 4 ? "pre" : "t\(i)"
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
        #expect(throws: Refused.self) { try outcomes[6]?.get() }
        for i in [7, 8] {
            #expect { try outcomes[i]?.get() } throws: { "\($0)".contains("duplicate key") }
        }
        #expect(throws: (any Error).self) { try outcomes[4]?.get() }
        let names = try await backend.read { db in try String.fetchAll(db, sql: "SELECT name FROM token ORDER BY name") }
        #expect(names == ["pre", "t0", "t1", "t3", "t5"])
        #expect(heard.values.withLock { $0 }.sorted() == [0, 1, 3, 5])
    }
}

extension PostgresBatchTests {
    static let createdOf = "SELECT created_ms FROM token WHERE name = ?"

    static func created(_ db: any StoreDB, _ name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: createdOf, arguments: [name])
    }

    /// A write made `writing(about: x)` drops the reads announced about x and about nothing, and
    /// keeps those about another subject, already answered: the write below also changes y's row
    /// (which a real write about x would not), so y's old value shows that its answer was kept.
    /// A write about nothing drops everything.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aWriteAboutOneSubjectKeepsTheReadsAboutAnother() async throws {
        let seen = try await offThePool { () -> [Int64?] in
            let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
            defer { try? backend.close() }
            _ = try backend.migrate()
            return try backend.write { db -> [Int64?] in
                for n in ["x", "y", "w"] {
                    try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES (?, ?, 'viewer', ?, 0)", arguments: [n, n, n])
                }
                db.prefetch(Self.createdOf, ["x"], about: "x")
                db.prefetch(Self.createdOf, ["y"], about: "y")
                db.prefetch(Self.createdOf, ["w"])
                db.prefetch(Self.createdOf, ["v"], about: "y")
                let v = try Self.created(db, "v")   // makes all four, as one statement
                try db.writing(about: "x") { try db.execute(sql: "UPDATE token SET created_ms = 5", arguments: []) }
                let x = try Self.created(db, "x"), y = try Self.created(db, "y"), w = try Self.created(db, "w")
                db.prefetch(Self.createdOf, ["x"], about: "x")
                db.prefetch(Self.createdOf, ["y"], about: "y")
                _ = try Self.created(db, "x")
                try db.execute(sql: "UPDATE token SET created_ms = 6", arguments: [])
                return [v, x, y, w, try Self.created(db, "y")]
            }
        }
        #expect(seen == [nil, 5, 0, 5, 6])
    }

    /// The writes of a batch announce their first reads before the first of them runs, and
    /// those reads are made at once: the second write sees y as it was before the first wrote
    /// (a write about x, which changes y too only to show this), and x as the first left it.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aBatchMakesEveryWritesAnnouncedReadsTogether() async throws {
        let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
        defer { try? backend.close() }
        _ = try backend.migrate()
        try await holdWriter(backend, until: 2) { db in
            for n in ["x", "y"] {
                try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES (?, ?, 'viewer', ?, 0)", arguments: [n, n, n])
            }
        }
        let first = Task {
            try await backend.write(announcing: { db in db.prefetch(Self.createdOf, ["x"], about: "x") }, { db -> [Int64?] in
                let x = try Self.created(db, "x")
                try db.writing(about: "x") { try db.execute(sql: "UPDATE token SET created_ms = 7", arguments: []) }
                return [x]
            }, afterCommit: { _ in })
        }
        try await waitForQueuedWrites(backend, 1)
        let second = try await backend.write(announcing: { db in
            db.prefetch(Self.createdOf, ["y"], about: "y")
            db.prefetch(Self.createdOf, ["x"], about: "x")
        }, { db -> [Int64?] in [try Self.created(db, "y"), try Self.created(db, "x")] }, afterCommit: { _ in })
        #expect(try await first.value == [0])
        #expect(second == [0, 7])
    }
}

/// Holds `backend`'s writer, in a transaction of its own that runs `setUp`, until `count` writes
/// are queued behind it (so they form one batch), or a minute has passed. Returns once the writer
/// is held: a write queued before that could be taken alone.
func holdWriter(_ backend: PostgresBackend, until count: Int,
                _ setUp: @escaping @Sendable (any StoreDB) throws -> Void = { _ in }) async throws {
    let inside = Mutex(false)
    Thread {
        _ = try? backend.write { db in
            try setUp(db)
            inside.withLock { $0 = true }
            let deadline = Date().addingTimeInterval(60)
            while backend.queuedWrites < count && Date() < deadline { usleep(1_000) }
        }
    }.start()
    let deadline = ContinuousClock.now + .seconds(60)
    while !inside.withLock({ $0 }) {
        guard ContinuousClock.now < deadline else { throw HeldTooLong() }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// Waits until `count` writes are queued on `backend` (a minute at most).
func waitForQueuedWrites(_ backend: PostgresBackend, _ count: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while backend.queuedWrites < count {
        guard ContinuousClock.now < deadline else { throw HeldTooLong() }
        try await Task.sleep(for: .milliseconds(1))
    }
}

struct HeldTooLong: Error {}

/// Which writes heard of their commit.
final class Heard: Sendable {
    let values = Mutex<[Int]>([])

    /// Reads announced together are made as one statement (`CombinedReads`) and come back as
    /// each would alone: integers, text, NULL, order, an empty answer; a write in between makes
    /// them be read again, after it.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func readsAnnouncedTogetherAnswerAsEachAlone() async throws {
        let reads: [(String, SQLArguments)] = [
            ("SELECT id, name, revoked_ms FROM token WHERE created_ms >= ? ORDER BY created_ms DESC", [0]),
            ("SELECT name FROM token WHERE name = ?", ["nobody"]),
            ("SELECT COUNT(*) AS n, MAX(name) AS last FROM token", []),
            ("SELECT name, 'it''s ? \\ \"x\"' AS odd FROM token ORDER BY name LIMIT 1", []),
        ]
        let (alone, together, afterWrite) = try await offThePool { () -> ([[StoreRow]], [[StoreRow]], [StoreRow]) in
            let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
            defer { try? backend.close() }
            _ = try backend.migrate()
            return try backend.write { db in
                for i in 0..<3 {
                    try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms, revoked_ms) VALUES (?, ?, 'viewer', ?, ?, ?)",
                                   arguments: ["id\(i)", "n\(i) \u{1F680}", "h\(i)", Int64(i), i == 1 ? Int64(9) : nil])
                }
                let alone = try reads.map { try db.fetchRows($0.0, $0.1) }
                for (sql, args) in reads { db.prefetch(sql, args) }
                let together = try reads.map { try db.fetchRows($0.0, $0.1) }
                db.prefetch(reads[2].0, reads[2].1)
                try db.execute(sql: "DELETE FROM token WHERE name LIKE 'n0%'", arguments: [])
                return (alone, together, try db.fetchRows(reads[2].0, reads[2].1))
            }
        }
        #expect(alone.map { $0.count } == [3, 0, 1, 1])
        for (a, t) in zip(alone, together) {
            #expect(a.map(\.values) == t.map(\.values))
            #expect(a.map(\.columns) == t.map(\.columns))
        }
        #expect(afterWrite.first?.values.first == .int(2), "read after the write, not before it")
    }
}
