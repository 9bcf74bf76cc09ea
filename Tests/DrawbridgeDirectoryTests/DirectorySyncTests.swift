import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import LDAP
import Testing

@Suite struct DirectorySyncTests {
    typealias F = Fixtures

    static let basic = F.join([
        F.user("alice"), F.user("bob"), F.user("carol"), F.user("dave", employeeType: "contractor"),
        F.group("pim-prod-web-owner", members: [F.userDN("alice")]),
        F.group("pim-prod-db-reader", members: [F.userDN("bob"), F.groupDN("team-a")]),
        F.group("team-a", members: [F.userDN("carol"), F.groupDN("team-b")]),
        F.group("team-b", members: [F.userDN("dave"), F.groupDN("team-a")]),
        F.group("unix-admins", members: ["alice", "ghost"], objectClass: "posixGroup", attribute: "memberUid"),
        F.group("auditors", members: [F.userDN("bob")], objectClass: "groupOfUniqueNames", attribute: "uniqueMember"),
    ])

    @Test func fullSyncMirrorsUsersGroupsNestingAndBindings() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            let report = try await harness.sync(.full)
            #expect(report.kind == .full)
            #expect(report.users.inserted == 4)
            #expect(report.groups.inserted == 6)
            #expect(report.warningCount == 0)

            let alice = try #require(try await harness.store.user(login: "alice"))
            #expect(alice.record.dn.description == F.userDN("alice"))
            #expect(alice.record.mail == "alice@example.org")
            #expect(alice.record.enabled)

            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-db-reader")) == ["bob"])
            // Nested through team-a and team-b, which contain each other: the cycle terminates.
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-db-reader"), transitive: true) == ["bob", "carol", "dave"])
            #expect(try await harness.logins(ofGroup: F.groupDN("team-b"), transitive: true) == ["carol", "dave"])
            // memberUid resolves by login; a login nobody has stays unresolved.
            #expect(try await harness.logins(ofGroup: F.groupDN("unix-admins")) == ["alice"])
            #expect(try await harness.logins(ofGroup: F.groupDN("auditors")) == ["bob"])

