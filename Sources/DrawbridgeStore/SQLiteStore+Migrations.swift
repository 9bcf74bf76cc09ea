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
        )
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
