import DrawbridgeCore
import Foundation
import SQLKit

extension SQLiteStore: CredentialStore {
    /// Runs single-statement writes on the write connection, between other writers' transactions.
    private func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writeLock.withLock { [writer] in try await body(writer) }
    }

    // MARK: Sessions

    public func session(key: String, at time: Date) async throws -> StoredSession? {
        let row = try await storeStep("select session", "sessions") {
            try await reader.raw("SELECT value, expires_at FROM sessions WHERE key = \(bind: key) AND value <> ''").first()
        }
        guard let row else { return nil }
        return try rowStep("decode session", "sessions") {
            let expiresAt = try row.decode(column: "expires_at", as: Double?.self).map(Date.init(timeIntervalSince1970:))
            if let expiresAt, expiresAt <= time { return nil }
            return StoredSession(value: Data(try row.decode(column: "value", as: String.self).utf8), expiresAt: expiresAt)
        }
    }

    public func putSession(key: String, value: Data, expiresAt: Date?, onlyIfAbsent: Bool) async throws -> Bool {
        let text = String(decoding: value, as: UTF8.self)
        let expiry = expiresAt?.timeIntervalSince1970
        return try await write { db in
            try await storeStep("write session", "sessions") {
                if onlyIfAbsent {
                    try await db.raw("INSERT OR IGNORE INTO sessions (key, value, expires_at) VALUES (\(bind: key), \(bind: text), \(bind: expiry))").run()
                } else {
                    try await db.raw("""
                        INSERT INTO sessions (key, value, expires_at) VALUES (\(bind: key), \(bind: text), \(bind: expiry))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = coalesce(excluded.expires_at, sessions.expires_at)
                        WHERE sessions.value <> ''
                        """).run()
                }
                return try await db.raw("SELECT changes() AS changed").first(decodingColumn: "changed", as: Int.self) == 1
            }
        }
    }

    public func removeSession(key: String) async throws {
        try await write { db in
            // An empty value marks the key removed; the purge deletes the row once it would have expired (a day
            // from now for a session without an expiry).
            try await storeStep("remove session", "sessions") {
                try await db.raw("""
                    UPDATE sessions SET value = '', expires_at = coalesce(expires_at, CAST(strftime('%s', 'now') AS REAL) + 86400)
                    WHERE key = \(bind: key)
                    """).run()
            }
        }
    }

    public func purgeSessions(expiredBefore time: Date) async throws -> Int {
        try await write { db in
            try await storeStep("purge sessions", "sessions") {
                try await db.raw("DELETE FROM sessions WHERE expires_at <= \(bind: time.timeIntervalSince1970)").run()
                return try await db.raw("SELECT changes() AS changed").first(decodingColumn: "changed", as: Int.self) ?? 0
            }
        }
    }

    // MARK: Tokens

    public func save(_ token: APIToken, secretHash: String) async throws {
        let body = try AccessCoding.encode(token)
        try await write { db in
            try await storeStep("insert token", "api_tokens") {
                try await db.raw("""
                    INSERT INTO api_tokens (id, user_id, secret_hash, body) VALUES (\(bind: token.id.rawValue), \(bind: token.userID.rawValue), \(bind: secretHash), \(bind: body))
                    """).run()
            }
        }
    }

    public func token(secretHash: String) async throws -> APIToken? {
        try await tokenBodies("SELECT body FROM api_tokens WHERE secret_hash = \(bind: secretHash)").first
    }

    public func tokens(userID: DirectoryEntryID) async throws -> [APIToken] {
        try await tokenBodies("SELECT body FROM api_tokens WHERE user_id = \(bind: userID.rawValue)").sorted { $0.createdAt > $1.createdAt }
    }

    public func update(_ token: APIToken) async throws {
        let body = try AccessCoding.encode(token)
        try await write { db in
            try await storeStep("update token", "api_tokens") {
                try await db.raw("UPDATE api_tokens SET body = \(bind: body) WHERE id = \(bind: token.id.rawValue)").run()
            }
        }
    }

    public func touchToken(_ id: APITokenID, at time: Date) async throws {
        try await write { db in
            try await storeStep("touch token", "api_tokens") {
                try await db.raw("""
                    UPDATE api_tokens SET body = json_set(body, '$.lastUsedAt', \(bind: time.timeIntervalSince1970))
                    WHERE id = \(bind: id.rawValue) AND json_extract(body, '$.revokedAt') IS NULL
                    """).run()
            }
        }
    }

    private func tokenBodies(_ query: SQLQueryString) async throws -> [APIToken] {
        let rows = try await storeStep("select tokens", "api_tokens") { try await reader.raw(query).all() }
        return try rows.map { row in
            try rowStep("decode token", "api_tokens") { try AccessCoding.decode(APIToken.self, try row.decode(column: "body", as: String.self)) }
        }
    }

    // MARK: MFA

    public func mfaEnrollment(userID: DirectoryEntryID) async throws -> MFAEnrollment? {
        let row = try await storeStep("select MFA enrollment", "mfa_enrollments") {
            try await reader.raw("SELECT body FROM mfa_enrollments WHERE user_id = \(bind: userID.rawValue)").first()
        }
        return try row.map { row in
            try rowStep("decode MFA enrollment", "mfa_enrollments") {
                try AccessCoding.decode(MFAEnrollment.self, try row.decode(column: "body", as: String.self))
            }
        }
    }

    public func save(_ enrollment: MFAEnrollment) async throws {
        let body = try AccessCoding.encode(enrollment)
        try await write { db in
            try await storeStep("write MFA enrollment", "mfa_enrollments") {
                try await db.raw("""
                    INSERT INTO mfa_enrollments (user_id, last_step, body) VALUES (\(bind: enrollment.userID.rawValue), 0, \(bind: body))
                    ON CONFLICT (user_id) DO UPDATE SET body = excluded.body
                    """).run()
            }
        }
    }

    public func deleteMFAEnrollment(userID: DirectoryEntryID) async throws {
        try await write { db in
            try await storeStep("delete MFA enrollment", "mfa_enrollments") {
                try await db.raw("DELETE FROM mfa_enrollments WHERE user_id = \(bind: userID.rawValue)").run()
            }
        }
    }

    public func claimTOTPStep(_ step: Int64, userID: DirectoryEntryID) async throws -> Bool {
        try await write { db in
            try await storeStep("claim TOTP step", "mfa_enrollments") {
                try await db.raw("UPDATE mfa_enrollments SET last_step = \(bind: step) WHERE user_id = \(bind: userID.rawValue) AND last_step < \(bind: step)").run()
                return try await db.raw("SELECT changes() AS changed").first(decodingColumn: "changed", as: Int.self) == 1
            }
        }
    }

    public func consumeRecoveryCode(hash: String, userID: DirectoryEntryID) async throws -> Bool {
        try await writeLock.withLock { [self] in
            try await inWriteTransaction(commit: true) {
                let row = try await storeStep("select MFA enrollment", "mfa_enrollments") {
                    try await writer.raw("SELECT body FROM mfa_enrollments WHERE user_id = \(bind: userID.rawValue)").first()
                }
                guard let row else { return false }
                var enrollment = try rowStep("decode MFA enrollment", "mfa_enrollments") {
                    try AccessCoding.decode(MFAEnrollment.self, try row.decode(column: "body", as: String.self))
                }
                guard let index = enrollment.recoveryCodeHashes.firstIndex(of: hash) else { return false }
                enrollment.recoveryCodeHashes.remove(at: index)
                let body = try AccessCoding.encode(enrollment)
                try await storeStep("update MFA enrollment", "mfa_enrollments") {
                    try await writer.raw("UPDATE mfa_enrollments SET body = \(bind: body) WHERE user_id = \(bind: userID.rawValue)").run()
                }
                return true
            }
        }
    }
}
