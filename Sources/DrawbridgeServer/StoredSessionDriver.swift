import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird

/// Keeps hummingbird-auth's sessions in the store, so they survive a restart. Keys are stored as SHA-256 of the
/// session id: whoever reads the database cannot use what they read as a cookie.
struct StoredSessionDriver: PersistDriver {
    let store: any CredentialStore
    let clock: any WallClock

    func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        guard try await store.putSession(key: sha256Hex(key), value: try APICoding.encoder.encode(value), expiresAt: expiry(expires), onlyIfAbsent: true) else {
            throw PersistError.duplicate
        }
    }

    func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        _ = try await store.putSession(key: sha256Hex(key), value: try APICoding.encoder.encode(value), expiresAt: expiry(expires), onlyIfAbsent: false)
    }

    func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let now = clock.now()
        guard let stored = try await store.session(key: sha256Hex(key), at: now) else { return nil }
        guard let object = try? APICoding.decoder.decode(type, from: stored.value) else { throw PersistError.invalidConversion }
        return (object, stored.expiresAt.map { .milliseconds(Int64($0.timeIntervalSince(now) * 1000)) })
    }

    func remove(key: String) async throws {
        try await store.removeSession(key: sha256Hex(key))
    }

    private func expiry(_ expires: Duration?) -> Date? {
        expires.map { clock.now().addingTimeInterval(TimeInterval($0.components.seconds)) }
    }
}
