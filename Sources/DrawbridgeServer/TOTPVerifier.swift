import DrawbridgeCore
import DrawbridgeStore
import Foundation
import HummingbirdOTP

/// TOTP (RFC 6238) enrollment and verification: 6 digits, 30-second steps, one step of drift either way, each
/// code accepted once; ten single-use recovery codes.
struct TOTPVerifier: Sendable {
    static let step: TimeInterval = 30
    static let recoveryCodeCount = 10

    let store: any CredentialStore
    let secrets: SecretBox
    let issuer: String

    struct Enrollment {
        /// The key in base32, as authenticator apps expect it typed by hand (the URI carries the same).
        var secret: String
        var uri: String

        init(uri: String) {
            self.uri = uri
            secret = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        }
    }

    /// Starts (or restarts) enrollment with a new secret; it counts only after `confirm`.
    func begin(for user: DirectoryUserRecord, at time: Date) async throws -> Enrollment {
        if let existing = try await store.mfaEnrollment(userID: user.id), existing.confirmedAt != nil {
            throw ActionRefused([Refusal(.invalidState, "an authenticator is already enrolled; remove it first")])
        }
        let secret = Self.newSecret()
        let sealed = try secrets.seal(Data(secret.utf8), context: user.id.rawValue)
        try await store.save(MFAEnrollment(userID: user.id, sealedSecret: sealed, createdAt: time))
        return Enrollment(uri: uri(secret, user))
    }

    /// Enrolls (or re-enrolls) a user at once, for an operator who hands the secret over in person.
    func enrollConfirmed(for user: DirectoryUserRecord, at time: Date) async throws -> (enrollment: Enrollment, recoveryCodes: [String]) {
        let secret = Self.newSecret()
        let codes = (0..<Self.recoveryCodeCount).map { _ in Self.newRecoveryCode() }
        let sealed = try secrets.seal(Data(secret.utf8), context: user.id.rawValue)
        try await store.deleteMFAEnrollment(userID: user.id)
        try await store.save(MFAEnrollment(
            userID: user.id, sealedSecret: sealed, createdAt: time, confirmedAt: time, recoveryCodeHashes: codes.map { recoveryDigest($0, user.id) }))
        return (Enrollment(uri: uri(secret, user)), codes)
    }

    private func uri(_ secret: String, _ user: DirectoryUserRecord) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "\(issuer):\(user.login)", issuer: issuer)
    }

    /// Confirms enrollment with a first valid code; returns the recovery codes, shown once.
    func confirm(for user: DirectoryUserRecord, code: String, at time: Date) async throws -> [String] {
        guard var enrollment = try await store.mfaEnrollment(userID: user.id), enrollment.confirmedAt == nil else {
            throw ActionRefused([Refusal(.invalidState, "no enrollment is waiting for confirmation; start one first")])
        }
        guard try await accepts(code, enrollment: enrollment, at: time) else {
            throw ActionRefused([Refusal(.mfaRequired, "the code is not valid; check the authenticator's clock and try the next code")])
        }
        let codes = (0..<Self.recoveryCodeCount).map { _ in Self.newRecoveryCode() }
        enrollment.confirmedAt = time
        enrollment.recoveryCodeHashes = codes.map { recoveryDigest($0, user.id) }
        try await store.save(enrollment)
        return codes
    }

    /// True when `code` is a current TOTP code not used before, or an unused recovery code (which is then spent).
    func verify(_ userID: DirectoryEntryID, code: String, at time: Date) async throws -> Bool {
        guard let enrollment = try await store.mfaEnrollment(userID: userID), enrollment.confirmedAt != nil else { return false }
        let trimmed = code.filter { !$0.isWhitespace }
        if trimmed.count == 6, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) {
            return try await accepts(trimmed, enrollment: enrollment, at: time)
        }
        let recoveryCode = trimmed.uppercased()
        if try await store.consumeRecoveryCode(hash: recoveryDigest(recoveryCode, userID), userID: userID) { return true }
        // Codes issued before they were keyed were stored as plain SHA-256; they stay usable until spent or reissued.
        return try await store.consumeRecoveryCode(hash: sha256Hex(recoveryCode), userID: userID)
    }

    private func recoveryDigest(_ code: String, _ userID: DirectoryEntryID) -> String {
        secrets.digest(code, context: userID.rawValue)
    }

    private func accepts(_ code: String, enrollment: MFAEnrollment, at time: Date) async throws -> Bool {
        guard let presented = Int(code.filter { !$0.isWhitespace }) else { return false }
        let totp = TOTP(secret: try secret(of: enrollment))
        let current = Int64((time.timeIntervalSince1970 / Self.step).rounded(.down))
        for step in [current - 1, current, current + 1] where totp.compute(date: Date(timeIntervalSince1970: Double(step) * Self.step)) == presented {
            return try await store.claimTOTPStep(step, userID: enrollment.userID)
        }
        return false
    }

    private func secret(of enrollment: MFAEnrollment) throws -> String {
        String(decoding: try secrets.open(enrollment.sealedSecret, context: enrollment.userID.rawValue), as: UTF8.self)
    }

    /// 32 characters of the base32 alphabet: 160 bits, as RFC 4226 recommends.
    static func newSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String((0..<32).map { _ in alphabet.randomElement()! })
    }

    /// Ten characters in two groups, from an alphabet without look-alikes (0/O, 1/I/L).
    static func newRecoveryCode() -> String {
        let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
        let characters = (0..<10).map { _ in alphabet.randomElement()! }
        return String(characters[0..<5]) + "-" + String(characters[5...])
    }
}
