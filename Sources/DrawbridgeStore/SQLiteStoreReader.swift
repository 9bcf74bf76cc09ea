import DrawbridgeCore
import Foundation
import LDAP
import SQLKit

/// The queries that read the store, shared by the store (on its read connection, which sees the last commit)
/// and by a sync transaction (on the write connection, which sees the transaction's own changes).
struct SQLiteStoreReader: Sendable {
    let db: any SQLDatabase

    static let userColumns = ["id", "dn", "login", "display_name", "mail", "enabled", "first_seen_at", "synced_at", "deleted_at"]
    /// The same columns as SQL text. The lookups that every access transaction makes are written as SQL: SQLKit's
    /// query builder (quoting each identifier anew) cost about a tenth of such a transaction.
    private static let userColumnList = userColumns.joined(separator: ", ")
    static let groupColumns = ["id", "dn", "name", "description", "first_seen_at", "synced_at", "deleted_at"]
    /// Batches of ids for `IN (…)` lists, well below SQLite's limit on bound variables per statement.
    static let batchSize = 500

    // MARK: Users

    func users(includeDeleted: Bool) async throws -> [StoredUser] {
        try await storeStep("select users", "directory_users") {
            let query = db.select().columns(Self.userColumns).from("directory_users")
            if !includeDeleted { query.where("deleted_at", .is, SQLLiteral.null) }
            return try await query.orderBy("login").orderBy("id").all().storedUsers()
        }
    }

    func user(id: DirectoryEntryID) async throws -> StoredUser? {
        try await storeStep("select user by id", "directory_users") {
            try await db.raw("SELECT \(unsafeRaw: Self.userColumnList) FROM directory_users WHERE id = \(bind: id.rawValue)")
                .first().map(Self.user(from:))
        }
    }

    func user(login: String) async throws -> StoredUser? {
        try await storeStep("select user by login", "directory_users") {
            try await db.raw("""
                SELECT \(unsafeRaw: Self.userColumnList) FROM directory_users WHERE login = \(bind: login) AND deleted_at IS NULL ORDER BY id LIMIT 1
                """).first().map(Self.user(from:))
        }
    }

    func user(dn: DistinguishedName) async throws -> StoredUser? {
        try await liveUsers(withDNs: [dn]).first
    }

    func liveUsers(withDNs dns: [DistinguishedName]) async throws -> [StoredUser] {
        let normalized = Array(Set(dns.map(\.normalized)))
        var users: [StoredUser] = []
        for start in stride(from: 0, to: normalized.count, by: Self.batchSize) {
            let batch = normalized[start..<min(start + Self.batchSize, normalized.count)]
            users += try await storeStep("select users by DN", "directory_users") {
                try await db.select().columns(Self.userColumns).from("directory_users")
                    .where("dn_norm", .in, Array(batch)).where("deleted_at", .is, SQLLiteral.null)
                    .all().storedUsers()
            }
        }
        return users.sorted { ($0.record.login, $0.record.id) < ($1.record.login, $1.record.id) }
    }

    // MARK: Groups

    private func groupSelect() -> SQLSelectBuilder {
        db.select()
            .columns(Self.groupColumns.map { SQLColumn($0, table: "g") })
            .column(
                SQLSubquery.select {
                    $0.column(SQLFunction("count", args: SQLLiteral.all)).from("directory_group_members", as: "m")
                        .where(SQLColumn("group_id", table: "m"), .equal, SQLColumn("id", table: "g"))
                },
                as: "member_count"
            )
            .from("directory_groups", as: "g")
    }

    func groups(includeDeleted: Bool) async throws -> [StoredGroup] {
        try await storeStep("select groups", "directory_groups") {
            let query = groupSelect()
            if !includeDeleted { query.where(SQLColumn("deleted_at", table: "g"), .is, SQLLiteral.null) }
            return try await query.orderBy(SQLColumn("name", table: "g")).orderBy(SQLColumn("id", table: "g"))
                .all().storedGroups()
        }
    }

    func group(id: DirectoryEntryID) async throws -> StoredGroup? {
        try await storeStep("select group by id", "directory_groups") {
            try await groupSelect().where(SQLColumn("id", table: "g"), .equal, SQLBind(id.rawValue))
                .first().map(Self.group(from:))
        }
    }

    func liveGroupDN(id: DirectoryEntryID) async throws -> DistinguishedName? {
        let text = try await storeStep("select group DN", "directory_groups") {
            try await db.raw("SELECT dn FROM directory_groups WHERE id = \(bind: id.rawValue) AND deleted_at IS NULL")
                .first(decodingColumn: "dn", as: String.self)
        }
        return try text.map { text in try rowStep("read group DN", "directory_groups") { try DistinguishedName(text) } }
    }

