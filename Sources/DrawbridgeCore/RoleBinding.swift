import LDAP

/// A role name such as `owner`: letters, digits, '.', '_' and '-'.
public struct RoleName: RawRepresentable, Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard !rawValue.isEmpty, rawValue.count <= 64,
            rawValue.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) })
        else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// (scope, role) → the LDAP group whose membership confers the role there.
public struct RoleBinding: Hashable, Sendable, Codable {
    public var scope: ScopePath
    public var role: RoleName
    public var groupID: DirectoryEntryID
    public var groupDN: DistinguishedName
    public var groupName: String
    /// The mapping rule that produced the binding.
    public var rule: String

    public init(scope: ScopePath, role: RoleName, groupID: DirectoryEntryID, groupDN: DistinguishedName, groupName: String, rule: String) {
        self.scope = scope
        self.role = role
        self.groupID = groupID
        self.groupDN = groupDN
        self.groupName = groupName
        self.rule = rule
    }
}
