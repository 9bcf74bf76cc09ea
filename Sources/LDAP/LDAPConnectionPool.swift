import Logging

/// A small pool of authenticated connections. Each connection is confined to its own queue; the pool
/// hands a connection to one caller at a time and reconnects when the server has gone away.
public actor LDAPConnectionPool {
    public nonisolated let configuration: LDAPConnectionConfiguration
    public nonisolated let maximumConnections: Int
    private let logger: Logger
    private var idle: [LDAPConnection] = []
    private var openConnections = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(configuration: LDAPConnectionConfiguration, maximumConnections: Int = 4, logger: Logger = Logger(label: "drawbridge.ldap")) {
        self.configuration = configuration
        self.maximumConnections = max(1, maximumConnections)
        self.logger = logger
    }

    /// Runs `body` with a pooled connection. If the connection was idle in the pool and turns out to be
    /// dead (the server restarted), the pool drops its idle connections, opens a fresh one and runs `body`
    /// once more, so `body` must be safe to repeat: searches and idempotent modifies are. A `body` with effects
    /// of its own that a repeat would build on (writes into an open store transaction) passes
    /// `retryingStaleConnection: false` and retries at a level where those effects are undone.
    public nonisolated func withConnection<T: Sendable>(
        retryingStaleConnection: Bool = true, _ body: (LDAPConnection) async throws -> T
    ) async throws -> T {
        let (connection, wasIdle) = try await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch let error as LDAPError where error.isConnectionLost && wasIdle && retryingStaleConnection {
            await discard(connection, dropIdle: true)
            logger.info("LDAP connection lost; reconnecting", metadata: ["error": "\(error)"])
            let (fresh, _) = try await acquire()
            do {
                let result = try await body(fresh)
                await release(fresh)
                return result
            } catch {
                await finish(fresh, after: error)
                throw error
            }
        } catch {
            await finish(connection, after: error)
            throw error
        }
    }

    /// Closes idle connections; connections in use close when they are returned.
    public func close() async {
        let closing = idle
        idle.removeAll()
        openConnections -= closing.count
        for connection in closing { await connection.close() }
    }

    private func acquire() async throws -> (LDAPConnection, wasIdle: Bool) {
        while true {
            if let connection = idle.popLast() { return (connection, true) }
            if openConnections < maximumConnections {
                openConnections += 1
                do {
                    return (try await LDAPConnection.connect(configuration), false)
                } catch {
                    openConnections -= 1
                    wakeOneWaiter()
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    private func release(_ connection: LDAPConnection) {
        idle.append(connection)
        wakeOneWaiter()
    }

    private func finish(_ connection: LDAPConnection, after error: any Error) async {
        if let error = error as? LDAPError, error.isConnectionLost {
            await discard(connection, dropIdle: true)
        } else if let error = error as? LDAPError, error.isTimeout {
            // Handed out again (the pool reuses the latest returned first), a connection whose flow died silently
            // would make every caller wait out the whole timeout; the others may be fine.
            await discard(connection, dropIdle: false)
        } else {
            release(connection)
        }
    }

    private func discard(_ connection: LDAPConnection, dropIdle: Bool) async {
        var closing = [connection]
        if dropIdle {
            closing += idle
            idle.removeAll()
        }
        openConnections -= closing.count
        for _ in closing { wakeOneWaiter() }
        for connection in closing { await connection.close() }
    }

    private func wakeOneWaiter() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }
}

extension LDAPConnectionPool {
    /// Why the directory does not answer a Who-am-I with the pool's bind, or nil when it does.
    public nonisolated func unreachableReason() async -> String? {
        do {
            _ = try await withConnection { try await $0.whoAmI() }
            return nil
        } catch {
            return "\(error)"
        }
    }
}