    /// Like `user(dn:)`, only a live group: a deleted group's DN may already belong to a new one.
    func group(dn: DistinguishedName) async throws -> StoredGroup? {
        try await storeStep("select group by DN", "directory_groups") {
            try await groupSelect().where(SQLColumn("dn_norm", table: "g"), .equal, SQLBind(dn.normalized))
                .where(SQLColumn("deleted_at", table: "g"), .is, SQLLiteral.null)
                .first().map(Self.group(from:))
        }
    }

    // MARK: Membership

    func memberReferences(ofGroup id: DirectoryEntryID) async throws -> [MemberReference] {
        try await memberReferences(ofGroups: [id])[id] ?? []
    }

    /// Groups the store does not know are left out; a known group without members maps to `[]`.
    func memberReferences(ofGroups ids: [DirectoryEntryID]) async throws -> [DirectoryEntryID: [MemberReference]] {
        let unique = Array(Set(ids.map(\.rawValue)))
        var references: [DirectoryEntryID: [MemberReference]] = [:]
        for start in stride(from: 0, to: unique.count, by: Self.batchSize) {
            let batch = Array(unique[start..<min(start + Self.batchSize, unique.count)])
            let rows = try await storeStep("select member references", "directory_group_members") {
                try await db.select()
                    .column(SQLColumn("id", table: "g"), as: "group_id")
                    .column(SQLColumn("kind", table: "m"))
                    .column(SQLColumn("member", table: "m"))
                    .from("directory_groups", as: "g")
                    .join(
                        SQLAlias(SQLIdentifier("directory_group_members"), as: SQLIdentifier("m")), method: SQLJoinMethod.left,
                        on: SQLColumn("group_id", table: "m"), .equal, SQLColumn("id", table: "g")
                    )
                    .where(SQLColumn("id", table: "g"), .in, SQLBind.group(batch))
                    .orderBy(SQLColumn("kind", table: "m")).orderBy(SQLColumn("member", table: "m"))
                    .all()
            }
            try rowStep("read member references", "directory_group_members") {
                for row in rows {
                    let group = DirectoryEntryID(rawValue: try row.decode(column: "group_id", as: String.self))
                    // The outer join gives a group without members one row with a NULL kind.
                    if let kind = try row.decode(column: "kind", as: String?.self) {
                        let member = try row.decode(column: "member", as: String.self)
                        references[group, default: []].append(try Self.memberReference(kind: kind, member: member))
                    } else {
                        references[group] = []
                    }
                }
            }
        }
        return references
    }

    func members(ofGroup id: DirectoryEntryID, transitive: Bool, includeDeleted: Bool = false) async throws -> [StoredUser] {
        // UNION (not UNION ALL) drops rows already produced, so a cycle of nested groups stops the recursion.
        // CROSS JOIN fixes the join order (SQLite never reorders it): from the reached groups to their member
        // rows by primary key. Left to itself, the planner has no statistics on a CTE and may scan every member row
        // once per step.
        let nesting: SQLQueryString = transitive ? """
            UNION
            SELECT g.id FROM reach r
            CROSS JOIN directory_group_members m ON m.group_id = r.id AND m.kind = 'dn'
            CROSS JOIN directory_groups g ON g.dn_norm = m.member AND g.deleted_at IS NULL
            """ : ""
        let query: SQLQueryString = """
            WITH RECURSIVE reach(id) AS (
            SELECT id FROM directory_groups WHERE id = \(bind: id.rawValue) AND deleted_at IS NULL
            \(nesting)
            ),
            member_ids(id) AS (
            SELECT u.id FROM reach r
            CROSS JOIN directory_group_members m ON m.group_id = r.id AND m.kind = 'dn'
            CROSS JOIN directory_users u ON u.dn_norm = m.member
            UNION
            SELECT u.id FROM reach r
            CROSS JOIN directory_group_members m ON m.group_id = r.id AND m.kind = 'login'
            CROSS JOIN directory_users u ON u.login = m.member
            )
            SELECT \(idents: Self.userColumns, joinedBy: ", ") FROM directory_users
            WHERE id IN (SELECT id FROM member_ids) \(includeDeleted ? "" : "AND deleted_at IS NULL" as SQLQueryString)
            ORDER BY login, id
            """
        return try await storeStep("select members of group", "directory_group_members") {
            try await db.raw(query).all().storedUsers()
        }
    }

