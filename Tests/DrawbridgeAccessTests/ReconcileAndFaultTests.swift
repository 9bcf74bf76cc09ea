import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Logging
import SQLiteKit
import Testing

@Suite("Reconciler, protection and faults against a real slapd")
struct ReconcileAndFaultTests {
    static let alice = Fixtures.userDN("alice").lowercased()
    static let mallory = Fixtures.userDN("mallory").lowercased()
    static let users = [Fixtures.user("alice"), Fixtures.user("bob"), Fixtures.user("mallory")]

    static let driftRules = """
        mapping:
          rules:
            - { name: reported, groupName: '^pim-rep-web-owner$', scope: /subscriptions/rep, role: owner, drift: report }
            - { name: reverted, groupName: '^pim-rev-web-owner$', scope: /subscriptions/rev, role: owner, drift: revert }
            - { name: adopted, groupName: '^pim-ado-web-owner$', scope: /subscriptions/ado, role: owner, drift: adopt }
        access:
          placeholderMember: cn=placeholder,ou=groups,dc=example,dc=org
        """

    @Test("drift: reported only until enforced; then report leaves, revert removes, adopt records an assignment; findings resolve")
    func driftPolicies() async throws {
        let ldif = (Self.users + ["pim-rep-web-owner", "pim-rev-web-owner", "pim-ado-web-owner"].map {
            Fixtures.group($0, members: [Fixtures.userDN("mallory")])
        }).joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif], configYAML: Self.driftRules) { harness in
            let preview = try await harness.reconciler.reconcile(dryRun: true, enforce: true, source: .cli)
            #expect(preview.map(\.effect).sorted() == ["adopted as permanent assignments", "removed", "reported"])
            let first = try await harness.reconciler.reconcile(dryRun: false, enforce: false, source: .cli)
            #expect(first.allSatisfy { !$0.enforced && $0.drift == ["mallory"] })
            try await harness.applier.applyReady()
            for group in ["pim-rep-web-owner", "pim-rev-web-owner", "pim-ado-web-owner"] {
                #expect(try await harness.members(group) == [Self.mallory], "before enforcement nothing changes in \(group)")
            }

            _ = try await harness.reconciler.reconcile(dryRun: false, enforce: true, source: .cli)
            try await harness.applier.applyReady()
            #expect(try await harness.members("pim-rep-web-owner") == [Self.mallory])
            #expect(try await harness.members("pim-rev-web-owner") == ["cn=placeholder,ou=groups,dc=example,dc=org"])
            #expect(try await harness.auditActions().contains("drift.reverted:success"))
            #expect(try await harness.members("pim-ado-web-owner") == [Self.mallory])
            let adopted = try await harness.store.withAccessTransaction(commit: false) { try await $0.assignments(userID: nil, liveOnly: true) }
            #expect(adopted.map(\.kind) == [.adopted])
            #expect(adopted.first?.scope.description == "/subscriptions/ado")

            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.groupDN("pim-rep-web-owner"))
                changetype: modify
                replace: member
                member: \(Fixtures.userDN("bob"))
                """)
            _ = try await harness.reconciler.reconcile(dryRun: false, enforce: false, source: .cli)
            let findings = try await harness.store.withAccessTransaction(commit: false) { try await $0.driftFindings(openOnly: false) }
            let reported = findings.filter { $0.groupDN.description.hasPrefix("cn=pim-rep") }
            #expect(reported.first { $0.memberDN.normalized.hasPrefix("uid=mallory") }?.resolvedAt != nil)
            #expect(reported.first { $0.memberDN.normalized.hasPrefix("uid=bob") }?.resolvedAt == nil)
            #expect(try await harness.auditActions().contains("drift.resolved:success"))
        }
    }

    @Test("revert on a groupOfNames whose last member goes keeps the configured placeholder instead")
    func placeholder() async throws {
        let yaml = """
            mapping:
              rules:
                - { name: reverted, groupName: '^pim-rev-web-owner$', scope: /subscriptions/rev, role: owner, drift: revert }
            access:
              placeholderMember: cn=placeholder,ou=groups,dc=example,dc=org
            """
        let ldif = (Self.users + [Fixtures.group("pim-rev-web-owner", members: [Fixtures.userDN("mallory")])]).joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif], configYAML: yaml) { harness in
            _ = try await harness.reconciler.reconcile(dryRun: false, enforce: true, source: .cli)
            let report = try await harness.applier.applyReady()
            #expect(report.applied == 1)
            #expect(try await harness.members("pim-rev-web-owner") == ["cn=placeholder,ou=groups,dc=example,dc=org"])
            let again = try await harness.reconciler.reconcile(dryRun: false, enforce: false, source: .cli)
            #expect(again.first?.drift == [], "the placeholder is never drift")
        }
    }

    @Test("a protected group keeps its last member even when its activation expires")
    func protectedLastMember() async throws {
        let yaml = """
            mapping:
              rules:
                - { name: admins, groupName: '^pim-prod-core-owner$', scope: /subscriptions/prod, role: owner, protected: true }
            """
        let ldif = (Self.users + [Fixtures.group("pim-prod-core-owner", members: [Fixtures.userDN("alice")])]).joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif], configYAML: yaml) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            _ = try await harness.activate("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.scheduler.runOnce()
            harness.clock.advance(by: 3600)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-core-owner") == [Self.alice])
            #expect(try await harness.auditActions().contains("membership.removed:refused"))
        }
    }

    @Test("removals that fall due while slapd is down are applied when it returns")
    func directoryOutage() async throws {
        let ldif = (Self.users + [Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("bob")])]).joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            _ = try await harness.activate("alice", scope: "/subscriptions/prod/resourceGroups/web", role: "owner")
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice))

            try await harness.directory.stop()
            harness.clock.advance(by: 3600)
            try await harness.scheduler.runOnce()
            let backlog = try await harness.store.withAccessTransaction(commit: false) { try await $0.operations(states: [.pending], limit: nil) }
            #expect(backlog.count == 1)
            #expect(backlog.first?.attempts == 1)
            #expect(backlog.first?.lastError != nil)

            try await harness.directory.restart()
            harness.clock.advance(by: 10)
            try await harness.scheduler.runOnce()
            #expect(!(try await harness.members("pim-prod-web-owner").contains(Self.alice)))
            let after = try await harness.store.withAccessTransaction(commit: false) { try await $0.operations(states: [.pending], limit: nil) }
            #expect(after.isEmpty)
        }
    }
}

@Suite("Audit log tamper detection")
struct AuditTamperTests {
    /// A store with five audit records, and a raw connection to its file that bypasses the append-only triggers.
    func withTamperedStore(_ tamper: String, _ check: (AuditChainBreak?) -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        let store = try await SQLiteStore.open(path: path, logger: Logger(label: "test"))
        try await store.migrate()
        let engine = AccessEngine(store: store, configuration: .init(), clock: ManualClock())
        for hours in 1...5 {
            var override = PolicyOverride()
            override.maxActivationDuration = TimeInterval(hours * 3600)
            _ = try await engine.setPolicy(override, scope: .root, role: RoleName(rawValue: "owner")!, by: .operator("tester"), source: .cli)
        }
        #expect(AuditChain.verify(try await store.auditRecords(.all)) == nil)
        try await store.close()

        let raw = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "test"))
        let sql = raw.sql()
        await #expect(throws: (any Error).self, "the triggers refuse deletes through SQLite") {
            try await sql.raw("DELETE FROM audit_log WHERE sequence = 1").run()
        }
        try await sql.raw("DROP TRIGGER audit_log_no_update").run()
        try await sql.raw("DROP TRIGGER audit_log_no_delete").run()
        try await sql.raw(SQLQueryString(stringLiteral: tamper)).run()
        try await raw.close()

        let reopened = try await SQLiteStore.open(path: path, logger: Logger(label: "test"))
        check(AuditChain.verify(try await reopened.auditRecords(.all)))
        try await reopened.close()
    }

    @Test("an edited record is named as modified")
    func modified() async throws {
        try await withTamperedStore("UPDATE audit_log SET event = replace(event, '7200', '72000') WHERE sequence = 2") { problem in
            #expect(problem?.kind == .modified)
            #expect(problem?.sequence == 2)
        }
    }

    @Test("a deleted record is named by the record after the gap")
    func deleted() async throws {
        try await withTamperedStore("DELETE FROM audit_log WHERE sequence = 3") { problem in
            #expect(problem?.kind == .deleted)
            #expect(problem?.sequence == 4)
        }
    }

    @Test("an inserted record is named as inserted")
    func inserted() async throws {
        try await withTamperedStore("""
            INSERT INTO audit_log (sequence, at_ms, action, user_login, scope, event, previous_hash, hash)
            SELECT 6, at_ms, action, user_login, scope, event, previous_hash, hash FROM audit_log WHERE sequence = 2
            """) { problem in
            #expect(problem?.kind == .inserted)
            #expect(problem?.sequence == 6)
        }
    }
}
