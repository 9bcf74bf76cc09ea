import Crypto
import DrawbridgeConfig
import DrawbridgeCore
import Foundation

/// Seals secrets for storage with AES-256-GCM under the configured key: a copy of the database alone does not
/// reveal TOTP secrets, and a modified ciphertext fails to open instead of yielding a wrong secret.
struct SecretBox: @unchecked Sendable {
    // SymmetricKey is an immutable value that swift-crypto has not marked Sendable; it is never mutated here.
    private let key: SymmetricKey
    /// A separate key for `digest`, derived so that a MAC never uses the encryption key itself.
    private let digestKey: SymmetricKey

    init(_ material: SecretBytes) {
        key = SymmetricKey(data: material.bytes)
        digestKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("drawbridge recovery codes".utf8), outputByteCount: 32)
    }

    /// HMAC-SHA256 of `text` for `context`, in hex: what is stored in place of a guessable short secret (a recovery
    /// code), so a copy of the database cannot be searched offline without the key, nor one search serve every user.
    func digest(_ text: String, context: String) -> String {
        lowercaseHex(HMAC<SHA256>.authenticationCode(for: Data((context + "\u{0}" + text).utf8), using: digestKey))
    }

    /// nonce ‖ ciphertext ‖ tag. `context` binds the ciphertext to its owner, so it cannot be moved to another row.
    func seal(_ plaintext: Data, context: String) throws -> Data {
        try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8)).combined!
    }

    func open(_ sealed: Data, context: String) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Data(context.utf8))
    }
}
