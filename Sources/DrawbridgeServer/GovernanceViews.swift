import DrawbridgeCore
import Foundation
import Hummingbird

// Access reviews and security alerts as the API, the web UI and the CLI show them: names instead of ids,
// fixes as words. Public, so the CLI prints the same shapes.

public struct ReviewView: ResponseCodable, Sendable {
    public var id: String
    public var campaignID: String
    public var name: String
    /// 1 for the first review of the series.
    public var run: Int
    public var status: String
    public var startAt: Date
    public var endAt: Date
    public var items: Int
    public var decided: Int
    public var frequency: String
    public var requireReason: Bool
    public var noResponse: String

    public init(_ instance: ReviewInstance, _ campaign: ReviewCampaign, items: [ReviewItem]) {
        id = instance.id.rawValue
        campaignID = campaign.id.rawValue
        name = campaign.name
        run = instance.index + 1
        status = instance.status.rawValue
        startAt = instance.startAt
        endAt = instance.endAt
        self.items = items.count
        decided = items.filter { $0.decision != nil }.count
        frequency = campaign.recurrence.frequency.rawValue
        requireReason = campaign.requireReason
        noResponse = campaign.noResponse.rawValue
    }
}

public struct ReviewItemView: ResponseCodable, Sendable {
    public var id: String
    public var reviewID: String
    /// `eligibility` or `assignment`.
    public var kind: String
    /// A login, or `group:NAME` for a per-group item.
    public var holder: String
    public var viaGroup: String?
    public var scope: ScopePath
    public var role: RoleName
    public var reviewers: [String]
    public var recommendation: String
    public var recommendationReason: String
    public var decision: String?
    public var reason: String?
    public var decidedBy: String?
    public var decidedAt: Date?
    public var appliedDecision: String?
    public var outcome: String?

    public init(_ item: ReviewItem) {
        id = item.id.rawValue
        reviewID = item.instanceID.rawValue
        kind = item.kind.rawValue
        holder = item.holder
        viaGroup = item.viaGroup
        scope = item.scope
        role = item.role
        reviewers = item.reviewerLogins
        recommendation = item.recommendation.rawValue
        recommendationReason = item.recommendationReason
        decision = item.decision?.rawValue
        reason = item.reason
        decidedBy = item.decidedBy
        decidedAt = item.decidedAt
        appliedDecision = item.appliedDecision?.rawValue
        outcome = item.outcome?.rawValue
    }
}

public struct AlertView: ResponseCodable, Sendable {
    public var id: String
    public var key: String
    public var kind: String
    public var severity: String
    public var state: String
    public var title: String
    public var detail: String
    public var items: [String]
    /// The fix action in words; absent when there is none.
    public var fix: String?
    public var raisedAt: Date
    public var lastSeenAt: Date
    public var resolvedAt: Date?
    public var dismissedAt: Date?
    public var dismissedBy: String?
    public var dismissReason: String?

    public init(_ alert: SecurityAlert) {
        id = alert.id
        key = alert.key
        kind = alert.kind.rawValue
        severity = alert.severity.rawValue
        state = alert.state.rawValue
        title = alert.title
        detail = alert.detail
        items = alert.items
        fix = alert.fix?.summary
        raisedAt = alert.raisedAt
        lastSeenAt = alert.lastSeenAt
        resolvedAt = alert.resolvedAt
        dismissedAt = alert.dismissedAt
        dismissedBy = alert.dismissedBy
        dismissReason = alert.dismissReason
    }
}
