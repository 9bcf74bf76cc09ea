import DrawbridgeCore
import Foundation
import LDAP
import Testing

private enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)
    static let scope = try! ScopePath("/subscriptions/prod/resourceGroups/web")
    static let role = RoleName(rawValue: "owner")!
    static let alice = DirectoryEntryID(rawValue: "u-alice")
    static let bob = DirectoryEntryID(rawValue: "u-bob")
    static let carol = DirectoryEntryID(rawValue: "u-carol")
    static let dave = DirectoryEntryID(rawValue: "u-dave")

    static func actor(_ id: DirectoryEntryID) -> DrawbridgeCore.Actor {
        Actor(kind: .user, name: String(id.rawValue.dropFirst(2)), userID: id)
    }

    static func user(enabled: Bool = true) -> StoredUser {
        let record = DirectoryUserRecord(
            id: alice, dn: try! DistinguishedName("uid=alice,ou=people,dc=example,dc=org"), login: "alice",
            displayName: "Alice", mail: nil, enabled: enabled)
        return StoredUser(record: record, firstSeenAt: now.addingTimeInterval(-86400 * 30), syncedAt: now, deletedAt: nil)
    }

    static func eligibility(id: String = "elig-1", start: Date = now.addingTimeInterval(-86400), end: Date? = nil) -> Eligibility {
        Eligibility(
            id: EligibilityID(rawValue: id), principal: .user(alice), scope: try! ScopePath("/subscriptions/prod"), role: role,
            startAt: start, endAt: end, source: .manual, createdBy: .operator("root"), createdAt: start, justification: nil)
    }

    static func request(
        duration: TimeInterval = 3600, startAt: Date? = nil, justification: String? = "incident 42", ticket: String? = nil,
        mfa: MFAProof? = MFAProof(method: "totp", verifiedAt: now)
    ) -> ActivationRequest {
        ActivationRequest(
            userLogin: "alice", items: [.init(scope: scope, role: role)], duration: duration, startAt: startAt,
            justification: justification, ticket: ticket, mfa: mfa)
    }

    static func facts(
        user: StoredUser? = user(), policy: RolePolicy = .defaults, eligibilities: [Eligibility] = [eligibility()],
        hasBinding: Bool = true, liveActivation: Activation? = nil
    ) -> ActivationFacts {
        ActivationFacts(user: user, policy: policy, eligibilities: eligibilities, hasBinding: hasBinding, liveActivation: liveActivation)
    }

    static func evaluate(_ request: ActivationRequest = request(), _ facts: ActivationFacts = facts()) -> ActivationDecision {
        AccessRules.evaluate(request, item: request.items[0], facts: facts, now: now)
    }

    static func activation(
        state: ActivationState = .pendingApproval, userID: DirectoryEntryID = alice, requestedBy: DirectoryEntryID = alice,
        approvalsRequired: Int = 1, deadline: Date? = now.addingTimeInterval(3600)
    ) -> Activation {
        Activation(
            id: ActivationID(rawValue: "act-1"), requestID: RequestID(rawValue: "req-1"), userID: userID, userLogin: "alice",
            scope: scope, role: role, requestedBy: actor(requestedBy), requestedAt: now, startAt: now, endAt: now.addingTimeInterval(3600),
            justification: "incident 42", ticket: nil, mfa: nil, state: state, approvalsRequired: approvalsRequired,
            approvalDeadline: deadline)
    }
}

@Suite struct AccessRulesTests {
    @Suite struct Evaluate {
        let now = Fixture.now

        @Test func eligibleUserWithEverythingIsAllowed() {
            let decision = Fixture.evaluate()
            #expect(decision.refusals == [])
            #expect(decision.isAllowed)
            #expect(decision.startAt == now)
            #expect(decision.endAt == now.addingTimeInterval(3600))
            #expect(decision.eligibility == EligibilityID(rawValue: "elig-1"))
            #expect(!decision.needsApproval)
            #expect(decision.approvalsRequired == 0)
            #expect(decision.approvalDeadline == nil)
        }

