import Foundation
import GRDB
import TowerDomain

/// The embedded store: one SQLite file (WAL, `synchronous=FULL`: a change is on disk before it is
/// acknowledged), written by one process through GRDB's single writer.
public final class SQLiteBackend: StoreBackend {
    let pool: DatabasePool
    public let path: String
    public var dialect: SQLDialect { .sqlite }
    public var location: String { "sqlite \(path)" }

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("registry.sqlite")
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
    }

    public func migrate() throws -> [String] {
        let migrator = Schema.migrator
        if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
            throw SchemaTooNew("the database at \(path) was written by a newer tower-registry (it has migrations this binary does not know); run that version or newer")
        }
        try migrator.migrate(pool)
        return try pool.read { db in try migrator.appliedMigrations(db) }
    }

    public func read<T>(_ body: (any StoreDB) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteDB(db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreDB) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteDB(db)) }
    }

    public func write<T: Sendable>(announcing: (@Sendable (any StoreDB) -> Void)?, _ body: @escaping @Sendable (any StoreDB) throws -> T,
                                   afterCommit: @escaping @Sendable (T) -> Void) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var out: T? = nil
            try db.inTransaction(.immediate) {
                out = try body(SQLiteDB(db))
                return .commit
            }
            guard let value = out else { throw RoutingError.invalid("no change was made") }
            afterCommit(value)
            return value
        }
    }

    public func write<T>(_ body: (any StoreDB) throws -> T) throws -> T {
        try pool.write { db in try body(SQLiteDB(db)) }
    }

    public func close() throws { try pool.close() }
}

/// A schema written by a newer binary: opening it could misread rows, so nothing is written.
public struct SchemaTooNew: Error, Sendable, CustomStringConvertible {
    public var detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}

/// GRDB's `Database` seen through `StoreDB`. Lives only as long as the closure it was made for.
final class SQLiteDB: StoreDB {
    let db: Database
    init(_ db: Database) { self.db = db }
    var dialect: SQLDialect { .sqlite }

    func fetchRows(_ sql: String, _ arguments: SQLArguments) throws -> [StoreRow] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments))
        guard let first = rows.first else { return [] }
        let columns = Array(first.columnNames)
        return rows.map { row in
            StoreRow(columns: columns, values: row.databaseValues.map { v in
                switch v.storage {
                case .null: .null
                case .int64(let i): .int(i)
                case .double(let d): .int(Int64(d))
                case .string(let s): .text(s)
                case .blob(let b): .text(String(decoding: b, as: UTF8.self))
                }
            })
        }
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try db.execute(sql: sql, arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func inSavepoint(_ body: () throws -> Void) throws {
        try db.inSavepoint {
            try body()
            return .commit
        }
    }

    func nextRolloutID() throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'rollout'") ?? 0) + 1
    }

    static func arguments(_ a: SQLArguments) -> StatementArguments {
        StatementArguments(a.values.map { v -> (any DatabaseValueConvertible)? in
            switch v {
            case .null: nil
            case .int(let i): i
            case .text(let s): s
            }
        })
    }
}
