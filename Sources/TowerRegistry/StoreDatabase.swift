import Foundation

/// A value as the registry's tables hold it: every column is text, a 64-bit integer, or NULL, so
/// SQLite and PostgreSQL (BIGINT, TEXT) store the same rows and the audit hashes the same values.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
}

/// A Swift value that goes into and comes out of a column.
public protocol SQLValueConvertible: Sendable {
    var sqlValue: SQLValue { get }
    /// Nil when the column's value is of another kind (or NULL for a non-optional type).
    static func from(_ v: SQLValue) -> Self?
    /// What a row gives when the column is missing or of another kind: rows come from this
    /// registry's own statements, and a damaged audit row then fails the hash chain's check.
    static var fallback: Self { get }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public static func from(_ v: SQLValue) -> String? {
        switch v {
        case .text(let s): s
        case .int(let i): String(i)
        case .null: nil
        }
    }
    public static var fallback: String { "" }
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .int(self) }
    public static func from(_ v: SQLValue) -> Int64? {
        switch v {
        case .int(let i): i
        case .text(let s): Int64(s)
        case .null: nil
        }
    }
    public static var fallback: Int64 { 0 }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .int(Int64(self)) }
    public static func from(_ v: SQLValue) -> Int? { Int64.from(v).map { Int($0) } }
    public static var fallback: Int { 0 }
}

extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .int(self ? 1 : 0) }
    public static func from(_ v: SQLValue) -> Bool? { Int64.from(v).map { $0 != 0 } }
    public static var fallback: Bool { false }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
    public static func from(_ v: SQLValue) -> Wrapped?? {
        if case .null = v { return .some(nil) }
        return Wrapped.from(v).map { .some($0) }
    }
    public static var fallback: Wrapped? { nil }
}

/// The arguments of a statement, in the order of its `?` placeholders.
public struct SQLArguments: ExpressibleByArrayLiteral, Sendable {
    public var values: [SQLValue]
    public init(_ values: [SQLValue]) { self.values = values }
    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }
}

/// What a transaction that commits several queued writes (PostgreSQL's `Link.batch`) has read
/// or written so far, for the writes after the first. Every statement there is a round trip made
/// under every replica's write lock; the second write of a batch need not ask again for the audit
/// chain's last link (its own batch wrote it) or for what other replicas changed (nobody else
/// can write while the lock is held). Used on the writer's one thread only.
public final class TransactionNotes: @unchecked Sendable {
    /// The audit chain's last link: as read, then as each audit entry written leaves it.
    public internal(set) var lastLink: (seq: Int64, hash: String)?
    /// The endpoint rows other replicas changed after `from`, read by the first write (nil rows
    /// when nothing had changed). They are handed on with later writes too, because the first
    /// write may have been refused, and only a committed write's rows reach memory.
    var caughtUp: (from: Int64, rows: (bodies: [String: String?], seq: Int64)?)?

    public init() {}
}

/// One result row, by column name.
public struct StoreRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public func value(_ column: String) -> SQLValue {
        guard let i = columns.firstIndex(of: column) else { return .null }
        return values[i]
    }

    public subscript<T: SQLValueConvertible>(_ column: String) -> T {
        T.from(value(column)) ?? T.fallback
    }

    /// The first column, for single-value queries.
    public var first: SQLValue { values.first ?? .null }
}

/// Where SQLite and PostgreSQL spell a thing differently. Everything else is the shared subset:
/// `?` placeholders (the PostgreSQL backend numbers them), BIGINT-compatible integers, TEXT.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A top-level text field of a JSON text column.
    func jsonField(_ column: String, _ field: String) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), '$.\(field)')"
        case .postgres: "(\(column)::jsonb ->> '\(field)')"
        }
    }
}

