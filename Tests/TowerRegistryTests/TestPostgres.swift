import Foundation
import Synchronization
import Testing
import TowerRegistry
import TowerSim
import TowerStorePostgres

/// Which store a parameterised test runs on. PostgreSQL is listed only when its binaries are
/// installed (scripts/setup installs Debian's `postgresql`); when they are not, the run says so
/// loudly once and the suites run on SQLite alone.
enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static let available: [StoreKind] = {
        if PostgresServer.binaries() != nil { return [.sqlite, .postgres] }
        let line = String(repeating: "!", count: 78)
        FileHandle.standardError.write(Data("""
            \(line)
            !! SKIPPED: the registry's PostgreSQL runs. No initdb/pg_ctl was found in
            !! /usr/lib/postgresql/*/bin, /usr/local/bin or PATH: run scripts/setup.
            \(line)

            """.utf8))
        return [.sqlite]
    }()
}

/// The test process's PostgreSQL server (TowerSim's `PostgresServer`, fsync off), started on first
/// use and stopped when the process ends; one fresh database per test.
enum TestPostgres {
    static let shared: Result<PostgresServer, any Error> = Result {
        let server = try PostgresServer(dir: NSTemporaryDirectory() + "tower-pg-" + UUID().uuidString.prefix(8), durable: false)
        server.stopWhenThisProcessEnds()
        return server
    }
    private static let counter = Atomic<Int>(0)

    static func makeDatabase() throws -> PostgresStoreURL {
        let name = "t\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        return try PostgresStoreURL(try shared.get().createDatabase(name))
    }

    static func freePort() throws -> Int { try StackFiles.freePort() }
}
