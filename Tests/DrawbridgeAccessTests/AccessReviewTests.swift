import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Testing

@Suite("Access reviews against a real slapd")
struct AccessReviewTests {
    static let web = "/subscriptions/prod/resourceGroups/web"
    static let base = [
        Fixtures.user("alice"), Fixtures.user("bob"), Fixtures.user("carol"), Fixtures.user("dave"), Fixtures.user("erin"), Fixtures.user("frank"),
        Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("frank")]),
        Fixtures.group("ops", members: [Fixtures.userDN("carol"), Fixtures.userDN("dave")]) + "owner: \(Fixtures.userDN("erin"))\n",
    ].joined(separator: "\n")
    static let alice = Fixtures.userDN("alice").lowercased()

    static func id(_ harness: AccessHarness, _ login: String) async throws -> DirectoryEntryID {
        try require_user(try await harness.store.user(login: login), login).record.id
    }

    static func actor(_ harness: AccessHarness, _ login: String) async throws -> Actor {
        .user(try require_user(try await harness.store.user(login: login), login).record)
    }

    static func items(_ harness: AccessHarness, _ instance: ReviewInstance) async throws -> [ReviewItem] {
        try await harness.store.withAccessTransaction(commit: false) { try await $0.reviewItems(instanceID: instance.id) }
    }

    static func instances(_ harness: AccessHarness, _ campaign: ReviewCampaign) async throws -> [ReviewInstance] {
        try await harness.store.withAccessTransaction(commit: false) { try await $0.reviewInstances(campaignID: campaign.id) }
            .sorted { $0.index < $1.index }
    }

    @Test("a denied assignment leaves the LDAP group when the review is applied; items are a snapshot; silence follows the recommendation")
    func deniedAssignmentLeavesTheGroup() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            let engine = harness.engine
            try await harness.eligible("carol", scope: "/subscriptions/prod", role: "owner", end: 200 * 86400)
            harness.clock.advance(by: 31 * 86400)
            let now = harness.clock.now()
            _ = try await engine.assign(
                userLogin: "alice", scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!, start: nil, end: now.addingTimeInterval(30 * 86400),
                justification: "on call", ticket: nil, by: harness.operatorActor, source: .cli)
            try await harness.applier.applyReady()
            #expect(try await harness.members("pim-prod-web-owner").contains(Self.alice))

            let campaign = ReviewCampaign(
                name: "prod owners", scopes: [try ScopePath("/subscriptions/prod")], roles: [RoleName(rawValue: "owner")!], subjects: [.eligible, .active],
                groupMode: .perUser, reviewers: ReviewerSelection(users: [try await Self.id(harness, "bob")]),
                recurrence: Recurrence(frequency: .once, startAt: now, duration: 7 * 86400), noResponse: .recommendation,
                createdBy: harness.operatorActor, createdAt: now)
            let (_, instance) = try await engine.createReview(campaign, by: harness.operatorActor, source: .cli)
            #expect(instance.status == .inProgress)
            let items = try await Self.items(harness, instance)
            #expect(items.map(\.holder).sorted() == ["alice", "carol"])
            let aliceItem = try #require(items.first { $0.holder == "alice" })
            let carolItem = try #require(items.first { $0.holder == "carol" })
            #expect(aliceItem.kind == .assignment && aliceItem.recommendation == .approve)
            #expect(carolItem.recommendation == .deny && carolItem.recommendationReason.contains("30 days"))
            #expect(aliceItem.reviewerLogins == ["bob"])

            try await harness.eligible("dave", scope: "/subscriptions/prod", role: "owner")
            #expect(try await Self.items(harness, instance).count == 2, "access granted after the start is not in this review")

            let bob = try await Self.actor(harness, "bob")
            await #expect(throws: ActionRefused.self) {
                _ = try await engine.decideReview(items: [aliceItem.id], .deny, reason: "  ", by: bob, source: .api)
            }
            await #expect(throws: ActionRefused.self, "alice is no reviewer, and it is her own access") {
                _ = try await engine.decideReview(items: [aliceItem.id], .approve, reason: "mine", by: try await Self.actor(harness, "alice"), source: .api)
            }
            let aliceAsAdministrator = Actor(kind: .administrator, name: "alice", userID: try await Self.id(harness, "alice"))
            do {
                _ = try await engine.decideReview(items: [aliceItem.id], .approve, reason: "mine", by: aliceAsAdministrator, source: .api)
                Issue.record("an administrator decided on her own access")
            } catch let refused as ActionRefused {
                #expect(refused.refusals.map(\.code) == [.selfApproval])
            }
            let decided = try await engine.decideReview(items: [aliceItem.id], .deny, reason: "left the on-call rota", by: bob, source: .api)
            #expect(decided.first?.decidedBy == "bob")

            let applied = try await engine.completeReview(instance.id, by: harness.operatorActor, source: .cli)
            #expect(applied.status == .applied)
            try await harness.applier.applyReady()
            #expect(try await harness.members("pim-prod-web-owner") == [Fixtures.userDN("frank").lowercased()])
            let outcomes = Dictionary(uniqueKeysWithValues: try await Self.items(harness, instance).map { ($0.holder, $0.outcome) })
            #expect(outcomes == ["alice": .removed, "carol": .removed])
            let remaining = try await harness.store.withAccessTransaction(commit: false) { try await $0.eligibilities(role: nil) }
            #expect(remaining.count == 1, "carol's eligibility went by the recommendation; dave's, added later, stays")
            let actions = try await harness.auditActions()
            #expect(actions.contains("review.decided:refused"))
            #expect(["review.created:success", "review.started:success", "review.decided:success", "review.completed:success", "review.applied:success"]
                .allSatisfy(actions.contains))
        }
    }

    @Test("owners review their group's members with a fallback; a per-user denial excludes one member; recurrence runs twice then stops")
    func ownersFallbackAndRecurrence() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            let engine = harness.engine
            let now = harness.clock.now()
            let ops = try #require(try await harness.store.group(dn: try .init("cn=ops,ou=groups,dc=example,dc=org")))
            _ = try await engine.addEligibility(
                .group(ops.id), scope: try ScopePath("/subscriptions/prod"), role: RoleName(rawValue: "owner")!, start: nil,
                end: now.addingTimeInterval(300 * 86400), justification: "ops rota", by: harness.operatorActor, source: .cli)
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let campaign = ReviewCampaign(
                name: "weekly owners", scopes: [.root], roles: [], subjects: [.eligible], groupMode: .perUser,
                reviewers: ReviewerSelection(groupOwners: true, fallback: [.user(try await Self.id(harness, "frank"))]),
                recurrence: Recurrence(frequency: .weekly, startAt: now, duration: 86400, end: .after(2)), requireReason: false,
                reminderLeadTimes: [3600], createdBy: harness.operatorActor, createdAt: now)
            let (_, first) = try await engine.createReview(campaign, by: harness.operatorActor, source: .cli)
            let items = try await Self.items(harness, first)
            let reviewers = Dictionary(uniqueKeysWithValues: items.map { ($0.holder, $0.reviewerLogins) })
            #expect(reviewers == ["carol": ["erin"], "dave": ["erin"], "alice": ["frank"]], "owners of ops review its members; frank falls back")
            #expect(items.first { $0.holder == "carol" }?.viaGroup == "ops")

            let carol = try await Self.actor(harness, "carol")
            await #expect(throws: ActionRefused.self, "carol is no reviewer") {
                _ = try await engine.decideReview(items: items.filter { $0.holder == "dave" }.map(\.id), .deny, reason: nil, by: carol, source: .api)
            }
            let erin = try await Self.actor(harness, "erin")
            _ = try await engine.decideReview(items: items.filter { $0.holder == "dave" }.map(\.id), .deny, reason: nil, by: erin, source: .api)

            harness.clock.advance(by: 86400 - 1800)
            let reminded = try await engine.runReviews()
            #expect(reminded.reminded == 2, "erin (carol left) and frank (alice) are reminded")
            #expect(try await engine.runReviews().reminded == 0, "each reminder once")
            harness.clock.advance(by: 1800)
            let closing = try await engine.runReviews()
            #expect(closing.completed == 1 && closing.applied == 1)
            let ineligible = try await harness.engine.activate(
                ActivationRequest(
                    userLogin: "dave", items: [.init(scope: try ScopePath(Self.web), role: RoleName(rawValue: "owner")!)], duration: 3600, startAt: nil,
                    justification: "incident", ticket: nil, mfa: nil),
                by: harness.operatorActor, source: .cli)
            #expect(ineligible.first?.decision.refusals.map(\.code).contains(.notEligible) == true, "dave was excluded from ops' eligibility")
            _ = try await harness.activate("carol", scope: Self.web, role: "owner")

            var runs = try await Self.instances(harness, campaign)
            #expect(runs.map(\.status) == [.applied, .notStarted])
            #expect(runs[1].startAt == now.addingTimeInterval(7 * 86400))
            harness.clock.advance(by: 6 * 86400)
            #expect(try await engine.runReviews().started == 1)
            runs = try await Self.instances(harness, campaign)
            #expect(runs.count == 2, "a series of two runs has no third")
            #expect(try await Self.items(harness, runs[1]).map(\.holder).sorted() == ["alice", "carol"], "dave is no longer eligible through ops")
        }
    }

    @Test("self-review: each holder decides on their own access; nobody else's")
    func selfReview() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            let now = harness.clock.now()
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.eligible("bob", scope: "/subscriptions/prod", role: "owner")
            let campaign = ReviewCampaign(
                name: "self", scopes: [.root], roles: [], subjects: [.eligible], groupMode: .perUser,
                reviewers: ReviewerSelection(selfReview: true, fallback: [.user(try await Self.id(harness, "frank"))]),
                recurrence: Recurrence(frequency: .once, startAt: now.addingTimeInterval(3600), duration: 86400), noResponse: .remove,
                createdBy: harness.operatorActor, createdAt: now)
            let (_, instance) = try await harness.engine.createReview(campaign, by: harness.operatorActor, source: .cli)
            #expect(instance.status == .notStarted)
            #expect(try await Self.items(harness, instance).isEmpty)
            harness.clock.advance(by: 3600)
            #expect(try await harness.engine.runReviews().started == 1)
            let items = try await Self.items(harness, instance)
            #expect(Dictionary(uniqueKeysWithValues: items.map { ($0.holder, $0.reviewerLogins) }) == ["alice": ["alice"], "bob": ["bob"]])
            let alice = try await Self.actor(harness, "alice")
            await #expect(throws: ActionRefused.self) {
                _ = try await harness.engine.decideReview(items: items.filter { $0.holder == "bob" }.map(\.id), .deny, reason: "no", by: alice, source: .api)
            }
            _ = try await harness.engine.decideReview(items: items.filter { $0.holder == "alice" }.map(\.id), .approve, reason: "still on call", by: alice, source: .api)
            harness.clock.advance(by: 86400)
            _ = try await harness.engine.runReviews()
            let outcomes = Dictionary(uniqueKeysWithValues: try await Self.items(harness, instance).map { ($0.holder, $0.outcome) })
            #expect(outcomes == ["alice": .kept, "bob": .removed], "bob said nothing, and silence removes")
        }
    }

    @Test("a review whose start was backdated gets its whole duration; missed runs of the series are skipped")
    func backdatedStart() async throws {
        try await AccessHarness.with(ldif: [Self.base]) { harness in
            try await harness.relaxPolicy(role: "owner")
            let now = harness.clock.now()
            try await harness.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let campaign = ReviewCampaign(
                name: "late", scopes: [.root], roles: [], subjects: [.eligible], groupMode: .perUser,
                reviewers: ReviewerSelection(users: [try await Self.id(harness, "bob")]),
                recurrence: Recurrence(frequency: .weekly, startAt: now.addingTimeInterval(-30 * 86400), duration: 2 * 86400), noResponse: .remove,
                createdBy: harness.operatorActor, createdAt: now)
            let (_, instance) = try await harness.engine.createReview(campaign, by: harness.operatorActor, source: .cli)
            #expect(instance.status == .inProgress && instance.endAt == now.addingTimeInterval(2 * 86400))
            #expect(try await harness.engine.runReviews().completed == 0, "nothing is removed before anyone could answer")
            let runs = try await Self.instances(harness, campaign)
            #expect(runs.count == 2)
            #expect(runs.last.map { $0.startAt > now } == true, "the next run is in the future, not one of the four missed weeks")
        }
    }

    @Test("a disabled member of an eligible group gets an item recommended for denial; the exclusion it earns can be lifted")
    func disabledMemberAndExclusion() async throws {
        let disabledRule = "  users: { disabled: { attribute: employeeType, equals: disabled } }"
        try await AccessHarness.with(ldif: [Self.base], directoryYAML: disabledRule) { harness in
            try await harness.relaxPolicy(role: "owner")
            let engine = harness.engine
            let ops = try #require(try await harness.store.group(dn: try .init("cn=ops,ou=groups,dc=example,dc=org")))
            let eligibility = try await engine.addEligibility(
                .group(ops.id), scope: try ScopePath("/subscriptions/prod"), role: RoleName(rawValue: "owner")!, start: nil,
                end: harness.clock.now().addingTimeInterval(300 * 86400), justification: "ops rota", by: harness.operatorActor, source: .cli)
            try await harness.directory.modify(ldif: """
                dn: \(Fixtures.userDN("dave"))
                changetype: modify
                replace: employeeType
                employeeType: disabled
                """)
            try await harness.sync()
            let now = harness.clock.now()
            let campaign = ReviewCampaign(
                name: "ops", scopes: [.root], roles: [], subjects: [.eligible], groupMode: .perUser,
                reviewers: ReviewerSelection(users: [try await Self.id(harness, "frank")]),
                recurrence: Recurrence(frequency: .once, startAt: now, duration: 86400), noResponse: .recommendation,
                createdBy: harness.operatorActor, createdAt: now)
            let (_, instance) = try await engine.createReview(campaign, by: harness.operatorActor, source: .cli)
            let items = try await Self.items(harness, instance)
            #expect(items.first { $0.holder == "dave" }?.recommendationReason == "the account is disabled in the directory")
            _ = try await engine.completeReview(instance.id, by: harness.operatorActor, source: .cli)
            let excluded = try await harness.store.withAccessTransaction(commit: false) { try await $0.eligibility(id: eligibility.id) }
            #expect(excluded?.excludedUserIDs == [try await Self.id(harness, "dave")])

            await #expect(throws: ActionRefused.self, "carol was never excluded") {
                _ = try await engine.liftExclusion(eligibility.id, userLogin: "carol", reason: "back", by: harness.operatorActor, source: .cli)
            }
            let lifted = try await engine.liftExclusion(eligibility.id, userLogin: "dave", reason: "back from leave", by: harness.operatorActor, source: .cli)
            #expect(lifted.excludedUserIDs.isEmpty)
            #expect(try await harness.auditActions().contains("eligibility.included:success"))
        }
    }
}
