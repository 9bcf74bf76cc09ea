import DrawbridgeAccess
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import Foundation
import LDAP
import Logging
import Synchronization

// Expiry benchmark driver, run by Scripts/benchmark-expiry against a throwaway slapd with the sample directory.
// It times (a) ldapmodify applying the same single-value deletions (the floor), (b) a burst of activations all
// ending in the same second, (c) a steady stream of expiries, and prints a Markdown table.

/// Real time plus an offset the benchmark moves forward, so five-minute activations can end a second from now.
final class OffsetClock: WallClock {
    private let offset = Mutex<TimeInterval>(0)
    func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func jump(to target: Date) { offset.withLock { $0 += target.timeIntervalSince(Date().addingTimeInterval($0)) } }
}

struct Options {
    var config = ""
    var passwordFile = ""
    var groups = 200
    var burst = 10_000
    var steadyRate = 20
    var steadySeconds = 60

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        while let name = iterator.next() {
            guard let value = iterator.next() else { throw BenchmarkFailure("\(name) needs a value") }
            switch name {
            case "--config": config = value
            case "--password-file": passwordFile = value
            case "--groups": groups = Int(value) ?? groups
            case "--burst": burst = Int(value) ?? burst
            case "--steady-rate": steadyRate = Int(value) ?? steadyRate
            case "--steady-seconds": steadySeconds = Int(value) ?? steadySeconds
            default: throw BenchmarkFailure("unknown option \(name)")
            }
        }
        guard !config.isEmpty, !passwordFile.isEmpty else { throw BenchmarkFailure("usage: drawbridge-benchmark --config FILE --password-file FILE") }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("==> \(message)\n".utf8))
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

struct Bench {
    let options: Options
    let configuration: DrawbridgeConfiguration
    let store: SQLiteStore
    let pool: LDAPConnectionPool
    let clock = OffsetClock()
    let signal = WorkSignal()
    let role = RoleName(rawValue: "owner")!
    let actor = Actor.operator("benchmark")

    var engine: AccessEngine { AccessEngine(store: store, configuration: configuration.access, clock: clock, signal: signal) }

    func groupName(_ index: Int) -> String { String(format: "pim-bench-g%03d-owner", index) }
    func scope(_ index: Int) -> ScopePath { try! ScopePath(String(format: "/subscriptions/bench/resourceGroups/g%03d", index)) }
    func groupDN(_ index: Int) -> String { "cn=\(groupName(index)),ou=groups,\(configuration.directory.groups.baseDN.description.split(separator: ",", maxSplits: 1)[1])" }

