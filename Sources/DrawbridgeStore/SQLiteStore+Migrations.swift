import Foundation
import SQLKit

extension SQLiteStore {
    /// One step of the schema. Its statements are literal SQL so that an applied migration keeps meaning
    /// exactly what it meant, whatever a library's schema builders render in later versions.
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: [SQLQueryString]
    }

    /// Append only: never edit or reorder a migration once released.
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "directory, memberships, role bindings and sync state",
            statements: [
                """
                CREATE TABLE directory_users (
                    id TEXT PRIMARY KEY NOT NULL,
                    dn TEXT NOT NULL,
                    dn_norm TEXT NOT NULL,
                    login TEXT NOT NULL,
                    display_name TEXT,
                    mail TEXT,
                    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                    fingerprint TEXT,
                    first_seen_at REAL NOT NULL,
                    synced_at REAL NOT NULL,
                    deleted_at REAL
                )
                """,
                "CREATE INDEX directory_users_dn_norm ON directory_users (dn_norm)",
                "CREATE INDEX directory_users_login ON directory_users (login)",
                """
                CREATE TABLE directory_groups (
                    id TEXT PRIMARY KEY NOT NULL,
                    dn TEXT NOT NULL,
                    dn_norm TEXT NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT,
                    fingerprint TEXT,
                    first_seen_at REAL NOT NULL,
                    synced_at REAL NOT NULL,
                    deleted_at REAL
                )
                """,
                "CREATE INDEX directory_groups_dn_norm ON directory_groups (dn_norm)",
                """
                CREATE TABLE directory_group_members (
                    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('dn', 'login')),
                    member TEXT NOT NULL,
                    PRIMARY KEY (group_id, kind, member)
                ) WITHOUT ROWID
                """,
                "CREATE INDEX directory_group_members_kind_member ON directory_group_members (kind, member)",
                """
                CREATE TABLE scopes (
                    path TEXT PRIMARY KEY NOT NULL,
                    parent TEXT REFERENCES scopes (path)
                )
                """,
                "CREATE INDEX scopes_parent ON scopes (parent)",
                """
                CREATE TABLE role_bindings (
                    scope TEXT NOT NULL REFERENCES scopes (path),
                    role TEXT NOT NULL,
                    group_id TEXT NOT NULL REFERENCES directory_groups (id),
                    rule TEXT NOT NULL,
                    PRIMARY KEY (scope, role)
                )
                """,
                "CREATE INDEX role_bindings_group_id ON role_bindings (group_id)",
                // No declared type: the watermark is text, the times are REAL seconds since 1970.
                "CREATE TABLE sync_state (key TEXT PRIMARY KEY NOT NULL, value)",
            ]
        ),
        // Records are JSON in `body`; the columns beside it are copies for lookups and the due-queue indexes.
        Migration(
            version: 2, name: "eligibilities, assignments, activations, policies, membership intents, drift and audit log",
            statements: [
                """
                CREATE TABLE eligibilities (
                    id TEXT PRIMARY KEY NOT NULL,
                    principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'group')),
                    principal_id TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    role TEXT NOT NULL,
                    end_at REAL,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX eligibilities_principal_id ON eligibilities (principal_id, role)",
                "CREATE INDEX eligibilities_role ON eligibilities (role)",
                "CREATE INDEX eligibilities_end_at ON eligibilities (end_at) WHERE end_at IS NOT NULL",
                """
                CREATE TABLE assignments (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    role TEXT NOT NULL,
                    state TEXT NOT NULL,
                    next_due_at REAL,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX assignments_user_id ON assignments (user_id)",
                "CREATE INDEX assignments_next_due_at ON assignments (next_due_at) WHERE next_due_at IS NOT NULL",
                """
                CREATE TABLE activations (
                    id TEXT PRIMARY KEY NOT NULL,
                    request_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    role TEXT NOT NULL,
                    state TEXT NOT NULL,
                    requested_at REAL NOT NULL,
                    next_due_at REAL,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX activations_user_id ON activations (user_id)",
                "CREATE INDEX activations_request_id ON activations (request_id)",
                "CREATE INDEX activations_state ON activations (state)",
                "CREATE INDEX activations_next_due_at ON activations (next_due_at) WHERE next_due_at IS NOT NULL",
                """
                CREATE TABLE policy_overrides (
                    scope TEXT NOT NULL,
                    role TEXT NOT NULL,
                    body TEXT NOT NULL,
                    PRIMARY KEY (scope, role)
                )
                """,
                """
                CREATE TABLE membership_operations (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    not_before REAL NOT NULL,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX membership_operations_pending ON membership_operations (not_before) WHERE state = 'pending'",
                "CREATE INDEX membership_operations_pending_pair ON membership_operations (group_id, user_id) WHERE state = 'pending'",
                "CREATE INDEX membership_operations_state ON membership_operations (state, id)",
                """
                CREATE TABLE binding_states (
                    group_id TEXT PRIMARY KEY NOT NULL,
                    body TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE drift_findings (
                    group_id TEXT NOT NULL,
                    member_norm TEXT NOT NULL,
                    resolved INTEGER NOT NULL CHECK (resolved IN (0, 1)),
                    body TEXT NOT NULL,
                    PRIMARY KEY (group_id, member_norm)
                )
                """,
                """
                CREATE TABLE audit_log (
                    sequence INTEGER PRIMARY KEY NOT NULL,
                    at_ms INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    user_login TEXT,
                    scope TEXT,
                    event TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_log_at_ms ON audit_log (at_ms)",
                "CREATE INDEX audit_log_user_login ON audit_log (user_login)",
                // Append-only for every writer that goes through SQLite's triggers; the hash chain catches the rest.
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            ]
        ),
        Migration(
            version: 3, name: "sessions, personal access tokens and TOTP enrollments",
            statements: [
                // key: SHA-256 of the session id, so a copy of the database does not hand out live sessions.
                "CREATE TABLE sessions (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, expires_at REAL)",
                "CREATE INDEX sessions_expires_at ON sessions (expires_at)",
                """
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    secret_hash TEXT NOT NULL UNIQUE,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX api_tokens_user_id ON api_tokens (user_id)",
                // last_step: the newest TOTP time step used, so a code is accepted once.
                "CREATE TABLE mfa_enrollments (user_id TEXT PRIMARY KEY NOT NULL, last_step INTEGER NOT NULL, body TEXT NOT NULL)",
            ]
        ),
        Migration(
            version: 4, name: "notification outbox and expiry notices",
            statements: [
                """
                CREATE TABLE notification_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    audit_sequence INTEGER NOT NULL UNIQUE REFERENCES audit_log (sequence),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
                    attempts INTEGER NOT NULL,
                    next_attempt_at REAL NOT NULL,
                    delivered TEXT NOT NULL,
                    last_error TEXT,
                    finished_at REAL
                )
                """,
                "CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE state = 'pending'",
                // Written by the database in the transaction that appends the audit record, so no code path can
                // record an event and forget its notification, and a crash cannot separate them. This is the coarse
                // filter; NotificationRules decides who (if anyone) hears about each event.
                """
                CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
                WHEN (json_extract(NEW.event, '$.outcome') = 'success'
                      AND (NEW.action LIKE 'activation.%' OR NEW.action LIKE 'eligibility.%' OR NEW.action LIKE 'assignment.%'))
                  OR NEW.action IN ('drift.detected', 'activation.failed')
                  OR (NEW.action = 'membership.removed' AND json_extract(NEW.event, '$.outcome') = 'refused')
                BEGIN
                    INSERT INTO notification_outbox (audit_sequence, state, attempts, next_attempt_at, delivered)
                    VALUES (NEW.sequence, 'pending', 0, NEW.at_ms / 1000.0, '[]');
                END
                """,
                "CREATE TABLE expiry_notices (activation_id TEXT PRIMARY KEY NOT NULL, noticed_at REAL NOT NULL)",
            ]
        ),
        Migration(
            version: 5, name: "access reviews, security alerts and group owners",
            statements: [
                "CREATE TABLE review_campaigns (id TEXT PRIMARY KEY NOT NULL, created_at REAL NOT NULL, body TEXT NOT NULL)",
                """
                CREATE TABLE review_instances (
                    id TEXT PRIMARY KEY NOT NULL,
                    campaign_id TEXT NOT NULL REFERENCES review_campaigns (id),
                    run_index INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    start_at REAL NOT NULL,
                    body TEXT NOT NULL,
                    UNIQUE (campaign_id, run_index)
                )
                """,
                "CREATE INDEX review_instances_status ON review_instances (status, start_at)",
                "CREATE TABLE review_items (id TEXT PRIMARY KEY NOT NULL, instance_id TEXT NOT NULL REFERENCES review_instances (id), body TEXT NOT NULL)",
                "CREATE INDEX review_items_instance_id ON review_items (instance_id)",
                "CREATE TABLE security_alerts (id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL)",
                "CREATE INDEX security_alerts_state ON security_alerts (state)",
                // JSON array of the owners' DNs (`owner`, `managedBy`), as the directory sent them.
                "ALTER TABLE directory_groups ADD COLUMN owners TEXT NOT NULL DEFAULT '[]'",
                "DROP TRIGGER audit_log_notify",
                """
                CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
                WHEN (json_extract(NEW.event, '$.outcome') = 'success'
                      AND (NEW.action LIKE 'activation.%' OR NEW.action LIKE 'eligibility.%' OR NEW.action LIKE 'assignment.%'
                           OR NEW.action IN ('review.started', 'review.reminder', 'alert.raised', 'alert.resolved')))
                  OR NEW.action IN ('drift.detected', 'activation.failed')
                  OR (NEW.action = 'membership.removed' AND json_extract(NEW.event, '$.outcome') = 'refused')
                BEGIN
                    INSERT INTO notification_outbox (audit_sequence, state, attempts, next_attempt_at, delivered)
                    VALUES (NEW.sequence, 'pending', 0, NEW.at_ms / 1000.0, '[]');
                END
                """,
            ]
        ),
        Migration(
            version: 6, name: "expiry notices per end time",
            statements: [
                // The end a notice announced; extending an activation in place moves its end and calls for a new one.
                "ALTER TABLE expiry_notices ADD COLUMN due_at REAL",
            ]
        ),
    ]

    /// Applies the migrations not yet applied, each in its own transaction; running it again changes nothing.
    public func migrate() async throws {
        try await writeLock.withLock { [self] in
            try await storeStep("create", "schema_migrations") {
                try await writer.raw(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at REAL NOT NULL)"
                ).run()
            }
            let latest = Self.migrations.map(\.version).max() ?? 0
            for migration in Self.migrations {
                try await inWriteTransaction(commit: true) {
                    // Read inside the transaction, so another process migrating the same file cannot slip in between.
                    let applied = try await appliedVersions()
                    if let newest = applied.max(), newest > latest {
                        throw SQLiteStoreError(
                            operation: "migrate", table: "schema_migrations",
                            reason: "the database has schema version \(newest), newer than this build knows (\(latest))")
                    }
                    guard !applied.contains(migration.version) else { return }
                    try await apply(migration)
                }
            }
        }
    }

    private func appliedVersions() async throws -> Set<Int> {
        try await storeStep("select", "schema_migrations") {
            Set(try await writer.select().column("version").from("schema_migrations").all(decodingColumn: "version", as: Int.self))
        }
    }

    private func apply(_ migration: Migration) async throws {
        try await storeStep("apply migration \(migration.version)", "schema") {
            for statement in migration.statements {
                try await writer.raw(statement).run()
            }
            try await writer.insert(into: "schema_migrations").columns("version", "name", "applied_at")
                .values(migration.version, migration.name, Date().timeIntervalSince1970)
                .run()
        }
        logger.info("applied schema migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
    }
}
