import Foundation

public typealias ReviewCampaignID = EntityID<ReviewCampaign>
public typealias ReviewInstanceID = EntityID<ReviewInstance>
public typealias ReviewItemID = EntityID<ReviewItem>

/// What an access review covers, who reviews, when it runs and what happens with the answers.
public struct ReviewCampaign: Hashable, Sendable, Codable, Identifiable {
    public enum Subject: String, Hashable, Sendable, Codable, CaseIterable {
        /// Eligibilities: who may activate.
        case eligible
        /// Assignments: who holds the membership directly.
        case active
    }

    /// How eligibility held through a directory group is reviewed.
    public enum GroupMode: String, Hashable, Sendable, Codable, CaseIterable {
        /// One item per member who holds it through the group, as last synced.
        case perUser
        /// One item for the group.
        case perGroup
    }

    /// What happens to an item nobody decided when the review ends.
    public enum NoResponse: String, Hashable, Sendable, Codable, CaseIterable {
        case noChange
        case remove
        case approve
        case recommendation
    }

    public var id: ReviewCampaignID
    public var name: String
    /// Each scope includes everything below it.
    public var scopes: [ScopePath]
    /// Empty: every role.
    public var roles: [RoleName]
    public var subjects: Set<Subject>
    public var groupMode: GroupMode
    public var reviewers: ReviewerSelection
    public var recurrence: Recurrence
    public var requireReason: Bool
    /// An item is recommended for denial when its holder has not activated the role for this long.
    public var inactivityWindow: TimeInterval
    /// Apply decisions as soon as a review completes; otherwise an administrator applies them.
    public var autoApply: Bool
    public var noResponse: NoResponse
    /// Reviewers with undecided items are reminded this long before the end.
    public var reminderLeadTimes: [TimeInterval]
    public var createdBy: Actor
    public var createdAt: Date

    public init(
        id: ReviewCampaignID = .make(), name: String, scopes: [ScopePath], roles: [RoleName], subjects: Set<Subject>, groupMode: GroupMode,
        reviewers: ReviewerSelection, recurrence: Recurrence, requireReason: Bool = true, inactivityWindow: TimeInterval = 30 * 86400,
        autoApply: Bool = true, noResponse: NoResponse = .noChange, reminderLeadTimes: [TimeInterval] = [], createdBy: Actor, createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.roles = roles
        self.subjects = subjects
        self.groupMode = groupMode
        self.reviewers = reviewers
        self.recurrence = recurrence
        self.requireReason = requireReason
        self.inactivityWindow = inactivityWindow
        self.autoApply = autoApply
        self.noResponse = noResponse
        self.reminderLeadTimes = reminderLeadTimes
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// Whether an eligibility or assignment at (scope, role) is in the campaign.
    public func covers(scope: ScopePath, role: RoleName) -> Bool {
        (roles.isEmpty || roles.contains(role)) && scopes.contains { $0.contains(scope) }
    }

    /// Everything wrong with the definition, for a refusal that lists it all.
    public func problems() -> [String] {
        var problems: [String] = []
        if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append("a review needs a name") }
        if name.count > 200 { problems.append("the name is longer than 200 characters") }
        if scopes.isEmpty { problems.append("name at least one scope (/ covers everything)") }
        if subjects.isEmpty { problems.append("review eligible assignments, active assignments, or both") }
        if reviewers.isEmpty { problems.append("name reviewers: users, groups, self-review or group owners") }
        if (reviewers.groupOwners || reviewers.selfReview) && reviewers.fallback.isEmpty && reviewers.users.isEmpty && reviewers.groups.isEmpty {
            problems.append("owner- and self-review need a fallback reviewer for items without an owner or holder")
        }
        if inactivityWindow < 86400 { problems.append("the inactivity window must be at least one day") }
        if reminderLeadTimes.contains(where: { $0 <= 0 || $0 >= recurrence.duration }) {
            problems.append("reminders must fall within the review's duration")
        }
        problems += recurrence.problems()
        return problems
    }
}

/// Who reviews an item. Nobody decides on their own access, except in a self-review.
public struct ReviewerSelection: Hashable, Sendable, Codable {
    public var users: [DirectoryEntryID]
    /// Every member, through nested groups too, as synced when the review starts.
    public var groups: [DirectoryEntryID]
    /// Each holder reviews their own access.
    public var selfReview: Bool
    /// The owners (`owner`, `managedBy`) of the group the item is about.
    public var groupOwners: Bool
    /// Reviewers for items where self-review or owners leave nobody.
    public var fallback: [Principal]

    public init(users: [DirectoryEntryID] = [], groups: [DirectoryEntryID] = [], selfReview: Bool = false, groupOwners: Bool = false, fallback: [Principal] = []) {
        self.users = users
        self.groups = groups
        self.selfReview = selfReview
        self.groupOwners = groupOwners
        self.fallback = fallback
    }

    public var isEmpty: Bool { users.isEmpty && groups.isEmpty && !selfReview && !groupOwners }
}

/// When the reviews of a campaign run.
public struct Recurrence: Hashable, Sendable, Codable {
    public enum Frequency: String, Hashable, Sendable, Codable, CaseIterable {
        case once
        case weekly
        case monthly
        case quarterly
        case semiAnnually
        case annually

        var step: DateComponents? {
            switch self {
            case .once: nil
            case .weekly: DateComponents(day: 7)
            case .monthly: DateComponents(month: 1)
            case .quarterly: DateComponents(month: 3)
            case .semiAnnually: DateComponents(month: 6)
            case .annually: DateComponents(year: 1)
            }
        }
    }

    public enum End: Hashable, Sendable, Codable {
        case never
        /// No review starts after this moment.
        case on(Date)
        /// The series stops after this many reviews.
        case after(Int)
    }

    public var frequency: Frequency
    public var startAt: Date
    /// How long each review stays open.
    public var duration: TimeInterval
    public var end: End

    public init(frequency: Frequency, startAt: Date, duration: TimeInterval, end: End = .never) {
        self.frequency = frequency
        self.startAt = startAt
        self.duration = duration
        self.end = end
    }

    /// The start of review number `index` (0 is the first), or nil when the series has ended before it.
    /// Months are counted on the UTC calendar from the first start, so a review on the 31st runs on the last day of shorter months.
    public func start(of index: Int) -> Date? {
        guard index >= 0 else { return nil }
        if index > 0 {
            guard let step = frequency.step else { return nil }
            if case .after(let count) = end, index >= count { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let components = DateComponents(year: (step.year ?? 0) * index, month: (step.month ?? 0) * index, day: (step.day ?? 0) * index)
            guard let date = calendar.date(byAdding: components, to: startAt) else { return nil }
            if case .on(let last) = end, date > last { return nil }
            return date
        }
        return startAt
    }

    /// The shortest gap between two starts, which a review must fit into.
    var shortestPeriod: TimeInterval? {
        switch frequency {
        case .once: nil
        case .weekly: 7 * 86400
        case .monthly: 28 * 86400
        case .quarterly: 89 * 86400
        case .semiAnnually: 181 * 86400
        case .annually: 365 * 86400
        }
    }

    public func problems() -> [String] {
        var problems: [String] = []
        if duration < 3600 { problems.append("a review must stay open at least one hour") }
        if let period = shortestPeriod, duration > period { problems.append("a \(frequency.rawValue) review cannot stay open longer than its period") }
        switch end {
        case .never: break
        case .on(let date): if date < startAt { problems.append("the series ends before it starts") }
        case .after(let count): if count < 1 { problems.append("a series runs at least once") }
        }
        return problems
    }
}
