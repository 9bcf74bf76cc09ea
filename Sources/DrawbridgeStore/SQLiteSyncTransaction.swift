import DrawbridgeCore
import Foundation
import LDAP
import SQLKit
import SQLiteKit
import Synchronization

/// The writes of one sync, on the transaction connection while `SQLiteStore.withSyncTransaction` holds it.
final class SQLiteSyncTransaction: DirectorySyncTransaction {
    let db: DirectSQLiteConnection
    /// The store's read connection: it sees the state before this transaction, and its queries do not
    /// wait behind this transaction's writes.
    let committed: SQLiteConnection
    private let isOpen = Mutex(true)
    /// DNs that changed in this sync's upserts, until `applyRenames` makes member rows and owners follow them.
    let pendingRenames = Mutex<[MemberRename]>([])

    init(db: DirectSQLiteConnection, committed: SQLiteConnection) {
        self.db = db
        self.committed = committed
    }

    /// Called when the transaction's body returns: a reference that escaped it must not write into
    /// whatever transaction runs next on the same connection.
    func finish() {
        isOpen.withLock { $0 = false }
    }

    func ensureOpen(_ operation: String) throws {
        guard isOpen.withLock({ $0 }) else {
            throw SQLiteStoreError(operation: operation, table: "database", reason: "the sync transaction has already ended")
        }
    }

    var reads: SQLiteStoreReader { SQLiteStoreReader(db: db) }

    func liveUsers(withDNs dns: [DistinguishedName]) async throws -> [StoredUser] {
        try ensureOpen("select users by DN")
        return try await reads.liveUsers(withDNs: dns)
    }

    func liveGroups() async throws -> [StoredGroup] {
        try ensureOpen("select groups")
        return try await reads.groups(includeDeleted: false)
    }

    func syncState() async throws -> SyncState {
        try ensureOpen("select sync state")
        return try await reads.syncState()
    }

    func setSyncState(_ state: SyncState) async throws {
        try ensureOpen("update sync state")
        let values: [(SyncStateKey, (any Encodable & Sendable)?)] = [
            (.watermark, state.watermark),
            (.watermarkServer, state.watermarkServer),
            (.lastFullSyncAt, state.lastFullSyncAt?.timeIntervalSince1970),
            (.lastSyncAt, state.lastSyncAt?.timeIntervalSince1970),
            (.mappingSignature, state.mappingSignature),
            (.mappingWarnings, state.mappingWarnings.isEmpty ? nil : try AccessCoding.encode(state.mappingWarnings)),
        ]
        try await storeStep("update sync state", "sync_state") {
            for (key, value) in values {
                if let value {
                    try await db.insert(into: "sync_state").columns("key", "value").values(key.rawValue, value)
                        .onConflict(with: "key") { $0.set(excludedValueOf: "value") }
                        .run()
                } else {
                    try await db.delete(from: "sync_state").where("key", .equal, key.rawValue).run()
                }
            }
        }
    }

    func markNotSeen(since time: Date, deletedAt: Date) async throws -> DeletionCounts {
        try ensureOpen("mark entries not seen as deleted")
        let users = try await storeStep("mark users not seen as deleted", "directory_users") {
            try await db.update("directory_users").set("deleted_at", to: deletedAt.timeIntervalSince1970)
                .where("deleted_at", .is, SQLLiteral.null).where("synced_at", .lessThan, time.timeIntervalSince1970)
                .returning("id").all().count
        }
        let vanishedGroups = try await storeStep("mark groups not seen as deleted", "directory_groups") {
            try await db.update("directory_groups").set("deleted_at", to: deletedAt.timeIntervalSince1970)
                .where("deleted_at", .is, SQLLiteral.null).where("synced_at", .lessThan, time.timeIntervalSince1970)
                .returning("id").all(decodingColumn: "id", as: String.self)
        }
        try await deleteMembers(ofGroups: vanishedGroups)
        return DeletionCounts(users: users, groups: vanishedGroups.count)
    }

    func markUsersDeleted(_ ids: [DirectoryEntryID], at time: Date) async throws -> Int {
        try ensureOpen("mark users deleted")
        let unique = Array(Set(ids.map(\.rawValue)))
        var count = 0
        for start in stride(from: 0, to: unique.count, by: SQLiteStoreReader.batchSize) {
            let batch = Array(unique[start..<min(start + SQLiteStoreReader.batchSize, unique.count)])
            count += try await storeStep("mark users deleted", "directory_users") {
                try await db.update("directory_users").set("deleted_at", to: time.timeIntervalSince1970)
                    .where("id", .in, batch).where("deleted_at", .is, SQLLiteral.null)
                    .returning("id").all().count
            }
        }
        return count
    }

    /// Removes the member rows of these groups.
    func deleteMembers(ofGroups ids: [String]) async throws {
        for start in stride(from: 0, to: ids.count, by: SQLiteStoreReader.batchSize) {
            let batch = Array(ids[start..<min(start + SQLiteStoreReader.batchSize, ids.count)])
            try await storeStep("delete group members", "directory_group_members") {
                try await db.delete(from: "directory_group_members").where("group_id", .in, batch).run()
            }
        }
    }
}
