import DrawbridgeCore
import Foundation

/// What the server keeps about signed-in people: sessions, personal access tokens and TOTP enrollments.
/// Each method is atomic on its own.
public protocol CredentialStore: Sendable {
    /// A session by the hash of its id, unless it has expired by `time`.
    func session(key: String, at time: Date) async throws -> StoredSession?
    /// Writes a session. With `onlyIfAbsent`, returns false instead of overwriting one that exists.
    /// A nil `expiresAt` keeps the stored expiry (a new session without one never expires).
    /// Returns false, writing nothing, for a removed session: a request still in flight when the session was
    /// ended (signed out, rotated) must not bring it back by saving it.
    func putSession(key: String, value: Data, expiresAt: Date?, onlyIfAbsent: Bool) async throws -> Bool
    /// Ends a session for good; its key stays known as removed until it would have expired.
    func removeSession(key: String) async throws
    /// Deletes sessions that expired before `time`; returns how many.
    func purgeSessions(expiredBefore time: Date) async throws -> Int

    func save(_ token: APIToken, secretHash: String) async throws
    /// The token whose secret hashes to `secretHash`, whatever its state.
    func token(secretHash: String) async throws -> APIToken?
    func tokens(userID: DirectoryEntryID) async throws -> [APIToken]
    func update(_ token: APIToken) async throws
    /// Records a use of a token that is not revoked, without rewriting the rest of it (a revocation in between stays).
    func touchToken(_ id: APITokenID, at time: Date) async throws

    func mfaEnrollment(userID: DirectoryEntryID) async throws -> MFAEnrollment?
    func save(_ enrollment: MFAEnrollment) async throws
    func deleteMFAEnrollment(userID: DirectoryEntryID) async throws
    /// Records that the user's TOTP code for `step` was used. False when that step or a later one was already
    /// used: a code is accepted once.
    func claimTOTPStep(_ step: Int64, userID: DirectoryEntryID) async throws -> Bool
    /// Removes one unused recovery code by its hash; false when it is not (or no longer) there.
    func consumeRecoveryCode(hash: String, userID: DirectoryEntryID) async throws -> Bool
}

public struct StoredSession: Sendable, Hashable {
    public var value: Data
    public var expiresAt: Date?

    public init(value: Data, expiresAt: Date?) {
        self.value = value
        self.expiresAt = expiresAt
    }
}
