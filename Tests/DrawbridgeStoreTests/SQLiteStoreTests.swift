import DrawbridgeCore
import Foundation
import LDAP
import Logging
import SQLKit
import Testing

@testable import DrawbridgeStore

@Suite struct SQLiteStoreTests {
    // MARK: Schema

    @Test func migratingTwiceChangesNothing() async throws {
        try await withStore { store in
            try await store.withSyncTransaction(commit: true) { tx in
                _ = try await tx.upsertUsers([try user("u1", "alice")], seenAt: t0)
            }
            try await store.migrate()
            let versions = try await store.reader.select().column("version").from("schema_migrations")
                .all(decodingColumn: "version", as: Int.self)
            #expect(versions == SQLiteStore.migrations.map(\.version))
            #expect(try await store.users(includeDeleted: true).map(\.record.login) == ["alice"])
        }
    }

    /// The first sync fills the directory tables without their indexes; whether it commits, rolls back or fails,
    /// the indexes are there afterwards, and they are used.
    @Test func aFirstSyncLeavesTheIndexesInPlace() async throws {
        try await withStore { store in
            let indexes: @Sendable () async throws -> [String] = {
                try await store.reader.raw(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'directory%' AND sql IS NOT NULL ORDER BY name"
                ).all(decodingColumn: "name", as: String.self)
            }
            let expected = ["directory_group_members_kind_member", "directory_groups_dn_norm", "directory_users_dn_norm", "directory_users_login"]
            #expect(try await indexes() == expected)
            let team = try group("g1", "team", members: [.dn(try userDN("alice"))])
            await #expect(throws: Abort.self) {
                try await store.withSyncTransaction(commit: true) { tx in
                    _ = try await tx.upsertUsers([try user("u1", "alice")], seenAt: t0)
                    throw Abort()
                }
            }
            #expect(try await indexes() == expected)
            try await store.withSyncTransaction(commit: false) { tx in
                _ = try await tx.upsertUsers([try user("u1", "alice")], seenAt: t0)
            }
            #expect(try await indexes() == expected)
            let during = try await store.withSyncTransaction(commit: true) { tx in
                _ = try await tx.upsertUsers([try user("u1", "alice")], seenAt: t0)
                _ = try await tx.upsertGroups([team], seenAt: t0)
                var names: [String] = []
                try (tx as! SQLiteSyncTransaction).db.run(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'directory%' AND sql IS NOT NULL", []
                ) { row in if case .text(let name) = row.values[0] { names.append(name) } }
                return names
            }
            #expect(during.isEmpty, "the empty tables are filled without their indexes: \(during)")
            #expect(try await indexes() == expected)
            let plan = try await store.reader.raw(
                "EXPLAIN QUERY PLAN SELECT group_id FROM directory_group_members WHERE kind = 'dn' AND member = 'x'"
            ).all(decodingColumn: "detail", as: String.self)
            #expect(plan.contains { $0.contains("directory_group_members_kind_member") }, "\(plan)")
            #expect(try await store.memberReferences(ofGroup: team.id) == [.dn(try userDN("alice"))])
        }
    }

    // MARK: Upserts

    @Test func upsertClassifiesEveryRow() async throws {
        try await withStore { store in
            let first = try await store.withSyncTransaction(commit: true) { tx in
                let result = try await tx.upsertUsers(
                    [try user("u1", "alice"), try user("u2", "bob"), try user("u3", "carol"), try user("u5", "erin")], seenAt: t0)
                #expect(try await tx.markUsersDeleted([DirectoryEntryID(rawValue: "u3")], at: t0) == 1)
                return result
            }
            #expect(first == UpsertResult(inserted: 4))

            let bob = DirectoryUserRecord(id: id("u2"), dn: try userDN("bob"), login: "bob", displayName: "bob", mail: "bob@example.org", enabled: true)
            let erin = DirectoryUserRecord(id: id("u5"), dn: try userDN("erin"), login: "erin", displayName: "erin", mail: nil, enabled: false)
            let second = try await store.withSyncTransaction(commit: true) { tx in
                try await tx.upsertUsers([try user("u1", "alice"), bob, try user("u3", "carol"), try user("u4", "dave"), erin], seenAt: t1)
            }
            #expect(second == UpsertResult(inserted: 1, updated: 2, unchanged: 1, restored: 1, newlyDisabled: [DirectoryEntryID(rawValue: "u5")]))

            let carol = try #require(try await store.user(id: DirectoryEntryID(rawValue: "u3")))
            #expect(carol.deletedAt == nil)
            #expect(carol.firstSeenAt == t0)
            #expect(carol.syncedAt == t1)
            #expect(try await store.user(login: "bob")?.record.mail == "bob@example.org")
            #expect(try await store.user(login: "erin")?.record.enabled == false)
        }
    }

    @Test func renameByIDKeepsTheRow() async throws {
        try await withStore { store in
            try await upsert(store, users: [try user("u1", "alice")], at: t0)
            let renamed = DirectoryUserRecord(
                id: DirectoryEntryID(rawValue: "u1"), dn: try DistinguishedName("uid=alice.smith,ou=staff,dc=example,dc=org"),
                login: "alice.smith", displayName: "Alice Smith", mail: nil, enabled: true)
            let result = try await store.withSyncTransaction(commit: true) { tx in try await tx.upsertUsers([renamed], seenAt: t1) }

            #expect(result == UpsertResult(updated: 1))
            let users = try await store.users(includeDeleted: true)
            #expect(users.count == 1)
            #expect(users.first?.record == renamed)
            #expect(users.first?.firstSeenAt == t0)
            #expect(try await store.user(login: "alice") == nil)
            #expect(try await store.user(dn: try DistinguishedName("uid=alice,ou=people,dc=example,dc=org")) == nil)
            #expect(try await store.user(dn: try DistinguishedName("UID=Alice.Smith, OU=Staff, DC=Example, DC=Org"))?.record.id.rawValue == "u1")
        }
    }

    @Test func upsertReplacesTheMemberListOfTheGivenGroupsOnly() async throws {
        try await withStore { store in
            let team = try group("g1", "team", members: [.dn(try userDN("alice")), .dn(try DistinguishedName("UID=Alice, OU=People, DC=Example, DC=Org")), .login("carol")])
            let other = try group("g2", "other", members: [.login("zed")])
            let first = try await store.withSyncTransaction(commit: true) { tx in try await tx.upsertGroups([team, other], seenAt: t0) }
            #expect(first == UpsertResult(inserted: 2))
            #expect(Set(try await store.memberReferences(ofGroup: team.id)) == [.dn(try userDN("alice")), .login("carol")])

            let replaced = try group("g1", "team", members: [.dn(try userDN("bob")), .login("dave")])
            let second = try await store.withSyncTransaction(commit: true) { tx in try await tx.upsertGroups([replaced], seenAt: t1) }
            // alice's DN is reported as dropped (in normalized form, equal to the original); logins are not DNs.
            #expect(second == UpsertResult(updated: 1, droppedMembers: [try userDN("alice")]))
            #expect(Set(try await store.memberReferences(ofGroup: team.id)) == [.dn(try userDN("bob")), .login("dave")])
            #expect(try await store.memberReferences(ofGroup: other.id) == [.login("zed")])
            #expect(try await store.group(id: team.id)?.directMemberCount == 2)

            let third = try await store.withSyncTransaction(commit: true) { tx in try await tx.upsertGroups([replaced], seenAt: t1) }
            #expect(third == UpsertResult(unchanged: 1))

            let owned = DirectoryGroupRecord(
                id: replaced.id, dn: replaced.dn, name: replaced.name, description: nil, members: replaced.members, owners: [try userDN("erin")])
            let fourth = try await store.withSyncTransaction(commit: true) { tx in try await tx.upsertGroups([owned], seenAt: t1) }
            #expect(fourth == UpsertResult(updated: 1))
        }
    }

    // MARK: Membership

    /// A recursion that did not stop at a cycle would run until the time limit.
    @Test(.timeLimit(.minutes(1))) func transitiveMembershipFollowsNestingAndSurvivesCycles() async throws {
        try await withStore { store in
            let users = [try user("ua", "alice"), try user("ub", "bob"), try user("uc", "carol"), try user("ud", "dave"), try user("ue", "erin")]
            // g1 ∋ alice, g2; g2 ∋ bob, g1, g3 (a two-group cycle); g3 ∋ itself, carol by DN, dave by login (posixGroup).
            let groups = [
                try group("g1", "one", members: [.dn(try userDN("alice")), .dn(try groupDN("two"))]),
                try group("g2", "two", members: [.dn(try userDN("bob")), .dn(try groupDN("one")), .dn(try groupDN("three"))]),
                try group("g3", "three", members: [.dn(try groupDN("three")), .dn(try userDN("carol")), .login("dave")]),
            ]
            try await upsert(store, users: users, groups: groups, at: t0)

            #expect(try await store.members(ofGroup: id("g1"), transitive: false).map(\.record.login) == ["alice"])
            #expect(try await store.members(ofGroup: id("g1"), transitive: true).map(\.record.login) == ["alice", "bob", "carol", "dave"])
            #expect(try await store.members(ofGroup: id("g3"), transitive: true).map(\.record.login) == ["carol", "dave"])
            #expect(try await store.groups(ofUser: id("ud"), transitive: false).map(\.name) == ["three"])
            #expect(try await store.groups(ofUser: id("ud"), transitive: true).map(\.name) == ["one", "three", "two"])
            #expect(try await store.groups(ofUser: id("ua"), transitive: true).map(\.name) == ["one", "two"])
            #expect(try await store.groups(ofUser: id("ue"), transitive: true).isEmpty)

            try await store.withSyncTransaction(commit: true) { tx in _ = try await tx.markUsersDeleted([id("uc")], at: t1) }
            #expect(try await store.members(ofGroup: id("g1"), transitive: true).map(\.record.login) == ["alice", "bob", "dave"])
        }
    }

    @Test func fingerprintsAndMarkSeenLetUnchangedEntriesSkipTheUpsert() async throws {
        try await withStore { store in
            var alice = try user("u1", "alice")
            alice.fingerprint = "f-alice"
            var team = try group("g1", "team", members: [.login("alice")])
            team.fingerprint = "f-team"
            try await store.withSyncTransaction(commit: true) { [alice, team] tx in
                _ = try await tx.upsertUsers([alice, try user("u2", "bob")], seenAt: t0)
                _ = try await tx.upsertGroups([team], seenAt: t0)
                #expect(try await tx.markUsersDeleted([id("u2")], at: t0) == 1)
            }
            let deletions = try await store.withSyncTransaction(commit: true) { tx in
                // Only live entries that have a fingerprint are reported; bob is deleted, unknown ids are absent.
                #expect(try await tx.fingerprints(of: .user, ids: [id("u1"), id("u2"), id("nobody")]) == [id("u1"): "f-alice"])
                #expect(try await tx.fingerprints(of: .group, ids: [id("g1")]) == [id("g1"): "f-team"])
                try await tx.markSeen(.user, ids: [id("u1")], at: t1)
                try await tx.markSeen(.group, ids: [id("g1")], at: t1)
                return try await tx.markNotSeen(since: t1, deletedAt: t1)
            }
            // Seen without an upsert still counts as seen: nothing vanished, and the members stay.
            #expect(deletions == DeletionCounts(users: 0, groups: 0))
            #expect(try await store.user(id: id("u1"))?.syncedAt == t1)
            #expect(try await store.members(ofGroup: id("g1"), transitive: false).map(\.record.login) == ["alice"])
        }
    }

    @Test func markNotSeenDeletesOnlyStaleEntriesAndTheirMembers() async throws {
        try await withStore { store in
            let kept = try group("g1", "kept", members: [.dn(try userDN("alice"))])
            let stale = try group("g2", "stale", members: [.dn(try userDN("bob")), .login("bob")])
            try await upsert(store, users: [try user("u1", "alice"), try user("u2", "bob")], groups: [kept, stale], at: t0)

            let deletedAt = t1.addingTimeInterval(60)
            let counts = try await store.withSyncTransaction(commit: true) { tx in
                _ = try await tx.upsertUsers([try user("u1", "alice")], seenAt: t1)
                _ = try await tx.upsertGroups([kept], seenAt: t1)
                return try await tx.markNotSeen(since: t1, deletedAt: deletedAt)
            }
            #expect(counts == DeletionCounts(users: 1, groups: 1))

            #expect(try await store.user(id: id("u1"))?.deletedAt == nil)
            #expect(try await store.user(id: id("u2"))?.deletedAt == deletedAt)
            #expect(try await store.group(id: id("g1"))?.deletedAt == nil)
            #expect(try await store.group(id: id("g2"))?.deletedAt == deletedAt)
            #expect(try await store.memberReferences(ofGroup: id("g2")).isEmpty)
            #expect(try await store.memberReferences(ofGroup: id("g1")) == [.dn(try userDN("alice"))])
            #expect(try await store.users(includeDeleted: false).map(\.record.login) == ["alice"])
            #expect(try await store.groups(includeDeleted: true).map(\.name) == ["kept", "stale"])

            let again = try await store.withSyncTransaction(commit: true) { tx in
                try await tx.markNotSeen(since: t1, deletedAt: deletedAt.addingTimeInterval(60))
            }
            #expect(again == DeletionCounts(users: 0, groups: 0))
            #expect(try await store.user(id: id("u2"))?.deletedAt == deletedAt)

            let restored = try await store.withSyncTransaction(commit: true) { tx in try await tx.upsertGroups([stale], seenAt: t1) }
            #expect(restored == UpsertResult(restored: 1))
            #expect(Set(try await store.memberReferences(ofGroup: id("g2"))) == Set(stale.members))
        }
    }

    // MARK: Transactions

    @Test func aTransactionThatThrowsLeavesNothing() async throws {
        try await withStore { store in
            await #expect(throws: Abort.self) {
                try await store.withSyncTransaction(commit: true) { tx in
                    _ = try await tx.upsertUsers([try user("u1", "alice")], seenAt: t0)
                    try await tx.setSyncState(SyncState(watermark: "42", lastSyncAt: t0))
                    throw Abort()
                }
            }
            let users = try await store.users(includeDeleted: true)
            #expect(users.isEmpty)
            let state = try await store.syncState()
            #expect(state == SyncState())
        }
    }

    @Test func aTransactionNotCommittedLeavesNothing() async throws {
        try await withStore { store in
            let result = try await store.withSyncTransaction(commit: false) { tx in
                try await tx.upsertUsers([try user("u1", "alice")], seenAt: t0)
            }
            #expect(result == UpsertResult(inserted: 1))
            #expect(try await store.users(includeDeleted: true).isEmpty)
        }
    }

    @Test func readersSeeTheLastCommitWhileATransactionIsOpen() async throws {
        try await withStore { store in
            try await upsert(store, users: [try user("u1", "alice")], at: t0)
            let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)

            let writer = Task {
                try await store.withSyncTransaction(commit: true) { tx in
                    var renamed = try user("u1", "alice")
                    renamed.displayName = "Changed"
                    _ = try await tx.upsertUsers([renamed, try user("u2", "bob")], seenAt: t1)
                    #expect(try await tx.liveUsers(withDNs: [try userDN("bob")]).map(\.record.login) == ["bob"])
                    startedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in started { break }
            let during = try await store.users(includeDeleted: true)
            releaseSignal.yield()
            try await writer.value

            #expect(during.map(\.record.login) == ["alice"])
            #expect(during.first?.record.displayName == "alice")
            let after = try await store.users(includeDeleted: true)
            #expect(after.map(\.record.login) == ["alice", "bob"])
            #expect(after.first?.record.displayName == "Changed")
        }
    }

    @Test func concurrentTransactionsTakeTurns() async throws {
        try await withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        try await store.withSyncTransaction(commit: true) { tx in
                            for step in 0..<5 {
                                _ = try await tx.upsertUsers([try user("u\(writer)-\(step)", "user\(writer)-\(step)")], seenAt: t0)
                                await Task.yield()
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.users(includeDeleted: true).count == 20)
        }
    }

    @Test("commits past the threshold checkpoint the WAL in the background, so it restarts instead of growing, and nothing is lost")
    func theWALIsCheckpointedInTheBackground() async throws {
        try await withStore(checkpointThreshold: 20) { store, path in
            let walPath = path + "-wal"
            var largestWAL = 0
            for index in 0..<300 {
                var record = try user("wal\(index)", "wal\(index)")
                record.displayName = String(repeating: "x", count: 3000)
                try await upsert(store, users: [record], at: t0)
                await store.checkpointFinished()
                let size = try FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int ?? 0
                largestWAL = max(largestWAL, size)
            }
            // The migrations leave about 100 pages of 4 KiB in the WAL. Without a checkpoint it would also hold every
            // transaction's pages: over 400 more.
            #expect(largestWAL > 0)
            #expect(largestWAL < 150 * 4096)
            #expect(try await store.users(includeDeleted: true).count == 300)
        }
    }

    @Test("a removed session stays removed: a late write from a request still in flight does not bring it back")
    func removedSessionsStayRemoved() async throws {
        try await withStore { store in
            let expiry = t1.addingTimeInterval(3600)
            #expect(try await store.putSession(key: "k1", value: Data("one".utf8), expiresAt: expiry, onlyIfAbsent: true))
            #expect(try await store.putSession(key: "k1", value: Data("two".utf8), expiresAt: expiry, onlyIfAbsent: false))
            #expect(try await store.session(key: "k1", at: t1)?.value == Data("two".utf8))

            try await store.removeSession(key: "k1")
            #expect(try await store.session(key: "k1", at: t1) == nil)
            #expect(try await store.putSession(key: "k1", value: Data("late".utf8), expiresAt: expiry, onlyIfAbsent: false) == false)
            #expect(try await store.putSession(key: "k1", value: Data("late".utf8), expiresAt: expiry, onlyIfAbsent: true) == false)
            #expect(try await store.session(key: "k1", at: t1) == nil)

            #expect(try await store.purgeSessions(expiredBefore: expiry) == 1)
            #expect(try await store.putSession(key: "k2", value: Data("new".utf8), expiresAt: expiry, onlyIfAbsent: false))
            #expect(try await store.session(key: "k2", at: t1)?.value == Data("new".utf8))
        }
    }

    @Test func aTransactionUsedAfterItEndedIsRefused() async throws {
        try await withStore { store in
            let escaped = try await store.withSyncTransaction(commit: true) { tx in tx }
            await #expect(throws: SQLiteStoreError.self) {
                _ = try await escaped.upsertUsers([try user("u1", "alice")], seenAt: t0)
            }
            #expect(try await store.users(includeDeleted: true).isEmpty)
        }
    }

    @Test func syncStateRoundTrips() async throws {
        try await withStore { store in
            let state = SyncState(
                watermark: "20240101000000Z", lastFullSyncAt: t0, lastSyncAt: t1, mappingSignature: "rules-1",
                mappingWarnings: ["rule 'a' gives cn=x,dc=example,dc=org an invalid scope: \"/é\""])
            try await store.withSyncTransaction(commit: true) { tx in try await tx.setSyncState(state) }
            #expect(try await store.syncState() == state)

            let numeric = SyncState(watermark: "12345", lastFullSyncAt: nil, lastSyncAt: t1)
            try await store.withSyncTransaction(commit: true) { tx in
                try await tx.setSyncState(numeric)
                #expect(try await tx.syncState() == numeric)
            }
            #expect(try await store.syncState() == numeric)
        }
    }

    // MARK: Role bindings

    @Test func replacingRoleBindingsReportsTheDifferenceAndRebuildsTheScopeTree() async throws {
        try await withStore { store in
            let groups = [try group("g1", "admins", members: []), try group("g2", "readers", members: []), try group("g3", "ops", members: [])]
            try await upsert(store, groups: groups, at: t0)
            let prodOwner = try binding("/subscriptions/prod", "owner", groups[0])
            let webReader = try binding("/subscriptions/prod/resourceGroups/web", "reader", groups[1])

            let first = try await store.withSyncTransaction(commit: true) { tx in try await tx.replaceRoleBindings([webReader, prodOwner]) }
            #expect(first == RoleBindingChanges(added: [prodOwner, webReader], removed: [], changed: []))
            #expect(try await store.roleBindings() == [prodOwner, webReader])
            #expect(try await scopeTree(store) == [
                "/": nil, "/subscriptions": "/", "/subscriptions/prod": "/subscriptions",
                "/subscriptions/prod/resourceGroups": "/subscriptions/prod",
                "/subscriptions/prod/resourceGroups/web": "/subscriptions/prod/resourceGroups",
            ])

            let prodOwnerMoved = try binding("/subscriptions/prod", "owner", groups[2])
            let devContributor = try binding("/subscriptions/dev", "contributor", groups[1])
            let second = try await store.withSyncTransaction(commit: true) { tx in
                try await tx.replaceRoleBindings([prodOwnerMoved, devContributor])
            }
            #expect(second == RoleBindingChanges(added: [devContributor], removed: [webReader], changed: [prodOwnerMoved]))
            #expect(try await scopeTree(store) == [
                "/": nil, "/subscriptions": "/", "/subscriptions/prod": "/subscriptions", "/subscriptions/dev": "/subscriptions",
            ])

            // Bindings are reported with the group's current DN and name.
            let renamed = DirectoryGroupRecord(
                id: groups[2].id, dn: try DistinguishedName("cn=operations,ou=groups,dc=example,dc=org"), name: "operations",
                description: nil, members: [])
            try await upsert(store, groups: [renamed], at: t1)
            let bindings = try await store.roleBindings()
            #expect(bindings.map(\.scope.description) == ["/subscriptions/dev", "/subscriptions/prod"])
            #expect(bindings.last?.groupName == "operations")
            #expect(bindings.last?.groupDN == renamed.dn)
        }
    }

    @Test func storeErrorsNameTheOperationButNotTheValues() async throws {
        try await withStore { store in
            let unknown = try group("secret-group-id", "nobody", members: [])
            let error = await #expect(throws: SQLiteStoreError.self) {
                try await store.withSyncTransaction(commit: true) { tx in
                    try await tx.replaceRoleBindings([try binding("/subscriptions/prod", "owner", unknown)])
                }
            }
            #expect(error?.table == "role_bindings")
            #expect(error?.description.contains("secret-group-id") == false)
            #expect(try await store.roleBindings().isEmpty)
        }
    }
}

