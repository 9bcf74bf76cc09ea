import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP

extension ServerServices {
    /// Failed attempts take at least this long, so response times do not tell an unknown login from a wrong password.
    static let failedSignInFloor: Duration = .milliseconds(300)

    var totp: TOTPVerifier? {
        secrets.map { TOTPVerifier(store: store, secrets: $0, issuer: configuration.server.mfaIssuer) }
    }

    func requireTOTP() throws -> TOTPVerifier {
        guard let totp else {
            throw APIProblem(.serviceUnavailable, "MFA not configured", detail: "the server has no key for TOTP secrets (server.mfa.keyFile or keyEnv)")
        }
        return totp
    }

    /// Read from the store, not through the TOTP verifier: a server started without the MFA key must still ask
    /// enrolled users for their second factor (and then refuse it as unavailable), not let them in on a password.
    func hasSecondFactor(_ userID: DirectoryEntryID) async throws -> Bool {
        try await store.mfaEnrollment(userID: userID)?.confirmedAt != nil
    }

    func audit(_ event: AuditEvent) async throws {
        let now = clock.now()
        try await store.withAccessTransaction(commit: true) { _ = try await $0.appendAudit(event, at: now) }
    }

    /// Checks the password against the directory and returns the session to start: signed in, or waiting for
    /// the TOTP code of a user who enrolled one. Every failure reads the same.
    func signIn(login rawLogin: String, password: LDAPPassword, from address: IPAddress?) async throws -> WebSession {
        let started = ContinuousClock.now
        let login = rawLogin.trimmingCharacters(in: .whitespaces)
        if let wait = await throttle.retryAfter(login: login, address: address) {
            throw APIProblem(.tooManyRequests, "Too many failed sign-ins", detail: "try again later", retryAfter: Int(wait.rounded(.up)))
        }
        let outcome: DirectorySignIn.Outcome
        do {
            outcome = try await signIn.verify(login: login, password: password)
        } catch {
            logger.error("sign-in could not ask the directory", metadata: ["error": "\(error)"])
            throw DirectoryUnavailable()
        }
        let user: StoredUser?
        if case .authenticated(let dn) = outcome { user = try await store.user(dn: dn) } else { user = nil }
        guard let user, user.record.enabled else {
            await throttle.recordFailure(login: login, address: address)
            logger.notice("sign-in failed", metadata: ["client": "\(address.map(\.description) ?? "unknown")"])
            try? await Task.sleep(until: started + Self.failedSignInFloor)
            if case .authenticated = outcome, user == nil {
                throw APIProblem(.forbidden, "Not known to Drawbridge", detail: "your account is not synced from the directory yet; try again after the next sync")
            }
            throw APIProblem(.unauthorized, "Sign-in failed", detail: "the login or password is wrong")
        }
        await throttle.recordSuccess(login: login)
        let enrolled = try await hasSecondFactor(user.record.id)
        try await audit(AuditEvent(
            action: "signin", actor: .user(user.record), source: .api, userLogin: user.record.login,
            details: ["client": address.map(\.description) ?? "unknown", "secondFactor": enrolled ? "required" : "not enrolled"]))
        return WebSession(userID: user.record.id, awaitingSecondFactor: enrolled, createdAt: clock.now())
    }

    /// Verifies a TOTP or recovery code under the same throttle as passwords (six digits are guessable otherwise).
    func verifySecondFactor(userID: DirectoryEntryID, code: String, from address: IPAddress?, purpose: String) async throws {
        guard let user = try await store.user(id: userID) else { throw APIProblem.unauthorized() }
        let key = user.record.login
        if let wait = await throttle.retryAfter(login: key, address: address, guessing: .code) {
            throw APIProblem(.tooManyRequests, "Too many failed codes", detail: "try again later", retryAfter: Int(wait.rounded(.up)))
        }
        guard try await requireTOTP().verify(userID, code: code, at: clock.now()) else {
            await throttle.recordFailure(login: key, address: address, guessing: .code)
            try await audit(AuditEvent(action: "mfa.verified", outcome: .refused, actor: .user(user.record), source: .api, userLogin: key, reason: "invalid or reused code", details: ["purpose": purpose]))
            throw APIProblem.refused(ActionRefused([Refusal(.mfaRequired, "the code is not valid (or was already used)")]))
        }
        try await audit(AuditEvent(action: "mfa.verified", actor: .user(user.record), source: .api, userLogin: key, details: ["purpose": purpose]))
    }

    /// A fresh MFA proof: a TOTP code in the request (checked now), else the session's recent step-up.
    func mfaProof(for identity: SignedInUser, code: String?, clientAddress: IPAddress?) async throws -> MFAProof? {
        let now = clock.now()
        if let code, !code.isEmpty {
            try await verifySecondFactor(userID: identity.user.id, code: code, from: clientAddress, purpose: "activation")
            return MFAProof(method: "totp", verifiedAt: now)
        }
        guard let verified = identity.mfaVerifiedAt,
            now.timeIntervalSince(verified) < TimeInterval(configuration.server.mfaStepUpMaxAge.components.seconds)
        else { return nil }
        return MFAProof(method: "totp", verifiedAt: verified)
    }
}