        @Test func unknownUserIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(user: nil))
            #expect(decision.refusals.map(\.code) == [.unknownUser])
            #expect(decision.refusals.first?.message.contains("'alice'") == true)
        }

        @Test func disabledUserIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(user: Fixture.user(enabled: false)))
            #expect(decision.refusals.map(\.code) == [.userDisabled])
        }

        @Test func roleWithoutBindingIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(hasBinding: false))
            #expect(decision.refusals.map(\.code) == [.noBinding])
        }

        @Test func userWithoutEligibilityIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(eligibilities: []))
            #expect(decision.refusals.map(\.code) == [.notEligible])
            #expect(decision.eligibility == nil)
        }

        @Test func expiredEligibilityIsRefused() {
            let expired = Fixture.eligibility(start: now.addingTimeInterval(-30 * 86400), end: now.addingTimeInterval(-86400))
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(eligibilities: [expired]))
            #expect(decision.refusals.map(\.code) == [.eligibilityExpired])
            #expect(decision.eligibility == nil)
        }

        @Test func eligibilityEndingExactlyAtStartHasExpired() {
            let expired = Fixture.eligibility(start: now.addingTimeInterval(-86400), end: now)
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(eligibilities: [expired]))
            #expect(decision.refusals.map(\.code) == [.eligibilityExpired])
        }

        @Test func eligibilityNotYetStartedIsRefused() {
            let future = Fixture.eligibility(start: now.addingTimeInterval(86400), end: nil)
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(eligibilities: [future]))
            #expect(decision.refusals.map(\.code) == [.eligibilityNotStarted])
            #expect(decision.eligibility == nil)
        }

        @Test func durationBelowFiveMinutesIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(duration: 5 * 60 - 1))
            #expect(decision.refusals.map(\.code) == [.durationTooShort])
            #expect(decision.refusals.first?.message == "the duration 4m59s is below the minimum of 5m")
        }

        @Test func durationOfExactlyFiveMinutesIsAllowed() {
            #expect(Fixture.evaluate(Fixture.request(duration: 5 * 60)).refusals == [])
        }

        @Test func durationAbovePolicyMaximumIsRefused() {
            var policy = RolePolicy.defaults
            policy.maxActivationDuration = 2 * 3600
            let decision = Fixture.evaluate(Fixture.request(duration: 2 * 3600 + 1), Fixture.facts(policy: policy))
            #expect(decision.refusals.map(\.code) == [.durationTooLong])
            #expect(decision.refusals.first?.message == "the duration 2h1s exceeds the policy's maximum of 2h")
        }

        @Test func durationOfExactlyPolicyMaximumIsAllowed() {
            var policy = RolePolicy.defaults
            policy.maxActivationDuration = 2 * 3600
            #expect(Fixture.evaluate(Fixture.request(duration: 2 * 3600), Fixture.facts(policy: policy)).refusals == [])
        }

        @Test(arguments: [nil, "", "   ", " \n\t "] as [String?])
        func missingOrBlankJustificationIsRefused(justification: String?) {
            let decision = Fixture.evaluate(Fixture.request(justification: justification))
            #expect(decision.refusals.map(\.code) == [.justificationRequired])
        }

        @Test func justificationIsOptionalWhenThePolicySaysSo() {
            var policy = RolePolicy.defaults
            policy.requireJustification = false
            #expect(Fixture.evaluate(Fixture.request(justification: nil), Fixture.facts(policy: policy)).refusals == [])
        }

        @Test func ticketRequiredByPolicyIsRefusedWithoutOne() {
            var policy = RolePolicy.defaults
            policy.requireTicket = true
            #expect(Fixture.evaluate(Fixture.request(ticket: nil), Fixture.facts(policy: policy)).refusals.map(\.code) == [.ticketRequired])
            #expect(Fixture.evaluate(Fixture.request(ticket: "  "), Fixture.facts(policy: policy)).refusals.map(\.code) == [.ticketRequired])
            #expect(Fixture.evaluate(Fixture.request(ticket: "CHG-1234"), Fixture.facts(policy: policy)).refusals == [])
        }

        @Test func missingMFAProofIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(mfa: nil))
            #expect(decision.refusals.map(\.code) == [.mfaRequired])
        }

        @Test func mfaProofFromTheFutureIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(mfa: MFAProof(method: "totp", verifiedAt: now.addingTimeInterval(61))))
            #expect(decision.refusals.map(\.code) == [.mfaRequired])
        }

        @Test func mfaIsOptionalWhenThePolicySaysSo() {
            var policy = RolePolicy.defaults
            policy.requireMFA = false
            #expect(Fixture.evaluate(Fixture.request(mfa: nil), Fixture.facts(policy: policy)).refusals == [])
        }

        @Test func startMoreThanAMinuteInThePastIsRefused() {
            let decision = Fixture.evaluate(Fixture.request(startAt: now.addingTimeInterval(-61)))
            #expect(decision.refusals.map(\.code) == [.startInPast])
        }

        @Test func startWithinTheToleranceIsTakenAsNow() {
            let decision = Fixture.evaluate(Fixture.request(startAt: now.addingTimeInterval(-60)))
            #expect(decision.refusals == [])
            #expect(decision.startAt == now)
            #expect(decision.endAt == now.addingTimeInterval(3600))
        }

        @Test func liveActivationOfTheSameRoleIsRefused() {
            let live = Fixture.activation(state: .active)
            let decision = Fixture.evaluate(Fixture.request(), Fixture.facts(liveActivation: live))
            #expect(decision.refusals.map(\.code) == [.alreadyActive])
            #expect(decision.refusals.first?.message.contains("act-1") == true)
        }

        @Test func everyProblemIsReportedAtOnce() {
            var policy = RolePolicy.defaults
            policy.requireTicket = true
            let request = Fixture.request(duration: 60, startAt: now.addingTimeInterval(-3600), justification: nil, ticket: nil, mfa: nil)
            let facts = Fixture.facts(user: nil, policy: policy, eligibilities: [], hasBinding: false, liveActivation: Fixture.activation())
            let decision = Fixture.evaluate(request, facts)
            #expect(
                decision.refusals.map(\.code) == [
                    .startInPast, .unknownUser, .noBinding, .notEligible, .durationTooShort, .justificationRequired, .ticketRequired,
                    .mfaRequired, .alreadyActive,
                ])
            #expect(!decision.isAllowed)
        }

        @Test func endIsCappedAtTheEligibilityEnd() {
            let ending = Fixture.eligibility(end: now.addingTimeInterval(1800))
            let decision = Fixture.evaluate(Fixture.request(duration: 3600), Fixture.facts(eligibilities: [ending]))
            #expect(decision.refusals == [])
            #expect(decision.startAt == now)
            #expect(decision.endAt == now.addingTimeInterval(1800))
        }

        @Test func eligibilityEndingBeforeTheMinimumDurationIsRefused() {
            let ending = Fixture.eligibility(end: now.addingTimeInterval(60))
            let decision = Fixture.evaluate(Fixture.request(duration: 3600), Fixture.facts(eligibilities: [ending]))
            #expect(decision.refusals.map(\.code) == [.eligibilityExpired])
        }

        @Test func staleMFAProofIsRefused() {
            let stale = MFAProof(method: "totp", verifiedAt: now.addingTimeInterval(-AccessRules.maximumMFAAge - 1))
            #expect(Fixture.evaluate(Fixture.request(mfa: stale)).refusals.map(\.code) == [.mfaRequired])
            let fresh = MFAProof(method: "totp", verifiedAt: now.addingTimeInterval(-AccessRules.maximumMFAAge + 1))
            #expect(Fixture.evaluate(Fixture.request(mfa: fresh)).refusals == [])
        }

        @Test func longestValidEligibilityIsChosen() {
            let short = Fixture.eligibility(id: "short", end: now.addingTimeInterval(1800))
            let permanent = Fixture.eligibility(id: "permanent", end: nil)
            let expired = Fixture.eligibility(id: "expired", start: now.addingTimeInterval(-7200), end: now.addingTimeInterval(-3600))
            let decision = Fixture.evaluate(Fixture.request(duration: 3600), Fixture.facts(eligibilities: [short, expired, permanent]))
            #expect(decision.refusals == [])
            #expect(decision.eligibility == EligibilityID(rawValue: "permanent"))
            #expect(decision.endAt == now.addingTimeInterval(3600))
        }

        @Test func scheduledStartInTheFutureIsKept() {
            let start = now.addingTimeInterval(2 * 3600)
            let decision = Fixture.evaluate(Fixture.request(duration: 3600, startAt: start))
            #expect(decision.refusals == [])
            #expect(decision.startAt == start)
            #expect(decision.endAt == start.addingTimeInterval(3600))
        }

        @Test func eligibilityIsJudgedAtTheScheduledStart() {
            let start = now.addingTimeInterval(2 * 3600)
            let later = Fixture.eligibility(start: now.addingTimeInterval(3600), end: now.addingTimeInterval(10 * 3600))
            let decision = Fixture.evaluate(Fixture.request(duration: 3600, startAt: start), Fixture.facts(eligibilities: [later]))
            #expect(decision.refusals == [])
            #expect(decision.eligibility == EligibilityID(rawValue: "elig-1"))
        }

        @Test func approvalPolicyAsksForApprovalWithADeadline() {
            var policy = RolePolicy.defaults
            policy.requireApproval = true
            policy.approvalsRequired = 2
            policy.approvalTimeout = 4 * 3600
            let decision = Fixture.evaluate(Fixture.request(duration: 8 * 3600), Fixture.facts(policy: policy))
            #expect(decision.refusals == [])
            #expect(decision.needsApproval)
            #expect(decision.approvalsRequired == 2)
            #expect(decision.approvalDeadline == now.addingTimeInterval(4 * 3600))
        }

        @Test func approvalDeadlineIsNeverAfterTheRequestedEnd() {
            var policy = RolePolicy.defaults
            policy.requireApproval = true
            policy.approvalTimeout = 24 * 3600
            let decision = Fixture.evaluate(Fixture.request(duration: 3600), Fixture.facts(policy: policy))
            #expect(decision.approvalDeadline == now.addingTimeInterval(3600))
            #expect(decision.approvalDeadline == decision.endAt)
        }

        @Test func mfaMustBePresentAndFresh() {
            var policy = RolePolicy.defaults
            policy.requireMFA = false
            #expect(AccessRules.mfaRefusal(policy, proof: nil, now: now) == nil, "a policy without MFA needs no proof")
            policy.requireMFA = true
            #expect(AccessRules.mfaRefusal(policy, proof: nil, now: now)?.code == .mfaRequired)
            let stale = MFAProof(method: "totp", verifiedAt: now.addingTimeInterval(-AccessRules.maximumMFAAge - 1))
            #expect(AccessRules.mfaRefusal(policy, proof: stale, now: now)?.code == .mfaRequired)
            #expect(AccessRules.mfaRefusal(policy, proof: MFAProof(method: "totp", verifiedAt: now.addingTimeInterval(-60)), now: now) == nil)
        }

        @Test func approvalDeadlineCountsFromNowNotFromTheScheduledStart() {
            var policy = RolePolicy.defaults
            policy.requireApproval = true
            policy.approvalTimeout = 3600
            let decision = Fixture.evaluate(Fixture.request(startAt: now.addingTimeInterval(86400)), Fixture.facts(policy: policy))
            #expect(decision.approvalDeadline == now.addingTimeInterval(3600))
        }
    }

    @Suite struct StateMachine {
        static let edges: [ActivationState: Set<ActivationState>] = [
            .pendingApproval: [.approved, .denied, .canceled, .timedOut],
            .approved: [.scheduled, .active],
            .scheduled: [.active, .canceled, .ended, .failed],
            .active: [.ended, .failed],
            .denied: [], .canceled: [], .timedOut: [], .ended: [], .failed: [],
        ]

        @Test(arguments: ActivationState.allCases)
        func allowedNextMatchesTheDesignedEdges(state: ActivationState) {
            #expect(state.allowedNext == Self.edges[state])
        }

        @Test(arguments: ActivationState.allCases, ActivationState.allCases)
        func transitionFollowsTheEdges(from: ActivationState, to: ActivationState) throws {
            var activation = Fixture.activation(state: from)
            if try #require(Self.edges[from]).contains(to) {
                try activation.transition(to: to)
                #expect(activation.state == to)
            } else {
                let error = #expect(throws: InvalidTransition.self) { try activation.transition(to: to) }
                #expect(error?.activation == ActivationID(rawValue: "act-1"))
                #expect(error?.from == from)
                #expect(error?.to == to)
                #expect(activation.state == from)
            }
        }

        @Test(arguments: zip(
            [ActivationState.ended, .denied, .pendingApproval, .active, .approved, .timedOut],
            [ActivationState.active, .approved, .active, .canceled, .canceled, .pendingApproval]))
        func illegalTransitionThrows(from: ActivationState, to: ActivationState) {
            var activation = Fixture.activation(state: from)
            let error = #expect(throws: InvalidTransition.self) { try activation.transition(to: to) }
            #expect(error?.description == "activation act-1 is \(from) and cannot become \(to)")
            #expect(activation.state == from)
        }

        @Test(arguments: [ActivationState.denied, .canceled, .timedOut, .ended, .failed])
        func terminalStatesHaveNoNextState(state: ActivationState) {
            #expect(state.allowedNext.isEmpty)
            #expect(!state.isLive)
            #expect(Fixture.activation(state: state).nextDueAt == nil)
        }

        @Test func endRecordsTimeAndReason() throws {
            var activation = Fixture.activation(state: .active)
            let at = Fixture.now.addingTimeInterval(600)
            try activation.end(.deactivated, at: at)
            #expect(activation.state == .ended)
            #expect(activation.endedAt == at)
            #expect(activation.endReason == .deactivated)
        }

        @Test func stateAfterApprovalDependsOnTheStart() {
            var activation = Fixture.activation(state: .approved)
            #expect(AccessRules.stateAfterApproval(activation, now: Fixture.now) == .active)
            activation.startAt = Fixture.now.addingTimeInterval(1)
            #expect(AccessRules.stateAfterApproval(activation, now: Fixture.now) == .scheduled)
        }
    }

    @Suite struct Approvals {
        let now = Fixture.now

        private func decision(by approver: DirectoryEntryID, _ verdict: ApprovalDecision.Verdict, at offset: TimeInterval = 60) -> ApprovalDecision {
            ApprovalDecision(approver: Fixture.actor(approver), verdict: verdict, reason: verdict == .deny ? "no" : nil, at: now.addingTimeInterval(offset))
        }

        @Test func anotherApproverMayDecide() {
            let refusals = AccessRules.evaluateDecision(on: Fixture.activation(), by: Fixture.actor(Fixture.bob), isApprover: true, now: now)
            #expect(refusals == [])
        }

        @Test func requesterCannotApproveTheirOwnActivation() {
            let refusals = AccessRules.evaluateDecision(on: Fixture.activation(), by: Fixture.actor(Fixture.alice), isApprover: true, now: now)
            #expect(refusals.map(\.code) == [.selfApproval])
        }

        @Test func whoeverRequestedForSomeoneElseCannotApprove() {
            let activation = Fixture.activation(userID: Fixture.alice, requestedBy: Fixture.carol)
            let refusals = AccessRules.evaluateDecision(on: activation, by: Fixture.actor(Fixture.carol), isApprover: true, now: now)
            #expect(refusals.map(\.code) == [.selfApproval])
        }

        @Test func aRequestWhoseWindowHasEndedCannotBeApproved() {
            // A request stored before deadlines were capped at its end, decided after the end.
            let activation = Fixture.activation(deadline: now.addingTimeInterval(24 * 3600))
            let refusals = AccessRules.evaluateDecision(
                on: activation, by: Fixture.actor(Fixture.bob), isApprover: true, now: activation.endAt.addingTimeInterval(60))
            #expect(refusals.map(\.code) == [.approvalTimedOut])
        }

        @Test func nonApproverIsRefused() {
            let refusals = AccessRules.evaluateDecision(on: Fixture.activation(), by: Fixture.actor(Fixture.bob), isApprover: false, now: now)
            #expect(refusals.map(\.code) == [.notApprover])
        }

        @Test func sameApproverCannotDecideTwice() throws {
            var activation = Fixture.activation(approvalsRequired: 2)
            try AccessRules.apply(decision(by: Fixture.bob, .approve), to: &activation)
            #expect(activation.state == .pendingApproval)
            let refusals = AccessRules.evaluateDecision(on: activation, by: Fixture.actor(Fixture.bob), isApprover: true, now: now)
            #expect(refusals.map(\.code) == [.alreadyDecided])
        }

        @Test(arguments: [ActivationState.approved, .scheduled, .active, .denied, .canceled, .timedOut])
        func onlyPendingActivationsCanBeDecided(state: ActivationState) {
            let refusals = AccessRules.evaluateDecision(
                on: Fixture.activation(state: state), by: Fixture.actor(Fixture.bob), isApprover: true, now: now)
            #expect(refusals.map(\.code) == [.notPending])
        }

        @Test func decisionAtOrAfterTheDeadlineIsRefused() {
            let activation = Fixture.activation(deadline: now)
            let atDeadline = AccessRules.evaluateDecision(on: activation, by: Fixture.actor(Fixture.bob), isApprover: true, now: now)
            #expect(atDeadline.map(\.code) == [.approvalTimedOut])
            let justBefore = AccessRules.evaluateDecision(
                on: activation, by: Fixture.actor(Fixture.bob), isApprover: true, now: now.addingTimeInterval(-1))
            #expect(justBefore == [])
        }

        @Test func everyApprovalProblemIsReported() throws {
            var activation = Fixture.activation(deadline: now)
            activation.decisions.append(decision(by: Fixture.alice, .approve))
            let refusals = AccessRules.evaluateDecision(on: activation, by: Fixture.actor(Fixture.alice), isApprover: false, now: now)
            #expect(refusals.map(\.code) == [.approvalTimedOut, .selfApproval, .notApprover, .alreadyDecided])
        }

        @Test func twoOfThreeApprovalsApprove() throws {
            var activation = Fixture.activation(approvalsRequired: 2)
            try AccessRules.apply(decision(by: Fixture.bob, .approve), to: &activation)
            #expect(activation.state == .pendingApproval)
            #expect(activation.approvals.count == 1)
            try AccessRules.apply(decision(by: Fixture.carol, .approve, at: 120), to: &activation)
            #expect(activation.state == .approved)
            #expect(activation.approvals.map(\.approver.userID) == [Fixture.bob, Fixture.carol])
            #expect(activation.endedAt == nil)
        }

        @Test func singleApprovalApprovesWhenOneIsRequired() throws {
            var activation = Fixture.activation(approvalsRequired: 1)
            try AccessRules.apply(decision(by: Fixture.bob, .approve), to: &activation)
            #expect(activation.state == .approved)
        }

        @Test func firstDenialDeniesEvenAfterAnApproval() throws {
            var activation = Fixture.activation(approvalsRequired: 2)
            try AccessRules.apply(decision(by: Fixture.bob, .approve), to: &activation)
            let denial = decision(by: Fixture.carol, .deny, at: 300)
            try AccessRules.apply(denial, to: &activation)
            #expect(activation.state == .denied)
            #expect(activation.endedAt == now.addingTimeInterval(300))
            #expect(activation.decisions == [decision(by: Fixture.bob, .approve), denial])
        }

        @Test func operatorsWithoutDirectoryIDsAreDistinctApprovers() {
            var activation = Fixture.activation(approvalsRequired: 2)
            activation.requestedBy = .operator("ops1")
            #expect(AccessRules.evaluateDecision(on: activation, by: .operator("ops2"), isApprover: true, now: now) == [])
            #expect(AccessRules.evaluateDecision(on: activation, by: .operator("ops1"), isApprover: true, now: now).map(\.code) == [.selfApproval])
            activation.decisions = [ApprovalDecision(approver: .operator("ops3"), verdict: .approve, reason: nil, at: now)]
            #expect(AccessRules.evaluateDecision(on: activation, by: .operator("ops2"), isApprover: true, now: now) == [])
        }

        @Test func approvingAnActiveActivationThrowsAndChangesNothing() {
            var activation = Fixture.activation(state: .active, approvalsRequired: 3)
            #expect(throws: InvalidTransition.self) {
                try AccessRules.apply(decision(by: Fixture.bob, .approve), to: &activation)
            }
            #expect(activation.decisions == [])
            #expect(activation.state == .active)
        }

        @Test func denyingADecidedActivationThrows() {
            var activation = Fixture.activation(state: .approved)
            let error = #expect(throws: InvalidTransition.self) {
                try AccessRules.apply(decision(by: Fixture.bob, .deny), to: &activation)
            }
            #expect(error?.from == .approved)
            #expect(error?.to == .denied)
        }
    }

    @Suite struct Window {
        let start = Fixture.now
        let day: TimeInterval = 86400

        @Test func permanentIsRefusedUnlessAllowed() {
            let refused = AccessRules.evaluateWindow(start: start, end: nil, permanentAllowed: false, maxDuration: 30 * day, what: "eligibility")
            #expect(refused.map(\.code) == [.permanentNotAllowed])
            #expect(refused.first?.message == "the policy does not allow a permanent eligibility; give an end (at most 30d)")
            #expect(AccessRules.evaluateWindow(start: start, end: nil, permanentAllowed: true, maxDuration: 30 * day, what: "eligibility") == [])
        }

        @Test func endNotAfterStartIsRefused() {
            for end in [start, start.addingTimeInterval(-1)] {
                let refusals = AccessRules.evaluateWindow(start: start, end: end, permanentAllowed: true, maxDuration: 30 * day, what: "assignment")
                #expect(refusals.map(\.code) == [.endBeforeStart])
            }
        }

        @Test func longerThanTheMaximumIsRefused() {
            let refusals = AccessRules.evaluateWindow(
                start: start, end: start.addingTimeInterval(30 * day + 1), permanentAllowed: false, maxDuration: 30 * day, what: "assignment")
            #expect(refusals.map(\.code) == [.durationTooLong])
            #expect(refusals.first?.message == "the assignment would last 30d1s, more than the policy's maximum of 30d")
        }

        @Test func windowWithinTheMaximumIsAllowed() {
            #expect(
                AccessRules.evaluateWindow(
                    start: start, end: start.addingTimeInterval(30 * day), permanentAllowed: false, maxDuration: 30 * day, what: "assignment") == [])
            #expect(
                AccessRules.evaluateWindow(
                    start: start, end: start.addingTimeInterval(3600), permanentAllowed: false, maxDuration: 30 * day, what: "eligibility") == [])
        }
    }

    @Suite struct Format {
        @Test(arguments: zip(
            [5400, 0, 1, 59.6, 300, 3600, 8 * 3600, 86400, 90061, 30 * 86400 + 1, -90] as [TimeInterval],
            ["1h30m", "0s", "1s", "1m", "5m", "1h", "8h", "1d", "1d1h1m1s", "30d1s", "-1m30s"]))
        func formatsWholeUnits(interval: TimeInterval, text: String) {
            #expect(AccessRules.format(interval) == text)
        }
    }
}
