/// The directory's own stable identifier of an entry (entryUUID, nsUniqueId, ipaUniqueID, objectGUID),
/// so that a renamed entry stays the same user or group.
public struct DirectoryEntryID: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

public enum DirectoryEntryKind: String, Sendable, Hashable, Codable {
    case user
    case group
}
