import DrawbridgeCore
import Foundation
import LDAP
import SQLKit
import SQLiteKit

extension SQLiteSyncTransaction {
    func upsertUsers(_ users: [DirectoryUserRecord], seenAt: Date) async throws -> UpsertResult {
        try ensureOpen("upsert users")
        let users = Self.lastOccurrences(users) { $0.id }
        let seen = seenAt.timeIntervalSince1970
        var result = UpsertResult()
        for start in stride(from: 0, to: users.count, by: SQLiteStoreReader.batchSize) {
            let batch = users[start..<min(start + SQLiteStoreReader.batchSize, users.count)]
            let stored = try await storedUsers(ids: batch.map(\.id.rawValue))
            for user in batch {
                guard let previous = stored[user.id.rawValue] else {
                    result.inserted += 1
                    continue
                }
                // A deleted entry's old DN may belong to someone created there since: only a live entry's rows move.
                if !previous.deleted, previous.normalizedDN != user.dn.normalized {
                    pendingRenames.withLock { $0.append(MemberRename(from: previous.normalizedDN, to: user.dn)) }
                }
                if previous.enabled && !user.enabled { result.newlyDisabled.append(user.id) }
                if previous.deleted {
                    result.restored += 1
                } else if previous != StoredUserFields(user, deleted: false) {
                    result.updated += 1
                } else {
                    result.unchanged += 1
                }
            }
            let rows: [[SQLiteData]] = batch.map { user in
                [.text(user.id.rawValue), .text(user.dn.description), .text(user.dn.normalized), .text(user.login),
                 SQLiteData(user.displayName), SQLiteData(user.mail), .integer(user.enabled ? 1 : 0), SQLiteData(user.fingerprint),
                 .float(seen), .float(seen)]
            }
            // first_seen_at keeps its first value; synced_at marks the sighting that markNotSeen looks for.
            try insertRows(
                into: "directory_users",
                columns: ["id", "dn", "dn_norm", "login", "display_name", "mail", "enabled", "fingerprint", "first_seen_at", "synced_at"],
                rows: rows,
                suffix: """
                    ON CONFLICT (id) DO UPDATE SET dn = excluded.dn, dn_norm = excluded.dn_norm, login = excluded.login,
                    display_name = excluded.display_name, mail = excluded.mail, enabled = excluded.enabled,
                    fingerprint = excluded.fingerprint, synced_at = excluded.synced_at, deleted_at = NULL
                    """,
                operation: "upsert users")
        }
        return result
    }

    func upsertGroups(_ groups: [DirectoryGroupRecord], seenAt: Date) async throws -> UpsertResult {
        try ensureOpen("upsert groups")
        let groups = Self.lastOccurrences(groups) { $0.id }
        let seen = seenAt.timeIntervalSince1970
        var result = UpsertResult()
        for start in stride(from: 0, to: groups.count, by: SQLiteStoreReader.batchSize) {
            let batch = groups[start..<min(start + SQLiteStoreReader.batchSize, groups.count)]
            let stored = try await storedGroups(ids: batch.map(\.id.rawValue))
            let owners = try batch.map { try AccessCoding.encode($0.owners.map(\.description)) }
            // Member rows are rewritten only for groups whose list changed: most of a full sync's groups keep theirs.
            var replacedGroups: [String] = []
            var memberRows: [MemberRow] = []
            for (group, owners) in zip(batch, owners) {
                let members = Set(group.members.map(MemberRow.Key.init))
                let previous = stored[group.id.rawValue]
                if let previous, !previous.deleted, previous.normalizedDN != group.dn.normalized {
                    pendingRenames.withLock { $0.append(MemberRename(from: previous.normalizedDN, to: group.dn)) }
                }
                if previous?.members != members {
                    if let previous, !previous.members.isEmpty {
                        replacedGroups.append(group.id.rawValue)
                        for key in previous.members.subtracting(members) where key.kind == MemberKind.dn.rawValue {
                            // Stored normalized DNs are valid DNs; parsing only the dropped ones keeps this cheap.
                            if let dn = try? DistinguishedName(key.member) { result.droppedMembers.insert(dn) }
                        }
                    }
                    memberRows += members.map { MemberRow(groupID: group.id.rawValue, key: $0) }
                }
                guard let previous else {
                    result.inserted += 1
                    continue
                }
                if previous.deleted {
                    result.restored += 1
                } else if previous != StoredGroupFields(group, owners: owners, members: members, deleted: false) {
                    result.updated += 1
                } else {
                    result.unchanged += 1
                }
            }
            let rows: [[SQLiteData]] = zip(batch, owners).map { group, owners in
                [.text(group.id.rawValue), .text(group.dn.description), .text(group.dn.normalized), .text(group.name),
                 SQLiteData(group.description), .text(owners), SQLiteData(group.fingerprint), .float(seen), .float(seen)]
            }
            try insertRows(
                into: "directory_groups",
                columns: ["id", "dn", "dn_norm", "name", "description", "owners", "fingerprint", "first_seen_at", "synced_at"],
                rows: rows,
                suffix: """
                    ON CONFLICT (id) DO UPDATE SET dn = excluded.dn, dn_norm = excluded.dn_norm, name = excluded.name,
                    description = excluded.description, owners = excluded.owners, fingerprint = excluded.fingerprint,
                    synced_at = excluded.synced_at, deleted_at = NULL
                    """,
                operation: "upsert groups")
            try await deleteMembers(ofGroups: replacedGroups)
            try insertMembers(memberRows)
        }
        return result
    }