            let bindings = try await harness.store.roleBindings()
            #expect(bindings.map { "\($0.scope) \($0.role) \($0.groupName)" } == [
                "/subscriptions/prod/resourceGroups/db reader pim-prod-db-reader",
                "/subscriptions/prod/resourceGroups/web owner pim-prod-web-owner",
            ])

            let again = try await harness.sync(.full)
            #expect(again.users.unchanged == 4)
            #expect(again.groups.unchanged == 6)
            #expect(again.users.inserted + again.users.updated == 0)
            // Unchanged entries are recognised by fingerprint and still count as seen.
            #expect(again.deletedUsers == 0 && again.deletedGroups == 0)
            #expect(try await harness.store.users(includeDeleted: false).count == 4)
        }
    }

    @Test func changedDecodingSettingsReReadUnchangedEntries() async throws {
        let rule = "  users:\n    disabled: { attribute: employeeType, equals: disabled }"
        try await SyncHarness.with(ldif: [Self.basic], extraDirectoryYAML: rule) { harness in
            _ = try await harness.sync(.full)
            #expect(try await harness.store.user(login: "dave")?.record.enabled == true)
            // Same directory and attributes, a new rule value: dave's entry did not change, but what it means did.
            var directory = harness.configuration.directory
            directory.users.disabled = DisabledRule(attribute: "employeeType", test: .equals("contractor"))
            let synchronizer = DirectorySynchronizer(
                configuration: directory, pool: harness.pool, store: harness.store, mapper: ScopeMapper(rules: harness.configuration.mappingRules))
            let report = try await synchronizer.sync(.full)
            #expect(report.users.newlyDisabled.count == 1)
            #expect(try await harness.store.user(login: "dave")?.record.enabled == false)
        }
    }

    @Test func incrementalSyncPicksUpMembersDeletionsAndRenames() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            _ = try await harness.sync(.full)
            let ownersBefore = try #require(try await harness.store.group(dn: try DistinguishedName(F.groupDN("pim-prod-web-owner"))))
            try await harness.nextSecond()

            try await harness.directory.modify(ldif: """
                dn: \(F.groupDN("pim-prod-web-owner"))
                changetype: modify
                add: member
                member: \(F.userDN("bob"))

                dn: \(F.groupDN("team-a"))
                changetype: modify
                delete: member
                member: \(F.userDN("carol"))

                dn: \(F.userDN("carol"))
                changetype: delete

                \(F.rename(F.groupDN("pim-prod-db-reader"), to: "cn=pim-prod-data-reader"))

                """)
            let report = try await harness.sync(.incremental)
            #expect(report.kind == .incremental)

            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-web-owner")) == ["alice", "bob"])
            // team-a lost carol, so the incremental sync checks her and finds her gone. (The member is removed by hand:
            // slapd's refint drops it without touching team-a's modifyTimestamp, so only a full sync would notice.)
            #expect(try await harness.store.user(login: "carol") == nil)
            #expect(report.deletedUsers == 1)
            let carol = try await harness.store.users(includeDeleted: true).first { $0.record.login == "carol" }
            #expect(carol?.deletedAt != nil)

            // The renamed group keeps its identity, and its binding moves with the new name.
            let renamed = try #require(try await harness.store.group(dn: try DistinguishedName(F.groupDN("pim-prod-data-reader"))))
            #expect(try await harness.store.group(dn: try DistinguishedName(F.groupDN("pim-prod-db-reader"))) == nil)
            #expect(renamed.name == "pim-prod-data-reader")
            let scopes = try await harness.store.roleBindings().map(\.scope.description)
            #expect(scopes.contains("/subscriptions/prod/resourceGroups/data"))
            #expect(!scopes.contains("/subscriptions/prod/resourceGroups/db"))
            #expect(try await harness.store.group(id: ownersBefore.id)?.dn == ownersBefore.dn)
        }
    }

    @Test func renamedMembersKeepTheirGroupsAndLeaveNothingBehindAtTheOldDN() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            try await harness.directory.modify(ldif: """
                dn: \(F.groupDN("pim-prod-web-owner"))
                changetype: modify
                add: owner
                owner: \(F.userDN("alice"))

                """)
            try await harness.fullSyncPastTheLoad()
            // refint rewrites the groups' member values without touching their modifyTimestamp, so the incremental
            // sync reads only the renamed entries and a newcomer at alice's old DN.
            try await harness.directory.modify(ldif: """
                \(F.rename(F.userDN("alice"), to: "uid=alice2"))

                \(F.rename(F.groupDN("team-a"), to: "cn=team-alpha"))

                dn: \(F.userDN("alice"))
                changetype: add
                objectClass: inetOrgPerson
                uid: alice
                cn: Alice Newcomer
                sn: Newcomer

                """)
            let report = try await harness.sync(.incremental)
            #expect(report.kind == .incremental)
            #expect(report.users.inserted == 1 && report.users.updated == 1)

            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-web-owner")) == ["alice2"])
            let newcomer = try #require(try await harness.store.user(login: "alice"))
            #expect(try await harness.store.groups(ofUser: newcomer.record.id, transitive: true).map(\.name) == ["unix-admins"])
            let owned = try #require(try await harness.store.group(dn: try DistinguishedName(F.groupDN("pim-prod-web-owner"))))
            let owners = try await harness.store.withAccessTransaction(commit: false) { try await $0.owners(ofGroups: [owned.id]) }
            #expect(owners[owned.id] == [try DistinguishedName(F.userDN("alice2"))], "owners follow the rename too: they choose reviewers")
            // The nested group's rows follow its new DN: carol and dave still reach pim-prod-db-reader through it.
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-db-reader"), transitive: true) == ["bob", "carol", "dave"])

            let full = try await harness.sync(.full)
            // The member rows are as the directory holds them; the owner is not, as this slapd's refint leaves `owner`
            // values alone: the full sync stores the directory's again.
            #expect(full.groups.updated == 1)
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-web-owner")) == ["alice2"])
        }
    }

    @Test func aUserMovedToAnotherUsersOldDNTakesOnlyTheirOwnGroups() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            try await harness.fullSyncPastTheLoad()
            // alice comes first in the directory's order, so a rename applied on sight would merge her rows into bob's
            // before his moved on.
            try await harness.directory.modify(ldif: """
                \(F.rename(F.userDN("bob"), to: "uid=bob2"))

                \(F.rename(F.userDN("alice"), to: "uid=bob"))

                """)
            let report = try await harness.sync(.incremental)
            #expect(report.users.updated == 2)
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-web-owner")) == ["bob"], "alice, now uid=bob")
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-db-reader")) == ["bob2"])
            #expect(try await harness.logins(ofGroup: F.groupDN("auditors")) == ["bob2"])
        }
    }

    @Test func aGroupReadAgainKeepsTheDNItNamesNowWhenAnotherGroupLeftIt() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            try await harness.fullSyncPastTheLoad()
            // team-a moves to team-alpha, a new team-a takes its DN and joins pim-prod-web-owner, which is read again.
            try await harness.directory.modify(ldif: """
                \(F.rename(F.groupDN("team-a"), to: "cn=team-alpha"))

                dn: \(F.groupDN("team-a"))
                changetype: add
                objectClass: groupOfNames
                cn: team-a
                member: \(F.userDN("bob"))

                dn: \(F.groupDN("pim-prod-web-owner"))
                changetype: modify
                add: member
                member: \(F.groupDN("team-a"))

                """)
            _ = try await harness.sync(.incremental)
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-web-owner"), transitive: true) == ["alice", "bob"])
            // Groups not read again still follow the move: team-b names team-alpha now.
            #expect(try await harness.logins(ofGroup: F.groupDN("team-b"), transitive: true) == ["carol", "dave"])
        }
    }

    @Test func aSyncAfterTheDirectoryRestartedStartsAgainOnAFreshConnection() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            _ = try await harness.sync(.full)
            try await harness.directory.restart()
            try await harness.nextSecond()
            try await harness.directory.modify(ldif: """
                dn: \(F.groupDN("pim-prod-web-owner"))
                changetype: modify
                add: member
                member: \(F.userDN("bob"))

                """)
            // The pool's idle connection died with the old slapd; the sync finds out inside its transaction.
            let report = try await harness.sync(.incremental)
            #expect(report.groups.updated == 1)
            #expect(try await harness.logins(ofGroup: F.groupDN("pim-prod-web-owner")) == ["alice", "bob"])
        }
    }

    @Test func anIncrementalSyncAnsweredByAnotherServerReadsEverything() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            _ = try await harness.sync(.full)
            var state = try await harness.store.syncState()
            let port = try #require(harness.directory.url.split(separator: ":").last)
            #expect(state.watermarkServer == "127.0.0.1:\(port)")
            #expect(try await harness.sync(.incremental).kind == .incremental)
            // As if the last sync had reached another supplier (a failover, or a DNS name over several servers).
            state.watermarkServer = "192.0.2.10:389"
            let moved = state
            try await harness.store.withSyncTransaction(commit: true) { try await $0.setSyncState(moved) }
            #expect(try await harness.sync(.incremental).kind == .full)
        }
    }

    @Test func incrementalWithoutChangesChangesNothing() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            let full = try await harness.sync(.full)
            let incremental = try await harness.sync(.incremental)
            #expect(incremental.users.inserted + incremental.users.updated == 0)
            #expect(incremental.groups.inserted + incremental.groups.updated == 0)
            // The watermark follows the server's clock at each start, so it may move on, never back.
            let before = try #require(full.watermark), after = try #require(incremental.watermark)
            #expect(after >= before)
            #expect(incremental.bindingChanges.added.isEmpty && incremental.bindingChanges.removed.isEmpty)
        }
    }

    /// An incremental sync that changed no group keeps the bindings as they are, unless the rules changed.
    @Test func changedMappingRulesAreAppliedByTheNextIncrementalSync() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            let full = try await harness.sync(.full)
            let unchanged = try await harness.sync(.incremental)
            #expect(unchanged.bindingCount == full.bindingCount)
            #expect(try await harness.store.roleBindings().count == full.bindingCount)
            let onlyOwners = try MappingRule(
                name: "owners-only", matcher: .namePattern("^pim-(?<sub>[a-z0-9]+)-(?<rg>[a-z0-9]+)-owner$"),
                scope: "/subscriptions/{sub}/resourceGroups/{rg}", role: "owner")
            let synchronizer = DirectorySynchronizer(
                configuration: harness.configuration.directory, pool: harness.pool, store: harness.store, mapper: ScopeMapper(rules: [onlyOwners]))
            let remapped = try await synchronizer.sync(.incremental)
            #expect(remapped.kind == .incremental)
            #expect(remapped.groups.inserted + remapped.groups.updated == 0)
            let bindings = try await harness.store.roleBindings()
            #expect(!bindings.isEmpty && bindings.count < full.bindingCount)
            #expect(bindings.allSatisfy { $0.role.rawValue == "owner" && $0.rule == "owners-only" })
            #expect(remapped.bindingCount == bindings.count)
            #expect(remapped.bindingChanges.removed.count == full.bindingCount - bindings.count)
        }
    }

    /// A sync that keeps the bindings keeps reporting what the rules found wrong with them, until the rules change.
    @Test func incrementalSyncsRepeatTheMappingWarningsOfTheBindingsTheyKeep() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            func synchronizer(role: String) throws -> DirectorySynchronizer {
                let rule = try MappingRule(
                    name: "owners", matcher: .namePattern("^pim-(?<sub>[a-z0-9]+)-(?<rg>[a-z0-9]+)-owner$"),
                    scope: "/subscriptions/{sub}/resourceGroups/{rg}", role: role)
                return DirectorySynchronizer(
                    configuration: harness.configuration.directory, pool: harness.pool, store: harness.store, mapper: ScopeMapper(rules: [rule]))
            }
            let broken = try synchronizer(role: "owner!")
            let full = try await broken.sync(.full)
            #expect(full.warningCount > 0 && full.bindingCount == 0)
            #expect(full.warnings.allSatisfy { $0.contains("owners") && $0.contains("owner!") }, "\(full.warnings)")
            let unchanged = try await broken.sync(.incremental)
            #expect(unchanged.kind == .incremental && unchanged.groups.inserted + unchanged.groups.updated == 0)
            #expect(unchanged.warnings == full.warnings && unchanged.warningCount == full.warningCount)

            let fixed = try await synchronizer(role: "owner").sync(.incremental)
            #expect(fixed.warningCount == 0 && fixed.bindingCount > 0)
            #expect(try await harness.sync(.incremental).warningCount == 0)
        }
    }

    @Test func incrementalSyncStartsWhereTheServerClockStoodAtTheLastStart() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            // Let the loaded entries' modifyTimestamp fall behind the server clock the sync reads from cn=Monitor.
            try await Task.sleep(for: .milliseconds(2_200))
            _ = try await harness.sync(.full)
            let incremental = try await harness.sync(.incremental)
            #expect(incremental.users.unchanged + incremental.users.inserted + incremental.users.updated == 0)
            #expect(incremental.groups.unchanged + incremental.groups.inserted + incremental.groups.updated == 0)
        }
    }

    @Test func fullSyncMarksVanishedEntriesDeletedAndDisabledUsers() async throws {
        let disabledRule = """
              users:
                disabled: { attribute: employeeType, equals: disabled }
            """
        try await SyncHarness.with(ldif: [Self.basic], extraDirectoryYAML: disabledRule) { harness in
            _ = try await harness.sync(.full)
            try await harness.nextSecond()
            try await harness.directory.modify(ldif: """
                dn: \(F.userDN("dave"))
                changetype: modify
                replace: employeeType
                employeeType: disabled

                dn: \(F.groupDN("auditors"))
                changetype: delete

                """)
            let report = try await harness.sync(.full)
            #expect(report.deletedGroups == 1)
            #expect(report.users.newlyDisabled.count == 1)
            #expect(try await harness.store.user(login: "dave")?.record.enabled == false)
            #expect(try await harness.store.group(dn: try DistinguishedName(F.groupDN("auditors"))) == nil)
            #expect(try await harness.store.groups(includeDeleted: true).contains { $0.name == "auditors" && $0.deletedAt != nil })
        }
    }

    @Test func aFullSyncRefusesToDeleteMostOfTheDirectory() async throws {
        let logins = (1...15).map { String(format: "m%02d", $0) }
        try await SyncHarness.with(ldif: [F.join(logins.map { F.user($0) })]) { harness in
            _ = try await harness.sync(.full)
            // As if the bind account had lost read access to most of the people.
            try await harness.directory.modify(ldif: logins.prefix(12).map { "dn: \(F.userDN($0))\nchangetype: delete\n" }.joined(separator: "\n"))
            let error = try #require(await #expect(throws: MassDeletionRefused.self) { try await harness.sync(.full) })
            #expect(error.deleted == 12 && error.live == 15 && error.kind == "users")
            #expect(error.description.contains("--allow-mass-deletion"))
            #expect(try await harness.store.users(includeDeleted: false).count == 15)

            let report = try await harness.synchronizer.sync(.full, allowMassDeletion: true)
            #expect(report.deletedUsers == 12)
            #expect(try await harness.store.users(includeDeleted: false).map(\.record.login) == ["m13", "m14", "m15"])
        }
    }

    @Test func dryRunChangesNothing() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            let report = try await harness.sync(.full, dryRun: true)
            #expect(report.users.inserted == 4)
            #expect(report.bindingChanges.added.count == 2)
            #expect(try await harness.store.users(includeDeleted: true).isEmpty)
            #expect(try await harness.store.roleBindings().isEmpty)
            #expect(try await harness.store.syncState().watermark == nil)
        }
    }

    @Test func aFailedSyncLeavesThePreviousSnapshot() async throws {
        try await SyncHarness.with(ldif: [Self.basic]) { harness in
            _ = try await harness.sync(.full)
            try await harness.nextSecond()
            // A new user and a group that collides with an existing binding: the mapping fails after the
            // users were already written inside the transaction.
            try await harness.directory.modify(ldif: """
                dn: \(F.userDN("erin"))
                changetype: add
                objectClass: inetOrgPerson
                uid: erin
                cn: Erin
                sn: erin

                """)
            let conflicting = """
                mapping:
                  rules:
                    - name: resource-groups
                      groupName: '^pim-(?<sub>[a-z0-9]+)-(?<rg>[a-z0-9]+)-(?<role>owner|contributor|reader)$'
                      scope: /subscriptions/{sub}/resourceGroups/{rg}
                      role: '{role}'
                    - name: all-teams
                      groupName: '^team-[ab]$'
                      scope: /subscriptions/prod/resourceGroups/web
                      role: owner
                """
            var configuration = harness.configuration
            configuration.mappingRules = try ConfigurationLoaderForTests.rules(conflicting)
            let synchronizer = DirectorySynchronizer(
                configuration: configuration.directory, pool: harness.pool, store: harness.store, mapper: ScopeMapper(rules: configuration.mappingRules))
            let error = try #require(await #expect(throws: MappingConflict.self) { try await synchronizer.sync(.full) })
            #expect(error.description.contains("'resource-groups'") && error.description.contains("'all-teams'"))
            #expect(try await harness.store.user(login: "erin") == nil)
            #expect(try await harness.store.users(includeDeleted: false).count == 4)
            #expect(try await harness.store.roleBindings().count == 2)

            // A directory that goes away mid-way is the same: nothing of the failed run is kept.
            try await harness.directory.stop()
            await #expect(throws: LDAPError.self) { try await harness.sync(.full) }
            #expect(try await harness.store.users(includeDeleted: false).count == 4)
        }
    }

    @Test func awkwardNamesRoundTripExactly() async throws {
        let generator = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/generate-sample-data").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", generator, "--users", "120", "--groups", "30", "--seed", "3", "--awkward-share", "0.4"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let ldif = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        try await SyncHarness.with(ldif: [ldif]) { harness in
            let report = try await harness.sync(.full)
            #expect(report.warningCount == 0, "\(report.warnings)")
            let connection = try await LDAPConnection.connect(harness.configuration.directory.connection)
            let entries = try await connection.searchAll(LDAPSearchRequest(base: "ou=people,dc=example,dc=org", filter: "(objectClass=inetOrgPerson)", attributes: ["cn"]))
            let groupEntries = try await connection.searchAll(LDAPSearchRequest(base: "ou=groups,dc=example,dc=org", filter: "(objectClass=groupOfNames)", attributes: ["member"]))
            await connection.close()

            let stored = try await harness.store.users(includeDeleted: false)
            #expect(Set(stored.map(\.record.dn.description)) == Set(entries.map(\.dn)))
            #expect(stored.contains { $0.record.dn.firstValue?.contains(",") == true })
            for entry in entries {
                let dn = try DistinguishedName(entry.dn)
                let user = try #require(try await harness.store.user(dn: dn), "no stored user for \(entry.dn)")
                #expect(user.record.dn.description == entry.dn)
            }
            // Every member DN the server lists resolves to the same user or group in the store.
            for entry in groupEntries {
                let group = try #require(try await harness.store.group(dn: try DistinguishedName(entry.dn)))
                let references = try await harness.store.memberReferences(ofGroup: group.id)
                #expect(references.count == entry.strings("member").count)
                for member in entry.strings("member") {
                    let dn = try DistinguishedName(member)
                    let asUser = try await harness.store.user(dn: dn)
                    let asGroup = try await harness.store.group(dn: dn)
                    #expect(asUser != nil || asGroup != nil, "member \(member) of \(entry.dn) does not resolve")
                }
            }
        }
    }
}

/// Compiles mapping rules from YAML the same way the loader does.
enum ConfigurationLoaderForTests {
    static func rules(_ yaml: String) throws -> [MappingRule] {
        let text = """
            directory:
              urls: ["ldap://127.0.0.1:9"]
              bind: { anonymous: true }
              baseDN: dc=example,dc=org
            \(yaml)
            """
        return try DrawbridgeConfig.ConfigurationLoader(environment: [:]).parse(text, relativeTo: "/tmp").mappingRules
    }
}