    /// Joins are pinned with CROSS JOIN for the same reason as in `members(ofGroup:transitive:)`.
    func groups(ofUser id: DirectoryEntryID, transitive: Bool) async throws -> [StoredGroup] {
        let nesting: SQLQueryString = transitive ? """
            UNION
            SELECT m.group_id FROM containing c
            CROSS JOIN directory_groups g ON g.id = c.id AND g.deleted_at IS NULL
            CROSS JOIN directory_group_members m ON m.kind = 'dn' AND m.member = g.dn_norm
            """ : ""
        let query: SQLQueryString = """
            WITH RECURSIVE containing(id) AS (
            SELECT m.group_id FROM directory_users u
            CROSS JOIN directory_group_members m ON m.kind = 'dn' AND m.member = u.dn_norm
            WHERE u.id = \(bind: id.rawValue)
            UNION
            SELECT m.group_id FROM directory_users u
            CROSS JOIN directory_group_members m ON m.kind = 'login' AND m.member = u.login
            WHERE u.id = \(bind: id.rawValue)
            \(nesting)
            )
            SELECT g.id, g.dn, g.name, g.description, g.first_seen_at, g.synced_at, g.deleted_at,
            (SELECT count(*) FROM directory_group_members mc WHERE mc.group_id = g.id) AS member_count
            FROM directory_groups g
            WHERE g.id IN (SELECT id FROM containing) AND g.deleted_at IS NULL
            ORDER BY g.name, g.id
            """
        return try await storeStep("select groups of user", "directory_group_members") {
            try await db.raw(query).all().storedGroups()
        }
    }

    // MARK: Role bindings and sync state

    func roleBindings() async throws -> [RoleBinding] {
        try await roleBindings(where: nil)
    }

    /// The binding of (scope, role), looked up by the table's key instead of reading them all.
    func roleBinding(scope: ScopePath, role: RoleName) async throws -> RoleBinding? {
        try await roleBindings(where: "b.scope = \(bind: scope.description) AND b.role = \(bind: role.rawValue)").first
    }

    func roleBindings(groupIDs: Set<DirectoryEntryID>) async throws -> [RoleBinding] {
        var bindings: [RoleBinding] = []
        let ids = groupIDs.map(\.rawValue).sorted()
        for start in stride(from: 0, to: ids.count, by: Self.batchSize) {
            let batch = Array(ids[start..<min(start + Self.batchSize, ids.count)])
            bindings += try await roleBindings(where: "b.group_id IN (\(binds: batch))")
        }
        return bindings.sorted { ($0.scope, $0.role) < ($1.scope, $1.role) }
    }

    private func roleBindings(where condition: SQLQueryString?) async throws -> [RoleBinding] {
        let filter: SQLQueryString = condition.map { "WHERE " + $0 } ?? ""
        let rows = try await storeStep("select role bindings", "role_bindings") {
            try await db.raw("""
                SELECT b.scope, b.role, b.group_id, b.rule, g.dn AS group_dn, g.name AS group_name
                FROM role_bindings b JOIN directory_groups g ON g.id = b.group_id \(filter)
                """).all()
        }
        return try rowStep("read role bindings", "role_bindings") {
            var dns = DistinguishedNameCache()
            return try rows.map { try Self.roleBinding(from: $0, &dns) }.sorted { ($0.scope, $0.role) < ($1.scope, $1.role) }
        }
    }

    func syncState() async throws -> SyncState {
        try await storeStep("select sync state", "sync_state") {
            var state = SyncState()
            for row in try await db.select().columns("key", "value").from("sync_state").all() {
                switch try row.decode(column: "key", as: String.self) {
                case SyncStateKey.watermark.rawValue: state.watermark = try row.decode(column: "value", as: String.self)
                case SyncStateKey.watermarkServer.rawValue: state.watermarkServer = try row.decode(column: "value", as: String.self)
                case SyncStateKey.lastFullSyncAt.rawValue: state.lastFullSyncAt = Date(timeIntervalSince1970: try row.decode(column: "value", as: Double.self))
                case SyncStateKey.lastSyncAt.rawValue: state.lastSyncAt = Date(timeIntervalSince1970: try row.decode(column: "value", as: Double.self))
                case SyncStateKey.mappingSignature.rawValue: state.mappingSignature = try row.decode(column: "value", as: String.self)
                case SyncStateKey.mappingWarnings.rawValue:
                    state.mappingWarnings = try AccessCoding.decode([String].self, try row.decode(column: "value", as: String.self))
                default: break
                }
            }
            return state
        }
    }

