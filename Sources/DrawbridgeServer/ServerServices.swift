import DrawbridgeAccess
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import Foundation
import LDAP
import Logging

/// Everything the routes use, built once per server.
public struct ServerServices: Sendable {
    public let configuration: DrawbridgeConfiguration
    public let store: any DrawbridgeStore & CredentialStore & NotificationStore
    public let pool: LDAPConnectionPool
    public let engine: AccessEngine
    public let synchronizer: DirectorySynchronizer
    public let reconciler: Reconciler
    public let clock: any WallClock
    public let logger: Logger
    let signIn: DirectorySignIn
    let throttle: SignInThrottle
    let secrets: SecretBox?

    public init(
        configuration: DrawbridgeConfiguration, store: any DrawbridgeStore & CredentialStore & NotificationStore, pool: LDAPConnectionPool,
        clock: any WallClock = SystemWallClock(), signal: WorkSignal? = nil, logger: Logger = Logger(label: "drawbridge.server")
    ) {
        self.configuration = configuration
        self.store = store
        self.pool = pool
        self.clock = clock
        self.logger = logger
        engine = AccessEngine(store: store, configuration: configuration.access, clock: clock, signal: signal, logger: logger)
        synchronizer = DirectorySynchronizer(
            configuration: configuration.directory, pool: pool, store: store, mapper: ScopeMapper(rules: configuration.mappingRules), clock: clock,
            logger: logger)
        reconciler = Reconciler(engine: engine, pool: pool, memberAttribute: configuration.directory.groups.grantAttribute, logger: logger)
        signIn = DirectorySignIn(directory: configuration.directory, pool: pool, logger: logger)
        throttle = SignInThrottle(limit: configuration.server.signInFailureLimit, window: configuration.server.signInWindow, clock: clock)
        secrets = configuration.server.secretKey.map(SecretBox.init)
    }

    /// A live, enabled user as signed in; nil when the account is gone or disabled since.
    func signedInUser(id: DirectoryEntryID, method: SignedInUser.Method, mfaVerifiedAt: Date?) async throws -> SignedInUser? {
        guard let stored = try await store.user(id: id), stored.deletedAt == nil, stored.record.enabled else { return nil }
        return SignedInUser(user: stored.record, isAdministrator: try await isAdministrator(id), method: method, mfaVerifiedAt: mfaVerifiedAt)
    }

    func isAdministrator(_ userID: DirectoryEntryID) async throws -> Bool {
        let names = configuration.server.administratorGroups
        guard !names.isEmpty else { return false }
        let groups = try await store.groups(ofUser: userID, transitive: true)
        return groups.contains { group in
            names.contains { name in
                if let dn = try? DistinguishedName(name), dn == group.dn { return true }
                return name.caseInsensitiveCompare(group.name) == .orderedSame
            }
        }
    }

    /// The user behind a personal access token, when the token exists, is usable and its user still is.
    func tokenUser(secret: String, at time: Date) async throws -> SignedInUser? {
        guard secret.hasPrefix(TokenSecret.prefix), let token = try await store.token(secretHash: sha256Hex(secret)), token.isUsable(at: time) else {
            return nil
        }
        if token.lastUsedAt.map({ time.timeIntervalSince($0) > 300 }) ?? true {
            try await store.touchToken(token.id, at: time)
        }
        return try await signedInUser(id: token.userID, method: .token(token.id), mfaVerifiedAt: nil)
    }

    /// Creates a personal access token; the secret is returned once and only its hash is kept.
    /// `actor` is who asks: the owner themselves unless an operator creates it for them.
    public func createToken(for userID: DirectoryEntryID, name: String, lifetime: TimeInterval, by actor: Actor? = nil) async throws -> (token: APIToken, secret: String) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100 else { throw ActionRefused([Refusal(.invalidInput, "a token needs a name of 1 to 100 characters")]) }
        guard lifetime > 0, lifetime <= 366 * 86400 else { throw ActionRefused([Refusal(.invalidInput, "a token lives between 1 second and 366 days")]) }
        let now = clock.now()
        let secret = TokenSecret.make()
        let token = APIToken(userID: userID, name: trimmed, createdAt: now, expiresAt: now.addingTimeInterval(lifetime))
        try await store.save(token, secretHash: sha256Hex(secret))
        guard let owner = try await store.user(id: userID) else { throw ActionRefused([Refusal(.unknownUser, "no directory user \(userID)")]) }
        let event = AuditEvent(
            action: "token.created", actor: actor ?? .user(owner.record), source: actor?.kind == .operator ? .cli : .api, subjectID: token.id.rawValue, userLogin: owner.record.login,
            details: ["name": trimmed, "expires": token.expiresAt.iso8601])
        try await audit(event)
        return (token, secret)
    }
}

/// Personal access token secrets: recognisable by their prefix (so secret scanners can find leaked ones).
enum TokenSecret {
    static let prefix = "dbt_"

    static func make() -> String { prefix + RandomToken.make(bytes: 32) }
}
