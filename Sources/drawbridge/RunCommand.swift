import ArgumentParser
import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeDirectory
import Foundation
import Logging
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the scheduler, periodic sync and reconciler until SIGTERM or SIGINT.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Apply what is due now (starts, ends, timeouts, queued directory changes) once and exit, instead of running on.")
    var once = false

    func run() async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            let pool = context.makePool()
            let signal = context.workSignal
            if once {
                try await context.withStore { store in
                    let applier = context.applier(store, pool: pool)
                    let engine = context.engine(store, signal: signal)
                    let advanced = try await engine.advance()
                    let applied = try await applier.applyReady()
                    print("started \(advanced.started), expired \(advanced.expired), timed out \(advanced.timedOut), revoked \(advanced.revoked); directory changes applied \(applied.applied), deferred \(applied.deferred), refused \(applied.refused), failed \(applied.failed) in \(applied.modifies) modify operations")
                }
                await pool.close()
                return
            }
            let listener = try signal.listen()
            defer { listener.close() }
            try await context.withStore { store in
                let engine = context.engine(store, signal: signal)
                let applier = context.applier(store, pool: pool)
                let scheduler = AccessScheduler(engine: engine, applier: applier, signal: signal, logger: context.logger)
                let synchronizer = DirectorySynchronizer(
                    configuration: context.configuration.directory, pool: pool, store: store,
                    mapper: ScopeMapper(rules: context.configuration.mappingRules), logger: context.logger)
                let reconciler = Reconciler(engine: engine, pool: pool, memberAttribute: context.memberAttribute, logger: context.logger)
                let access = context.configuration.access
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                    services: [
                        SchedulerService(scheduler: scheduler),
                        PeriodicService(name: "sync", interval: access.syncInterval, logger: context.logger) {
                            _ = try await synchronizer.sync(.automatic)
                            _ = try await engine.followUpSync()
                        },
                        PeriodicService(name: "reconcile", interval: access.reconcileInterval, logger: context.logger) {
                            _ = try await reconciler.reconcile(dryRun: false, enforce: false, source: .reconciler)
                        },
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: context.logger))
                FileHandle.standardError.write(Data("drawbridge: running (scheduler, sync every \(access.syncInterval), reconcile every \(access.reconcileInterval)); SIGTERM or Ctrl-C stops\n".utf8))
                try await group.run()
            }
            await pool.close()
        }
    }
}

/// The scheduler as a service: on graceful shutdown its task is canceled, and the pass in progress finishes.
struct SchedulerService: Service {
    let scheduler: AccessScheduler

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await scheduler.run()
        }
    }
}

/// Runs `body` now and then every `interval`; a failed run is logged and retried at the next interval.
struct PeriodicService: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let body: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await body()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("\(name) failed; retrying at the next interval", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
