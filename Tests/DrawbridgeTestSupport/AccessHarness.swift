import DrawbridgeAccess
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import Foundation
import LDAP
import Logging
import Synchronization

/// A clock the test moves by hand.
public final class ManualClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_900_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A real slapd, a store synced from it, and the access engine, applier and reconciler on a manual clock.
public struct AccessHarness {
    public let directory: TestDirectory
    public let configuration: DrawbridgeConfiguration
    /// The configuration as a file, for `drawbridge` subprocesses; the bind password is in ACCESS_TEST_PASSWORD.
    public let configFile: String
    public let store: SQLiteStore
    public let pool: LDAPConnectionPool
    public let clock: ManualClock
    public let operatorActor = Actor.operator("tester")

    public static let mappingRules = """
        mapping:
          rules:
            - name: resource-groups
              groupName: '^pim-(?<sub>[a-z0-9]+)-(?<rg>[a-z0-9]+)-(?<role>owner|contributor|reader)$'
              scope: /subscriptions/{sub}/resourceGroups/{rg}
              role: '{role}'
        """

    public static func with<T>(
        ldif: [String], configYAML: String = mappingRules, directoryYAML: String = "", environment: [String: String] = [:],
        clock: ManualClock = ManualClock(), _ body: (AccessHarness) async throws -> T
    ) async throws -> T {
        try await TestDirectory.with(ldif: ldif) { directory in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-access-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let yaml = """
                \(directory.directoryYAML(passwordEnv: "ACCESS_TEST_PASSWORD", extra: "  timeouts: { connect: 2s, operation: 10s }\n" + directoryYAML))
                store:
                  sqlite: { path: store.sqlite }
                \(configYAML)
                """
            let configFile = folder.appendingPathComponent("drawbridge.yaml")
            try yaml.write(to: configFile, atomically: true, encoding: .utf8)
            let configuration = try ConfigurationLoader(environment: environment.merging(["ACCESS_TEST_PASSWORD": directory.servicePassword]) { $1 }).load(path: configFile.path)
            let store = try await SQLiteStore.open(path: configuration.store.sqlitePath, logger: Logger(label: "test"))
            try await store.migrate()
            let pool = LDAPConnectionPool(configuration: configuration.directory.connection, maximumConnections: 2)
            let harness = AccessHarness(
                directory: directory, configuration: configuration, configFile: configFile.path, store: store, pool: pool, clock: clock)
            do {
                try await harness.sync()
                let result = try await body(harness)
                await pool.close()
                try await store.close()
                return result
            } catch {
                await pool.close()
                try? await store.close()
                throw error
            }
        }
    }

    public var engine: AccessEngine { AccessEngine(store: store, configuration: configuration.access, clock: clock) }

    public var memberAttribute: MemberAttribute { MemberAttribute(attribute: "member", references: .dn) }

    public var applier: MembershipApplier {
        MembershipApplier(store: store, pool: pool, configuration: configuration.access, memberAttribute: memberAttribute, clock: clock)
    }

    public var scheduler: AccessScheduler { AccessScheduler(engine: engine, applier: applier, signal: WorkSignal()) }

    public var reconciler: Reconciler { Reconciler(engine: engine, pool: pool, memberAttribute: memberAttribute) }

    /// A full sync and the access follow-up, as `drawbridge sync --full` does.
    @discardableResult
    public func sync() async throws -> SyncFollowUpReport {
        // A full sync marks what it did not see since its own start: each sync must start later than the last.
        clock.advance(by: 1)
        _ = try await DirectorySynchronizer(
            configuration: configuration.directory, pool: pool, store: store, mapper: ScopeMapper(rules: configuration.mappingRules), clock: clock
        ).sync(.full)
        return try await engine.followUpSync()
    }

    /// Lets activations through without a second factor, so tests can focus on other rules.
    public func relaxPolicy(role: String, _ change: (inout PolicyOverride) -> Void = { _ in }) async throws {
        var override = PolicyOverride()
        override.requireMFA = false
        change(&override)
        _ = try await engine.setPolicy(override, scope: .root, role: RoleName(rawValue: role)!, by: operatorActor, source: .cli)
    }

    public func eligible(_ login: String, scope: String, role: String, end: TimeInterval = 30 * 86400) async throws {
        let user = try require_user(try await store.user(login: login), login)
        _ = try await engine.addEligibility(
            .user(user.record.id), scope: try ScopePath(scope), role: RoleName(rawValue: role)!, start: nil,
            end: clock.now().addingTimeInterval(end), justification: "test", by: operatorActor, source: .cli)
    }

    public func activate(_ login: String, scope: String, role: String, for duration: TimeInterval = 3600, start: Date? = nil) async throws -> Activation {
        let outcomes = try await engine.activate(
            ActivationRequest(
                userLogin: login, items: [.init(scope: try ScopePath(scope), role: RoleName(rawValue: role)!)], duration: duration, startAt: start,
                justification: "incident 42", ticket: nil, mfa: nil),
            by: operatorActor, source: .cli)
        guard let activation = outcomes.first?.activation else {
            throw TestDirectoryError("activation refused: \(outcomes.first?.decision.refusals.map(\.message) ?? [])")
        }
        return activation
    }

    /// The member DNs of a group as the directory has them, lowercased.
    public func members(_ group: String) async throws -> [String] {
        let request = LDAPSearchRequest(base: Fixtures.groupDN(group), scope: .base, attributes: ["member"], pageSize: nil)
        let entries = try await pool.withConnection { try await $0.searchAll(request) }
        return (entries.first?.strings("member") ?? []).map { $0.lowercased() }.sorted()
    }

    public func auditActions() async throws -> [String] {
        try await store.auditRecords(.all).compactMap { $0.event.map { "\($0.action):\($0.outcome.rawValue)" } }
    }
}

public func require_user(_ user: StoredUser?, _ login: String) throws -> StoredUser {
    guard let user else { throw TestDirectoryError("no synced user \(login)") }
    return user
}

public enum Fixtures {
    public static func user(_ uid: String) -> String {
        "dn: uid=\(uid),ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: \(uid)\ncn: \(uid.capitalized)\nsn: \(uid)\n"
    }

    public static func group(_ name: String, members: [String]) -> String {
        var ldif = "dn: cn=\(name),ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: \(name)\n"
        for member in members { ldif += "member: \(member)\n" }
        return ldif
    }

    public static func userDN(_ uid: String) -> String { "uid=\(uid),ou=people,dc=example,dc=org" }
    public static func groupDN(_ name: String) -> String { "cn=\(name),ou=groups,dc=example,dc=org" }
}

/// The `drawbridge` executable built beside the test bundle.
public func drawbridgeExecutable() throws -> String {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [folder, folder.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("drawbridge").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw TestDirectoryError("the drawbridge executable is not built next to the tests in \(folder.path); run `swift build` before `swift test`")
}

/// Runs `process` to its end with standard output and error combined, waiting on a dispatch thread: a test that
/// blocked a Swift concurrency thread instead could starve the in-process server its subprocess talks to.
public func runToCompletion(_ process: Process) async throws -> (status: Int32, output: String) {
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    if process.standardInput == nil { process.standardInput = FileHandle.nullDevice }
    try process.run()
    return await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
        }
    }
}
