import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Testing

@Suite("Grants against a real slapd")
struct GrantLifecycleTests {
    static let web = "/subscriptions/prod/resourceGroups/web"
    static let base = [
        Fixtures.user("alice"), Fixtures.user("bob"), Fixtures.user("carol"),
        Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("bob")]),
        Fixtures.group("ops", members: [Fixtures.userDN("carol")]),
    ].joined(separator: "\n")
    static let alice = Fixtures.userDN("alice").lowercased()
    static let carol = Fixtures.userDN("carol").lowercased()

    @Test("activate adds the member, expiry removes it on the scheduler's next pass, early deactivation too")
    func activateExpireDeactivate() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            #expect(activation.state == .active)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice))

            harness.clock.advance(by: 3599)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice), "still inside its window")
            harness.clock.advance(by: 1)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner") == [Fixtures.userDN("bob").lowercased()])
            let ended = try await harness.store.withAccessTransaction(commit: false) { try await $0.activation(id: activation.id) }
            #expect(ended?.state == .ended)
            #expect(ended?.endReason == .expired)

            let second = try await harness.activate("alice", scope: Self.web, role: "owner")
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice))
            let deactivated = try await harness.engine.deactivate(second.id, by: harness.operatorActor, source: .cli)
            #expect(deactivated.endReason == .deactivated)
            try await harness.scheduler.runOnce()
            #expect(!(try await harness.members("pim-prod-web-owner").contains(Self.alice)))

            let actions = try await harness.auditActions()
            #expect(actions.filter { $0 == "membership.added:success" }.count == 2)
            #expect(actions.filter { $0 == "membership.removed:success" }.count == 2)
            #expect(actions.contains("activation.ended:success"))
            #expect(AuditChain.verify(try await harness.store.auditRecords(.all)) == nil)
        }
    }

    @Test("a scheduled start grants at its time; a dry run changes nothing")
    func scheduledStart() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let request = ActivationRequest(
                userLogin: "alice", items: [.init(scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!)], duration: 3600,
                startAt: harness.clock.now().addingTimeInterval(1800), justification: "maintenance window", ticket: nil, mfa: nil)
            let dryRun = try await harness.engine.activate(request, by: harness.operatorActor, source: .cli, dryRun: true)
            #expect(dryRun.first?.decision.isAllowed == true)
            #expect(try await harness.store.withAccessTransaction(commit: false) { try await $0.activations(.live) }.isEmpty)

            let scheduled = try #require(try await harness.engine.activate(request, by: harness.operatorActor, source: .cli).first?.activation)
            #expect(scheduled.state == .scheduled)
            try await harness.scheduler.runOnce()
            #expect(!(try await harness.members("pim-prod-web-owner").contains(Self.alice)))
            harness.clock.advance(by: 1800)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice))
        }
    }

    @Test("eligibility through a directory group: leaving the group revokes the activation at the next sync")
    func groupEligibilityRevokedAtSync() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            let ops = try #require(try await harness.store.group(dn: try .init(Fixtures.groupDN("ops"))))
            _ = try await harness.engine.addEligibility(
                .group(ops.id), scope: try ScopePath("/subscriptions/prod"), role: RoleName(rawValue: "owner")!, start: nil,
                end: harness.clock.now().addingTimeInterval(86400), justification: "on-call", by: harness.operatorActor, source: .cli)
            let denied = try await harness.engine.activate(
                ActivationRequest(
                    userLogin: "alice", items: [.init(scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!)], duration: 3600,
                    justification: "x", ticket: nil, mfa: nil),
                by: harness.operatorActor, source: .cli)
            #expect(denied.first?.decision.refusals.map(\.code) == [.notEligible])

            let activation = try await harness.activate("carol", scope: Self.web, role: "owner")
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.carol))

            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.groupDN("ops"))
                changetype: modify
                replace: member
                member: \(Fixtures.userDN("bob"))
                """)
            let followUp = try await harness.sync()
            #expect(followUp.revoked == 1)
            try await harness.scheduler.runOnce()
            #expect(!(try await harness.members("pim-prod-web-owner").contains(Self.carol)))
            let revoked = try await harness.store.withAccessTransaction(commit: false) { try await $0.activation(id: activation.id) }
            #expect(revoked?.endReason == .revoked)
        }
    }

    @Test("eligibility rules in the config follow the directory's groups and are read-only")
    func ruleEligibility() async throws {
        let yaml = AccessHarness.mappingRules + """

            access:
              eligibilityRules:
                - name: subscription-owners
                  groupName: '^elig-(?<sub>[a-z0-9-]+)-(?<role>owner|contributor)$'
                  scope: /subscriptions/{sub}
                  role: '{role}'
            """
        let ldif = Self.base + "\n" + Fixtures.group("elig-prod-owner", members: [Fixtures.userDN("alice")])
        try await AccessHarness.with(ldif: [ldif], configYAML: yaml) { harness in
            try await harness.relaxPolicy(role: "owner")
            let eligibilities = try await harness.store.withAccessTransaction(commit: false) { try await $0.eligibilities(role: nil) }
            let rule = try #require(eligibilities.first)
            #expect(eligibilities.count == 1)
            #expect(rule.source == .rule("subscription-owners"))
            #expect(rule.scope.description == "/subscriptions/prod")
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.removeEligibility(rule.id, reason: nil, by: harness.operatorActor, source: .cli)
            }
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner")
            #expect(activation.state == .active)

            try await harness.directory.modify(ldif: "dn: \(Fixtures.groupDN("elig-prod-owner"))\nchangetype: delete\n")
            let followUp = try await harness.sync()
            #expect(followUp.eligibilitiesRemoved == 1)
            #expect(followUp.revoked == 1)
        }
    }

    @Test("approval: no self-approval, quorum of two, then the grant")
    func approvalQuorum() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            let bob = try require_user(try await harness.store.user(login: "bob"), "bob")
            let carol = try require_user(try await harness.store.user(login: "carol"), "carol")
            let alice = try require_user(try await harness.store.user(login: "alice"), "alice")
            try await harness.relaxPolicy(role: "owner") { policy in
                policy.requireApproval = true
                policy.approvalsRequired = 2
                policy.approvers = [.user(bob.record.id), .user(carol.record.id), .user(alice.record.id)]
            }
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let pending = try await harness.activate("alice", scope: Self.web, role: "owner")
            #expect(pending.state == .pendingApproval)
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.decide(pending.id, .approve, approverLogin: "alice", reason: nil, source: .cli)
            }
            let once = try await harness.engine.decide(pending.id, .approve, approverLogin: "bob", reason: "ok", source: .cli)
            #expect(once.state == .pendingApproval)
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.decide(pending.id, .approve, approverLogin: "bob", reason: "again", source: .cli)
            }
            let approved = try await harness.engine.decide(pending.id, .approve, approverLogin: "carol", reason: "ok", source: .cli)
            #expect(approved.state == .active)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice))
            #expect(try await harness.auditActions().contains("activation.approved:refused"))
        }
    }

    @Test("a request whose user lost the eligibility meanwhile cannot be approved")
    func approvalRechecksEligibility() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            let bob = try require_user(try await harness.store.user(login: "bob"), "bob")
            try await harness.relaxPolicy(role: "owner") { policy in
                policy.requireApproval = true
                policy.approvers = [.user(bob.record.id)]
            }
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let pending = try await harness.activate("alice", scope: Self.web, role: "owner")
            try await harness.store.withAccessTransaction(commit: true) { transaction in
                for eligibility in try await transaction.eligibilities(role: nil) { try await transaction.delete(eligibility.id) }
            }
            let refused = await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.decide(pending.id, .approve, approverLogin: "bob", reason: "ok", source: .cli)
            }
            #expect(refused?.refusals.map(\.code) == [.notEligible])
        }
    }

    @Test("a pending request times out at the approval deadline")
    func approvalTimeout() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            let bob = try require_user(try await harness.store.user(login: "bob"), "bob")
            try await harness.relaxPolicy(role: "owner") { policy in
                policy.requireApproval = true
                policy.approvers = [.user(bob.record.id)]
                policy.approvalTimeout = 600
            }
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let pending = try await harness.activate("alice", scope: Self.web, role: "owner")
            harness.clock.advance(by: 600)
            try await harness.scheduler.runOnce()
            let timedOut = try await harness.store.withAccessTransaction(commit: false) { try await $0.activation(id: pending.id) }
            #expect(timedOut?.state == .timedOut)
        }
    }
}