    /// Makes member rows and group owners follow a renamed or moved entry. The directory rewrites the member
    /// values of a renamed entry (refint, AD's linked attributes) without changing the groups' change markers, so
    /// an incremental sync does not read those groups again; left alone, the rows would keep the old DN, and
    /// whoever is created there next would inherit the memberships. A full sync then stores whatever the
    /// directory really holds.
    ///
    /// All at once, after all of a phase's upserts: one entry may take the DN another left (a swap, or a chain
    /// A→B, B→C), in the same batch or in two, and renaming one after the other would merge their rows. Only in
    /// groups this sync has not seen (`seenAt`): a group read again holds the directory's current values, where
    /// the old DN may already name someone else.
    func applyRenames(seenAt: Date) async throws {
        try ensureOpen("rename group members")
        let renames = pendingRenames.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        guard !renames.isEmpty else { return }
        // First every old DN to a placeholder no DN can be, then each placeholder to its new DN.
        let placeholders = renames.indices.map { "\u{1}renaming \($0)" }
        let seen = SQLiteData.float(seenAt.timeIntervalSince1970)
        try rowStep("rename group members", "directory_group_members") {
            for (rename, placeholder) in zip(renames, placeholders) {
                try db.run("""
                    UPDATE directory_group_members SET member = ? WHERE kind = 'dn' AND member = ?
                    AND group_id IN (SELECT id FROM directory_groups WHERE synced_at < ?)
                    """, [.text(placeholder), .text(rename.from), seen])
            }
            for (rename, placeholder) in zip(renames, placeholders) {
                // A group that already lists the new DN keeps its one row; the placeholder's goes.
                try db.run("UPDATE OR IGNORE directory_group_members SET member = ? WHERE kind = 'dn' AND member = ?", [.text(rename.to.normalized), .text(placeholder)])
                try db.run("DELETE FROM directory_group_members WHERE kind = 'dn' AND member = ?", [.text(placeholder)])
            }
        }
        try renameOwners(renames, seen: seen)
    }

    private func renameOwners(_ renames: [MemberRename], seen: SQLiteData) throws {
        let renamed = Dictionary(renames.map { ($0.from, $0.to.description) }, uniquingKeysWith: { _, last in last })
        var owned: [(id: String, owners: String)] = []
        try rowStep("select group owners", "directory_groups") {
            try db.run("SELECT id, owners FROM directory_groups WHERE owners <> '[]' AND synced_at < ?", [seen]) { row in
                guard case .text(let id) = row.values[0], case .text(let owners) = row.values[1] else { return }
                owned.append((id, owners))
            }
        }
        var rows: [[SQLiteData]] = []
        for group in owned {
            let owners = try rowStep("decode group owners", "directory_groups") { try AccessCoding.decode([String].self, group.owners) }
            let updated = owners.map { owner in (try? DistinguishedName(owner)).flatMap { renamed[$0.normalized] } ?? owner }
            if updated != owners { rows.append([.text(try AccessCoding.encode(updated)), .text(group.id)]) }
        }
        try rowStep("rename group owners", "directory_groups") {
            try db.runEach("UPDATE directory_groups SET owners = ? WHERE id = ?", rows)
        }
    }

    private func insertMembers(_ rows: [MemberRow]) throws {
        try insertRows(
            into: "directory_group_members", columns: ["group_id", "kind", "member"],
            rows: rows.map { [.text($0.groupID), .text($0.key.kind), .text($0.key.member)] },
            operation: "insert group members")
    }

    /// The rows of `table` with these ids, queried with SQLite's own bind values: a full sync looks up every entry.
    private func rows(_ columns: String, of table: String, ids: [String], operation: String) throws -> [DirectSQLiteRow] {
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        var rows: [DirectSQLiteRow] = []
        try rowStep(operation, table) {
            try db.run("SELECT \(columns) FROM \(table) WHERE id IN (\(placeholders))", ids.map(SQLiteData.text)) { rows.append($0) }
        }
        return rows
    }

