import Foundation
import LDAP

/// A member of a managed group that Drawbridge did not grant.
public struct DriftFinding: Hashable, Sendable, Codable {
    public var groupID: DirectoryEntryID
    public var groupDN: DistinguishedName
    public var memberDN: DistinguishedName
    public var userLogin: String?
    public var detectedAt: Date
    public var lastSeenAt: Date
    /// What the drift policy did or, before enforcement, would do: reported, reverted, adopted.
    public var effect: String
    public var resolvedAt: Date?

    public init(
        groupID: DirectoryEntryID, groupDN: DistinguishedName, memberDN: DistinguishedName, userLogin: String?, detectedAt: Date,
        lastSeenAt: Date, effect: String, resolvedAt: Date?
    ) {
        self.groupID = groupID
        self.groupDN = groupDN
        self.memberDN = memberDN
        self.userLogin = userLogin
        self.detectedAt = detectedAt
        self.lastSeenAt = lastSeenAt
        self.effect = effect
        self.resolvedAt = resolvedAt
    }
}
