import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import TowerRegistry

/// An open transaction on one connection, as the shared code sees it.
final class PGDB: StoreDB {
    let link: Link
    let connection: PostgresConnection
    private var savepoints = 0
    var dialect: SQLDialect { .postgres }
    /// One per transaction: a batch that is rolled back and run again starts on a new PGDB.
    let notes: TransactionNotes? = TransactionNotes()

    init(link: Link, connection: PostgresConnection) {
        self.link = link
        self.connection = connection
    }

    /// Statements sent without waiting for their answers (BEGIN, a write nobody reads the count
    /// of), each with the write of a batch that sent it: PostgresNIO runs a connection's
    /// statements in order, so the next waited-for one finishes after them.
    private var sent: [(owner: Int, answer: EventLoopFuture<PostgresQueryResult>)] = []
    /// The first of those that failed: the transaction is aborted and must not commit.
    private(set) var brokenBy: (any Error)?
    /// Which write of a batch (`Link.batch`) is running; `refusedOwner` names the one whose
    /// unanswered statement the server refused, which may be noticed while a later one runs.
    var owner = 0
    private(set) var refusedOwner: Int?

    /// Reads announced (`prefetch`) and not yet made: the first of them fetched makes them all,
    /// as one statement (`CombinedReads`). A write in between drops them, and their answers,
    /// except those about another subject than the write's (`writing(about:)`).
    private var announced: [(key: Prefetch, subject: String?, sql: String, arguments: SQLArguments)] = []
    private var answered: [Prefetch: (subject: String?, rows: [StoreRow])] = [:]
    struct Prefetch: Hashable { let sql: String; let values: [SQLValue] }
    /// What the writes now being made are about; nil: anything.
    private var writingAbout: String?

    /// Counted for `Link.batch`: whether a write's body changed anything (or sent anything other
    /// than reads), and whether the server refused one of its statements.
    private(set) var wrote = 0
    private(set) var refused = 0

    func run(_ sql: String) throws {
        dropPrefetched()
        wrote += 1
        _ = try query(sql, SQLArguments([]))
    }

    func send(_ sql: String) {
        dropPrefetched()
        wrote += 1
        guard let q = try? statement(sql, []) else { return }
        sent.append((owner, connection.query(q, logger: link.logger)))
    }

    func executeUnanswered(_ sql: String, _ arguments: SQLArguments) throws {
        dropPrefetched()
        wrote += 1
        sent.append((owner, try connection.query(statement(sql, arguments), logger: link.logger)))
    }

    func prefetch(_ sql: String, _ arguments: SQLArguments, about subject: String?) {
        let key = Prefetch(sql: sql, values: arguments.values)
        guard answered[key] == nil, !announced.contains(where: { $0.key == key }) else { return }
        announced.append((key, subject, sql, arguments))
    }

    /// `reads` as one statement (or the one read alone), each's rows in order.
    func fetchTogether(_ reads: [(sql: String, arguments: SQLArguments)]) throws -> [[StoreRow]] {
        if reads.count == 1 { return [try rows(query(reads[0].sql, reads[0].arguments))] }
        let result = try query(CombinedReads.sql(reads.map(\.sql)), SQLArguments(reads.flatMap(\.arguments.values)))
        return try CombinedReads.rows(result, reads: reads.count)
    }

    /// Makes every announced read, in one statement when there are several.
    private func readAnnounced() throws {
        let reads = announced
        announced = []
        let answers = try fetchTogether(reads.map { ($0.sql, $0.arguments) })
        for (read, rows) in zip(reads, answers) { answered[read.key] = (read.subject, rows) }
    }

