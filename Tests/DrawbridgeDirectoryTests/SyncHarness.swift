import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import LDAP
import Logging

/// A directory, a fresh store and a synchronizer wired together for one test.
struct SyncHarness {
    let directory: TestDirectory
    let configuration: DrawbridgeConfiguration
    let store: SQLiteStore
    let pool: LDAPConnectionPool
    let folder: URL

    static let rules = AccessHarness.mappingRules

    static func with<T>(
        ldif: [String], extraDirectoryYAML: String = "", rulesYAML: String = rules,
        _ body: (SyncHarness) async throws -> T
    ) async throws -> T {
        try await TestDirectory.with(ldif: ldif) { directory in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-sync-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let yaml = """
                \(directory.directoryYAML(passwordEnv: "SYNC_TEST_PASSWORD", extra: "  pageSize: 50\n" + extraDirectoryYAML))
                store:
                  sqlite: { path: store.sqlite }
                \(rulesYAML)
                """
            let configuration = try ConfigurationLoader(environment: ["SYNC_TEST_PASSWORD": directory.servicePassword])
                .parse(yaml, relativeTo: folder.path)
            let store = try await SQLiteStore.open(path: configuration.store.sqlitePath, logger: Logger(label: "test"))
            try await store.migrate()
            let pool = LDAPConnectionPool(configuration: configuration.directory.connection, maximumConnections: 2)
            let harness = SyncHarness(directory: directory, configuration: configuration, store: store, pool: pool, folder: folder)
            do {
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

    var synchronizer: DirectorySynchronizer {
        DirectorySynchronizer(
            configuration: configuration.directory, pool: pool, store: store, mapper: ScopeMapper(rules: configuration.mappingRules))
    }

    func sync(_ mode: DirectorySynchronizer.Mode, dryRun: Bool = false) async throws -> SyncReport {
        try await synchronizer.sync(mode, dryRun: dryRun)
    }

    func logins(ofGroup dn: String, transitive: Bool = false) async throws -> [String] {
        guard let group = try await store.group(dn: try DistinguishedName(dn)) else { return [] }
        return try await store.members(ofGroup: group.id, transitive: transitive).map(\.record.login).sorted()
    }

    /// modifyTimestamp has one-second resolution; waiting lets a change land after the watermark's second.
    func nextSecond() async throws {
        try await Task.sleep(for: .milliseconds(1100))
    }

    /// A full sync started two seconds after the data was loaded, then a second's wait: the next incremental sync
    /// reads only what changed after it, not the entries created within its margin.
    func fullSyncPastTheLoad() async throws {
        try await nextSecond()
        try await nextSecond()
        _ = try await sync(.full)
        try await nextSecond()
    }
}

enum Fixtures {
    static func user(_ uid: String, employeeType: String? = nil) -> String {
        var ldif = "dn: uid=\(uid),ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: \(uid)\ncn: \(uid.capitalized)\nsn: \(uid)\nmail: \(uid)@example.org\n"
        if let employeeType { ldif += "employeeType: \(employeeType)\n" }
        return ldif
    }

    static func group(_ name: String, members: [String], objectClass: String = "groupOfNames", attribute: String = "member") -> String {
        var ldif = "dn: cn=\(name),ou=groups,dc=example,dc=org\nobjectClass: \(objectClass)\ncn: \(name)\n"
        if objectClass == "posixGroup" { ldif += "gidNumber: 10001\n" }
        for member in members { ldif += "\(attribute): \(member)\n" }
        return ldif
    }

    /// An LDIF modrdn of `dn` to the new RDN `rdn`, the old RDN value dropped.
    static func rename(_ dn: String, to rdn: String) -> String {
        "dn: \(dn)\nchangetype: modrdn\nnewrdn: \(rdn)\ndeleteoldrdn: 1\n"
    }

    static func userDN(_ uid: String) -> String { "uid=\(uid),ou=people,dc=example,dc=org" }
    static func groupDN(_ name: String) -> String { "cn=\(name),ou=groups,dc=example,dc=org" }

    static func join(_ parts: [String]) -> String { parts.joined(separator: "\n") }
}