    // MARK: Rows

    static func user(from row: any SQLRow) throws -> StoredUser {
        try user(from: row) { try DistinguishedName($0) }
    }

    /// `parseDN` is the plain parser for one row, a `DistinguishedNameCache` for a list.
    static func user(from row: any SQLRow, parseDN: (String) throws -> DistinguishedName) throws -> StoredUser {
        try rowStep("read user", "directory_users") {
            let record = DirectoryUserRecord(
                id: DirectoryEntryID(rawValue: try row.decode(column: "id", as: String.self)),
                dn: try parseDN(try row.decode(column: "dn", as: String.self)),
                login: try row.decode(column: "login", as: String.self),
                displayName: try row.decode(column: "display_name", as: String?.self),
                mail: try row.decode(column: "mail", as: String?.self),
                enabled: try row.decode(column: "enabled", as: Int.self) != 0
            )
            return StoredUser(
                record: record,
                firstSeenAt: Date(timeIntervalSince1970: try row.decode(column: "first_seen_at", as: Double.self)),
                syncedAt: Date(timeIntervalSince1970: try row.decode(column: "synced_at", as: Double.self)),
                deletedAt: try row.decode(column: "deleted_at", as: Double?.self).map(Date.init(timeIntervalSince1970:))
            )
        }
    }

    static func group(from row: any SQLRow) throws -> StoredGroup {
        try group(from: row) { try DistinguishedName($0) }
    }

    static func group(from row: any SQLRow, parseDN: (String) throws -> DistinguishedName) throws -> StoredGroup {
        try rowStep("read group", "directory_groups") {
            StoredGroup(
                id: DirectoryEntryID(rawValue: try row.decode(column: "id", as: String.self)),
                dn: try parseDN(try row.decode(column: "dn", as: String.self)),
                name: try row.decode(column: "name", as: String.self),
                description: try row.decode(column: "description", as: String?.self),
                directMemberCount: try row.decode(column: "member_count", as: Int.self),
                firstSeenAt: Date(timeIntervalSince1970: try row.decode(column: "first_seen_at", as: Double.self)),
                syncedAt: Date(timeIntervalSince1970: try row.decode(column: "synced_at", as: Double.self)),
                deletedAt: try row.decode(column: "deleted_at", as: Double?.self).map(Date.init(timeIntervalSince1970:))
            )
        }
    }

    static func roleBinding(from row: any SQLRow, _ dns: inout DistinguishedNameCache) throws -> RoleBinding {
        guard let role = RoleName(rawValue: try row.decode(column: "role", as: String.self)) else {
            throw SQLiteStoreError(operation: "read role binding", table: "role_bindings", reason: "stored role name is invalid")
        }
        return RoleBinding(
            scope: try ScopePath(try row.decode(column: "scope", as: String.self)),
            role: role,
            groupID: DirectoryEntryID(rawValue: try row.decode(column: "group_id", as: String.self)),
            groupDN: try dns.parse(try row.decode(column: "group_dn", as: String.self)),
            groupName: try row.decode(column: "group_name", as: String.self),
            rule: try row.decode(column: "rule", as: String.self)
        )
    }

    /// DN members are stored in normalized form, which parses back to an equal DN.
    static func memberReference(kind: String, member: String) throws -> MemberReference {
        switch kind {
        case MemberKind.dn.rawValue: return .dn(try DistinguishedName(member))
        case MemberKind.login.rawValue: return .login(member)
        default:
            throw SQLiteStoreError(operation: "read member reference", table: "directory_group_members", reason: "unknown member kind")
        }
    }
}

/// The `kind` column of `directory_group_members`.
enum MemberKind: String {
    case dn
    case login
}

/// The keys of `sync_state`.
enum SyncStateKey: String, CaseIterable {
    case watermark
    case watermarkServer
    case lastFullSyncAt
    case lastSyncAt
    case mappingSignature
    case mappingWarnings
}

extension [any SQLRow] {
    /// The DNs of a list share their parents: one cache parses each parent once.
    func storedUsers() throws -> [StoredUser] {
        var dns = DistinguishedNameCache()
        return try map { try SQLiteStoreReader.user(from: $0) { try dns.parse($0) } }
    }

    func storedGroups() throws -> [StoredGroup] {
        var dns = DistinguishedNameCache()
        return try map { try SQLiteStoreReader.group(from: $0) { try dns.parse($0) } }
    }
}
