import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// A campaign as the API and the web form describe it: logins and group names, durations as text.
struct ReviewDraft: Decodable, Sendable {
    var name: String
    var scopes: [ScopePath]
    var roles: [RoleName]?
    /// `eligible`, `active`; default both.
    var subjects: [ReviewCampaign.Subject]?
    var groupMode: ReviewCampaign.GroupMode?
    /// Logins.
    var reviewers: [String]?
    /// Directory group names.
    var reviewerGroups: [String]?
    var selfReview: Bool?
    var groupOwners: Bool?
    /// Logins, or `group:NAME`.
    var fallbackReviewers: [String]?
    var frequency: Recurrence.Frequency?
    var start: Date?
    /// `7d`, `12h`, …
    var duration: String
    var endOn: Date?
    var runs: Int?
    var requireReason: Bool?
    var inactivity: String?
    var autoApply: Bool?
    var noResponse: ReviewCampaign.NoResponse?
    var reminders: [String]?
}

/// The items one reviewer has in one review in progress.
struct ReviewerWork: Sendable {
    var review: ReviewView
    var items: [ReviewItem]
}

extension ServerServices {
    func campaign(from draft: ReviewDraft, by actor: Actor) async throws -> ReviewCampaign {
        var refusals: [Refusal] = []
        func seconds(_ text: String?, _ field: String) -> TimeInterval? {
            guard let text else { return nil }
            guard let value = DurationText.seconds(text) else {
                refusals.append(Refusal(.invalidInput, "\(field): '\(text)' is not a duration like 12h or 7d"))
                return nil
            }
            return value
        }
        func principals(_ names: [String]?, _ prefix: String) async throws -> [Principal] {
            var found: [Principal] = []
            for name in names ?? [] {
                do {
                    found.append(try await principal(named: prefix + name))
                } catch let refused as ActionRefused {
                    refusals += refused.refusals
                }
            }
            return found
        }
        if draft.endOn != nil && draft.runs != nil { refusals.append(Refusal(.invalidInput, "give at most one of endOn and runs")) }
        let duration = seconds(draft.duration, "duration") ?? 0
        let inactivity = seconds(draft.inactivity, "inactivity") ?? 30 * 86400
        let reminders = (draft.reminders ?? []).compactMap { seconds($0, "reminders") }
        let users = try await principals(draft.reviewers, "user:").map(\.id)
        let groups = try await principals(draft.reviewerGroups, "group:").map(\.id)
        let fallback = try await principals(draft.fallbackReviewers, "")
        guard refusals.isEmpty else { throw ActionRefused(refusals) }
        let now = clock.now()
        let end: Recurrence.End = if let on = draft.endOn { .on(on) } else if let runs = draft.runs { .after(runs) } else { .never }
        return ReviewCampaign(
            name: draft.name.trimmingCharacters(in: .whitespacesAndNewlines), scopes: draft.scopes, roles: draft.roles ?? [],
            subjects: Set(draft.subjects ?? [.eligible, .active]), groupMode: draft.groupMode ?? .perUser,
            reviewers: ReviewerSelection(
                users: users, groups: groups, selfReview: draft.selfReview ?? false, groupOwners: draft.groupOwners ?? false, fallback: fallback),
            recurrence: Recurrence(frequency: draft.frequency ?? .once, startAt: draft.start ?? now, duration: duration, end: end),
            requireReason: draft.requireReason ?? true, inactivityWindow: inactivity, autoApply: draft.autoApply ?? true,
            noResponse: draft.noResponse ?? .noChange, reminderLeadTimes: reminders, createdBy: actor, createdAt: now)
    }

    func reviewViews() async throws -> [ReviewView] {
        try await read { transaction in
            let campaigns = Dictionary(uniqueKeysWithValues: try await transaction.reviewCampaigns().map { ($0.id, $0) })
            var views: [ReviewView] = []
            for instance in try await transaction.reviewInstances(campaignID: nil) {
                guard let campaign = campaigns[instance.campaignID] else { continue }
                views.append(ReviewView(instance, campaign, items: try await transaction.reviewItems(instanceID: instance.id)))
            }
            return views
        }
    }

    func review(_ id: ReviewInstanceID) async throws -> (ReviewView, [ReviewItem]) {
        try await read { transaction in
            guard let instance = try await transaction.reviewInstance(id: id),
                let campaign = try await transaction.reviewCampaign(id: instance.campaignID)
            else { throw APIProblem.notFound("no review \(id)") }
            let items = try await transaction.reviewItems(instanceID: id)
            return (ReviewView(instance, campaign, items: items), items)
        }
    }

    /// The reviews in progress where `userID` reviews something, with those items.
    func reviewerWork(for userID: DirectoryEntryID) async throws -> [ReviewerWork] {
        try await read { transaction in
            var work: [ReviewerWork] = []
            for instance in try await transaction.reviewInstances(statuses: [.inProgress]) {
                guard let campaign = try await transaction.reviewCampaign(id: instance.campaignID) else { continue }
                let all = try await transaction.reviewItems(instanceID: instance.id)
                let mine = all.filter { $0.reviewerIDs.contains(userID) }
                if !mine.isEmpty { work.append(ReviewerWork(review: ReviewView(instance, campaign, items: all), items: mine)) }
            }
            return work
        }
    }
}
