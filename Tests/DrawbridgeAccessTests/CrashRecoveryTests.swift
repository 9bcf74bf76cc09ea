import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Testing

@Suite("drawbridge run survives kill -9")
struct CrashRecoveryTests {
    static let userCount = 40

    /// The `drawbridge` executable built beside the test bundle.
    static func executable() throws -> String { try drawbridgeExecutable() }

    static func launchRun(_ harness: AccessHarness) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = ["run", "--config", harness.configFile, "--log-level", "error"]
        var environment = ProcessInfo.processInfo.environment
        environment["ACCESS_TEST_PASSWORD"] = harness.directory.servicePassword
        environment["LDAPNOINIT"] = "1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return .now }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    @Test("kill -9 just before removals fall due: after a restart nothing is lost and nothing is later than the downtime plus 1 s")
    func killNine() async throws {
        let logins = (0..<Self.userCount).map { String(format: "crash%02d", $0) }
        let ldif = (logins.map(Fixtures.user) + [Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("keeper")]), Fixtures.user("keeper")])
            .joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif]) { harness in
            let signal = WorkSignal(socketPath: WorkSignal.socketPath(forDatabase: harness.configuration.store.sqlitePath))
            let engine = AccessEngine(store: harness.store, configuration: harness.configuration.access, clock: SystemWallClock(), signal: signal)
            try await harness.relaxPolicy(role: "owner")
            var running = try Self.launchRun(harness)
            defer { if running.isRunning { kill(running.processIdentifier, SIGKILL) } }

            // Room for the assignments and their grants on a loaded machine; the removals must fall due while it is down.
            let end = Date().addingTimeInterval(15)
            for login in logins {
                _ = try await engine.assign(
                    userLogin: login, scope: try ScopePath("/subscriptions/prod/resourceGroups/web"), role: RoleName(rawValue: "owner")!,
                    start: nil, end: end, justification: "crash test", ticket: nil, by: .operator("tester"), source: .cli)
            }
            let granted = try await Self.waitUntil(timeout: .seconds(12)) { try await harness.members("pim-prod-web-owner").count == Self.userCount + 1 }
            #expect(granted != nil, "the running scheduler granted all \(Self.userCount) assignments")

            // Down when the removals fall due: the restarted process must find and apply every one of them.
            try await Task.sleep(for: .seconds(end.timeIntervalSinceNow - 0.3))
            kill(running.processIdentifier, SIGKILL)
            running.waitUntilExit()
            let killedAt = Date()
            try await Task.sleep(for: .seconds(2))
            let restartedAt = Date()
            running = try Self.launchRun(harness)

            let keeper = Fixtures.userDN("keeper").lowercased()
            let drained = try await Self.waitUntil(timeout: .seconds(15)) { try await harness.members("pim-prod-web-owner") == [keeper] }
            let drainedAt = Date()
            let recorded = try await Self.waitUntil(timeout: .seconds(5)) {
                try await harness.store.withAccessTransaction(commit: false) { try await $0.operations(states: [.pending], limit: nil) }.isEmpty
            }
            #expect(recorded != nil, "the restarted scheduler recorded every removal")
            kill(running.processIdentifier, SIGKILL)
            running.waitUntilExit()
            #expect(drained != nil, "every expired member was removed after the restart")
            let downtime = restartedAt.timeIntervalSince(killedAt) + max(0, killedAt.timeIntervalSince(end))
            let lateness = drainedAt.timeIntervalSince(end)
            #expect(lateness <= downtime + 1, "the last removal came \(lateness) s after the end; the downtime was \(downtime) s")

            let live = try await harness.store.withAccessTransaction(commit: false) { try await $0.assignments(userID: nil, liveOnly: true) }
            #expect(live.isEmpty)
            let records = try await harness.store.auditRecords(.all)
            #expect(AuditChain.verify(records) == nil)
            #expect(records.compactMap(\.event).filter { $0.action == "membership.removed" && $0.outcome == .success }.count == Self.userCount)
        }
    }
}
