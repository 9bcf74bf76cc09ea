import Crypto
import DrawbridgeConfig
import Foundation

/// Seals secrets for storage with AES-256-GCM under the configured key: a copy of the database alone does not
/// reveal TOTP secrets, and a modified ciphertext fails to open instead of yielding a wrong secret.
struct SecretBox: @unchecked Sendable {
    // SymmetricKey is an immutable value that swift-crypto has not marked Sendable; it is never mutated here.
    private let key: SymmetricKey

    init(_ material: SecretBytes) {
        key = SymmetricKey(data: material.bytes)
    }

    /// nonce ‖ ciphertext ‖ tag. `context` binds the ciphertext to its owner, so it cannot be moved to another row.
    func seal(_ plaintext: Data, context: String) throws -> Data {
        try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8)).combined!
    }

    func open(_ sealed: Data, context: String) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Data(context.utf8))
    }
}