    /// The statement to send: the prepared form when there is one (`PreparedStatements`).
    private func statement(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQuery {
        try link.statements.query(sql, arguments, on: connection, logger: link.logger) { sent.append((owner, $0)) }
    }

    func writing(about subject: String, _ body: () throws -> Void) throws {
        let outer = writingAbout
        writingAbout = subject
        defer { writingAbout = outer }
        try body()
    }

    /// A write is coming: reads announced before it would not see it, unless they are about
    /// something else than it is.
    private func dropPrefetched() {
        guard let subject = writingAbout else {
            announced = []
            answered = [:]
            return
        }
        announced.removeAll { $0.subject == nil || $0.subject == subject }
        answered = answered.filter { $0.value.subject != nil && $0.value.subject != subject }
    }

    /// Waits for the statements sent before (already answered, when called after a later one).
    private func settle() throws {
        let pending = sent
        sent = []
        for (owner, f) in pending {
            do { _ = try f.wait() } catch {
                if connection.isClosed { link.broke() }
                refused += 1
                if refusedOwner == nil { refusedOwner = owner }
                let e = PostgresErrors.describe(error, url: link.url, connecting: false)
                if brokenBy == nil { brokenBy = e }
                throw e
            }
        }
        if let brokenBy { throw brokenBy }
    }

    static func postgresQuery(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQuery {
        PostgresQuery(unsafeSQL: Self.numbered(sql), binds: try bindings(arguments))
    }

    static func bindings(_ arguments: SQLArguments) throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for v in arguments.values {
            switch v {
            case .null: binds.appendNull()
            case .int(let i): try binds.append(i)
            case .text(let s): try binds.append(s)
            }
        }
        return binds
    }

    func query(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        let future = try connection.query(statement(sql, arguments), logger: link.logger)
        let result = Result { try future.wait() }
        // A statement sent before that failed is the cause of whatever this one says.
        try settle()
        switch result {
        case .success(let r): return r
        case .failure(let error):
            if connection.isClosed { link.broke() }
            refused += 1
            throw PostgresErrors.describe(error, url: link.url, connecting: false)
        }
    }

    func fetchRows(_ sql: String, _ arguments: SQLArguments) throws -> [StoreRow] {
        let key = Prefetch(sql: sql, values: arguments.values)
        if answered[key] == nil, announced.contains(where: { $0.key == key }) { try readAnnounced() }
        if let answer = answered.removeValue(forKey: key) { return answer.rows }
        return try rows(query(sql, arguments))
    }

    private func rows(_ result: PostgresQueryResult) throws -> [StoreRow] {
        var out: [StoreRow] = []
        var columns: [String]? = nil
        for row in result.rows {
            var values: [SQLValue] = []
            var names: [String] = []
            for cell in row {
                if columns == nil { names.append(cell.columnName) }
                values.append(try Self.value(cell))
            }
            if columns == nil { columns = names }
            out.append(StoreRow(columns: columns ?? [], values: values))
        }
        return out
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        dropPrefetched()
        wrote += 1
        return try query(sql, arguments).metadata.rows ?? 0
    }

    func inSavepoint(_ body: () throws -> Void) throws {
        savepoints += 1
        let name = "tower_sp\(savepoints)"
        try run("SAVEPOINT \(name)")
        do {
            try body()
            try run("RELEASE SAVEPOINT \(name)")
        } catch {
            if !connection.isClosed { try? run("ROLLBACK TO SAVEPOINT \(name)"); try? run("RELEASE SAVEPOINT \(name)") }
            throw error
        }
    }

    func nextRolloutID() throws -> Int64 {
        try Int64.from(fetchRows("SELECT nextval('rollout_id_seq')", []).first?.values.first ?? .null) ?? 1
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }

    /// `?` placeholders (the shared SQL) as PostgreSQL's `$1, $2, …`; a `?` inside a quoted
    /// literal stays.
    static func numbered(_ sql: String) -> String {
        var out = "", n = 0, quoted = false
        out.reserveCapacity(sql.utf8.count + 8)
        for ch in sql {
            if ch == "'" { quoted.toggle() }
            if ch == "?" && !quoted { n += 1; out += "$\(n)" } else { out.append(ch) }
        }
        return out
    }
}
