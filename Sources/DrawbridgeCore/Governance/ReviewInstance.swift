import Foundation

/// One run of a campaign: its items are a snapshot taken when it starts.
public struct ReviewInstance: Hashable, Sendable, Codable, Identifiable {
    public enum Status: String, Hashable, Sendable, Codable, CaseIterable {
        case notStarted
        case inProgress
        case completed
        case applying
        case applied

        public var allowedNext: Set<Status> {
            switch self {
            case .notStarted: [.inProgress]
            case .inProgress: [.completed]
            case .completed: [.applying]
            case .applying: [.applied]
            case .applied: []
            }
        }
    }

    public var id: ReviewInstanceID
    public var campaignID: ReviewCampaignID
    /// 0 for the first review of the series.
    public var index: Int
    public var startAt: Date
    public var endAt: Date
    public var status: Status
    public var startedAt: Date?
    public var completedAt: Date?
    public var appliedAt: Date?
    /// Lead times whose reminders went out.
    public var remindersSent: [TimeInterval]

    public init(id: ReviewInstanceID = .make(), campaignID: ReviewCampaignID, index: Int, startAt: Date, duration: TimeInterval) {
        self.id = id
        self.campaignID = campaignID
        self.index = index
        self.startAt = startAt
        self.endAt = startAt.addingTimeInterval(duration)
        self.status = .notStarted
        self.remindersSent = []
    }

    public mutating func move(to next: Status) throws(InvalidReviewTransition) {
        guard status.allowedNext.contains(next) else { throw InvalidReviewTransition(from: status, to: next) }
        status = next
    }

    /// When the scheduler must next look at it.
    public var nextDueAt: Date? {
        switch status {
        case .notStarted: startAt
        case .inProgress: endAt
        case .completed, .applying: nil
        case .applied: nil
        }
    }
}

public struct InvalidReviewTransition: Error, Hashable, Sendable, CustomStringConvertible {
    public var from: ReviewInstance.Status
    public var to: ReviewInstance.Status

    public var description: String { "a review cannot move from \(from.rawValue) to \(to.rawValue)" }
}

/// One holder's access (or one group's eligibility) to decide on.
public struct ReviewItem: Hashable, Sendable, Codable, Identifiable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case eligibility
        case assignment
    }

    public enum Decision: String, Hashable, Sendable, Codable, CaseIterable {
        case approve
        case deny
    }

    /// What applying the review did with the item.
    public enum Outcome: String, Hashable, Sendable, Codable {
        case kept
        case removed
        /// The user no longer holds it through the group: an exclusion on the eligibility.
        case excluded
        /// Already gone when the review was applied.
        case alreadyGone
        /// Denied, but it comes from a rule in the configuration, which a review cannot change.
        case readOnly
    }

    public var id: ReviewItemID
    public var instanceID: ReviewInstanceID
    public var kind: Kind
    /// The eligibility or assignment under review.
    public var targetID: String
    public var principal: Principal
    /// The user whose access this is; nil for a per-group item.
    public var userID: DirectoryEntryID?
    /// The login, or `group:NAME` for a per-group item.
    public var holder: String
    /// The group through which a per-user item's holder is eligible.
    public var viaGroup: String?
    public var scope: ScopePath
    public var role: RoleName
    public var reviewerIDs: [DirectoryEntryID]
    public var reviewerLogins: [String]
    public var recommendation: Decision
    public var recommendationReason: String
    public var decision: Decision?
    public var reason: String?
    public var decidedBy: String?
    public var decidedAt: Date?
    /// The decision that was applied: the reviewer's, or the no-response rule's.
    public var appliedDecision: Decision?
    public var outcome: Outcome?

    public init(
        id: ReviewItemID = .make(), instanceID: ReviewInstanceID, kind: Kind, targetID: String, principal: Principal, userID: DirectoryEntryID?,
        holder: String, viaGroup: String?, scope: ScopePath, role: RoleName, reviewerIDs: [DirectoryEntryID], reviewerLogins: [String],
        recommendation: Decision, recommendationReason: String
    ) {
        self.id = id
        self.instanceID = instanceID
        self.kind = kind
        self.targetID = targetID
        self.principal = principal
        self.userID = userID
        self.holder = holder
        self.viaGroup = viaGroup
        self.scope = scope
        self.role = role
        self.reviewerIDs = reviewerIDs
        self.reviewerLogins = reviewerLogins
        self.recommendation = recommendation
        self.recommendationReason = recommendationReason
    }
}

extension ReviewItem {
    public static let csvHeader =
        "item,review,kind,holder,via_group,scope,role,reviewers,recommendation,recommendation_reason,decision,reason,decided_by,decided_at,applied_decision,outcome"

    public var csvLine: String {
        let cells: [String?] = [
            id.rawValue, instanceID.rawValue, kind.rawValue, holder, viaGroup, scope.description, role.rawValue, reviewerLogins.joined(separator: " "),
            recommendation.rawValue, recommendationReason, decision?.rawValue, reason, decidedBy, decidedAt?.iso8601, appliedDecision?.rawValue,
            outcome?.rawValue,
        ]
        return cells.map { AuditRow.csvCell($0 ?? "") }.joined(separator: ",")
    }
}
