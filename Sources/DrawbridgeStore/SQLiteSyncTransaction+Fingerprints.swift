import DrawbridgeCore
import Foundation
import SQLiteKit

extension SQLiteSyncTransaction {
    func fingerprints(of kind: DirectoryEntryKind, ids: [DirectoryEntryID]) async throws -> [DirectoryEntryID: String] {
        try ensureOpen("select fingerprints")
        let table = kind.table
        var found: [DirectoryEntryID: String] = [:]
        for start in stride(from: 0, to: ids.count, by: SQLiteStoreReader.batchSize) {
            let batch = ids[start..<min(start + SQLiteStoreReader.batchSize, ids.count)]
            let placeholders = Array(repeating: "?", count: batch.count).joined(separator: ", ")
            let rows = try await storeStep("select fingerprints", table) {
                try await committed.query(
                    "SELECT id, fingerprint FROM \(table) WHERE deleted_at IS NULL AND fingerprint IS NOT NULL AND id IN (\(placeholders))",
                    batch.map { .text($0.rawValue) })
            }
            for row in rows {
                if let id = row.column("id")?.string, let fingerprint = row.column("fingerprint")?.string {
                    found[DirectoryEntryID(rawValue: id)] = fingerprint
                }
            }
        }
        return found
    }

    func markSeen(_ kind: DirectoryEntryKind, ids: [DirectoryEntryID], at time: Date) async throws {
        try ensureOpen("mark entries seen")
        let table = kind.table
        let seen = SQLiteData.float(time.timeIntervalSince1970)
        try rowStep("mark entries seen", table) {
            try db.runEach("UPDATE \(table) SET synced_at = ? WHERE id = ?", ids.lazy.map { [seen, .text($0.rawValue)] })
        }
    }
}

extension DirectoryEntryKind {
    var table: String {
        switch self {
        case .user: "directory_users"
        case .group: "directory_groups"
        }
    }
}
