import Foundation
import LDAP

/// A user as read from the directory.
public struct DirectoryUserRecord: Sendable, Hashable, Codable {
    public var id: DirectoryEntryID
    public var dn: DistinguishedName
    public var login: String
    public var displayName: String?
    public var mail: String?
    public var enabled: Bool
    /// A digest of the entry as the directory sent it; an entry with the same fingerprint is unchanged.
    public var fingerprint: String?

    public init(
        id: DirectoryEntryID, dn: DistinguishedName, login: String, displayName: String?, mail: String?, enabled: Bool,
        fingerprint: String? = nil
    ) {
        self.id = id
        self.dn = dn
        self.login = login
        self.displayName = displayName
        self.mail = mail
        self.enabled = enabled
        self.fingerprint = fingerprint
    }
}

/// A reference from a group to one of its members, as the group's member attribute holds it.
public enum MemberReference: Sendable, Hashable, Codable {
    /// `member`, `uniqueMember`: a user or a nested group.
    case dn(DistinguishedName)
    /// `memberUid` of a posixGroup: a user's login.
    case login(String)
}

/// A group as read from the directory.
public struct DirectoryGroupRecord: Sendable, Hashable, Codable {
    public var id: DirectoryEntryID
    public var dn: DistinguishedName
    public var name: String
    public var description: String?
    public var members: [MemberReference]
    /// Who owns the group (`owner`, `managedBy`), as DNs.
    public var owners: [DistinguishedName]
    /// A digest of the entry as the directory sent it; an entry with the same fingerprint is unchanged.
    public var fingerprint: String?

    public init(
        id: DirectoryEntryID, dn: DistinguishedName, name: String, description: String?, members: [MemberReference],
        owners: [DistinguishedName] = [], fingerprint: String? = nil
    ) {
        self.id = id
        self.dn = dn
        self.name = name
        self.description = description
        self.members = members
        self.owners = owners
        self.fingerprint = fingerprint
    }
}

/// A user as the store knows it, with its history.
public struct StoredUser: Sendable, Hashable, Codable {
    public var record: DirectoryUserRecord
    public var firstSeenAt: Date
    public var syncedAt: Date
    /// Set when a full sync no longer finds the entry.
    public var deletedAt: Date?

    public init(record: DirectoryUserRecord, firstSeenAt: Date, syncedAt: Date, deletedAt: Date?) {
        self.record = record
        self.firstSeenAt = firstSeenAt
        self.syncedAt = syncedAt
        self.deletedAt = deletedAt
    }
}

/// What mapping rules look at: a group's identity, DN and name.
public struct GroupReference: Sendable, Hashable, Codable {
    public var id: DirectoryEntryID
    public var dn: DistinguishedName
    public var name: String

    public init(id: DirectoryEntryID, dn: DistinguishedName, name: String) {
        self.id = id
        self.dn = dn
        self.name = name
    }
}

/// A group as the store knows it.
public struct StoredGroup: Sendable, Hashable, Codable {
    public var id: DirectoryEntryID
    public var dn: DistinguishedName
    public var name: String
    public var description: String?
    public var directMemberCount: Int
    public var firstSeenAt: Date
    public var syncedAt: Date
    public var deletedAt: Date?

    public init(
        id: DirectoryEntryID, dn: DistinguishedName, name: String, description: String?, directMemberCount: Int,
        firstSeenAt: Date, syncedAt: Date, deletedAt: Date?
    ) {
        self.id = id
        self.dn = dn
        self.name = name
        self.description = description
        self.directMemberCount = directMemberCount
        self.firstSeenAt = firstSeenAt
        self.syncedAt = syncedAt
        self.deletedAt = deletedAt
    }

    public var reference: GroupReference {
        GroupReference(id: id, dn: dn, name: name)
    }
}

/// Bookkeeping of the connector between runs.
public struct SyncState: Sendable, Hashable, Codable {
    /// The next incremental sync reads entries whose change marker (modifyTimestamp, whenChanged or
    /// uSNChanged) is at or after this; it is never later than the server's position when the last sync began.
    public var watermark: String?
    /// The server a counter watermark belongs to (AD's dsServiceName): uSNChanged is counted per server.
    public var watermarkServer: String?
    public var lastFullSyncAt: Date?
    public var lastSyncAt: Date?
    /// The `ScopeMapper.signature` of the rules the stored role bindings were derived with.
    public var mappingSignature: String?
    /// What the rules found wrong when the stored role bindings were derived, repeated by syncs that keep them.
    public var mappingWarnings: [String]

    public init(
        watermark: String? = nil, watermarkServer: String? = nil, lastFullSyncAt: Date? = nil, lastSyncAt: Date? = nil,
        mappingSignature: String? = nil, mappingWarnings: [String] = []
    ) {
        self.watermark = watermark
        self.watermarkServer = watermarkServer
        self.lastFullSyncAt = lastFullSyncAt
        self.lastSyncAt = lastSyncAt
        self.mappingSignature = mappingSignature
        self.mappingWarnings = mappingWarnings
    }
}
