import DrawbridgeAccess
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeNotifications
import DrawbridgeStore
import LDAP
import Foundation
import Logging

/// What every command needs: the validated configuration and, on demand, the store and the directory.
struct CommandContext {
    let configuration: DrawbridgeConfiguration
    let logger: Logger

    init(_ options: GlobalOptions) throws {
        options.bootstrapLogging()
        configuration = try ConfigurationLoader().load(path: try options.configPath())
        logger = Logger(label: "drawbridge")
    }

    func openStore() async throws -> SQLiteStore {
        let store = try await SQLiteStore.open(path: configuration.store.sqlitePath, logger: logger)
        try await store.migrate()
        return store
    }

    func makePool() -> LDAPConnectionPool {
        LDAPConnectionPool(configuration: configuration.directory.connection, maximumConnections: configuration.directory.poolSize, logger: logger)
    }

    /// The person at the terminal, by their operating-system account ($USER, else the account of the process).
    var operatorActor: Actor {
        if let name = ProcessInfo.processInfo.environment["USER"], !name.isEmpty { return .operator(name) }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return .operator(String(cString: name)) }
        return .operator("uid \(geteuid())")
    }

    var memberAttribute: MemberAttribute { configuration.directory.groups.grantAttribute }

    var workSignal: WorkSignal {
        WorkSignal(socketPath: WorkSignal.socketPath(forDatabase: configuration.store.sqlitePath))
    }

    func applier(_ store: SQLiteStore, pool: LDAPConnectionPool) -> MembershipApplier {
        MembershipApplier(
            store: store, pool: pool, configuration: configuration.access, memberAttribute: memberAttribute,
            lockPath: configuration.store.sqlitePath + ".apply-lock", logger: logger)
    }

    func notificationDispatcher(_ store: SQLiteStore, engine: AccessEngine) -> NotificationDispatcher {
        NotificationDispatcher(
            configuration: configuration, store: store, engine: engine, lockPath: configuration.store.sqlitePath + ".notify-lock", logger: logger)
    }

    func engine(_ store: SQLiteStore, signal: WorkSignal? = nil) -> AccessEngine {
        AccessEngine(store: store, configuration: configuration.access, signal: signal ?? workSignal, logger: logger)
    }

    func withStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
        let store = try await openStore()
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}
