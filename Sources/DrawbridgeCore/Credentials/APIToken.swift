import Foundation

public typealias APITokenID = EntityID<APIToken>

/// A personal access token: its secret is shown once at creation and only its SHA-256 is stored.
public struct APIToken: Hashable, Sendable, Codable {
    public var id: APITokenID
    public var userID: DirectoryEntryID
    public var name: String
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(
        id: APITokenID = .make(), userID: DirectoryEntryID, name: String, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil,
        lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    public func isUsable(at time: Date) -> Bool {
        revokedAt == nil && time < expiresAt
    }
}

/// A user's TOTP enrollment. The secret is sealed (AES-GCM) by the server before it reaches the store.
public struct MFAEnrollment: Hashable, Sendable, Codable {
    public var userID: DirectoryEntryID
    public var sealedSecret: Data
    public var createdAt: Date
    /// nil until the user proves the authenticator works with a first valid code.
    public var confirmedAt: Date?
    /// SHA-256 of each unused recovery code.
    public var recoveryCodeHashes: [String]

    public init(userID: DirectoryEntryID, sealedSecret: Data, createdAt: Date, confirmedAt: Date? = nil, recoveryCodeHashes: [String] = []) {
        self.userID = userID
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.recoveryCodeHashes = recoveryCodeHashes
    }
}