/// An open transaction (or, for reads, a consistent snapshot) on the registry's database. The
/// domain logic of every change runs on this, written once; the backend decides how a
/// transaction begins, how writers are serialised and where the statements go.
public protocol StoreDB: AnyObject {
    var dialect: SQLDialect { get }
    func fetchRows(_ sql: String, _ arguments: SQLArguments) throws -> [StoreRow]
    /// Runs a statement; returns how many rows it changed.
    @discardableResult func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int
    /// Runs `body` in a savepoint: when it throws, only its own writes are undone.
    func inSavepoint(_ body: () throws -> Void) throws
    /// The next id of the rollout table (its ids are never reused, even after a rollback).
    func nextRolloutID() throws -> Int64
    /// A read this transaction is about to make, by the same SQL and arguments: a backend over
    /// the network may make it with others, so that several reads cost one round trip. A write in
    /// between makes it be read again, unless the read is `about` one subject (an endpoint's name)
    /// and the write was made `writing(about:)` another.
    func prefetch(_ sql: String, _ arguments: SQLArguments, about subject: String?)
    /// Runs `body`, whose writes change only rows about `subject` (as `prefetch` names them).
    func writing(about subject: String, _ body: () throws -> Void) throws
    /// Runs a write whose count nobody reads: a backend over the network may send it without
    /// waiting, and its failure is then reported by the next statement that waits, or the commit.
    func executeUnanswered(_ sql: String, _ arguments: SQLArguments) throws
    /// What this transaction already knows that its later writes would otherwise read again;
    /// nil where every write has a transaction of its own.
    var notes: TransactionNotes? { get }
}

extension StoreDB {
    public func prefetch(_ sql: String, _ arguments: SQLArguments, about subject: String?) {}
    public func prefetch(_ sql: String, _ arguments: SQLArguments) { prefetch(sql, arguments, about: nil) }
    public func writing(about subject: String, _ body: () throws -> Void) throws { try body() }
    public var notes: TransactionNotes? { nil }
    public func executeUnanswered(_ sql: String, _ arguments: SQLArguments) throws { _ = try execute(sql, arguments) }
}

extension StoreDB {
    @discardableResult public func execute(sql: String, arguments: SQLArguments = []) throws -> Int {
        try execute(sql, arguments)
    }
}

extension StoreRow {
    public static func fetchAll(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> [StoreRow] {
        try db.fetchRows(sql, arguments)
    }
    public static func fetchOne(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> StoreRow? {
        try db.fetchRows(sql, arguments).first
    }
}

extension SQLValueConvertible {
    /// The first column of the first row; nil when there is no row or it is NULL.
    public static func fetchOne(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.fetchRows(sql, arguments).first else { return nil }
        return from(row.first)
    }
    public static func fetchAll(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchRows(sql, arguments).compactMap { from($0.first) }
    }
}

/// Where the registry's rows live: runs reads and serialised write transactions. SQLite (GRDB)
/// is the embedded default; PostgreSQL (the TowerStorePostgres target) serves several replicas.
public protocol StoreBackend: Sendable {
    var dialect: SQLDialect { get }
    /// A short description for logs and errors ("sqlite /path", "postgres host:port/db").
    var location: String { get }
    /// Applies pending migrations; returns every applied migration's name. Refuses a database
    /// whose schema is newer than this binary, writing nothing.
    func migrate() throws -> [String]
    func read<T>(_ body: (any StoreDB) throws -> T) throws -> T
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreDB) throws -> T) async throws -> T
    /// One transaction, serialised against every other writer of the database (every replica).
    /// `afterCommit` runs after the commit, still in the writers' order on this process.
    /// `announcing` makes the body's first reads known (`StoreDB.prefetch`) before it runs: a
    /// backend that commits several queued writes in one transaction reads them for all at once.
    func write<T: Sendable>(announcing: (@Sendable (any StoreDB) -> Void)?, _ body: @escaping @Sendable (any StoreDB) throws -> T,
                            afterCommit: @escaping @Sendable (T) -> Void) async throws -> T
    @discardableResult func write<T>(_ body: (any StoreDB) throws -> T) throws -> T
    /// Several reads of one snapshot, each's rows in order: a backend over the network makes
    /// them one statement, without a transaction around it.
    func readSnapshot(_ reads: [(sql: String, arguments: SQLArguments)]) async throws -> [[StoreRow]]
    func close() throws
}

extension StoreBackend {
    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreDB) throws -> T,
                                   afterCommit: @escaping @Sendable (T) -> Void) async throws -> T {
        try await write(announcing: nil, body, afterCommit: afterCommit)
    }

    public func readSnapshot(_ reads: [(sql: String, arguments: SQLArguments)]) async throws -> [[StoreRow]] {
        let reads = reads.map { SnapshotRead(sql: $0.sql, arguments: $0.arguments) }
        return try await read { db in try reads.map { try db.fetchRows($0.sql, $0.arguments) } }
    }
}

private struct SnapshotRead: Sendable {
    let sql: String
    let arguments: SQLArguments
}

/// The database could not be reached (down, restarting, the network). The request is not
/// acknowledged; routes answer 503 with this sentence.
public struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    public var detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}
