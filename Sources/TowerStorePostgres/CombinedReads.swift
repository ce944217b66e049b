import PostgresNIO
import TowerRegistry

/// Several reads announced together (`StoreDB.prefetch`) as one statement.
///
/// Why: PostgresNIO runs one statement at a time per connection, each a round trip that waits
/// for the previous one's answer, so "sending reads ahead" saved thread wake-ups but not round
/// trips. A write transaction holds every replica's write lock across its round trips (the
/// server's statement log, 2026-11-29: 8.7 ms held per transaction, mostly the gaps between its
/// statements), so its reads (the last audit link, what other replicas wrote, the endpoint to
/// change) go as one statement. One statement also reads one snapshot, as the separate reads
/// did under the lock.
///
/// Each read becomes a branch that turns its rows into JSON objects (`row_to_json`, whatever
/// their columns), and `json_each` opens them again as (read, row, column, type, text) in order,
/// so the shared SQL needs no change and the rows come back by column name and kind: numbers as
/// integers, strings as text, SQL NULL as null.
enum CombinedReads {
    static func sql(_ reads: [String]) -> String {
        let branches = reads.enumerated().map { i, sql in
            "SELECT \(i) AS q, row_number() OVER () AS n, row_to_json(t) AS r FROM (\(sql)) t"
        }
        return """
            SELECT c.q, c.n, e.key, json_typeof(e.value) AS kind, e.value #>> '{}' AS text
            FROM (\(branches.joined(separator: " UNION ALL "))) c
            CROSS JOIN LATERAL json_each(c.r) WITH ORDINALITY AS e(key, value, i)
            ORDER BY c.q, c.n, e.i
            """
    }

    /// The rows of each read, in order, from the combined statement's answer.
    static func rows(_ result: PostgresQueryResult, reads: Int) throws -> [[StoreRow]] {
        var out = [[StoreRow]](repeating: [], count: reads)
        var current: (q: Int64, n: Int64)? = nil
        var columns: [String] = [], values: [SQLValue] = []
        func flush() {
            guard let c = current, c.q >= 0, c.q < Int64(reads) else { return }
            out[Int(c.q)].append(StoreRow(columns: columns, values: values))
        }
        for row in result.rows {
            let (q, n, key, kind, text) = try row.decode((Int64, Int64, String, String, String?).self)
            if current.map({ $0.q != q || $0.n != n }) ?? true {
                flush()
                current = (q, n)
                columns = []
                values = []
            }
            columns.append(key)
            values.append(value(kind: kind, text: text))
        }
        flush()
        return out
    }

    static func value(kind: String, text: String?) -> SQLValue {
        guard let text else { return .null }
        switch kind {
        case "null": return .null
        case "number": return Int64(text).map(SQLValue.int) ?? .text(text)
        case "boolean": return .int(text == "true" ? 1 : 0)
        default: return .text(text)
        }
    }
}
