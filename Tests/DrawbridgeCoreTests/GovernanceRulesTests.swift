import DrawbridgeCore
import Foundation
import LDAP
import Testing

@Suite("Access review and alert rules (pure)")
struct GovernanceRulesTests {
    static let start = ISO8601DateFormatter().date(from: "2027-02-01T00:00:00Z")!

    static func user(_ login: String, enabled: Bool = true, deleted: Bool = false) -> StoredUser {
        StoredUser(
            record: DirectoryUserRecord(id: DirectoryEntryID(rawValue: login), dn: try! DistinguishedName("uid=\(login),dc=example"), login: login,
                                        displayName: nil, mail: nil, enabled: enabled),
            firstSeenAt: start, syncedAt: start, deletedAt: deleted ? start : nil)
    }

    @Test("monthly reviews from the 31st fall on each month's last day; series end after N runs or on a date")
    func recurrence() throws {
        let january31 = try #require(ISO8601DateFormatter().date(from: "2027-01-31T00:00:00Z"))
        let monthly = Recurrence(frequency: .monthly, startAt: january31, duration: 86400, end: .after(3))
        let formatter = ISO8601DateFormatter()
        #expect(formatter.string(from: try #require(monthly.start(of: 1))) == "2027-02-28T00:00:00Z")
        #expect(formatter.string(from: try #require(monthly.start(of: 2))) == "2027-03-31T00:00:00Z")
        #expect(monthly.start(of: 3) == nil)
        let weekly = Recurrence(frequency: .weekly, startAt: Self.start, duration: 86400, end: .on(Self.start.addingTimeInterval(14 * 86400)))
        #expect(weekly.start(of: 2) == Self.start.addingTimeInterval(14 * 86400))
        #expect(weekly.start(of: 3) == nil)
        #expect(Recurrence(frequency: .once, startAt: Self.start, duration: 86400).start(of: 1) == nil)
        #expect(Recurrence(frequency: .weekly, startAt: Self.start, duration: 8 * 86400).problems().count == 1, "longer than its period")
    }

    @Test("silence follows the campaign's rule; reminders go once each, inside the review")
    func noResponseAndReminders() {
        var item = ReviewItem(
            instanceID: .make(), kind: .eligibility, targetID: "e", principal: .user(DirectoryEntryID(rawValue: "u")), userID: DirectoryEntryID(rawValue: "u"),
            holder: "u", viaGroup: nil, scope: .root, role: RoleName(rawValue: "owner")!, reviewerIDs: [], reviewerLogins: [], recommendation: .deny,
            recommendationReason: "unused")
        #expect(ReviewRules.effectiveDecision(item, noResponse: .noChange) == nil)
        #expect(ReviewRules.effectiveDecision(item, noResponse: .remove) == .deny)
        #expect(ReviewRules.effectiveDecision(item, noResponse: .approve) == .approve)
        #expect(ReviewRules.effectiveDecision(item, noResponse: .recommendation) == .deny)
        item.decision = .approve
        #expect(ReviewRules.effectiveDecision(item, noResponse: .remove) == .approve)

        let campaign = ReviewCampaign(
            name: "r", scopes: [.root], roles: [], subjects: [.eligible], groupMode: .perUser, reviewers: ReviewerSelection(selfReview: true),
            recurrence: Recurrence(frequency: .once, startAt: Self.start, duration: 7 * 86400), reminderLeadTimes: [86400, 3 * 86400],
            createdBy: .system("test"), createdAt: Self.start)
        var instance = ReviewInstance(campaignID: campaign.id, index: 0, startAt: Self.start, duration: 7 * 86400)
        #expect(ReviewRules.dueReminders(instance, campaign: campaign, now: Self.start.addingTimeInterval(5 * 86400)).isEmpty, "not started")
        instance.status = .inProgress
        #expect(ReviewRules.dueReminders(instance, campaign: campaign, now: Self.start.addingTimeInterval(86400)).isEmpty)
        #expect(ReviewRules.dueReminders(instance, campaign: campaign, now: Self.start.addingTimeInterval(6.5 * 86400)) == [3 * 86400, 86400])
        instance.remindersSent = [3 * 86400]
        #expect(ReviewRules.dueReminders(instance, campaign: campaign, now: Self.start.addingTimeInterval(6.5 * 86400)) == [86400])
        #expect(campaign.problems() == ["owner- and self-review need a fallback reviewer for items without an owner or holder"])
        #expect(throws: InvalidReviewTransition.self) { try instance.move(to: .applied) }
    }

