import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// The causes recorded on intents, so an intent can be traced to what asked for it.
enum Cause {
    static func activation(_ id: ActivationID) -> String { "activation:\(id)" }
    static func assignment(_ id: AssignmentID) -> String { "assignment:\(id)" }
    static func drift(_ group: DirectoryEntryID) -> String { "drift:\(group)" }
    static let reconcile = "reconcile"
}

extension AccessContext {
    /// Queues adding the user to the group bound to (scope, role); returns that group, to be recorded on the
    /// grant, or nil when no group is bound.
    @discardableResult
    func grant(userID: DirectoryEntryID, scope: ScopePath, role: RoleName, cause: String) async throws -> GrantedGroup? {
        guard let binding = try await binding(scope: scope, role: role), let user = try await transaction.user(id: userID) else { return nil }
        try await transaction.enqueue(MembershipOperation(
            action: .add, groupID: binding.groupID, groupDN: binding.groupDN, userID: userID, userDN: user.record.dn,
            userLogin: user.record.login, cause: cause, scope: scope, role: role, createdAt: now))
        markWork()
        return GrantedGroup(id: binding.groupID, dn: binding.groupDN)
    }

    /// Queues removing the user from the group the grant put them in (the group bound to (scope, role) for a
    /// grant that recorded none), unless another grant (`cause` aside) still holds the user in that group.
    func ungrant(userID: DirectoryEntryID, scope: ScopePath, role: RoleName, granted: GrantedGroup?, cause: String) async throws {
        guard let group = try await group(granted: granted, scope: scope, role: role), let user = try await transaction.user(id: userID) else { return }
        if try await holdsGroup(userID: userID, groupID: group.id, except: cause) { return }
        try await transaction.enqueue(MembershipOperation(
            action: .remove, groupID: group.id, groupDN: group.dn, userID: userID, userDN: user.record.dn,
            userLogin: user.record.login, cause: cause, scope: scope, role: role, createdAt: now))
        markWork()
    }

    /// The group a grant holds: the one it recorded (at its current DN, should it have been renamed), else the
    /// one bound to its (scope, role) now.
    func group(granted: GrantedGroup?, scope: ScopePath, role: RoleName) async throws -> GrantedGroup? {
        guard let granted else {
            return try await binding(scope: scope, role: role).map { GrantedGroup(id: $0.groupID, dn: $0.groupDN) }
        }
        return try await currentGroup(granted)
    }

    /// Whether a live grant other than `cause` keeps the user in the group.
    func holdsGroup(userID: DirectoryEntryID, groupID: DirectoryEntryID, except cause: String?) async throws -> Bool {
        for grant in try await transaction.activeGrants(userIDs: [userID]) where grant.cause != cause {
            if try await group(granted: grant.grantedGroup, scope: grant.scope, role: grant.role)?.id == groupID { return true }
        }
        return false
    }

    /// Users who should be members of each group now: holders of active activations and assignments.
    func desiredMembers() async throws -> [DirectoryEntryID: Set<DirectoryEntryID>] {
        var members: [DirectoryEntryID: Set<DirectoryEntryID>] = [:]
        for grant in try await transaction.activeGrants(userIDs: nil) {
            if let group = try await group(granted: grant.grantedGroup, scope: grant.scope, role: grant.role) {
                members[group.id, default: []].insert(grant.userID)
            }
        }
        return members
    }
}
