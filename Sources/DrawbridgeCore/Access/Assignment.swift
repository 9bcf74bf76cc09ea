import Foundation

/// Direct membership granted by an administrator (or adopted from the directory), permanent or for a window.
public struct Assignment: Hashable, Sendable, Codable, Identifiable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Granted through Drawbridge.
        case assigned
        /// Found in the group, granted outside Drawbridge, and kept by the binding's `adopt` drift policy.
        case adopted
    }

    public enum State: String, Hashable, Sendable, Codable {
        case scheduled
        case active
        case ended
    }

    public var id: AssignmentID
    public var kind: Kind
    public var userID: DirectoryEntryID
    public var userLogin: String
    public var scope: ScopePath
    public var role: RoleName
    public var startAt: Date
    /// nil: permanent.
    public var endAt: Date?
    public var justification: String
    public var ticket: String?
    public var createdBy: Actor
    public var createdAt: Date
    public var state: State
    /// The group the grant was queued for: the removal goes there even if the binding has moved since.
    public var grantedGroup: GrantedGroup?
    public var endedAt: Date?
    public var endReason: EndReason?

    public init(
        id: AssignmentID = .make(), kind: Kind, userID: DirectoryEntryID, userLogin: String, scope: ScopePath, role: RoleName,
        startAt: Date, endAt: Date?, justification: String, ticket: String?, createdBy: Actor, createdAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.userID = userID
        self.userLogin = userLogin
        self.scope = scope
        self.role = role
        self.startAt = startAt
        self.endAt = endAt
        self.justification = justification
        self.ticket = ticket
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.state = startAt > createdAt ? .scheduled : .active
    }

    /// When the scheduler must next look at it.
    public var nextDueAt: Date? {
        switch state {
        case .scheduled: startAt
        case .active: endAt
        case .ended: nil
        }
    }

    public var grantsMembership: Bool { state == .active }
}

/// Why a grant ended.
public enum EndReason: String, Hashable, Sendable, Codable {
    /// Its end time came.
    case expired
    /// The holder (or an administrator) ended it early.
    case deactivated
    /// Taken away: eligibility removed or expired, account disabled or deleted, an administrator or a review.
    case revoked
}
