import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// What one pass over the access reviews did.
public struct ReviewPassReport: Sendable, Hashable {
    public var started = 0
    public var reminded = 0
    public var completed = 0
    public var applied = 0

    public init() {}
}

extension AccessEngine {
    /// Creates a campaign and its first review; a review whose start has come starts at once.
    public func createReview(_ campaign: ReviewCampaign, by actor: Actor, source: ActionSource, dryRun: Bool = false) async throws -> (ReviewCampaign, ReviewInstance) {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            var refusals = campaign.problems().map { Refusal(.invalidInput, $0) }
            for id in campaign.reviewers.users { _ = try await principalName(.user(id), context, refusals: &refusals) }
            for id in campaign.reviewers.groups { _ = try await principalName(.group(id), context, refusals: &refusals) }
            for principal in campaign.reviewers.fallback { _ = try await principalName(principal, context, refusals: &refusals) }
            guard refusals.isEmpty else {
                try await context.audit(context.event("review.created", outcome: .refused, reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            try await context.transaction.save(campaign)
            var instance = ReviewInstance(campaignID: campaign.id, index: 0, startAt: campaign.recurrence.startAt, duration: campaign.recurrence.duration)
            try await context.transaction.save(instance)
            try await context.audit(context.event(
                "review.created", subject: campaign.id.rawValue,
                details: ["name": campaign.name, "scopes": campaign.scopes.map(\.description).joined(separator: " "),
                          "frequency": campaign.recurrence.frequency.rawValue, "start": campaign.recurrence.startAt.iso8601]))
            if instance.startAt <= context.now {
                try await start(&instance, campaign, context)
            }
            return (campaign, instance)
        }
    }

    /// Starts reviews whose time came, sends reminders, completes reviews whose time is up and applies completed ones.
    /// Each review moves in its own transaction, so one that fails (and is logged) does not hold up the others.
    public func runReviews() async throws -> ReviewPassReport {
        let open = try await store.withAccessTransaction(commit: false) {
            try await $0.reviewInstances(statuses: [.notStarted, .inProgress, .completed, .applying]).map(\.id)
        }
        var report = ReviewPassReport()
        for id in open {
            do {
                let step = try await runReview(id)
                report.started += step.started
                report.reminded += step.reminded
                report.completed += step.completed
                report.applied += step.applied
            } catch {
                logger.error("access review could not move on; retrying at the next pass", metadata: ["review": "\(id)", "error": "\(error)"])
            }
        }
        return report
    }

    func runReview(_ id: ReviewInstanceID) async throws -> ReviewPassReport {
        try await transaction(dryRun: false, actor: .system("reviews"), source: .scheduler) { context in
            var report = ReviewPassReport()
            if var instance = try await context.transaction.reviewInstance(id: id),
                let campaign = try await context.transaction.reviewCampaign(id: instance.campaignID) {
                if instance.status == .notStarted, instance.startAt <= context.now {
                    try await start(&instance, campaign, context)
                    report.started += 1
                }
                if instance.status == .inProgress {
                    report.reminded += try await remind(&instance, campaign, context)
                    if instance.endAt <= context.now {
                        try await complete(&instance, campaign, context)
                        report.completed += 1
                    }
                }
                if instance.status == .applying || (instance.status == .completed && campaign.autoApply) {
                    try await apply(&instance, campaign, context)
                    report.applied += 1
                }
            }
            return report
        }
    }

    /// Records one decision on each item, all or none: every reason against any of them is reported together.
    public func decideReview(
        items ids: [ReviewItemID], _ decision: ReviewItem.Decision, reason: String?, by actor: Actor, source: ActionSource
    ) async throws -> [ReviewItem] {
        try await transaction(dryRun: false, actor: actor, source: source) { context in
            guard !ids.isEmpty else { throw ActionRefused([Refusal(.invalidInput, "choose at least one item")]) }
            var refusals: [Refusal] = []
            var decided: [ReviewItem] = []
            var reviews: [ReviewInstanceID: (ReviewInstance, ReviewCampaign)] = [:]
            var reviewerGroups: Set<DirectoryEntryID> = []
            if let reviewer = actor.userID { reviewerGroups = try await context.groupIDs(ofUser: reviewer) }
            for id in ids {
                guard var item = try await context.transaction.reviewItem(id: id) else {
                    refusals.append(Refusal(.notFound, "no review item \(id)"))
                    continue
                }
                if reviews[item.instanceID] == nil, let instance = try await context.transaction.reviewInstance(id: item.instanceID),
                    let campaign = try await context.transaction.reviewCampaign(id: instance.campaignID) {
                    reviews[item.instanceID] = (instance, campaign)
                }
                guard let (instance, campaign) = reviews[item.instanceID] else {
                    refusals.append(Refusal(.notFound, "the review of item \(id) is gone"))
                    continue
                }
                let held = item.userID.map { $0 == actor.userID } ?? reviewerGroups.contains(item.principal.id)
                let problems = ReviewRules.refusals(
                    deciding: item, decision, reason: reason, by: actor.userID, isAdministrator: actor.kind != .user, heldByReviewer: held,
                    instance: instance, campaign: campaign)
                refusals += problems.map { Refusal($0.code, "item \(id) (\(item.holder), \(item.role) at \(item.scope)): \($0.message)") }
                item.decision = decision
                item.reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
                item.decidedBy = actor.name
                item.decidedAt = context.now
                decided.append(item)
            }
            guard refusals.isEmpty else {
                try await context.audit(context.event(
                    "review.decided", outcome: .refused, subject: ids.map(\.rawValue).joined(separator: " "), reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            try await context.transaction.save(decided)
            for item in decided {
                try await context.audit(context.event(
                    "review.decided", subject: item.id.rawValue, user: item.holder, scope: item.scope, role: item.role, reason: item.reason,
                    details: ["decision": item.decision?.rawValue ?? "", "review": item.instanceID.rawValue, "recommendation": item.recommendation.rawValue]))
            }
            return decided
        }
    }

    /// Ends a review before its time; its decisions are applied now when the campaign applies automatically.
    public func completeReview(_ id: ReviewInstanceID, by actor: Actor, source: ActionSource) async throws -> ReviewInstance {
        try await transaction(dryRun: false, actor: actor, source: source) { context in
            try requireAdministrator(context)
            var (instance, campaign) = try await loadReview(id, context)
            guard instance.status == .inProgress else {
                throw ActionRefused([Refusal(.invalidState, "review \(id) is \(instance.status.rawValue); only a review in progress can be completed")])
            }
            try await complete(&instance, campaign, context)
            if campaign.autoApply { try await apply(&instance, campaign, context) }
            return instance
        }
    }

    /// Applies a completed review's decisions (for campaigns that do not apply them automatically).
    public func applyReview(_ id: ReviewInstanceID, by actor: Actor, source: ActionSource) async throws -> ReviewInstance {
        try await transaction(dryRun: false, actor: actor, source: source) { context in
            try requireAdministrator(context)
            var (instance, campaign) = try await loadReview(id, context)
            guard [.completed, .applying].contains(instance.status) else {
                throw ActionRefused([Refusal(.invalidState, "review \(id) is \(instance.status.rawValue); only a completed review can be applied")])
            }
            try await apply(&instance, campaign, context)
            return instance
        }
    }

    func loadReview(_ id: ReviewInstanceID, _ context: AccessContext) async throws -> (ReviewInstance, ReviewCampaign) {
        guard let instance = try await context.transaction.reviewInstance(id: id),
            let campaign = try await context.transaction.reviewCampaign(id: instance.campaignID)
        else { throw ActionRefused([Refusal(.notFound, "no review \(id)")]) }
        return (instance, campaign)
    }

    /// Takes the snapshot, tells each reviewer, and schedules the series' next review.
    func start(_ instance: inout ReviewInstance, _ campaign: ReviewCampaign, _ context: AccessContext) async throws {
        let items = ReviewRules.snapshot(campaign: campaign, instance: instance, input: try await snapshotInput(campaign, context), now: context.now)
        try instance.move(to: .inProgress)
        instance.startedAt = context.now
        // Started more than halfway into its window (Drawbridge was down, or the start was backdated): reviewers still
        // get the whole duration rather than a review that ends at once and applies its no-response rule.
        if context.now.timeIntervalSince(instance.startAt) > campaign.recurrence.duration / 2 {
            instance.endAt = context.now.addingTimeInterval(campaign.recurrence.duration)
        }
        try await context.transaction.save(items)
        try await context.transaction.save(instance)
        try await context.audit(context.event(
            "review.opened", subject: instance.id.rawValue, details: ["name": campaign.name, "items": "\(items.count)", "end": instance.endAt.iso8601]))
        for (login, count) in pendingCounts(items) {
            try await context.audit(context.event(
                "review.started", subject: instance.id.rawValue, user: login,
                details: ["name": campaign.name, "items": "\(count)", "end": instance.endAt.iso8601]))
        }
        // Occurrences that passed while this one waited are skipped, not run back to back.
        var index = instance.index + 1
        while let next = campaign.recurrence.start(of: index), next <= context.now { index += 1 }
        if let next = campaign.recurrence.start(of: index) {
            try await context.transaction.save(ReviewInstance(campaignID: campaign.id, index: index, startAt: next, duration: campaign.recurrence.duration))
        }
    }

    /// Reviewers' logins with how many items each still has to decide.
    func pendingCounts(_ items: [ReviewItem]) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for item in items where item.decision == nil {
            for login in item.reviewerLogins { counts[login, default: 0] += 1 }
        }
        return counts.sorted { $0.key < $1.key }
    }

    func remind(_ instance: inout ReviewInstance, _ campaign: ReviewCampaign, _ context: AccessContext) async throws -> Int {
        let due = ReviewRules.dueReminders(instance, campaign: campaign, now: context.now)
        guard !due.isEmpty else { return 0 }
        let pending = pendingCounts(try await context.transaction.reviewItems(instanceID: instance.id))
        for (login, count) in pending {
            try await context.audit(context.event(
                "review.reminder", subject: instance.id.rawValue, user: login,
                details: ["name": campaign.name, "items": "\(count)", "end": instance.endAt.iso8601]))
        }
        instance.remindersSent += due
        try await context.transaction.save(instance)
        return pending.count
    }

    func complete(_ instance: inout ReviewInstance, _ campaign: ReviewCampaign, _ context: AccessContext) async throws {
        try instance.move(to: .completed)
        instance.completedAt = context.now
        try await context.transaction.save(instance)
        try await context.audit(context.event("review.completed", subject: instance.id.rawValue, details: ["name": campaign.name]))
    }

    /// Carries out every item's effective decision, then revokes activations that lost their eligibility.
    func apply(_ instance: inout ReviewInstance, _ campaign: ReviewCampaign, _ context: AccessContext) async throws {
        if instance.status == .completed {
            try instance.move(to: .applying)
            try await context.transaction.save(instance)
        }
        var items = try await context.transaction.reviewItems(instanceID: instance.id)
        let why = "access review '\(campaign.name)'"
        for index in items.indices where items[index].outcome == nil {
            let decision = ReviewRules.effectiveDecision(items[index], noResponse: campaign.noResponse)
            items[index].appliedDecision = decision
            items[index].outcome = decision == .deny ? try await remove(items[index], why: why, context) : .kept
        }
        try await context.transaction.save(items)
        try await revokeIneligible(context, reason: why)
        try instance.move(to: .applied)
        instance.appliedAt = context.now
        try await context.transaction.save(instance)
        let removed = items.filter { [.removed, .excluded].contains($0.outcome) }.count
        try await context.audit(context.event(
            "review.applied", subject: instance.id.rawValue, details: ["name": campaign.name, "items": "\(items.count)", "removed": "\(removed)"]))
    }

    func remove(_ item: ReviewItem, why: String, _ context: AccessContext) async throws -> ReviewItem.Outcome {
        let reason = "\(why): denied" + (item.decidedBy.map { " by \($0)" } ?? " (no response)") + (item.reason.map { ": \($0)" } ?? "")
        switch item.kind {
        case .assignment:
            guard var assignment = try await context.transaction.assignment(id: AssignmentID(rawValue: item.targetID)), assignment.state != .ended else {
                return .alreadyGone
            }
            try await endAssignment(&assignment, .revoked, reason: reason, context)
            return .removed
        case .eligibility:
            guard var eligibility = try await context.transaction.eligibility(id: EligibilityID(rawValue: item.targetID)) else { return .alreadyGone }
            if let userID = item.userID, case .group = eligibility.principal {
                eligibility.excludedUserIDs.insert(userID)
                try await context.transaction.save(eligibility)
                try await context.audit(context.event(
                    "eligibility.excluded", subject: eligibility.id.rawValue, user: item.holder, scope: eligibility.scope, role: eligibility.role,
                    reason: reason, details: ["principal": eligibility.principal.description]))
                return .excluded
            }
            if case .rule = eligibility.source { return .readOnly }
            try await context.transaction.delete(eligibility.id)
            try await context.audit(context.event(
                "eligibility.removed", subject: eligibility.id.rawValue, user: item.holder, scope: eligibility.scope, role: eligibility.role,
                reason: reason, details: ["principal": eligibility.principal.description]))
            return .removed
        }
    }

    func snapshotInput(_ campaign: ReviewCampaign, _ context: AccessContext) async throws -> ReviewSnapshotInput {
        let transaction = context.transaction
        let eligibilities = try await transaction.eligibilities(role: nil)
        let assignments = try await transaction.assignments(userID: nil, liveOnly: true)
        let bindings = try await transaction.roleBindings()
        var groups = Set(campaign.reviewers.groups)
        for principal in campaign.reviewers.fallback { if case .group(let id) = principal { groups.insert(id) } }
        for eligibility in eligibilities where campaign.covers(scope: eligibility.scope, role: eligibility.role) {
            if case .group(let id) = eligibility.principal { groups.insert(id) }
        }
        // Disabled and deleted members too: they hold the eligibility until someone decides, and reviewers who are
        // no longer active are left out when reviewers are chosen.
        var members: [DirectoryEntryID: [DirectoryEntryID]] = [:]
        for group in groups { members[group] = try await transaction.memberIDs(ofGroup: group, includeInactive: true) }
        let ownedGroups = Array(groups) + bindings.map(\.groupID)
        var owners: [DirectoryEntryID: [DirectoryEntryID]] = [:]
        if campaign.reviewers.groupOwners {
            for (group, dns) in try await transaction.owners(ofGroups: ownedGroups) {
                var ids: [DirectoryEntryID] = []
                for dn in dns { if let user = try await transaction.userLive(dn: dn) { ids.append(user.record.id) } }
                owners[group] = ids
            }
        }
        let users = Dictionary(try await transaction.allUsers().map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })
        let names = Dictionary(try await transaction.liveGroups().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        return ReviewSnapshotInput(
            eligibilities: eligibilities, assignments: assignments, users: users, groupNames: names, members: members, owners: owners,
            bindings: bindings,
            recentActivations: try await transaction.activationsStarted(requestedSince: context.now.addingTimeInterval(-campaign.inactivityWindow - Self.scheduleMargin)))
    }

    /// How far before its start an activation may have been requested and still count for a window that starts later.
    static let scheduleMargin: TimeInterval = 30 * 86400
}
