import DrawbridgeCore
import DrawbridgeStore
import Logging
import ServiceLifecycle

/// Deletes expired sessions every few minutes, so sessions opened and abandoned do not pile up in the store.
public struct SessionPurgeService: Service {
    let store: any CredentialStore
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    public init(services: ServerServices, interval: Duration = .seconds(600)) {
        store = services.store
        clock = services.clock
        self.interval = interval
        logger = services.logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let purged = try await store.purgeSessions(expiredBefore: clock.now())
                    if purged > 0 { logger.debug("purged expired sessions", metadata: ["count": "\(purged)"]) }
                } catch {
                    logger.warning("purging expired sessions failed; retrying later", metadata: ["error": "\(error)"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
