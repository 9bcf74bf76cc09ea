import Logging
import ServiceLifecycle

/// Runs the dispatcher every `interval` until graceful shutdown; a delivery in progress finishes first.
public struct NotificationService: Service {
    let dispatcher: NotificationDispatcher
    let interval: Duration

    public init(dispatcher: NotificationDispatcher, interval: Duration = .seconds(2)) {
        self.dispatcher = dispatcher
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await dispatcher.deliverDue()
                } catch is CancellationError {
                    return
                } catch {
                    dispatcher.logger.error("delivering notifications failed; retrying shortly", metadata: ["error": "\(error)"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
