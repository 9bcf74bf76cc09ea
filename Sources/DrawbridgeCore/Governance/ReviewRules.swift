import Foundation

/// What a review's snapshot is taken from, read by the caller in one transaction.
public struct ReviewSnapshotInput: Sendable {
    public var eligibilities: [Eligibility]
    /// Assignments that have not ended.
    public var assignments: [Assignment]
    /// Users by id, deleted ones included.
    public var users: [DirectoryEntryID: StoredUser]
    /// Names of the groups that eligibilities, reviewers or bindings name.
    public var groupNames: [DirectoryEntryID: String]
    /// Live members, through nested groups, of every group an eligibility or reviewer selection names.
    public var members: [DirectoryEntryID: [DirectoryEntryID]]
    /// Users who own each group (its `owner` or `managedBy`), as last synced.
    public var owners: [DirectoryEntryID: [DirectoryEntryID]]
    public var bindings: [RoleBinding]
    /// Activations that started within the longest inactivity window of interest.
    public var recentActivations: [Activation]

    public init(
        eligibilities: [Eligibility], assignments: [Assignment], users: [DirectoryEntryID: StoredUser], groupNames: [DirectoryEntryID: String],
        members: [DirectoryEntryID: [DirectoryEntryID]], owners: [DirectoryEntryID: [DirectoryEntryID]], bindings: [RoleBinding],
        recentActivations: [Activation]
    ) {
        self.eligibilities = eligibilities
        self.assignments = assignments
        self.users = users
        self.groupNames = groupNames
        self.members = members
        self.owners = owners
        self.bindings = bindings
        self.recentActivations = recentActivations
    }
}

public enum ReviewRules {
    /// The items of `instance`, as the access stands at `now`.
    public static func snapshot(campaign: ReviewCampaign, instance: ReviewInstance, input: ReviewSnapshotInput, now: Date) -> [ReviewItem] {
        var items: [ReviewItem] = []
        let login = { (id: DirectoryEntryID) in input.users[id]?.record.login ?? id.rawValue }
        func item(
            _ kind: ReviewItem.Kind, target: String, principal: Principal, user: DirectoryEntryID?, via: DirectoryEntryID?, scope: ScopePath,
            role: RoleName, grantedAt: Date? = nil
        ) -> ReviewItem {
            let reviewers = reviewerIDs(campaign: campaign, principal: principal, user: user, via: via, scope: scope, role: role, input: input)
            let (recommendation, why) = recommend(
                kind: kind, principal: principal, user: user, scope: scope, role: role, grantedAt: grantedAt, window: campaign.inactivityWindow,
                input: input, now: now)
            let holder = user.map(login) ?? "group:" + (input.groupNames[principal.id] ?? principal.id.rawValue)
            return ReviewItem(
                instanceID: instance.id, kind: kind, targetID: target, principal: principal, userID: user, holder: holder,
                viaGroup: via.map { input.groupNames[$0] ?? $0.rawValue }, scope: scope, role: role, reviewerIDs: reviewers,
                reviewerLogins: reviewers.map(login), recommendation: recommendation, recommendationReason: why)
        }
        if campaign.subjects.contains(.eligible) {
            for eligibility in input.eligibilities where campaign.covers(scope: eligibility.scope, role: eligibility.role) {
                if let end = eligibility.endAt, end <= now { continue }
                switch (eligibility.principal, campaign.groupMode) {
                case (.user(let id), _):
                    items.append(item(.eligibility, target: eligibility.id.rawValue, principal: eligibility.principal, user: id, via: nil,
                                      scope: eligibility.scope, role: eligibility.role, grantedAt: eligibility.startAt))
                case (.group, .perGroup):
                    items.append(item(.eligibility, target: eligibility.id.rawValue, principal: eligibility.principal, user: nil, via: nil,
                                      scope: eligibility.scope, role: eligibility.role, grantedAt: eligibility.startAt))
                case (.group(let group), .perUser):
                    for member in (input.members[group] ?? []).sorted() where !eligibility.excludedUserIDs.contains(member) {
                        items.append(item(.eligibility, target: eligibility.id.rawValue, principal: eligibility.principal, user: member, via: group,
                                          scope: eligibility.scope, role: eligibility.role, grantedAt: eligibility.startAt))
                    }
                }
            }
        }
        if campaign.subjects.contains(.active) {
            for assignment in input.assignments where assignment.state != .ended && campaign.covers(scope: assignment.scope, role: assignment.role) {
                items.append(item(.assignment, target: assignment.id.rawValue, principal: .user(assignment.userID), user: assignment.userID, via: nil,
                                  scope: assignment.scope, role: assignment.role))
            }
        }
        return items
    }