// MARK: Fixtures

private let t0 = Date(timeIntervalSince1970: 1_700_000_000)
private let t1 = Date(timeIntervalSince1970: 1_700_086_400)

private struct Abort: Error {}

private func id(_ raw: String) -> DirectoryEntryID { DirectoryEntryID(rawValue: raw) }

private func userDN(_ login: String) throws -> DistinguishedName {
    try DistinguishedName("uid=\(login),ou=people,dc=example,dc=org")
}

private func groupDN(_ name: String) throws -> DistinguishedName {
    try DistinguishedName("cn=\(name),ou=groups,dc=example,dc=org")
}

private func user(_ raw: String, _ login: String) throws -> DirectoryUserRecord {
    DirectoryUserRecord(id: id(raw), dn: try userDN(login), login: login, displayName: login, mail: nil, enabled: true)
}

private func group(_ raw: String, _ name: String, members: [MemberReference]) throws -> DirectoryGroupRecord {
    DirectoryGroupRecord(id: id(raw), dn: try groupDN(name), name: name, description: nil, members: members)
}

private func binding(_ scope: String, _ role: String, _ group: DirectoryGroupRecord) throws -> RoleBinding {
    RoleBinding(
        scope: try ScopePath(scope), role: try #require(RoleName(rawValue: role)), groupID: group.id, groupDN: group.dn,
        groupName: group.name, rule: "test")
}

