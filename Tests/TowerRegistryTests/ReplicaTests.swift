import Foundation
import Synchronization
import Testing
import TowerDomain
@testable import TowerRegistry
@testable import TowerStorePostgres

/// Several replicas (RegistryStore instances) over one PostgreSQL database.
@Suite struct ReplicaTests {
    /// Two replicas on a fresh database, seeded through the first.
    static func replicas() async throws -> (RegistryStore, RegistryStore, PostgresStoreURL) {
        let (url, a) = try await offThePool {
            let url = try TestPostgres.makeDatabase()
            return (url, try RegistryStore(backend: try PostgresBackend(url: url, password: nil)))
        }
        try await Seed.apply(Harness.seed, to: a, source: "test")
        let b = try await offThePool { try RegistryStore(backend: try PostgresBackend(url: url, password: nil)) }
        return (a, b, url)
    }

    /// 8 clients × 100 shifts of one endpoint, split across two replicas: each is either
    /// accepted or refused as stale, accepted ones got distinct consecutive revisions, the audit
    /// has exactly one entry per accepted change, and the chain verifies.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func racingShiftsAcrossTwoReplicas() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        let auditBefore = try a.auditCount()
        let startRevision = try #require(a.endpoint("alpha")).revision
        let op = Principal(name: "racer", role: .operator)
        let outcomes = try await withThrowingTaskGroup(of: (accepted: [Int64], stale: Int).self) { group in
            for client in 0..<8 {
                let replica = client % 2 == 0 ? a : b
                group.addTask {
                    var accepted: [Int64] = [], stale = 0
                    var expected = replica.endpoint("alpha")?.revision ?? 0
                    for i in 0..<100 {
                        let w = (client * 100 + i) % 101
                        do {
                            let r = try await replica.change("alpha", expected: expected, principal: op, reason: "race \(client).\(i)",
                                                             override: false) { _, _ in .shift(["v1": w, "v2": 100 - w]) }
                            accepted.append(r.entry.toRevision)
                            expected = r.entry.toRevision
                        } catch let s as StaleRevision {
                            stale += 1
                            expected = s.current.revision
                        }
                    }
                    return (accepted, stale)
                }
            }
            var all: [(accepted: [Int64], stale: Int)] = []
            for try await o in group { all.append(o) }
            return all
        }
        let accepted = outcomes.flatMap(\.accepted).sorted()
        let stale = outcomes.map(\.stale).reduce(0, +)
        #expect(accepted.count + stale == 800)
        #expect(accepted.count > 0)
        #expect(accepted == Array((startRevision + 1)...(startRevision + Int64(accepted.count))), "revisions distinct and consecutive")
        #expect(try a.auditCount() - auditBefore == accepted.count)
        #expect(try a.verifyAudit() == nil)
        let seqs = try await a.audit(after: 0, limit: 10_000).entries.map(\.seq)
        #expect(seqs == Array(1...Int64(seqs.count)), "the audit sequence has no gap")
        // Both replicas' memories end at the database's last revision.
        try await b.refresh()
        try await a.refresh()
        #expect(a.endpoint("alpha")?.revision == startRevision + Int64(accepted.count))
        #expect(b.endpoint("alpha") == a.endpoint("alpha"))
    }

    /// A change through one replica reaches the other's reads and its commit observers.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aCommitThroughOneReplicaReachesTheOther() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        let heard = Mutex<[Int64]>([])
        b.addCommitObserver { seq in heard.withLock { $0.append(seq) } }
        let op = Principal(name: "otto", role: .operator)
        let r = try await a.change("alpha", expected: 1, principal: op, reason: "through a", override: false) { _, _ in .shift(["v1": 50, "v2": 50]) }
        #expect(b.endpoint("alpha")?.revision == 1)
        #expect(try await b.refresh())
        #expect(b.endpoint("alpha")?.weights == ["v1": 50, "v2": 50])
        #expect(heard.withLock { $0 } == [r.entry.seq])
        // Writing through b starts from what a wrote, even before b refreshes.
        let r2 = try await a.change("alpha", expected: 2, principal: op, reason: "through a again", override: false) { _, _ in .shift(["v1": 60, "v2": 40]) }
        let r3 = try await b.change("alpha", expected: 3, principal: op, reason: "through b", override: false) { _, _ in .shift(["v1": 70, "v2": 30]) }
        #expect(r3.entry.seq == r2.entry.seq + 1 && r3.entry.prevHash == r2.entry.hash)
        #expect(b.endpoint("alpha")?.revision == 4 && b.auditSeq == r3.entry.seq)
    }

    /// A deletion and a re-creation through one replica reach the other, by its catch-up and by
    /// its next write: the audit entries after its copy's sequence name the endpoints it reads
    /// again, deleted ones included (they have no row left to read).
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func deletionsAndRecreationsReachTheOtherReplica() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        let admin = Principal(name: "ada", role: .admin)
        _ = try await a.delete("fraud", expected: 1, principal: admin, reason: "retired")
        #expect(b.endpoint("fraud") != nil)
        #expect(try await b.refresh())
        #expect(b.endpoint("fraud") == nil)
        #expect(b.endpoint("alpha") == a.endpoint("alpha"), "an endpoint the audit does not name is kept as it was")
        // Back through a; b hears of it by writing (its transaction reads what it has not seen).
        _ = try await a.put(Harness.seed[1], expected: nil, principal: admin, defaultReason: "back")
        _ = try await a.delete("alpha", expected: 1, principal: admin, reason: "retired too")
        _ = try await a.put(Harness.seed[0], expected: nil, principal: admin, defaultReason: "back too")
        let op = Principal(name: "otto", role: .operator)
        let recreated = try #require(a.endpoint("alpha"))
        _ = try await b.change("alpha", expected: recreated.revision, principal: op, reason: "through b", override: false) { _, _ in .shift(["v1": 50, "v2": 50]) }
        #expect(b.endpoint("fraud") == a.endpoint("fraud"))
        #expect(b.list().endpoints.map(\.name) == ["alpha", "fraud"])
        try await a.refresh()
        #expect(a.list().endpoints == b.list().endpoints)
    }

    /// Writes queued on one replica commit in one transaction, whose later writes take the
    /// audit link and the other replica's changes from what its first write read
    /// (`TransactionNotes`). The first write here is refused after reading them, before writing:
    /// the rows it read still reach memory with the next write, and the chain goes on from it.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aBatchWhoseFirstWriteIsRefusedStillCatchesUp() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        let admin = Principal(name: "ada", role: .admin), op = Principal(name: "otto", role: .operator)
        let deleted = try await a.delete("fraud", expected: 1, principal: admin, reason: "retired").entry
        #expect(b.endpoint("fraud") != nil, "b has no follower here: it hears of the deletion by writing")
        let pg = try #require(b.backend as? PostgresBackend)
        try await holdWriter(pg, until: 3)
        let revision = try #require(b.endpoint("alpha")).revision
        let refused = Task {
            try await b.change("alpha", expected: revision, principal: op, reason: "refused", override: false) { _, _ in
                throw RoutingError.invalid("refused by the test")
            }
        }
        try await waitForQueuedWrites(pg, 1)
        let second = Task {
            try await b.change("alpha", expected: revision, principal: op, reason: "second", override: false) { _, _ in .shift(["v1": 50, "v2": 50]) }
        }
        try await waitForQueuedWrites(pg, 2)
        let third = try await b.change("alpha", expected: revision + 1, principal: op, reason: "third", override: false) { _, _ in
            .shift(["v1": 60, "v2": 40])
        }
        await #expect(throws: RoutingError.self) { try await refused.value }
        let r2 = try await second.value
        #expect(r2.entry.seq == deleted.seq + 1 && r2.entry.prevHash == deleted.hash)
        #expect(third.entry.seq == r2.entry.seq + 1 && third.entry.prevHash == r2.entry.hash)
        #expect(b.endpoint("fraud") == nil, "the other replica's deletion reached memory")
        #expect(b.auditSeq == third.entry.seq && b.endpoint("alpha")?.weights == ["v1": 60, "v2": 40])
        #expect(try b.verifyAudit() == nil)
    }

    /// The database itself refuses to edit or remove audit rows.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func theDatabaseRefusesToEditTheAudit() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        for sql in ["UPDATE audit SET reason = 'edited' WHERE seq = 1", "DELETE FROM audit WHERE seq = 1", "TRUNCATE audit"] {
            let error = #expect(throws: (any Error).self) { try a.backend.write { db in try db.execute(sql: sql) } }
            #expect("\(error.map { "\($0)" } ?? "")".contains("append-only"), "\(sql)")
        }
        #expect(try a.verifyAudit() == nil)
    }

    /// A schema written by a newer binary is refused, and nothing is written.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aNewerSchemaIsRefusedUnchanged() async throws {
        let (a, b, url) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        try a.backend.write { db in try db.execute(sql: "INSERT INTO tower_schema (name, applied_ms) VALUES ('pg-v99-future', 0)") }
        let count = try a.auditCount()
        #expect {
            _ = try RegistryStore(backend: try PostgresBackend(url: url, password: nil))
        } throws: { "\($0)".contains("newer tower-registry") }
        #expect(try a.auditCount() == count)
    }

    /// Bad input at start: a wrong database name and an unreachable server, each a sentence.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func unreachableOrMissingDatabasesAreSaidClearly() async throws {
        let server = try TestPostgres.shared.get()
        #expect {
            _ = try PostgresBackend(url: try PostgresStoreURL("postgres://tower@127.0.0.1:\(server.port)/nosuchdb?sslmode=disable"), password: nil)
        } throws: { "\($0)".contains("nosuchdb") && "\($0)".contains("does not exist") }
        let closed = try TestPostgres.freePort()
        #expect {
            _ = try PostgresBackend(url: try PostgresStoreURL("postgres://tower@127.0.0.1:\(closed)/x?sslmode=disable"), password: nil)
        } throws: { error in
            // A sentence, not NIO's list of every address tried with its internals.
            error is StoreUnavailable && "\(error)".contains("cannot be reached") && !"\(error)".contains("SingleConnectionFailure")
        }
    }

    /// `migrate --from-sqlite`: everything copied, the chain intact, the registry's id kept; an
    /// occupied destination refused.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func anSQLiteRegistryIsCopiedIntoAnEmptyDatabase() async throws {
        let h = try await Harness(store: .sqlite)
        defer { h.cleanUp() }
        let op = Principal(name: "otto", role: .operator)
        _ = try await h.store.change("alpha", expected: 1, principal: op, reason: "before the move", override: false) { _, _ in .shift(["v1": 50, "v2": 50]) }
        let source = h.store.backend
        let (pg, copied) = try await offThePool {
            let url = try TestPostgres.makeDatabase()
            let pg = try PostgresBackend(url: url, password: nil)
            _ = try pg.migrate()
            return (pg, try SQLiteImport.copy(from: source, to: pg))
        }
        #expect(copied.auditEntries == (try h.store.auditCount()))
        let moved = try RegistryStore(backend: pg)
        defer { try? pg.close() }
        #expect(moved.list().endpoints == h.store.list().endpoints)
        #expect(try moved.registryID() == (try h.store.registryID()))
        #expect(try moved.listTokens().map(\.name) == (try h.store.listTokens().map(\.name)))
        #expect(try await moved.principal(forToken: h.op)?.name == "otto")
        #expect(try await moved.revisions(of: "alpha").revisions.count == (try await h.store.revisions(of: "alpha").revisions.count))
        let next = try await moved.change("alpha", expected: 2, principal: op, reason: "after the move", override: false) { _, _ in .shift(["v1": 60, "v2": 40]) }
        #expect(next.entry.seq == Int64(copied.auditEntries) + 1)
        #expect(try moved.verifyAudit() == nil)
        #expect { _ = try SQLiteImport.copy(from: h.store.backend, to: pg) } throws: { "\($0)".contains("only into an empty database") }
    }

    /// LISTEN/NOTIFY: with polling slowed to a minute, a commit through one replica still wakes
    /// the other's observers (watchers, xDS) within a fraction of a second.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aNotificationWakesTheOtherReplica() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        let heard = Mutex<Date?>(nil)
        b.addCommitObserver { _ in heard.withLock { $0 = $0 ?? Date() } }
        let follower = Task { await ReplicaFollower(store: b, backend: try #require(b.backend as? PostgresBackend), logger: .init(label: "test"),
                                                    pollInterval: .seconds(60)).run() }
        defer { follower.cancel() }
        // Listening once the first catch-up ran (it starts from the database's state).
        try await Self.waitUntil { b.auditSeq == a.auditSeq && (try? Self.listening(a)) == true }
        let sent = Date()
        _ = try await a.change("alpha", expected: 1, principal: Principal(name: "otto", role: .operator), reason: "notify",
                               override: false) { _, _ in .shift(["v1": 40, "v2": 60]) }
        try await Self.waitUntil { heard.withLock { $0 } != nil }
        let latency = try #require(heard.withLock { $0 }).timeIntervalSince(sent)
        // What tells a notification from the poll is "well before 60 s". How fast it is (69 ms
        // p50 by hand) is the benchmark's to say: beside the whole parallel suite on two busy cores
        // a task waits seconds for a thread (4.5 s seen), which a timed bound here would fail on.
        #expect(latency < 30, "woken \(latency) s after the commit, long before the 60 s poll")
        #expect(b.endpoint("alpha")?.weights == ["v1": 40, "v2": 60])
    }

    /// The rollout loop's lease: one holder at a time; when it goes, another takes it within two
    /// intervals.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func theLeaseMovesWhenItsHolderGoes() async throws {
        let (a, b, _) = try await Self.replicas()
        defer { try? a.backend.close(); try? b.backend.close() }
        let running = Shared<[String: Bool]>([:])
        func lease(_ store: RegistryStore, _ name: String) throws -> Task<Void, Never> {
            let l = PostgresLease(backend: try #require(store.backend as? PostgresBackend), interval: .milliseconds(100), logger: .init(label: name))
            return Task {
                await l.run {
                    running.value.withLock { $0[name] = true }
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                    running.value.withLock { $0[name] = false }
                }
            }
        }
        let first = try lease(a, "a")
        try await Self.waitUntil { running.value.withLock { $0["a"] } == true }
        let second = try lease(b, "b")
        defer { second.cancel() }
        try await Task.sleep(for: .milliseconds(400))
        #expect(running.value.withLock { $0["b"] } == nil, "the second replica must not run while the first holds the lease")
        let gone = Date()
        first.cancel()
        try await Self.waitUntil { running.value.withLock { $0["b"] } == true }
        let moved = Date().timeIntervalSince(gone)
        // 0.09 s when this test runs alone (under one 100 ms interval; 0.23 s by hand with kill -9
        // of a serving replica). Beside the whole suite on two cores, the other tests' blocking
        // calls delay every task by seconds, so the bound here only says that it moves.
        #expect(moved < 30, "moved in \(moved) s")
    }

    static func listening(_ store: RegistryStore) throws -> Bool {
        try store.backend.read { db in
            try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        } ?? 0 > 0
    }

    /// Generous: only a failure waits this long, and a task here can wait seconds for a thread
    /// beside the whole parallel suite (a 10 s bound ran out at load 8).
    static func waitUntil(timeout: Duration = .seconds(90), _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within \(timeout)")
    }
}

/// A value shared with tasks: a Mutex in a class, so closures capture the class.
final class Shared<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ v: T) { value = Mutex(v) }
}