    static func reviewerIDs(
        campaign: ReviewCampaign, principal: Principal, user: DirectoryEntryID?, via: DirectoryEntryID?, scope: ScopePath, role: RoleName,
        input: ReviewSnapshotInput
    ) -> [DirectoryEntryID] {
        let selection = campaign.reviewers
        // Those whose own access the item is: its user, or for a per-group item every member of the group.
        var holders: Set<DirectoryEntryID> = user.map { [$0] } ?? []
        if user == nil, case .group(let group) = principal { holders.formUnion(input.members[group] ?? []) }
        var chosen = selection.users + selection.groups.flatMap { input.members[$0] ?? [] }
        if selection.selfReview, let user { chosen.append(user) }
        if selection.groupOwners {
            let group: DirectoryEntryID? = via ?? (user == nil ? principal.id : nil)
                ?? input.bindings.first { $0.scope == scope && $0.role == role }?.groupID
            if let group { chosen += input.owners[group] ?? [] }
        }
        let allowed = { (id: DirectoryEntryID) in
            guard let account = input.users[id], account.deletedAt == nil, account.record.enabled else { return false }
            return selection.selfReview || !holders.contains(id)
        }
        var reviewers = chosen.filter(allowed)
        if reviewers.isEmpty {
            reviewers = selection.fallback.flatMap { principal -> [DirectoryEntryID] in
                switch principal {
                case .user(let id): [id]
                case .group(let id): input.members[id] ?? []
                }
            }.filter { id in allowed(id) && !(selection.selfReview && holders.contains(id) && user == nil) }
        }
        var seen: Set<DirectoryEntryID> = []
        return reviewers.filter { seen.insert($0).inserted }
    }

    /// Deny when the holder's account is gone or disabled, or when nobody used the eligibility within the window.
    static func recommend(
        kind: ReviewItem.Kind, principal: Principal, user: DirectoryEntryID?, scope: ScopePath, role: RoleName, grantedAt: Date?,
        window: TimeInterval, input: ReviewSnapshotInput, now: Date
    ) -> (ReviewItem.Decision, String) {
        if let user {
            guard let account = input.users[user], account.deletedAt == nil else { return (.deny, "the account was deleted from the directory") }
            if !account.record.enabled { return (.deny, "the account is disabled in the directory") }
        }
        if kind == .assignment { return (.approve, "the account is active") }
        let holders: Set<DirectoryEntryID> = user.map { [$0] } ?? Set(input.members[principal.id] ?? [])
        let since = now.addingTimeInterval(-window)
        let days = Int((window / 86400).rounded())
        if let grantedAt, grantedAt > since { return (.approve, "granted within the last \(days) days, too recently to judge its use") }
        let used = input.recentActivations.contains { activation in
            holders.contains(activation.userID) && activation.role == role && scope.contains(activation.scope)
                && activation.startAt >= since && activation.startAt <= now && [.active, .ended].contains(activation.state)
                && (activation.endedAt.map { $0 > activation.startAt } ?? true)
        }
        return used ? (.approve, "activated within the last \(days) days") : (.deny, "not activated in the last \(days) days")
    }

    /// Why `reviewer` may not record `decision` on `item`; empty when they may.
    public static func refusals(
        deciding item: ReviewItem, _ decision: ReviewItem.Decision, reason: String?, by reviewer: DirectoryEntryID?, isAdministrator: Bool,
        heldByReviewer: Bool, instance: ReviewInstance, campaign: ReviewCampaign
    ) -> [Refusal] {
        var refusals: [Refusal] = []
        if instance.status != .inProgress {
            refusals.append(Refusal(.invalidState, "the review is \(instance.status.rawValue), not in progress"))
        }
        let listed = reviewer.map { item.reviewerIDs.contains($0) } ?? false
        if !listed && !isAdministrator { refusals.append(Refusal(.notAllowed, "you are not a reviewer of this item")) }
        if heldByReviewer && !campaign.reviewers.selfReview {
            refusals.append(Refusal(.selfApproval, "nobody decides on their own access unless the review is a self-review"))
        }
        if campaign.requireReason && (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            refusals.append(Refusal(.justificationRequired, "this review asks for a reason with each decision"))
        }
        return refusals
    }

    /// The decision applied at completion: the reviewer's, or what the campaign says for silence (nil: no change).
    public static func effectiveDecision(_ item: ReviewItem, noResponse: ReviewCampaign.NoResponse) -> ReviewItem.Decision? {
        if let decision = item.decision { return decision }
        switch noResponse {
        case .noChange: return nil
        case .remove: return .deny
        case .approve: return .approve
        case .recommendation: return item.recommendation
        }
    }

    /// Reminder lead times that have come for an in-progress review and were not sent yet.
    public static func dueReminders(_ instance: ReviewInstance, campaign: ReviewCampaign, now: Date) -> [TimeInterval] {
        guard instance.status == .inProgress else { return [] }
        return campaign.reminderLeadTimes.filter { lead in
            !instance.remindersSent.contains(lead) && now >= instance.endAt.addingTimeInterval(-lead) && now < instance.endAt
        }.sorted(by: >)
    }
}