    @Test("recommendations: deny a disabled or deleted account, deny unused, approve recent use; nobody reviews their own access")
    func recommendationsAndReviewers() throws {
        let role = RoleName(rawValue: "owner")!
        let scope = try ScopePath("/subscriptions/prod")
        let users = ["ann", "ben", "cat", "dan", "eve"].map { Self.user($0) } + [Self.user("old", enabled: false), Self.user("gone", deleted: true)]
        let eligibilities = users.map {
            Eligibility(principal: .user($0.record.id), scope: scope, role: role, startAt: Self.start.addingTimeInterval(-200 * 86400), endAt: nil,
                        source: .manual, createdBy: .system("t"), createdAt: Self.start, justification: nil)
        }
        var used = Activation(
            requestID: .make(), userID: DirectoryEntryID(rawValue: "ben"), userLogin: "ben", scope: try ScopePath("/subscriptions/prod/resourceGroups/web"),
            role: role, requestedBy: .system("t"), requestedAt: Self.start.addingTimeInterval(-5 * 86400), startAt: Self.start.addingTimeInterval(-5 * 86400),
            endAt: Self.start.addingTimeInterval(-5 * 86400 + 3600), justification: nil, ticket: nil, mfa: nil, state: .active, approvalsRequired: 0,
            approvalDeadline: nil)
        used.state = .ended
        used.endedAt = used.endAt
        let input = ReviewSnapshotInput(
            eligibilities: eligibilities, assignments: [], users: Dictionary(uniqueKeysWithValues: users.map { ($0.record.id, $0) }), groupNames: [:],
            members: [:], owners: [:], bindings: [], recentActivations: [used])
        let campaign = ReviewCampaign(
            name: "r", scopes: [.root], roles: [role], subjects: [.eligible], groupMode: .perUser,
            reviewers: ReviewerSelection(users: [DirectoryEntryID(rawValue: "ann"), DirectoryEntryID(rawValue: "old")],
                                         fallback: [.user(DirectoryEntryID(rawValue: "eve"))]),
            recurrence: Recurrence(frequency: .once, startAt: Self.start, duration: 86400), createdBy: .system("t"), createdAt: Self.start)
        let instance = ReviewInstance(campaignID: campaign.id, index: 0, startAt: Self.start, duration: 86400)
        let items = Dictionary(uniqueKeysWithValues: ReviewRules.snapshot(campaign: campaign, instance: instance, input: input, now: Self.start).map { ($0.holder, $0) })
        #expect(items["ben"]?.recommendation == .approve)
        #expect(items["cat"]?.recommendation == .deny && items["cat"]?.recommendationReason == "not activated in the last 30 days")
        #expect(items["old"]?.recommendationReason == "the account is disabled in the directory")
        #expect(items["gone"]?.recommendationReason == "the account was deleted from the directory")
        #expect(items["cat"]?.reviewerLogins == ["ann"], "a disabled reviewer does not review")
        #expect(items["ann"]?.reviewerLogins == ["eve"], "ann does not review her own access; the fallback does")

        let ann = try #require(items["ann"])
        var running = instance
        running.status = .inProgress
        let own = ReviewRules.refusals(
            deciding: ann, .approve, reason: "ok", by: DirectoryEntryID(rawValue: "ann"), isAdministrator: true, heldByReviewer: true, instance: running,
            campaign: campaign)
        #expect(own.map(\.code) == [.selfApproval], "not even an administrator decides on their own access")
        let silent = ReviewRules.refusals(
            deciding: ann, .deny, reason: nil, by: DirectoryEntryID(rawValue: "eve"), isAdministrator: false, heldByReviewer: false, instance: running,
            campaign: campaign)
        #expect(silent.map(\.code) == [.justificationRequired])
    }

