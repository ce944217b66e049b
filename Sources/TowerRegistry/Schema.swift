import GRDB
import TowerDomain

/// The registry's tables. Migrations are append-only: a shipped migration is never edited.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE endpoint (
                    name TEXT PRIMARY KEY NOT NULL,
                    revision INTEGER NOT NULL,
                    -- the first revision of this incarnation: rollback never reaches past a delete
                    created_revision INTEGER NOT NULL,
                    last_seq INTEGER NOT NULL,
                    body TEXT NOT NULL
                );
                CREATE TABLE revision (
                    endpoint TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    time_ms INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    body TEXT NOT NULL,
                    PRIMARY KEY (endpoint, revision)
                );
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY NOT NULL,
                    time_ms INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    role TEXT NOT NULL,
                    action TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    version TEXT,
                    from_revision INTEGER NOT NULL,
                    to_revision INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    weights_before TEXT NOT NULL,
                    weights_after TEXT NOT NULL,
                    override INTEGER NOT NULL,
                    summary TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                -- Append-only, enforced by the database as well as by the hash chain.
                CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TABLE token (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    created_ms INTEGER NOT NULL,
                    revoked_ms INTEGER
                );
                """)
        }
        // The SLO and baseline of an endpoint live in its JSON body (endpoint and revision tables),
        // so only the audit needs columns: what a spec change did to them. Rows written before
        // stay NULL, which is how an entry without these fields is hashed, so old chains verify.
        m.registerMigration("v2-audit-spec-fields") { db in
            try db.execute(sql: """
                ALTER TABLE audit ADD COLUMN slo_before TEXT;
                ALTER TABLE audit ADD COLUMN slo_after TEXT;
                ALTER TABLE audit ADD COLUMN baseline_before TEXT;
                ALTER TABLE audit ADD COLUMN baseline_after TEXT;
                """)
        }
        // The spec's judge settings (issue 10), audited like the SLO; NULL in older rows.
        m.registerMigration("v3-audit-judge-spec") { db in
            try db.execute(sql: """
                ALTER TABLE audit ADD COLUMN judge_before TEXT;
                ALTER TABLE audit ADD COLUMN judge_after TEXT;
                """)
        }
        // Rollouts (DESIGN §11): the whole state in `body` (TowerRollouts.Rollout as JSON), written
        // in the same transaction as any revision a step makes. The partial unique index is what
        // makes "one rollout per endpoint at a time" hold even against two racing starts.
        m.registerMigration("v4-rollouts") { db in
            try db.execute(sql: """
                CREATE TABLE rollout (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    endpoint TEXT NOT NULL,
                    active INTEGER NOT NULL,
                    started_ms INTEGER NOT NULL,
                    body TEXT NOT NULL
                );
                CREATE UNIQUE INDEX rollout_one_active ON rollout (endpoint) WHERE active = 1;
                CREATE INDEX rollout_by_endpoint ON rollout (endpoint, id);
                """)
        }
        // Evaluations (DESIGN §13): each document as its canonical JSON with its SHA-256, who
        // submitted it, and the gate it gave. Append-only like the audit: evidence is never edited.
        m.registerMigration("v5-evaluations") { db in
            try db.execute(sql: """
                CREATE TABLE evaluation (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    endpoint TEXT NOT NULL,
                    version TEXT NOT NULL,
                    artifact_digest TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    body TEXT NOT NULL,
                    submitted_by TEXT NOT NULL,
                    submitted_ms INTEGER NOT NULL,
                    gate TEXT NOT NULL,
                    gate_summary TEXT NOT NULL
                );
                CREATE INDEX evaluation_by_version ON evaluation (endpoint, version, id);
                CREATE TRIGGER evaluation_no_update BEFORE UPDATE ON evaluation
                    BEGIN SELECT RAISE(ABORT, 'evaluations are append-only'); END;
                """)
        }
        // Promotion (DESIGN §13): the registry's own id, made once here and never changed, which
        // bundles it exports name as their source; the ids of bundles imported, so a bundle lands
        // once (the primary key holds that even against two racing imports); and the audit's record
        // of an import (bundle hash, signer, source), NULL in every other row.
        m.registerMigration("v6-promotion") { db in
            var random = SystemRandomNumberGenerator()
            let id = "reg-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255, using: &random) })
            try db.execute(sql: """
                CREATE TABLE registry_identity (
                    singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1),
                    id TEXT NOT NULL
                );
                CREATE TABLE promotion_import (
                    bundle_id TEXT PRIMARY KEY NOT NULL,
                    bundle_sha256 TEXT NOT NULL,
                    signer TEXT NOT NULL,
                    source_registry TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    version TEXT NOT NULL,
                    imported_ms INTEGER NOT NULL,
                    audit_seq INTEGER NOT NULL
                );
                ALTER TABLE audit ADD COLUMN bundle_sha256 TEXT;
                ALTER TABLE audit ADD COLUMN signer_key TEXT;
                ALTER TABLE audit ADD COLUMN source_registry TEXT;
                """)
            try db.execute(sql: "INSERT INTO registry_identity (singleton, id) VALUES (1, ?)", arguments: [id])
        }
        return m
    }
}