    /// Runs ldapmodify on `ldif` as the service account and returns the wall time.
    func ldapmodify(_ ldif: String, continueOnError: Bool = false) throws -> Double {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).ldif")
        try ldif.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        guard case .simple(let bindDN, _) = configuration.directory.connection.credentials else { throw BenchmarkFailure("needs a simple bind") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldapmodify")
        process.arguments = ["-x", "-H", configuration.directory.connection.urls[0], "-D", bindDN, "-y", options.passwordFile, "-f", file.path]
            + (continueOnError ? ["-c"] : [])
        process.standardOutput = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - start
        guard process.terminationStatus == 0 else { throw BenchmarkFailure("ldapmodify exited with \(process.terminationStatus)") }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func ldifValue(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// How many of `users` the directory still lists in the benchmark groups.
    func remaining(_ members: Set<String>) async throws -> Int {
        let base = configuration.directory.groups.baseDN.description
        let request = LDAPSearchRequest(base: base, scope: .oneLevel, filter: "(cn=pim-bench-g*)", attributes: ["member"], pageSize: 1000)
        let entries = try await pool.withConnection { try await $0.searchAll(request) }
        return entries.reduce(0) { count, entry in count + entry.strings("member").filter { members.contains($0.lowercased()) }.count }
    }

    /// Waits until no activation is in `states` and no intent is pending.
    func waitUntilSettled(leaving states: Set<ActivationState>) async throws {
        while true {
            let busy = try await store.withAccessTransaction(commit: false) { transaction in
                let pending = try await transaction.operations(states: [.pending], limit: 1)
                let waiting = try await transaction.activations(ActivationQuery(states: states))
                return !pending.isEmpty || !waiting.isEmpty
            }
            if !busy { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Lags (seconds) from each activation's end to the moment its removal was confirmed by the directory.
    func removalLags(_ ids: Set<ActivationID>) async throws -> [Double] {
        try await store.withAccessTransaction(commit: false) { transaction in
            let activations = try await transaction.activations(ActivationQuery(states: [.ended]))
            let ends = Dictionary(activations.filter { ids.contains($0.id) }.map { ("activation:\($0.id)", $0.endAt) }, uniquingKeysWith: { a, _ in a })
            return try await transaction.operations(states: [.done], limit: nil).compactMap { operation -> Double? in
                guard operation.action == .remove, let end = ends[operation.cause], let finished = operation.finishedAt else { return nil }
                return finished.timeIntervalSince(end)
            }.sorted()
        }
    }

    /// Creates `count` activations, user i in group i % groups, all starting at `start`, lasting `duration(i)`.
    func activate(_ users: [StoredUser], start: Date, duration: (Int) -> TimeInterval) async throws -> Set<ActivationID> {
        var ids = Set<ActivationID>()
        for (index, user) in users.enumerated() {
            let outcomes = try await engine.activate(
                ActivationRequest(
                    userLogin: user.record.login, items: [.init(scope: scope(index % options.groups), role: role)], duration: duration(index),
                    startAt: start, justification: "benchmark", ticket: nil, mfa: nil),
                by: actor, source: .cli)
            guard let activation = outcomes.first?.activation else {
                throw BenchmarkFailure("activation of \(user.record.login) refused: \(outcomes.first?.decision.refusals.map(\.message) ?? [])")
            }
            ids.insert(activation.id)
        }
        return ids
    }
}

@main
enum BenchmarkMain {
    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("drawbridge-benchmark: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let options = try Options(CommandLine.arguments)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = label == "drawbridge.scheduler" ? .info : .warning
            return handler
        }
        let configuration = try ConfigurationLoader().load(path: options.config)
        let store = try await SQLiteStore.open(path: configuration.store.sqlitePath, logger: Logger(label: "benchmark"))
        try await store.migrate()
        let pool = LDAPConnectionPool(configuration: configuration.directory.connection, maximumConnections: configuration.directory.poolSize)
        let bench = Bench(options: options, configuration: configuration, store: store, pool: pool)
        let needed = options.burst + options.steadyRate * options.steadySeconds

        log("syncing the directory")
        _ = try await DirectorySynchronizer(
            configuration: configuration.directory, pool: pool, store: store, mapper: ScopeMapper(rules: configuration.mappingRules), clock: bench.clock
        ).sync(.full)
        let users = Array(try await store.users(includeDeleted: false).filter { $0.record.enabled && $0.record.login.hasPrefix("u") }.dropFirst().prefix(needed))
        guard users.count == needed else { throw BenchmarkFailure("the directory has \(users.count) usable users; \(needed) are needed") }
        let burstUsers = Array(users.prefix(options.burst))
        let steadyUsers = Array(users.dropFirst(options.burst))

        // (a) The floor: the burst's removals as single-value deletions in one ldapmodify run.
        log("(a) ldapmodify floor: \(options.burst) single-value deletions")
        var additions = ""
        for group in 0..<options.groups {
            let members = burstUsers.enumerated().filter { $0.offset % options.groups == group }.map { $0.element.record.dn.description }
            additions += "dn: \(bench.groupDN(group))\nchangetype: modify\nadd: member\n" + members.map { "member:: \(Bench.ldifValue($0))\n" }.joined() + "\n"
        }
        _ = try bench.ldapmodify(additions)
        var deletions = ""
        for (index, user) in burstUsers.enumerated() {
            deletions += "dn: \(bench.groupDN(index % options.groups))\nchangetype: modify\ndelete: member\nmember:: \(Bench.ldifValue(user.record.dn.description))\n\n"
        }
        let floor = try bench.ldapmodify(deletions)

        let engine = bench.engine
        var policy = PolicyOverride()
        policy.requireMFA = false
        policy.maxActivationDuration = 3 * 3600
        _ = try await engine.setPolicy(policy, scope: .root, role: bench.role, by: bench.actor, source: .cli)
        log("making \(needed) users eligible")
        for user in users {
            _ = try await engine.addEligibility(
                .user(user.record.id), scope: try ScopePath("/subscriptions/bench"), role: bench.role, start: nil,
                end: bench.clock.now().addingTimeInterval(30 * 86400), justification: "benchmark", by: bench.actor, source: .cli)
        }

        let scheduler = AccessScheduler(
            engine: engine,
            applier: MembershipApplier(
                store: store, pool: pool, configuration: configuration.access, memberAttribute: MemberAttribute(attribute: "member", references: .dn),
                clock: bench.clock),
            signal: bench.signal)
        let running = Task { await scheduler.run() }

        // (b) A burst: every activation ends in the same second.
        log("(b) \(options.burst) activations across \(options.groups) groups, all ending together")
        let burstStart = bench.clock.now().addingTimeInterval(3600)
        let creation = ContinuousClock.now
        let burstIDs = try await bench.activate(burstUsers, start: burstStart, duration: { _ in 1800 })
        log("    created in \(ContinuousClock.now - creation)")
        bench.clock.jump(to: burstStart)
        bench.signal.notify()
        try await bench.waitUntilSettled(leaving: [.scheduled])
        let burstMembers = Set(burstUsers.map { $0.record.dn.description.lowercased() })
        guard try await bench.remaining(burstMembers) == options.burst else { throw BenchmarkFailure("the burst's grants did not all arrive") }
        let burstEnd = burstStart.addingTimeInterval(1800)
        bench.clock.jump(to: burstEnd.addingTimeInterval(-2))
        bench.signal.notify()
        try await Task.sleep(for: .seconds(2))
        let drainStart = ContinuousClock.now
        while try await bench.remaining(burstMembers) > 0 { try await Task.sleep(for: .milliseconds(50)) }
        log("    drained in \(ContinuousClock.now - drainStart)")
        let drained = ContinuousClock.now - drainStart
        let drain = Double(drained.components.seconds) + Double(drained.components.attoseconds) / 1e18
        try await bench.waitUntilSettled(leaving: [.active])
        let burstLags = try await bench.removalLags(burstIDs)

        // (c) Steady state: expiries spread evenly.
        log("(c) \(options.steadyRate) expiries/s for \(options.steadySeconds) s")
        let steadyStart = bench.clock.now().addingTimeInterval(3600)
        let spacing = 1 / Double(options.steadyRate)
        let steadyIDs = try await bench.activate(steadyUsers, start: steadyStart, duration: { 1800 + Double($0) * spacing })
        bench.clock.jump(to: steadyStart)
        bench.signal.notify()
        try await bench.waitUntilSettled(leaving: [.scheduled])
        bench.clock.jump(to: steadyStart.addingTimeInterval(1800 - 1))
        bench.signal.notify()
        try await Task.sleep(for: .seconds(Double(options.steadySeconds) + 3))
        try await bench.waitUntilSettled(leaving: [.active])
        let steadyLags = try await bench.removalLags(steadyIDs)
        running.cancel()
        await running.value
        await pool.close()
        try await store.close()

        func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }
        print("| step | time | expiry lag p50 | p99 | max | target |")
        print("|---|---:|---:|---:|---:|---|")
        print(String(format: "| (a) ldapmodify, %d single-value deletions (floor) | %.2f s | | | | |", options.burst, floor))
        print("| (b) \(options.burst) activations in \(options.groups) groups ending in the same second: until the directory shows none | "
            + String(format: "%.2f s", drain) + " | \(ms(percentile(burstLags, 0.5))) | \(ms(percentile(burstLags, 0.99))) | \(ms(burstLags.last ?? .nan)) | less than (a) |")
        print("| (c) \(options.steadyRate) expiries/s for \(options.steadySeconds) s (\(steadyLags.count) removals) | | "
            + "\(ms(percentile(steadyLags, 0.5))) | \(ms(percentile(steadyLags, 0.99))) | \(ms(steadyLags.last ?? .nan)) | p99 < 1 s |")
    }
}