    @Test("alert rules: a clean state raises nothing; a deleted account in a managed group and a stuck change do")
    func alertRules() throws {
        let binding = RoleBinding(
            scope: try ScopePath("/s/p"), role: RoleName(rawValue: "owner")!, groupID: DirectoryEntryID(rawValue: "g"),
            groupDN: try DistinguishedName("cn=g,dc=example"), groupName: "g", rule: "r")
        var policy = RolePolicy()
        policy.requireMFA = true
        let gone = Self.user("gone", deleted: true)
        var input = AlertInput(
            openDrift: [], bindings: [binding], protectedRules: [], eligibilities: [], assignments: [], activations: [], users: [gone.record.id: gone],
            groupNames: [:], members: [:], inactiveMemberships: [:], policies: [binding: policy], directoryProblem: nil, oldestPendingChange: Self.start)
        #expect(AlertRules.evaluate(input, thresholds: AlertThresholds(), now: Self.start.addingTimeInterval(60)).isEmpty)
        input.inactiveMemberships = [gone.record.id: [binding.groupID]]
        let findings = AlertRules.evaluate(input, thresholds: AlertThresholds(), now: Self.start.addingTimeInterval(600))
        #expect(Set(findings.map(\.kind)) == [.inactiveAccountHoldsAccess, .changeBacklog])
        #expect(findings.first { $0.kind == .inactiveAccountHoldsAccess }?.items == ["member of cn=g,dc=example"])
        #expect(findings.allSatisfy { $0.kind.severity == .high })
    }

    @Test("notifications: a reminder goes to the reviewer whatever the policy says; a high alert is critical and goes to administrators")
    func notificationPlans() throws {
        var quiet = RolePolicy()
        quiet.notifyRequester = false
        let reminder = AuditEvent(
            action: "review.reminder", actor: .system("reviews"), source: .scheduler, userLogin: "erin",
            details: ["name": "prod owners", "items": "3", "end": "2027-02-08T00:00:00Z"])
        let plan = try #require(NotificationRules.plan(for: reminder, policy: quiet))
        #expect(plan.toPerson && !plan.toAdministrators && !plan.critical)
        #expect(plan.subject.contains("prod owners") && plan.text.contains("3 item(s)"))

        let raised = AuditEvent(
            action: "alert.raised", actor: .system("alerts"), source: .scheduler, reason: "The directory is unreachable",
            details: ["severity": "high", "detail": "Drawbridge cannot reach the directory", "items": ""])
        var criticalOnly = RolePolicy()
        criticalOnly.notifyCriticalOnly = true
        let alert = try #require(NotificationRules.plan(for: raised, policy: criticalOnly))
        #expect(alert.critical && alert.toAdministrators && !alert.toPerson)
        #expect(alert.subject == "[Drawbridge] Security alert (high): The directory is unreachable")
        var low = raised
        low.details["severity"] = "low"
        #expect(NotificationRules.plan(for: low, policy: criticalOnly) == nil, "a low alert is not critical")
    }

    @Test("notifications: an extension that needs approval is sent to the approvers as an extension request")
    func extensionRequestPlan() throws {
        let request = AuditEvent(
            action: "activation.extension-requested", actor: .system("tests"), source: .api, userLogin: "alice",
            scope: try ScopePath("/subscriptions/prod"), role: RoleName(rawValue: "owner"), justification: "overrun",
            details: ["start": "2027-02-01T01:00:00Z", "end": "2027-02-01T03:00:00Z", "approvalsRequired": "2", "extends": "act-1"])
        let plan = try #require(NotificationRules.plan(for: request, policy: RolePolicy()))
        #expect(plan.kind == .requested && plan.toApprovers && plan.toPerson)
        #expect(plan.subject == "[Drawbridge] alice requests an extension of owner at /subscriptions/prod")
        #expect(plan.text.contains("alice asks to extend owner at /subscriptions/prod until 2027-02-01T03:00:00Z"))
        #expect(plan.text.contains("starts at 2027-02-01T01:00:00Z") && plan.text.contains("Approvals needed: 2."))
        var refused = request
        refused.outcome = .refused
        #expect(NotificationRules.plan(for: refused, policy: RolePolicy()) == nil, "a refused extension tells nobody")
    }
}
