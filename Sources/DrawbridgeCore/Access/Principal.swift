/// Who an eligibility or approver entry names: one user, or every member of a directory group (through
/// nested groups too, as last synced).
public enum Principal: Hashable, Sendable, Codable, CustomStringConvertible {
    case user(DirectoryEntryID)
    case group(DirectoryEntryID)

    public var id: DirectoryEntryID {
        switch self {
        case .user(let id), .group(let id): id
        }
    }

    public var kind: DirectoryEntryKind {
        switch self {
        case .user: .user
        case .group: .group
        }
    }

    public var description: String { "\(kind.rawValue):\(id)" }
}

/// Who did something, as the audit log records it.
public struct Actor: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// A directory user acting for themselves or as approver or administrator.
        case user
        /// A person at the local CLI, named by their operating-system account: they have the store in hand,
        /// so they act as administrator.
        case `operator`
        /// A directory user who belongs to a configured administrator group, acting as administrator through the server.
        case administrator
        /// Drawbridge itself: the scheduler, sync or reconciler.
        case system
    }

    public var kind: Kind
    /// The user's login, or the system component's name.
    public var name: String
    public var userID: DirectoryEntryID?

    public init(kind: Kind, name: String, userID: DirectoryEntryID? = nil) {
        self.kind = kind
        self.name = name
        self.userID = userID
    }

    public static func user(_ user: DirectoryUserRecord) -> Actor { Actor(kind: .user, name: user.login, userID: user.id) }
    public static func system(_ component: String) -> Actor { Actor(kind: .system, name: component) }
    public static func `operator`(_ account: String) -> Actor { Actor(kind: .operator, name: account) }

    public var description: String { "\(kind.rawValue):\(name)" }
}

/// Where an action came from.
public enum ActionSource: String, Hashable, Sendable, Codable, CaseIterable {
    case cli
    case api
    case scheduler
    case sync
    case reconciler
}
