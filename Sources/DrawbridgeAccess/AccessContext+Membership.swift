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
    /// Queues adding the user to the group bound to (scope, role). Returns false when no group is bound.
    @discardableResult
    func grant(userID: DirectoryEntryID, scope: ScopePath, role: RoleName, cause: String) async throws -> Bool {
        guard let binding = try await binding(scope: scope, role: role), let user = try await transaction.user(id: userID) else { return false }
        try await transaction.enqueue(MembershipOperation(
            action: .add, groupID: binding.groupID, groupDN: binding.groupDN, userID: userID, userDN: user.record.dn,
            userLogin: user.record.login, cause: cause, scope: scope, role: role, createdAt: now))
        markWork()
        return true
    }

    /// Queues removing the user from the group bound to (scope, role), unless another grant (`cause` aside)
    /// still holds the user in that group.
    func ungrant(userID: DirectoryEntryID, scope: ScopePath, role: RoleName, cause: String) async throws {
        guard let binding = try await binding(scope: scope, role: role), let user = try await transaction.user(id: userID) else { return }
        if try await holdsGroup(userID: userID, groupID: binding.groupID, except: cause) { return }
        try await transaction.enqueue(MembershipOperation(
            action: .remove, groupID: binding.groupID, groupDN: binding.groupDN, userID: userID, userDN: user.record.dn,
            userLogin: user.record.login, cause: cause, scope: scope, role: role, createdAt: now))
        markWork()
    }

    /// Whether a live grant other than `cause` keeps the user in the group.
    func holdsGroup(userID: DirectoryEntryID, groupID: DirectoryEntryID, except cause: String?) async throws -> Bool {
        for activation in try await transaction.activations(ActivationQuery(userID: userID, states: [.active]))
        where Cause.activation(activation.id) != cause {
            if try await binding(scope: activation.scope, role: activation.role)?.groupID == groupID { return true }
        }
        for assignment in try await transaction.assignments(userID: userID, liveOnly: true)
        where assignment.grantsMembership && Cause.assignment(assignment.id) != cause {
            if try await binding(scope: assignment.scope, role: assignment.role)?.groupID == groupID { return true }
        }
        return false
    }

    /// Users who should be members of the group now: holders of active activations and assignments bound to it.
    func desiredMembers(ofGroup groupID: DirectoryEntryID, bindings: [RoleBinding]) async throws -> Set<DirectoryEntryID> {
        var members = Set<DirectoryEntryID>()
        for binding in bindings where binding.groupID == groupID {
            for activation in try await transaction.activations(ActivationQuery(states: [.active], scope: binding.scope, role: binding.role)) {
                members.insert(activation.userID)
            }
        }
        for assignment in try await transaction.assignments(userID: nil, liveOnly: true) where assignment.grantsMembership {
            if bindings.contains(where: { $0.groupID == groupID && $0.scope == assignment.scope && $0.role == assignment.role }) {
                members.insert(assignment.userID)
            }
        }
        return members
    }
}
