import ArgumentParser
import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeNotifications
import DrawbridgeStore
import LDAP
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
                    let notified = try await context.notificationDispatcher(store, engine: engine).deliverDue()
                    print("started \(advanced.started), expired \(advanced.expired), timed out \(advanced.timedOut), revoked \(advanced.revoked); directory changes applied \(applied.applied), deferred \(applied.deferred), refused \(applied.refused), failed \(applied.failed) in \(applied.modifies) modify operations; notifications sent \(notified.sent), deferred \(notified.deferred)")
                }
                await pool.close()
                return
            }
            let listener = try signal.listen()
            defer { listener.close() }
            try await context.withStore { store in
                let access = context.configuration.access
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                    services: context.backgroundServices(store: store, pool: pool, signal: signal),
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: context.logger))
                FileHandle.standardError.write(Data("drawbridge: running (scheduler, sync every \(access.syncInterval), reconcile every \(access.reconcileInterval)); SIGTERM or Ctrl-C stops\n".utf8))
                try await group.run()
            }
            await pool.close()
        }
    }
}

extension CommandContext {
    /// The scheduler, periodic sync (with its follow-up) and periodic reconcile, as services of one group.
    func backgroundServices(store: SQLiteStore, pool: LDAPConnectionPool, signal: WorkSignal) -> [any Service] {
        let engine = engine(store, signal: signal)
        let dispatcher = notificationDispatcher(store, engine: engine)
        let scheduler = AccessScheduler(engine: engine, applier: applier(store, pool: pool), signal: signal, logger: logger)
        let synchronizer = DirectorySynchronizer(
            configuration: configuration.directory, pool: pool, store: store, mapper: ScopeMapper(rules: configuration.mappingRules), logger: logger)
        let reconciler = Reconciler(engine: engine, pool: pool, memberAttribute: memberAttribute, logger: logger)
        let access = configuration.access
        return [
            SchedulerService(scheduler: scheduler),
            PeriodicService(name: "sync", interval: access.syncInterval, logger: logger) {
                let report = try await synchronizer.sync(.automatic)
                _ = try await engine.followUpSync(directoryChanged: report.changedDirectory)
            },
            PeriodicService(name: "reconcile", interval: access.reconcileInterval, logger: logger) {
                _ = try await reconciler.reconcile(dryRun: false, enforce: false, source: .reconciler)
            },
            PeriodicService(name: "access reviews", interval: access.governanceInterval, logger: logger) {
                _ = try await engine.runReviews()
            },
            PeriodicService(name: "security alerts", interval: access.governanceInterval, logger: logger) {
                _ = try await engine.evaluateAlerts(directoryProblem: await pool.unreachableReason())
            },
            NotificationService(dispatcher: dispatcher),
        ]
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
