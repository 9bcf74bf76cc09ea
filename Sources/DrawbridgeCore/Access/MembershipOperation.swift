import Foundation
import LDAP

/// An intent to add a user to, or remove one from, a directory group: committed before the LDAP operation,
/// applied (idempotently) until it succeeds or the directory refuses it for good.
public struct MembershipOperation: Hashable, Sendable, Codable, Identifiable {
    public enum Action: String, Hashable, Sendable, Codable {
        case add
        case remove
    }

    public enum State: String, Hashable, Sendable, Codable, CaseIterable {
        case pending
        case done
        /// Not applied on purpose (the last member of a protected group).
        case refused
        /// The directory refused it permanently.
        case failed
        /// A later intent for the same user and group replaced it before it was applied.
        case superseded
    }

    /// Assigned by the store, in order of creation.
    public var id: Int64
    public var action: Action
    public var groupID: DirectoryEntryID
    public var groupDN: DistinguishedName
    public var userID: DirectoryEntryID
    public var userDN: DistinguishedName
    public var userLogin: String
    /// What asked for it: an activation, assignment or drift finding, as `kind:id`.
    public var cause: String
    /// The binding it serves, so the audit record of the change can be found by scope and role.
    public var scope: ScopePath?
    public var role: RoleName?
    public var createdAt: Date
    public var notBefore: Date
    public var attempts: Int
    public var lastError: String?
    public var state: State
    public var finishedAt: Date?
    /// When the change was due: the end of the activation a removal expires; nil when it was due at once.
    public var dueAt: Date?

    public init(
        id: Int64 = 0, action: Action, groupID: DirectoryEntryID, groupDN: DistinguishedName, userID: DirectoryEntryID,
        userDN: DistinguishedName, userLogin: String, cause: String, scope: ScopePath? = nil, role: RoleName? = nil, createdAt: Date
    ) {
        self.id = id
        self.action = action
        self.groupID = groupID
        self.groupDN = groupDN
        self.userID = userID
        self.userDN = userDN
        self.userLogin = userLogin
        self.cause = cause
        self.scope = scope
        self.role = role
        self.createdAt = createdAt
        self.notBefore = createdAt
        self.attempts = 0
        self.state = .pending
    }
}
