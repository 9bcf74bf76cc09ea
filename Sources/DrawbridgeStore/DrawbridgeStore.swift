import DrawbridgeCore
import Foundation
import LDAP

/// Drawbridge's durable state. SQLite (embedded) implements it today; PostgreSQL will join.
public protocol DrawbridgeStore: Sendable {
    /// Applies the migrations not yet applied, each in its own transaction.
    func migrate() async throws

    /// Runs `body` in one write transaction. It commits only when `body` returns and `commit` is true;
    /// otherwise nothing `body` wrote is kept. Readers see the state before or after, never a part.
    func withSyncTransaction<T: Sendable>(
        commit: Bool, _ body: @escaping @Sendable (any DirectorySyncTransaction) async throws -> T
    ) async throws -> T

    /// Runs `body` in one write transaction of the access engine, with the same commit rules as a sync transaction.
    func withAccessTransaction<T: Sendable>(
        commit: Bool, _ body: @escaping @Sendable (any AccessTransaction) async throws -> T
    ) async throws -> T

    /// Audit records in log order, as stored (so a tampered record is returned as it now reads).
    func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord]

    func users(includeDeleted: Bool) async throws -> [StoredUser]
    func groups(includeDeleted: Bool) async throws -> [StoredGroup]
    func user(id: DirectoryEntryID) async throws -> StoredUser?
    /// A live (not deleted) user with this login, matched exactly.
    func user(login: String) async throws -> StoredUser?
    /// A live user with this DN, compared in normalized form.
    func user(dn: DistinguishedName) async throws -> StoredUser?
    func group(id: DirectoryEntryID) async throws -> StoredGroup?
    /// A live group with this DN, compared in normalized form.
    func group(dn: DistinguishedName) async throws -> StoredGroup?
    func memberReferences(ofGroup id: DirectoryEntryID) async throws -> [MemberReference]
    /// Live users who are members of the group; with `transitive`, also through nested groups (cycles are harmless).
    func members(ofGroup id: DirectoryEntryID, transitive: Bool) async throws -> [StoredUser]
    /// Live groups the user belongs to; with `transitive`, also the groups that contain those, and so on.
    func groups(ofUser id: DirectoryEntryID, transitive: Bool) async throws -> [StoredGroup]
    func roleBindings() async throws -> [RoleBinding]
    func syncState() async throws -> SyncState
    /// Counts for monitoring, read in one snapshot.
    func accessGauges() async throws -> AccessGauges
    func close() async throws
}

public struct AccessGauges: Sendable, Hashable {
    public var activationsByState: [ActivationState: Int]
    public var openDriftFindings: Int
    public var pendingChanges: Int
    public var oldestPendingChange: Date?

    public init(activationsByState: [ActivationState: Int], openDriftFindings: Int, pendingChanges: Int, oldestPendingChange: Date?) {
        self.activationsByState = activationsByState
        self.openDriftFindings = openDriftFindings
        self.pendingChanges = pendingChanges
        self.oldestPendingChange = oldestPendingChange
    }
}

/// The writes of one directory sync, all inside one transaction.
public protocol DirectorySyncTransaction: Sendable {
    /// Inserts or updates users by id (a rename updates the DN); a user that was marked deleted comes back.
    func upsertUsers(_ users: [DirectoryUserRecord], seenAt: Date) async throws -> UpsertResult
    /// Inserts or updates groups by id, replacing each group's member list with the one given. The result's
    /// `droppedMembers` lists the DN members that a stored group no longer has.
    func upsertGroups(_ groups: [DirectoryGroupRecord], seenAt: Date) async throws -> UpsertResult
    /// Fingerprints of the live users or groups among `ids` as committed before this transaction, to
    /// recognise entries sent unchanged (a sync sees each entry once, so this transaction has not written them).
    func fingerprints(of kind: DirectoryEntryKind, ids: [DirectoryEntryID]) async throws -> [DirectoryEntryID: String]
    /// Makes stored member rows and group owners follow the users and groups renamed or moved by the upserts so
    /// far (the directory rewrites those values without marking the groups changed), in the groups not seen since
    /// `seenAt`. Call it once the upserts of a kind are written: the renames are applied together, so one entry
    /// taking another's old DN stays apart.
    func applyRenames(seenAt: Date) async throws
    /// Records that entries the directory sent unchanged were seen, without rewriting them.
    func markSeen(_ kind: DirectoryEntryKind, ids: [DirectoryEntryID], at time: Date) async throws
    /// Live users with these DNs (normalized comparison).
    func liveUsers(withDNs dns: [DistinguishedName]) async throws -> [StoredUser]
    /// Marks every live user and group whose last sighting is before `time` as deleted at `deletedAt`.
    func markNotSeen(since time: Date, deletedAt: Date) async throws -> DeletionCounts
    func markUsersDeleted(_ ids: [DirectoryEntryID], at time: Date) async throws -> Int
    /// Live groups, for evaluating mapping rules.
    func liveGroups() async throws -> [StoredGroup]
    /// Replaces all role bindings (and the scope tree derived from them) and reports the difference.
    func replaceRoleBindings(_ bindings: [RoleBinding]) async throws -> RoleBindingChanges
    func roleBindingCount() async throws -> Int
    func syncState() async throws -> SyncState
    func setSyncState(_ state: SyncState) async throws
}

public struct UpsertResult: Sendable, Hashable {
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    /// Entries that were marked deleted and are back.
    public var restored: Int
    /// Users whose `enabled` went from true to false in this upsert.
    public var newlyDisabled: [DirectoryEntryID]
    /// DN members (users or nested groups) that an upserted group listed before and no longer does.
    public var droppedMembers: Set<DistinguishedName>

    public init(
        inserted: Int = 0, updated: Int = 0, unchanged: Int = 0, restored: Int = 0, newlyDisabled: [DirectoryEntryID] = [],
        droppedMembers: Set<DistinguishedName> = []
    ) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.restored = restored
        self.newlyDisabled = newlyDisabled
        self.droppedMembers = droppedMembers
    }

    public static func + (lhs: UpsertResult, rhs: UpsertResult) -> UpsertResult {
        UpsertResult(
            inserted: lhs.inserted + rhs.inserted, updated: lhs.updated + rhs.updated, unchanged: lhs.unchanged + rhs.unchanged,
            restored: lhs.restored + rhs.restored, newlyDisabled: lhs.newlyDisabled + rhs.newlyDisabled,
            droppedMembers: lhs.droppedMembers.union(rhs.droppedMembers))
    }
}

public struct DeletionCounts: Sendable, Hashable {
    public var users: Int
    public var groups: Int

    public init(users: Int, groups: Int) {
        self.users = users
        self.groups = groups
    }
}

public struct RoleBindingChanges: Sendable, Hashable {
    public var added: [RoleBinding]
    public var removed: [RoleBinding]
    /// Same (scope, role), different group.
    public var changed: [RoleBinding]

    public init(added: [RoleBinding], removed: [RoleBinding], changed: [RoleBinding]) {
        self.added = added
        self.removed = removed
        self.changed = changed
    }
}

public struct AuditQuery: Sendable, Hashable {
    public var since: Date?
    public var until: Date?
    public var userLogin: String?
    /// Records about this scope or any scope below it.
    public var scope: ScopePath?

    public init(since: Date? = nil, until: Date? = nil, userLogin: String? = nil, scope: ScopePath? = nil) {
        self.since = since
        self.until = until
        self.userLogin = userLogin
        self.scope = scope
    }

    public static let all = AuditQuery()
}