    private func storedUsers(ids: [String]) async throws -> [String: StoredUserFields] {
        let rows = try rows("id, dn, dn_norm, login, display_name, mail, enabled, deleted_at", of: "directory_users", ids: ids, operation: "select users to upsert")
        return try rowStep("read users to upsert", "directory_users") {
            var stored: [String: StoredUserFields] = [:]
            for row in rows {
                stored[try row.decode(column: "id", as: String.self)] = StoredUserFields(
                    dn: try row.decode(column: "dn", as: String.self),
                    normalizedDN: try row.decode(column: "dn_norm", as: String.self),
                    login: try row.decode(column: "login", as: String.self),
                    displayName: try row.decode(column: "display_name", as: String?.self),
                    mail: try row.decode(column: "mail", as: String?.self),
                    enabled: try row.decode(column: "enabled", as: Int.self) != 0,
                    deleted: try !row.decodeNil(column: "deleted_at")
                )
            }
            return stored
        }
    }

    private func storedGroups(ids: [String]) async throws -> [String: StoredGroupFields] {
        let rows = try rows("id, dn, dn_norm, name, description, owners, deleted_at", of: "directory_groups", ids: ids, operation: "select groups to upsert")
        // Member rows are read with SQLite's own row type: a full sync compares hundreds of thousands of them.
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        var members: [String: Set<MemberRow.Key>] = [:]
        try rowStep("select members to compare", "directory_group_members") {
            try db.run("SELECT group_id, kind, member FROM directory_group_members WHERE group_id IN (\(placeholders))", ids.map(SQLiteData.text)) { row in
                guard case .text(let group) = row.values[0], case .text(let kind) = row.values[1], case .text(let member) = row.values[2] else { return }
                members[group, default: []].insert(MemberRow.Key(kind: kind, member: member))
            }
        }
        return try rowStep("read groups to upsert", "directory_groups") {
            var stored: [String: StoredGroupFields] = [:]
            for row in rows {
                let id = try row.decode(column: "id", as: String.self)
                stored[id] = StoredGroupFields(
                    dn: try row.decode(column: "dn", as: String.self),
                    normalizedDN: try row.decode(column: "dn_norm", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    description: try row.decode(column: "description", as: String?.self),
                    owners: try row.decode(column: "owners", as: String.self),
                    members: members[id] ?? [],
                    deleted: try !row.decodeNil(column: "deleted_at")
                )
            }
            return stored
        }
    }

    /// One record per id, the last one given, in the order of first appearance.
    static func lastOccurrences<Record>(_ records: [Record], id: (Record) -> DirectoryEntryID) -> [Record] {
        var lastIndex: [DirectoryEntryID: Int] = [:]
        for (index, record) in records.enumerated() { lastIndex[id(record)] = index }
        guard lastIndex.count < records.count else { return records }
        return records.enumerated().filter { lastIndex[id($0.element)] == $0.offset }.map(\.element)
    }
}

/// The columns of a stored user that an upsert compares with the incoming record.
private struct StoredUserFields: Equatable {
    var dn: String
    var normalizedDN: String
    var login: String
    var displayName: String?
    var mail: String?
    var enabled: Bool
    var deleted: Bool
}

extension StoredUserFields {
    init(_ record: DirectoryUserRecord, deleted: Bool) {
        self.init(
            dn: record.dn.description, normalizedDN: record.dn.normalized, login: record.login, displayName: record.displayName, mail: record.mail,
            enabled: record.enabled, deleted: deleted)
    }
}

/// The columns and member list of a stored group that an upsert compares with the incoming record.
private struct StoredGroupFields: Equatable {
    var dn: String
    var normalizedDN: String
    var name: String
    var description: String?
    /// The owners' DNs as the stored JSON text.
    var owners: String
    var members: Set<MemberRow.Key>
    var deleted: Bool
}

extension StoredGroupFields {
    init(_ record: DirectoryGroupRecord, owners: String, members: Set<MemberRow.Key>, deleted: Bool) {
        self.init(
            dn: record.dn.description, normalizedDN: record.dn.normalized, name: record.name, description: record.description, owners: owners, members: members,
            deleted: deleted)
    }
}

/// A row of `directory_group_members`: DN members in normalized form, so duplicates spelled differently collapse.
private struct MemberRow {
    struct Key: Hashable {
        var kind: String
        var member: String

        init(kind: String, member: String) {
            self.kind = kind
            self.member = member
        }

        init(_ reference: MemberReference) {
            switch reference {
            case .dn(let dn): self.init(kind: MemberKind.dn.rawValue, member: dn.normalized)
            case .login(let login): self.init(kind: MemberKind.login.rawValue, member: login)
            }
        }
    }

    var groupID: String
    var key: Key
}

/// An entry's DN that changed: the stored normalized form, and the new DN.
struct MemberRename {
    var from: String
    var to: DistinguishedName
}
