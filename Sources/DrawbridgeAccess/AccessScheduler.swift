import DrawbridgeCore
import Foundation
import Logging

/// The long-running loop that makes the directory follow the store: it applies due transitions and queued
/// intents, then sleeps until the next due time or until new work is signalled — no polling interval.
public struct AccessScheduler: Sendable {
    let engine: AccessEngine
    let applier: MembershipApplier
    let signal: WorkSignal
    let logger: Logger
    /// A safety net against a missed wake-up (a clock step, a lost datagram), not the way work is found.
    static let longestSleep: Duration = .seconds(60)

    public init(engine: AccessEngine, applier: MembershipApplier, signal: WorkSignal, logger: Logger = Logger(label: "drawbridge.scheduler")) {
        self.engine = engine
        self.applier = applier
        self.signal = signal
        self.logger = logger
    }

    /// Runs until the task is canceled. A pass in progress finishes first: its store transactions and directory
    /// operations run in a task that does not inherit the cancellation (the store would refuse to begin them).
    public func run() async {
        while !Task.isCancelled {
            var deadline = ContinuousClock.now + Self.longestSleep
            do {
                let pass = Task {
                    try await runOnce()
                    return try await nextDueTime()
                }
                if let next = try await pass.value {
                    let wait = next.timeIntervalSince(engine.clock.now())
                    deadline = min(deadline, ContinuousClock.now + .milliseconds(Int64(max(0, wait) * 1000)))
                }
            } catch {
                logger.error("scheduler pass failed; retrying", metadata: ["error": "\(error)"])
                deadline = ContinuousClock.now + .seconds(1)
            }
            await signal.wait(until: deadline)
        }
    }

    /// One pass: every due transition, then every ready intent.
    public func runOnce() async throws {
        let start = ContinuousClock.now
        let advanced = try await engine.advance()
        if advanced != AdvanceReport() {
            logger.info("applied due transitions", metadata: [
                "started": "\(advanced.started)", "expired": "\(advanced.expired)", "timedOut": "\(advanced.timedOut)", "revoked": "\(advanced.revoked)",
                "duration": "\(ContinuousClock.now - start)",
            ])
        }
        let applyStart = ContinuousClock.now
        let applied = try await applier.applyReady()
        if applied != MembershipApplier.Report() {
            logger.info("applied membership changes", metadata: [
                "applied": "\(applied.applied)", "deferred": "\(applied.deferred)", "refused": "\(applied.refused)", "failed": "\(applied.failed)",
                "modifies": "\(applied.modifies)", "directory": "\(applied.directoryTime)", "duration": "\(ContinuousClock.now - applyStart)",
            ])
        }
    }

    func nextDueTime() async throws -> Date? {
        try await engine.store.withAccessTransaction(commit: false) { try await $0.nextDueTime() }
    }
}