private func upsert(
    _ store: SQLiteStore, users: [DirectoryUserRecord] = [], groups: [DirectoryGroupRecord] = [], at time: Date
) async throws {
    try await store.withSyncTransaction(commit: true) { tx in
        _ = try await tx.upsertUsers(users, seenAt: time)
        _ = try await tx.upsertGroups(groups, seenAt: time)
    }
}

/// path → parent, as stored.
private func scopeTree(_ store: SQLiteStore) async throws -> [String: String?] {
    var tree: [String: String?] = [:]
    for row in try await store.reader.select().columns("path", "parent").from("scopes").all() {
        tree[try row.decode(column: "path", as: String.self)] = try row.decode(column: "parent", as: String?.self)
    }
    return tree
}

/// Runs `body` against a migrated store in a new temporary file, then closes and removes it.
private func withStore(_ body: (SQLiteStore) async throws -> Void) async throws {
    try await withStore(checkpointThreshold: 1000) { store, _ in try await body(store) }
}

private func withStore(checkpointThreshold: Int, _ body: (SQLiteStore, String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var logger = Logger(label: "SQLiteStoreTests")
    logger.logLevel = .warning
    let path = directory.appendingPathComponent("store.sqlite").path
    let store = try await SQLiteStore.open(path: path, logger: logger, checkpointThreshold: checkpointThreshold)
    do {
        try await store.migrate()
        try await body(store, path)
    } catch {
        try? await store.close()
        throw error
    }
    try await store.close()
}
