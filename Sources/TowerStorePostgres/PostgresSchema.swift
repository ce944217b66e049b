import Foundation
import TowerDomain
import TowerRegistry

/// The registry's tables on PostgreSQL: the same columns as SQLite's (Schema.swift) after all its
/// migrations, integers as BIGINT. Migrations are append-only, named in `tower_schema`; a database
/// naming one this binary does not know was written by a newer binary and is refused unchanged.
enum PostgresSchema {
    static let migrations: [(name: String, statements: [String])] = [
        ("pg-v1", [
            """
            CREATE TABLE endpoint (
                name TEXT PRIMARY KEY NOT NULL,
                revision BIGINT NOT NULL,
                created_revision BIGINT NOT NULL,
                last_seq BIGINT NOT NULL,
                body TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE revision (
                endpoint TEXT NOT NULL, revision BIGINT NOT NULL, time_ms BIGINT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, reason TEXT NOT NULL, summary TEXT NOT NULL, body TEXT NOT NULL,
                PRIMARY KEY (endpoint, revision)
            )
            """,
            """
            CREATE TABLE audit (
                seq BIGINT PRIMARY KEY NOT NULL, time_ms BIGINT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
                action TEXT NOT NULL, endpoint TEXT NOT NULL, version TEXT, from_revision BIGINT NOT NULL,
                to_revision BIGINT NOT NULL, reason TEXT NOT NULL, weights_before TEXT NOT NULL, weights_after TEXT NOT NULL,
                override BIGINT NOT NULL, summary TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
                slo_before TEXT, slo_after TEXT, baseline_before TEXT, baseline_after TEXT, judge_before TEXT, judge_after TEXT,
                bundle_sha256 TEXT, signer_key TEXT, source_registry TEXT
            )
            """,
            "CREATE INDEX audit_by_endpoint ON audit (endpoint, seq)",
            // Append-only, enforced by the database as well as by the hash chain: no role that the
            // registry connects as can edit or remove evidence without dropping the trigger first.
            """
            CREATE FUNCTION tower_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the % table is append-only', TG_TABLE_NAME; END $$
            """,
            "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION tower_append_only()",
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION tower_append_only()",
            """
            CREATE TABLE token (
                id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                created_ms BIGINT NOT NULL, revoked_ms BIGINT
            )
            """,
            """
            CREATE TABLE rollout (
                id BIGSERIAL PRIMARY KEY, endpoint TEXT NOT NULL, active BIGINT NOT NULL, started_ms BIGINT NOT NULL, body TEXT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX rollout_one_active ON rollout (endpoint) WHERE active = 1",
            "CREATE INDEX rollout_by_endpoint ON rollout (endpoint, id)",
            """
            CREATE TABLE evaluation (
                id BIGSERIAL PRIMARY KEY, endpoint TEXT NOT NULL, version TEXT NOT NULL, artifact_digest TEXT NOT NULL,
                sha256 TEXT NOT NULL, body TEXT NOT NULL, submitted_by TEXT NOT NULL, submitted_ms BIGINT NOT NULL,
                gate TEXT NOT NULL, gate_summary TEXT NOT NULL
            )
            """,
            "CREATE INDEX evaluation_by_version ON evaluation (endpoint, version, id)",
            "CREATE TRIGGER evaluation_no_update BEFORE UPDATE ON evaluation FOR EACH ROW EXECUTE FUNCTION tower_append_only()",
            """
            CREATE TABLE registry_identity (
                singleton BIGINT PRIMARY KEY NOT NULL CHECK (singleton = 1), id TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE promotion_import (
                bundle_id TEXT PRIMARY KEY NOT NULL, bundle_sha256 TEXT NOT NULL, signer TEXT NOT NULL,
                source_registry TEXT NOT NULL, endpoint TEXT NOT NULL, version TEXT NOT NULL,
                imported_ms BIGINT NOT NULL, audit_seq BIGINT NOT NULL
            )
            """,
        ]),
    ]

    /// Applies what is missing, in one transaction under the migration lock; returns every
    /// applied migration's name.
    static func migrate(_ link: Link) throws -> [String] {
        let db = PGDB(link: link, connection: try link.connection())
        try db.run("BEGIN")
        do {
            try db.run("SELECT pg_advisory_xact_lock(\(PostgresBackend.migrateLockKey))")
            try db.run("CREATE TABLE IF NOT EXISTS tower_schema (name TEXT PRIMARY KEY NOT NULL, applied_ms BIGINT NOT NULL)")
            let applied = try String.fetchAllNames(db)
            let known = Set(migrations.map(\.name))
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw SchemaTooNew("the database at \(link.url.display) was written by a newer tower-registry (migration '\(unknown)' is unknown to this binary); run that version or newer")
            }
            for m in migrations where !applied.contains(m.name) {
                for s in m.statements { try db.run(s) }
                if m.name == "pg-v1" {
                    var random = SystemRandomNumberGenerator()
                    let id = "reg-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255, using: &random) })
                    try db.execute("INSERT INTO registry_identity (singleton, id) VALUES (1, ?)", [id])
                }
                try db.execute("INSERT INTO tower_schema (name, applied_ms) VALUES (?, ?)", [m.name, Timestamp.ms(Date())])
            }
            let all = try String.fetchAllNames(db)
            try db.run("COMMIT")
            return all
        } catch {
            if !db.connection.isClosed { try? db.run("ROLLBACK") }
            throw error
        }
    }
}

extension String {
    static func fetchAllNames(_ db: PGDB) throws -> [String] {
        try db.fetchRows("SELECT name FROM tower_schema ORDER BY applied_ms, name", []).map { $0["name"] }
    }
}
