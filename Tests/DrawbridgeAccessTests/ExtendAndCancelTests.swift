import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Testing

@Suite("Extension, cancellation and revocation")
struct ExtendAndCancelTests {
    static let web = "/subscriptions/prod/resourceGroups/web"
    static let base = [
        Fixtures.user("alice"), Fixtures.user("bob"),
        Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("bob")]),
    ].joined(separator: "\n")

    private static func aliceEligibleWithExtensionsApprovedByBob(_ harness: AccessHarness) async throws {
        let bob = try require_user(try await harness.store.user(login: "bob"), "bob")
        try await harness.relaxPolicy(role: "owner") { policy in
            policy.extensionRequiresApproval = true
            policy.approvers = [.user(bob.record.id)]
        }
        try await harness.eligible("alice", scope: web, role: "owner")
    }

    @Test("extend moves the end within policy; over the maximum it is refused and audited")
    func extend() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            harness.clock.advance(by: 1800)
            let extended = try await harness.engine.extend(activation.id, duration: 7200, justification: "still on it", by: harness.operatorActor, source: .cli)
            #expect(extended.endAt == harness.clock.now().addingTimeInterval(7200))
            let refused = await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.extend(activation.id, duration: 9 * 3600, justification: "more", by: harness.operatorActor, source: .cli)
            }
            #expect(refused?.refusals.map(\.code) == [.durationTooLong])
            #expect(try await harness.auditActions().contains("activation.extended:refused"))

            harness.clock.advance(by: 3600)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()), "the old end has passed, the new one not")
        }
    }

    @Test("extending in place calls for a new \"ends soon\" notice before the new end; an activation already past its end gets none")
    func extensionRearmsExpiryNotice() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            try await harness.eligible("bob", scope: Self.web, role: "owner")
            let engine = harness.engine
            let lead = Duration.seconds(15 * 60)
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            harness.clock.advance(by: 45 * 60)
            #expect(try await engine.noticeExpiring(leadTime: lead) == 1)
            #expect(try await engine.noticeExpiring(leadTime: lead) == 0, "told once about one end")
            let extended = try await engine.extend(activation.id, duration: 2 * 3600, justification: "overrun", by: harness.operatorActor, source: .cli)
            #expect(try await engine.noticeExpiring(leadTime: lead) == 0, "the new end is not near yet")
            harness.clock.advance(by: extended.endAt.timeIntervalSince(harness.clock.now()) - 15 * 60)
            #expect(try await engine.noticeExpiring(leadTime: lead) == 1, "the new end gets its own notice")
            let notices = try await harness.store.auditRecords(.all).compactMap(\.event).filter { $0.action == "activation.expiring" }
            #expect(notices.map { $0.details["end"] } == [activation.endAt.iso8601, extended.endAt.iso8601])

            // Nobody ran the notices while bob's hour went by (a stopped server, say): its end is past, not "soon".
            _ = try await harness.activate("bob", scope: Self.web, role: "owner", for: 3600)
            harness.clock.advance(by: 2 * 3600)
            #expect(try await engine.noticeExpiring(leadTime: lead) == 0)
        }
    }

    @Test("where the policy requires MFA, an extension needs a fresh second factor too")
    func extensionNeedsMFA() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            try await harness.relaxPolicy(role: "owner") { $0.requireMFA = true }
            let refused = await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.extend(activation.id, duration: 7200, justification: "more", by: harness.operatorActor, source: .cli)
            }
            #expect(refused?.refusals.map(\.code) == [.mfaRequired])
            let stale = MFAProof(method: "totp", verifiedAt: harness.clock.now().addingTimeInterval(-3600))
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.extend(activation.id, duration: 7200, justification: "more", mfa: stale, by: harness.operatorActor, source: .cli)
            }

            let proof = MFAProof(method: "totp", verifiedAt: harness.clock.now())
            let extended = try await harness.engine.extend(
                activation.id, duration: 7200, justification: "more", mfa: proof, by: harness.operatorActor, source: .cli)
            #expect(extended.endAt == harness.clock.now().addingTimeInterval(7200))
            #expect(extended.mfa == proof)
            let events = try await harness.store.auditRecords(.all).compactMap(\.event).filter { $0.action == "activation.extended" }
            #expect(events.map(\.outcome) == [.refused, .refused, .success])
            #expect(events.last?.details["mfa"] == "totp")
        }
    }

    @Test("an extension that needs approval becomes a follow-on request starting at the current end")
    func extensionNeedsApproval() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await Self.aliceEligibleWithExtensionsApprovedByBob(harness)
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            let followOn = try await harness.engine.extend(activation.id, duration: 7200, justification: "overrun", by: harness.operatorActor, source: .cli)
            #expect(followOn.id != activation.id)
            #expect(followOn.state == .pendingApproval)
            #expect(followOn.extends == activation.id)
            #expect(followOn.startAt == activation.endAt)
            let requested = try await harness.store.auditRecords(.all).compactMap(\.event).first { $0.action == "activation.extension-requested" }
            #expect(requested?.details["approvalsRequired"] == "1", "the approvers' notification says how many approvals it needs")
            #expect(requested?.details["start"] == activation.endAt.iso8601)
            let approved = try await harness.engine.decide(followOn.id, .approve, approverLogin: "bob", reason: "ok", source: .cli)
            #expect(approved.state == .scheduled)

            harness.clock.advance(by: 3600)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()), "the follow-on keeps the membership")
            let states = try await harness.store.withAccessTransaction(commit: false) { transaction in
                (try await transaction.activation(id: activation.id)?.state, try await transaction.activation(id: followOn.id)?.state)
            }
            #expect(states.0 == .ended)
            #expect(states.1 == .active)
        }
    }

    @Test("ending an activation early cancels its extension requests, so a later approval cannot grant again")
    func endingEarlyCancelsExtensions() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await Self.aliceEligibleWithExtensionsApprovedByBob(harness)
            for end in ["deactivate", "revoke", "cancel"] {
                // The canceled one is scheduled, and its extension already approved (scheduled too).
                let start = end == "cancel" ? harness.clock.now().addingTimeInterval(600) : nil
                let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600, start: start)
                let followOn = try await harness.engine.extend(activation.id, duration: 7200, justification: "overrun", by: harness.operatorActor, source: .cli)
                switch end {
                case "deactivate":
                    _ = try await harness.engine.deactivate(activation.id, by: harness.operatorActor, source: .cli)
                case "revoke":
                    _ = try await harness.engine.revoke(activation.id, by: harness.operatorActor, source: .cli, reason: "incident over")
                default:
                    #expect(try await harness.engine.decide(followOn.id, .approve, approverLogin: "bob", reason: "ok", source: .cli).state == .scheduled)
                    _ = try await harness.engine.cancel(activation.id, by: harness.operatorActor, source: .cli)
                }
                let canceled = try await harness.store.withAccessTransaction(commit: false) { try await $0.activation(id: followOn.id) }
                #expect(canceled?.state == .canceled, "\(end)")
                let refused = await #expect(throws: ActionRefused.self) {
                    _ = try await harness.engine.decide(followOn.id, .approve, approverLogin: "bob", reason: "ok", source: .cli)
                }
                let codes = Set(refused?.refusals.map(\.code) ?? [])
                #expect(codes.isSuperset(of: [.notPending, .invalidState]), "\(end): \(codes)")
            }
            harness.clock.advance(by: 4 * 3600)
            try await harness.scheduler.runOnce()
            #expect(!(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased())))
        }
    }

    @Test("cancel a scheduled request; revoke an active one; a user cannot act on someone else's activation")
    func cancelAndRevoke() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let scheduled = try await harness.activate("alice", scope: Self.web, role: "owner", start: harness.clock.now().addingTimeInterval(600))
            let bob = try require_user(try await harness.store.user(login: "bob"), "bob")
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.cancel(scheduled.id, by: .user(bob.record), source: .api)
            }
            let canceled = try await harness.engine.cancel(scheduled.id, by: harness.operatorActor, source: .cli)
            #expect(canceled.state == .canceled)

            let active = try await harness.activate("alice", scope: Self.web, role: "owner")
            try await harness.scheduler.runOnce()
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.revoke(active.id, by: .user(bob.record), source: .api, reason: "no")
            }
            let revoked = try await harness.engine.revoke(active.id, by: harness.operatorActor, source: .cli, reason: "security incident")
            #expect(revoked.endReason == .revoked)
            try await harness.scheduler.runOnce()
            #expect(!(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased())))
        }
    }

    @Test("an activation ending while an assignment holds the same group keeps the member")
    func overlappingGrants() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner") { $0.maxAssignmentDuration = 30 * 86400 }
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            _ = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            _ = try await harness.engine.assign(
                userLogin: "alice", scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!, start: nil,
                end: harness.clock.now().addingTimeInterval(7 * 86400), justification: "standing duty", ticket: "CHG-1", by: harness.operatorActor,
                source: .cli)
            try await harness.scheduler.runOnce()
            harness.clock.advance(by: 3600)
            try await harness.scheduler.runOnce()
            #expect(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()))
            let removals = try await harness.auditActions().filter { $0.hasPrefix("membership.removed") }
            #expect(removals.isEmpty)
        }
    }

    /// Queued after the rename synced: the grant's group is looked up then. Queued before it: the applier looks
    /// the group up again when it sends the change.
    @Test(
        "the removal goes to the group the grant used, at its new DN, even after the rename moved the binding away",
        arguments: [false, true])
    func renamedGroup(removalQueuedBeforeTheRename: Bool) async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            try await harness.scheduler.runOnce()
            if removalQueuedBeforeTheRename {
                _ = try await harness.engine.deactivate(activation.id, by: harness.operatorActor, source: .cli)
            }
            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.groupDN("pim-prod-web-owner"))
                changetype: modrdn
                newrdn: cn=pim-prod-www-owner
                deleteoldrdn: 1
                """)
            try await harness.sync()
            if removalQueuedBeforeTheRename {
                _ = try await harness.applier.applyReady()
            } else {
                harness.clock.advance(by: 3600)
                try await harness.scheduler.runOnce()
            }
            #expect(try await harness.members("pim-prod-www-owner") == [Fixtures.userDN("bob").lowercased()])
        }
    }

    @Test("a removal queued before the user was renamed removes the new DN, and deleting the old one as well does no harm")
    func removalQueuedBeforeAUserRename() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let activation = try await harness.activate("alice", scope: Self.web, role: "owner", for: 3600)
            try await harness.scheduler.runOnce()
            _ = try await harness.engine.deactivate(activation.id, by: harness.operatorActor, source: .cli)
            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.userDN("alice"))
                changetype: modrdn
                newrdn: uid=alice2
                deleteoldrdn: 0
                """)
            try await harness.sync()
            #expect(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice2").lowercased()), "refint renamed the member")
            let report = try await harness.applier.applyReady()
            #expect(report.failed == 0)
            #expect(try await harness.members("pim-prod-web-owner") == [Fixtures.userDN("bob").lowercased()])
        }
    }

    @Test("any committed action wakes the scheduler, a scheduled start included")
    func scheduledStartWakesTheScheduler() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            let signal = WorkSignal()
            await signal.wait(until: .now)
            let engine = AccessEngine(store: harness.store, configuration: harness.configuration.access, clock: harness.clock, signal: signal)
            let outcomes = try await engine.activate(
                ActivationRequest(
                    userLogin: "alice", items: [.init(scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!)], duration: 3600,
                    startAt: harness.clock.now().addingTimeInterval(600), justification: "later", ticket: nil, mfa: nil),
                by: harness.operatorActor, source: .cli)
            #expect(outcomes.first?.activation?.state == .scheduled)
            let started = ContinuousClock.now
            await signal.wait(until: .now + .seconds(10))
            #expect(ContinuousClock.now - started < .seconds(5), "the scheduler was woken, not left to its timeout")
        }
    }

    @Test("a disabled account's activation is refused, and an active one is revoked at the next sync")
    func disabledUser() async throws {
        let disabledRule = "  users: { disabled: { attribute: employeeType, equals: disabled } }"
        try await AccessHarness.with(ldif: [Self.base], directoryYAML: disabledRule) { harness in
            try await harness.relaxPolicy(role: "owner")
            try await harness.eligible("alice", scope: Self.web, role: "owner")
            _ = try await harness.activate("alice", scope: Self.web, role: "owner")
            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.userDN("alice"))
                changetype: modify
                add: employeeType
                employeeType: disabled
                """)
            let followUp = try await harness.sync()
            #expect(followUp.revoked == 1)
            let refused = try await harness.engine.activate(
                ActivationRequest(
                    userLogin: "alice", items: [.init(scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!)], duration: 3600,
                    justification: "again", ticket: nil, mfa: nil),
                by: harness.operatorActor, source: .cli)
            #expect(refused.first?.decision.refusals.map(\.code) == [.userDisabled])
        }
    }
}
