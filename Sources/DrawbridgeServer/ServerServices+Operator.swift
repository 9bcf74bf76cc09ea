import DrawbridgeCore
import Foundation

/// What the local operator (who holds the store and the keys) may do without signing in: bootstrap credentials.
extension ServerServices {
    public struct OperatorEnrollment: Sendable {
        public var secret: String
        public var uri: String
        public var recoveryCodes: [String]
    }

    /// Enrolls `login` in TOTP at once (replacing an earlier enrollment); the operator hands the secret over.
    public func enrollTOTP(login: String, by actor: Actor) async throws -> OperatorEnrollment {
        let user = try await liveUser(login)
        let result = try await requireTOTP().enrollConfirmed(for: user, at: clock.now())
        try await audit(AuditEvent(action: "mfa.enrolled", actor: actor, source: .cli, userLogin: login, details: ["method": "totp", "by": "operator"]))
        return OperatorEnrollment(secret: result.enrollment.secret, uri: result.enrollment.uri, recoveryCodes: result.recoveryCodes)
    }

    /// Removes a user's TOTP enrollment, e.g. after a lost phone; they enroll again at their next sign-in.
    public func resetTOTP(login: String, by actor: Actor) async throws {
        let user = try await liveUser(login)
        try await store.deleteMFAEnrollment(userID: user.id)
        try await audit(AuditEvent(action: "mfa.reset", actor: actor, source: .cli, userLogin: login))
    }

    /// Creates a personal access token for `login` on the operator's say-so (automation accounts, load tests).
    public func createToken(login: String, name: String, lifetime: TimeInterval, by actor: Actor) async throws -> (token: APIToken, secret: String) {
        try await createToken(for: try await liveUser(login).id, name: name, lifetime: lifetime, by: actor)
    }

    private func liveUser(_ login: String) async throws -> DirectoryUserRecord {
        guard let user = try await store.user(login: login), user.record.enabled else {
            throw ActionRefused([Refusal(.unknownUser, "no live, enabled directory user with login '\(login)'")])
        }
        return user.record
    }
}
