import Foundation
import TowerRegistry

/// `tower-registry migrate --from-sqlite DIR --store URL`: every row of an SQLite registry into an
/// empty PostgreSQL one, in one transaction, the audit chain verified before and after.
public enum SQLiteImport {
    /// Copied in this order; the registry's own identity replaces the one the new database made,
    /// so bundles it exported keep naming the same source.
    static let tables = ["endpoint", "revision", "audit", "token", "rollout", "evaluation", "promotion_import"]

    public static func copy(from source: any StoreBackend, to destination: any StoreBackend) throws -> (rows: Int, auditEntries: Int) {
        if let broken = try RegistryStore.verifyAudit(source) {
            throw PostgresStoreError("the SQLite registry's audit chain is broken, so it is not copied: \(broken.description)")
        }
        let copied = try destination.write { db -> (Int, Int) in
            for t in tables + ["registry_identity"] where t != "registry_identity" {
                if let n = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM \(t)"), n > 0 {
                    throw PostgresStoreError("the destination already holds \(n) rows in \(t); --from-sqlite copies only into an empty database")
                }
            }
            var rows = 0
            for t in tables {
                let sourceRows = try source.read { src in try StoreRow.fetchAll(src, sql: "SELECT * FROM \(t)") }
                for row in sourceRows {
                    let marks = Array(repeating: "?", count: row.columns.count).joined(separator: ", ")
                    try db.execute("INSERT INTO \(t) (\(row.columns.joined(separator: ", "))) VALUES (\(marks))", SQLArguments(row.values))
                    rows += 1
                }
            }
            if let id = try source.read({ src in try String.fetchOne(src, sql: "SELECT id FROM registry_identity WHERE singleton = 1") }) {
                try db.execute("UPDATE registry_identity SET id = ? WHERE singleton = 1", [id])
            }
            // Ids keep counting from where SQLite left them, never reused.
            for t in ["rollout", "evaluation"] {
                try db.execute("SELECT setval('\(t)_id_seq', GREATEST((SELECT COALESCE(MAX(id), 0) FROM \(t)), 1), (SELECT COUNT(*) > 0 FROM \(t)))", [])
            }
            if let sqliteNext = try source.read({ src in try Int64.fetchOne(src, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'rollout'") }), sqliteNext > 0 {
                try db.execute("SELECT setval('rollout_id_seq', ?)", [sqliteNext])
            }
            let audit = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0
            return (rows, Int(audit))
        }
        if let broken = try RegistryStore.verifyAudit(destination) {
            throw PostgresStoreError("the copy's audit chain does not verify: \(broken.description)")
        }
        return copied
    }
}
