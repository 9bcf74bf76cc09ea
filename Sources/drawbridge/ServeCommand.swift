import ArgumentParser
import DrawbridgeServer
import Foundation
import Hummingbird
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API together with the scheduler, periodic sync and reconciler, until SIGTERM or SIGINT.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            ServerMetrics.bootstrap()
            let pool = context.makePool()
            let signal = context.workSignal
            let listener = try signal.listen()
            defer { listener.close() }
            try await context.withStore { store in
                let services = ServerServices(configuration: context.configuration, store: store, pool: pool, signal: signal, logger: context.logger)
                let server = context.configuration.server
                let application = try buildApplication(services)
                // The HTTP server is listed last, so it stops accepting first on shutdown and finishes its requests while
                // the scheduler still runs; the scheduler finishes its pass, so no directory operation is cut in half.
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                    services: context.backgroundServices(store: store, pool: pool, signal: signal) + [SessionPurgeService(services: services), application],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: context.logger))
                let scheme = server.tls == nil ? "http" : "https"
                let host = server.host.contains(":") ? "[\(server.host)]" : server.host
                FileHandle.standardError.write(Data("drawbridge: serving \(scheme)://\(host):\(server.port)/ (API under /api/v1); SIGTERM or Ctrl-C stops\n".utf8))
                try await group.run()
            }
            await pool.close()
        }
    }
}
