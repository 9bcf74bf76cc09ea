import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import LDAP
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
