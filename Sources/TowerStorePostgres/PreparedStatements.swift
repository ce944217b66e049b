import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TowerRegistry

/// The statements prepared on one connection, so PostgreSQL plans each of them once per
/// connection instead of once per use.
///
/// Why by hand: PostgresNIO sends every query as an unnamed statement, which the server parses,
/// analyses and plans again each time; under a stream of changes that was about 40 % of
/// PostgreSQL's CPU (perf, 2026-11-29: `GetCachedPlan` 25 %, parsing and analysis 15 %), the same
/// dozen statements planned over and over. PostgresNIO prepares statements only for types that
/// name their SQL statically (`PostgresPreparedStatement`), and the registry's shared code builds
/// its SQL as strings for both databases, so this uses SQL's own `PREPARE … AS` once per
/// connection, SQL and argument types, and `EXECUTE name(arguments)` after: the rows and the command
/// tag (rows changed) come back as from the statement itself.
///
/// Parameters are declared with the types the unnamed path would have bound (bigint, text), so
/// a statement means the same either way; a NULL argument is declared `unknown`, which lets the
/// server infer the type from where the parameter is used, as it does for a NULL bind. EXECUTE
/// is a utility statement, which the protocol's bind parameters do not reach ("there is no
/// parameter $1"), so its arguments are written as literals (`literal`): integers in decimal,
/// text as an escape string, where a backslash and a quote are the only characters with a
/// meaning and both are doubled, whatever `standard_conforming_strings` says. Text holding NUL
/// (which PostgreSQL refuses in text anyway) goes the unnamed way, with binds.
struct PreparedStatements {
    private struct Key: Hashable {
        let sql: String
        let types: [Kind]
    }

    private enum Kind: Hashable {
        case int, text, unknown
        var sql: String {
            switch self {
            case .int: "bigint"
            case .text: "text"
            case .unknown: "unknown"
            }
        }
    }

    /// Set by the event loop when a PREPARE failed (an aborted transaction ignores it, say): the
    /// name was never made, and the next use prepares it again.
    final class Preparation: Sendable {
        let name: String
        private let failedFlag = Atomic<Bool>(false)
        var failed: Bool { failedFlag.load(ordering: .acquiring) }
        init(name: String) { self.name = name }
        func fail() { failedFlag.store(true, ordering: .releasing) }
    }

    private var prepared: [Key: Preparation] = [:]
    private var next = 0

    /// Statements built from values rather than from a fixed text (an import's `setval` per
    /// table) would each take a slot; past this many, a connection runs new ones unnamed.
    static let limit = 256

    /// The query to send for `sql`: an EXECUTE of its prepared form, after sending (not waiting
    /// for) the PREPARE when this connection has not prepared it yet. `sent` gets the PREPARE's
    /// answer, so a failure there is reported as the cause of whatever follows.
    mutating func query(_ sql: String, _ arguments: SQLArguments, on connection: PostgresConnection, logger: Logger,
                        sent: (EventLoopFuture<PostgresQueryResult>) -> Void) throws -> PostgresQuery {
        guard let literals = Self.literals(arguments) else { return try PGDB.postgresQuery(sql, arguments) }
        let key = Key(sql: sql, types: arguments.values.map(Self.kind))
        var preparation = prepared[key]
        if preparation == nil || preparation?.failed == true {
            guard preparation != nil || (prepared.count < Self.limit && Self.preparable(sql)) else {
                return try PGDB.postgresQuery(sql, arguments)
            }
            let p = preparation ?? Preparation(name: "tower_q\(nextNumber())")
            let types = key.types.isEmpty ? "" : " (" + key.types.map(\.sql).joined(separator: ", ") + ")"
            let future = connection.query(PostgresQuery(unsafeSQL: "PREPARE \(p.name)\(types) AS \(PGDB.numbered(sql))"), logger: logger)
            future.whenFailure { _ in p.fail() }
            sent(future)
            prepared[key] = p
            preparation = p
        }
        guard let name = preparation?.name else { return try PGDB.postgresQuery(sql, arguments) }
        return PostgresQuery(unsafeSQL: literals.isEmpty ? "EXECUTE \(name)" : "EXECUTE \(name)(\(literals))")
    }

    /// The arguments as SQL literals, comma-separated; nil when one cannot be written as one.
    static func literals(_ arguments: SQLArguments) -> String? {
        var out = ""
        for (i, v) in arguments.values.enumerated() {
            if i > 0 { out += ", " }
            switch v {
            case .null: out += "NULL"
            case .int(let n): out += String(n)
            case .text(let s):
                guard let l = literal(s) else { return nil }
                out += l
            }
        }
        return out
    }

    /// `s` as an escape string constant (E'…'): backslash and quote doubled, nothing else changed.
    static func literal(_ s: String) -> String? {
        // Most text (names, hashes, JSON without quotes in it) has neither: copied whole.
        if !s.utf8.contains(where: { $0 == 0x27 || $0 == 0x5C || $0 == 0 }) { return "E'" + s + "'" }
        var out = "E'"
        out.reserveCapacity(s.utf8.count + 4)
        for u in s.unicodeScalars {
            switch u {
            case "\0": return nil
            case "\\": out += "\\\\"
            case "'": out += "''"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "'"
    }

    private mutating func nextNumber() -> Int {
        next += 1
        return next
    }

    private static func kind(_ v: SQLValue) -> Kind {
        switch v {
        case .null: .unknown
        case .int: .int
        case .text: .text
        }
    }

    /// PREPARE takes SELECT, INSERT, UPDATE, DELETE, MERGE and VALUES (a WITH is one of them);
    /// transaction control, DDL and the rest run unnamed. So does a statement whose columns are
    /// `*`: a newer binary's migration that adds a column would change its result type, which a
    /// prepared statement refuses ("cached plan must not change result type") for as long as the
    /// connection lives, while an unnamed one simply returns the new column to a replica that
    /// reads its rows by name. (`COUNT(*)` keeps its type.)
    static func preparable(_ sql: String) -> Bool {
        let bytes = Array(sql.utf8)
        for (i, ch) in bytes.enumerated() where ch == UInt8(ascii: "*") {
            let counted = i > 0 && bytes[i - 1] == UInt8(ascii: "(") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: ")")
            if !counted { return false }
        }
        var word = ""
        for ch in sql.utf8 {
            if ch == 32 || ch == 10 || ch == 9 || ch == 13 || ch == 40 {
                if word.isEmpty { continue }
                break
            }
            word.append(Character(Unicode.Scalar(ch)))
            if word.count > 6 { break }
        }
        switch word.uppercased() {
        case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES": return true
        default: return false
        }
    }
}
