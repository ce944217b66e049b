import Foundation
import Testing
import TowerRegistry
@testable import TowerStorePostgres

/// The PostgreSQL store prepares its statements once per connection (`PreparedStatements`) and
/// runs them with EXECUTE, whose arguments are written as literals.
@Suite struct PreparedStatementsTests {
    @Test func textIsAnEscapeStringWithBackslashAndQuoteDoubled() {
        #expect(PreparedStatements.literal("plain") == "E'plain'")
        #expect(PreparedStatements.literal(#"it's"#) == #"E'it''s'"#)
        #expect(PreparedStatements.literal(#"a\b"#) == #"E'a\\b'"#)
        #expect(PreparedStatements.literal(#"\'); DROP TABLE audit; --"#) == #"E'\\''); DROP TABLE audit; --'"#)
        #expect(PreparedStatements.literal("a\u{0}b") == nil, "NUL cannot be in a literal: such text goes with binds")
        #expect(PreparedStatements.literals(SQLArguments([.int(-5), .null, .text("x")])) == "-5, NULL, E'x'")
        #expect(PreparedStatements.literals(SQLArguments([.text("a\u{0}")])) == nil)
    }

    @Test func onlyStatementsPrepareTakesArePrepared() {
        for sql in ["SELECT 1", "  select x FROM t", "WITH e AS (SELECT 1 AS a) SELECT a FROM e", "INSERT INTO t VALUES (?)",
                    "UPDATE t SET a = ?", "DELETE FROM t", "VALUES (1)", "(SELECT 1)"] {
            #expect(PreparedStatements.preparable(sql), "\(sql)")
        }
        #expect(PreparedStatements.preparable("SELECT COUNT(*) FROM audit"))
        for sql in ["BEGIN", "COMMIT", "SAVEPOINT tower_write", "CREATE TABLE t (a int)", "SELECTED", "PREPARE x AS SELECT 1", "",
                    "SELECT * FROM audit WHERE seq > ?", "SELECT r.* FROM revision r"] {
            #expect(!PreparedStatements.preparable(sql), "\(sql)")
        }
    }

    /// Text that means something to SQL, stored and read back through prepared statements: the
    /// same text comes back, under either setting of `standard_conforming_strings` (which changes
    /// what a backslash means in an ordinary string, not in an escape string).
    @Test(.enabled(if: StoreKind.available.contains(.postgres)),
          arguments: ["on", "off"])
    func awkwardTextRoundTripsUnchanged(conformingStrings: String) async throws {
        let awkward = [#"it's"#, #"a\b"#, #"\'"#, #"'; DROP TABLE token; --"#, "$$ $tag$ ?", "naïve 日本 🚀", "tab\there\nnewline", #"\\"#, ""]
        let (back, count) = try await offThePool { () -> ([String], Int64?) in
            let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
            defer { try? backend.close() }
            _ = try backend.migrate()
            return try backend.write { db in
                try db.execute(sql: "SET standard_conforming_strings = \(conformingStrings)", arguments: [])
                for (i, text) in awkward.enumerated() {
                    try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES (?, ?, 'viewer', ?, ?)",
                                   arguments: ["id\(i)", text, "h\(i)", Int64(i)])
                }
                let back = try StoreRow.fetchAll(db, sql: "SELECT name FROM token WHERE created_ms >= ? AND name <> ? ORDER BY created_ms",
                                                 arguments: [0, "\u{1}"]).map { $0["name"] as String }
                return (back, try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM token"))
            }
        }
        #expect(back == awkward)
        #expect(count == Int64(awkward.count), "nothing but the rows written")
    }

    /// A statement is prepared once per connection: used again, it is executed, not prepared again
    /// (the server lists it once); a changed argument type is a statement of its own. Rows changed
    /// still come back, as from the statement itself.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aStatementIsPreparedOncePerConnection() async throws {
        let insert = "INSERT INTO token (id, name, role, hash, created_ms, revoked_ms) VALUES (?, ?, 'viewer', ?, 0, ?)"
        let (changed, prepared) = try await offThePool { () -> ([Int], [String]) in
            let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
            defer { try? backend.close() }
            _ = try backend.migrate()
            return try backend.write { db -> ([Int], [String]) in
                var changed: [Int] = []
                for i in 0..<5 {
                    changed.append(try db.execute(sql: insert, arguments: ["id\(i)", "n\(i)", "h\(i)", i == 4 ? Int64(1) : nil]))
                }
                changed.append(try db.execute(sql: "UPDATE token SET revoked_ms = ? WHERE revoked_ms IS NULL", arguments: [7]))
                let prepared = try StoreRow.fetchAll(db, sql: "SELECT statement FROM pg_prepared_statements ORDER BY statement")
                    .map { $0["statement"] as String }
                return (changed, prepared)
            }
        }
        #expect(changed == [1, 1, 1, 1, 1, 4])
        let inserts = prepared.filter { $0.contains("INSERT INTO token") }
        #expect(inserts.count == 2, "one for a NULL revoked_ms, one for a number: \(inserts)")
        #expect(prepared.filter { $0.contains("UPDATE token") }.count == 1)
    }

    /// A PREPARE the server ignored (sent in a transaction already failed) is made again on the
    /// next use instead of being taken as made.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aPrepareLostInAFailedTransactionIsMadeAgain() async throws {
        let count = "SELECT COUNT(*) FROM token WHERE role = ?"
        let (failed, n) = try await offThePool { () -> (Bool, Int64?) in
            let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
            defer { try? backend.close() }
            _ = try backend.migrate()
            var failed = false
            do {
                try backend.write { db in
                    _ = try? db.execute(sql: "SELECT no_such_column FROM token", arguments: [])
                    // The transaction is failed: this PREPARE is ignored, and the statement with it.
                    _ = try Int64.fetchOne(db, sql: count, arguments: ["viewer"])
                }
            } catch {
                failed = true
            }
            // On the same connection (the writer's), where the PREPARE was lost.
            return (failed, try backend.write { db in try Int64.fetchOne(db, sql: count, arguments: ["viewer"]) })
        }
        #expect(failed)
        #expect(n == 0)
    }

    /// A column added by a newer binary's migration while this one runs (several replicas,
    /// upgraded one at a time): reads of `*` go on, with the new column, instead of failing for
    /// as long as the connection lives.
    @Test(.enabled(if: StoreKind.available.contains(.postgres)))
    func aColumnAddedMeanwhileDoesNotBreakReadsOfEveryColumn() async throws {
        let (before, after) = try await offThePool { () -> ([String], [String]) in
            let backend = try PostgresBackend(url: try TestPostgres.makeDatabase(), password: nil)
            defer { try? backend.close() }
            _ = try backend.migrate()
            let read = "SELECT * FROM token WHERE created_ms >= ? ORDER BY name"
            try backend.write { db in
                try db.execute(sql: "INSERT INTO token (id, name, role, hash, created_ms) VALUES ('a', 'a', 'viewer', 'h', 0)", arguments: [])
            }
            let before = try backend.write { db in try StoreRow.fetchAll(db, sql: read, arguments: [0]).first?.columns ?? [] }
            try backend.write { db in try db.execute(sql: "ALTER TABLE token ADD COLUMN note TEXT", arguments: []) }
            let after = try backend.write { db in try StoreRow.fetchAll(db, sql: read, arguments: [0]).first?.columns ?? [] }
            return (before, after)
        }
        #expect(!before.isEmpty)
        #expect(after == before + ["note"])
    }
}
