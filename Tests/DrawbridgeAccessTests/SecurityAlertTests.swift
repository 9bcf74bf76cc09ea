import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Testing

@Suite("Security alerts raised and resolved by real scenarios against slapd")
struct SecurityAlertTests {
    static let web = "/subscriptions/prod/resourceGroups/web"
    static let base = [
        Fixtures.user("alice"), Fixtures.user("bob"), Fixtures.user("carol"),
        Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("bob")]),
    ].joined(separator: "\n")
    static let thresholds = """
          alerts: { designatedRoles: [owner], maxPermanentMembers: 1, maxPermanentPercent: 50, unusedAfter: 10d, frequentActivations: 3, frequentWindow: 1d, backlogAge: 5m }
        """

    static func open(_ harness: AccessHarness) async throws -> [String: SecurityAlert] {
        Dictionary(uniqueKeysWithValues: try await harness.engine.alerts(states: [.open]).map { ($0.id, $0) })
    }

    @Test("drift: a member added with ldapmodify behind Drawbridge's back raises a high alert; removing it resolves it; both audited")
    func drift() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            _ = try await harness.reconciler.reconcile(dryRun: false, enforce: false, source: .cli)
            let drift = try #require(try await Self.open(harness).values.first { $0.kind == .membershipOutsideDrawbridge }, "the reconcile raised it")
            #expect(drift.severity == .high && drift.items == ["bob"])
            _ = try await harness.engine.dismissAlert(drift.id, reason: "bob is the break-glass account", by: harness.operatorActor, source: .cli)
            _ = try await harness.engine.evaluateAlerts(directoryProblem: nil)
            #expect(try await Self.open(harness)[drift.id] == nil, "dismissed while nothing new turns up")

            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.groupDN("pim-prod-web-owner"))
                changetype: modify
                add: member
                member: \(Fixtures.userDN("carol"))
                """)
            _ = try await harness.reconciler.reconcile(dryRun: false, enforce: false, source: .cli)
            #expect(try await Self.open(harness)[drift.id]?.items == ["bob", "carol"], "a new member outside Drawbridge opens the dismissed alert again")

            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.groupDN("pim-prod-web-owner"))
                changetype: modify
                delete: member
                member: \(Fixtures.userDN("carol"))
                -
                add: member
                member: \(Fixtures.userDN("alice"))
                -
                delete: member
                member: \(Fixtures.userDN("bob"))
                """)
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            _ = try await harness.activate("alice", scope: Self.web, role: "owner")
            _ = try await harness.reconciler.reconcile(dryRun: false, enforce: false, source: .cli)
            #expect(try await harness.engine.alerts(states: [.resolved]).map(\.id).contains(drift.id))
            let actions = try await harness.auditActions()
            #expect(actions.contains("alert.raised:success") && actions.contains("alert.resolved:success"))
        }
    }

    @Test("a disabled account that keeps an eligibility: high alert, the fix revokes it, the alert resolves")
    func disabledAccount() async throws {
        let disabledRule = "  users: { disabled: { attribute: employeeType, equals: disabled } }"
        try await AccessHarness.with(ldif: [Self.base], directoryYAML: disabledRule) { harness in
            try await harness.relaxPolicy(role: "owner") { $0.requireMFA = true }
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.userDN("alice"))
                changetype: modify
                replace: employeeType
                employeeType: disabled

                dn: \(Fixtures.groupDN("pim-prod-web-owner"))
                changetype: modify
                add: member
                member: \(Fixtures.userDN("alice"))
                """)
            try await harness.sync()
            let alert = try #require(try await Self.open(harness).values.first { $0.kind == .inactiveAccountHoldsAccess }, "the sync raised it")
            #expect(alert.title.contains("alice") && alert.fix != nil)
            await #expect(throws: ActionRefused.self, "a user is not an administrator") {
                _ = try await harness.engine.fixAlert(alert.id, by: .user(try require_user(try await harness.store.user(login: "bob"), "bob").record), source: .api)
            }
            #expect(alert.items.contains("member of \(Fixtures.groupDN("pim-prod-web-owner"))"))
            _ = try await harness.engine.fixAlert(alert.id, by: harness.operatorActor, source: .cli)
            try await harness.applier.applyReady()
            try await harness.sync()
            #expect(try await harness.members("pim-prod-web-owner") == [Fixtures.userDN("bob").lowercased()], "the fix took her out of the group too")
            #expect(try await harness.engine.alerts(states: [.resolved]).map(\.id).contains(alert.id), "the sync after the fix resolved it")
            #expect(try await harness.store.withAccessTransaction(commit: false) { try await $0.eligibilities(role: nil) }.isEmpty)
        }
    }

    @Test("directory unreachable and a change backlog: slapd stopped raises both, started again (and the backlog applied) resolves them")
    func unreachable() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner") { $0.requireMFA = false }
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.directory.stop()
            let problem = await harness.pool.unreachableReason()
            #expect(problem != nil)
            _ = try await harness.activate("alice", scope: Self.web, role: "owner")
            _ = try? await harness.applier.applyReady()
            harness.clock.advance(by: 301)
            let raised = try await harness.engine.evaluateAlerts(directoryProblem: problem).raised
            #expect(raised.contains { $0.kind == .directoryUnreachable })
            #expect(raised.contains { $0.kind == .changeBacklog }, "the grant has waited longer than backlogAge (5m)")
            try await harness.directory.restart()
            var resolved: Set<SecurityAlert.Kind> = []
            for _ in 0..<20 where resolved.count < 2 {
                harness.clock.advance(by: 10)
                _ = try? await harness.applier.applyReady()
                resolved.formUnion(try await harness.engine.evaluateAlerts(directoryProblem: await harness.pool.unreachableReason()).resolved.map(\.kind))
                if resolved.count < 2 { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(resolved == [.directoryUnreachable, .changeBacklog])
            #expect(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()))
        }
    }

    @Test("weak policy, unused eligibility, frequent activation and too many permanent members: raised, fixed or cleared, resolved")
    func thresholds() async throws {
        try await AccessHarness.with(ldif: [Self.base], configYAML: AccessHarness.mappingRules + "\naccess:\n" + Self.thresholds) { harness in
            try await harness.relaxPolicy(role: "owner") { $0.allowPermanentAssignment = true }
            let engine = harness.engine
            var open = try await engine.evaluateAlerts(directoryProblem: nil).raised
            let weak = try #require(open.first { $0.kind == .weakActivationPolicy })
            #expect(weak.items == ["owner at \(Self.web)"] && weak.severity == .low)
            await #expect(throws: ActionRefused.self, "a dismissal needs a reason") {
                _ = try await engine.dismissAlert(weak.id, reason: " ", by: harness.operatorActor, source: .cli)
            }
            _ = try await engine.dismissAlert(weak.id, reason: "accepted while the test runs", by: harness.operatorActor, source: .cli)
            let again = try await engine.evaluateAlerts(directoryProblem: nil)
            #expect(!again.raised.contains { $0.id == weak.id } && again.openByKind[.weakActivationPolicy] == nil, "a dismissed alert stays quiet")

            for login in ["alice", "carol"] {
                _ = try await engine.assign(
                    userLogin: login, scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!, start: nil, end: nil, justification: "break glass",
                    ticket: nil, by: harness.operatorActor, source: .cli)
            }
            open = try await engine.evaluateAlerts(directoryProblem: nil).raised
            let permanent = try #require(open.first { $0.kind == .tooManyPermanentMembers })
            #expect(permanent.items == ["alice", "carol"])
            let carolAssignment = try await harness.store.withAccessTransaction(commit: false) { try await $0.assignments(userID: nil, liveOnly: true) }
                .first { $0.userLogin == "carol" }
            _ = try await engine.removeAssignment(try #require(carolAssignment).id, reason: "make her eligible", by: harness.operatorActor, source: .cli)
            #expect(try await engine.evaluateAlerts(directoryProblem: nil).resolved.contains { $0.id == permanent.id })

            try await harness.eligible("bob", scope: "/subscriptions/prod", role: "owner", end: 200 * 86400)
            harness.clock.advance(by: 11 * 86400)
            let unused = try #require(try await engine.evaluateAlerts(directoryProblem: nil).raised.first { $0.kind == .eligibleButUnused })
            #expect(unused.items.first == "bob")
            for _ in 0..<3 {
                let activation = try await harness.activate("bob", scope: Self.web, role: "owner")
                harness.clock.advance(by: 60)
                _ = try await engine.deactivate(activation.id, by: harness.operatorActor, source: .cli)
            }
            let evaluation = try await engine.evaluateAlerts(directoryProblem: nil)
            #expect(evaluation.resolved.contains { $0.id == unused.id }, "bob used it")
            let frequent = try #require(evaluation.raised.first { $0.kind == .activatedTooFrequently })
            harness.clock.advance(by: 86400)
            #expect(try await engine.evaluateAlerts(directoryProblem: nil).resolved.contains { $0.id == frequent.id }, "the window moved on")

            _ = try await engine.fixAlert(weak.id, by: harness.operatorActor, source: .cli)
            #expect(try await engine.evaluateAlerts(directoryProblem: nil).resolved.map(\.id) == [weak.id], "the fix requires MFA there")
        }
    }

    @Test("the fix that removes an unused eligibility also revokes an activation made through it since")
    func removingAnEligibilityRevokesItsActivations() async throws {
        try await AccessHarness.with(ldif: [Self.base], configYAML: AccessHarness.mappingRules + "\naccess:\n" + Self.thresholds) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("bob", scope: "/subscriptions/prod", role: "owner", end: 200 * 86400)
            harness.clock.advance(by: 11 * 86400)
            let unused = try #require(try await harness.engine.evaluateAlerts(directoryProblem: nil).raised.first { $0.kind == .eligibleButUnused })
            let activation = try await harness.activate("bob", scope: Self.web, role: "owner")
            _ = try await harness.engine.fixAlert(unused.id, by: harness.operatorActor, source: .cli)
            let revoked = try await harness.store.withAccessTransaction(commit: false) { try await $0.activation(id: activation.id) }
            #expect(revoked?.state == .ended && revoked?.endReason == .revoked)
        }
    }

    @Test("a sync evaluates the alerts when the directory changed, and skips them when nothing did")
    func syncEvaluates() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            _ = try await harness.engine.followUpSync(directoryChanged: false)
            #expect(try await Self.open(harness).isEmpty, "nothing changed: no evaluation")
            _ = try await harness.engine.followUpSync(directoryChanged: true)
            #expect(try await Self.open(harness).values.map(\.kind) == [.weakActivationPolicy])
        }
    }
}
