import ArgumentParser
import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeStore
import Foundation

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Access reviews: who still needs the access they hold.",
        subcommands: [Create.self, List.self, Show.self, Decide.self, Complete.self, Export.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a review campaign; its first review starts at --start (default: now).")
        @OptionGroup var options: GlobalOptions
        @Option var name: String
        @Option(help: "A scope to cover, with everything below it; repeat for more.") var scope: [ScopePath]
        @Option(help: "A role to cover; repeat for more (default: every role).") var role: [RoleName] = []
        @Option(help: "What to review: eligible, active or both.") var subjects: SubjectChoice = .both
        @Option(help: "Group-based eligibility: perUser or perGroup.") var groupMode: ReviewCampaign.GroupMode = .perUser
        @Option(help: "A reviewer's login; repeat for more.") var reviewer: [String] = []
        @Option(help: "A directory group whose members review; repeat for more.") var reviewerGroup: [String] = []
        @Flag(help: "Each holder reviews their own access.") var selfReview = false
        @Flag(help: "The owners of the group concerned review (owner, managedBy).") var groupOwners = false
        @Option(help: "A fallback reviewer's login, for items nobody else may review; repeat for more.") var fallback: [String] = []
        @Option(help: "once, weekly, monthly, quarterly, semiAnnually or annually.") var frequency: Recurrence.Frequency = .once
        @Option(help: "When the first review starts (ISO 8601).") var start: TimeArgument?
        @Option(help: "How long each review stays open.") var duration: DurationArgument
        @Option(help: "No review starts after this time (ISO 8601).") var endOn: TimeArgument?
        @Option(help: "The series stops after this many reviews.") var runs: Int?
        @Flag(help: "Decisions may be given without a reason.") var reasonOptional = false
        @Option(help: "Recommend denial when the role was not activated for this long.") var inactivity: DurationArgument?
        @Flag(help: "Leave applying the results to an administrator.") var manualApply = false
        @Option(help: "Undecided items: noChange, remove, approve or recommendation.") var noResponse: ReviewCampaign.NoResponse = .noChange
        @Option(help: "Remind reviewers this long before the end; repeat for more.") var remind: [DurationArgument] = []

        enum SubjectChoice: String, ExpressibleByArgument, CaseIterable {
            case eligible, active, both
        }

        func run() async throws {
            try await reportingErrors {
                guard endOn == nil || runs == nil else { throw ValidationError("give at most one of --end-on or --runs") }
                let context = try CommandContext(options)
                let (campaign, instance) = try await context.withStore { store in
                    var users: [DirectoryEntryID] = []
                    for login in reviewer { users.append(try await resolvePrincipal(user: login, group: nil, store).id) }
                    var groups: [DirectoryEntryID] = []
                    for name in reviewerGroup { groups.append(try await resolvePrincipal(user: nil, group: name, store).id) }
                    var fallbacks: [Principal] = []
                    for login in fallback { fallbacks.append(try await resolvePrincipal(user: login, group: nil, store)) }
                    let now = Date()
                    let end: Recurrence.End = if let endOn { .on(endOn.date) } else if let runs { .after(runs) } else { .never }
                    let campaign = ReviewCampaign(
                        name: name, scopes: scope, roles: role,
                        subjects: subjects == .both ? [.eligible, .active] : [subjects == .eligible ? .eligible : .active], groupMode: groupMode,
                        reviewers: ReviewerSelection(users: users, groups: groups, selfReview: selfReview, groupOwners: groupOwners, fallback: fallbacks),
                        recurrence: Recurrence(frequency: frequency, startAt: start?.date ?? now, duration: duration.seconds, end: end),
                        requireReason: !reasonOptional, inactivityWindow: inactivity?.seconds ?? 30 * 86400, autoApply: !manualApply,
                        noResponse: noResponse, reminderLeadTimes: remind.map(\.seconds), createdBy: context.operatorActor, createdAt: now)
                    return try await context.engine(store).createReview(campaign, by: context.operatorActor, source: .cli)
                }
                print("Created review campaign \(campaign.id) '\(campaign.name)'; review \(instance.id) is \(instance.status.rawValue) (\(formatTime(instance.startAt)) – \(formatTime(instance.endAt)))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reviews, newest first.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let rows = try await context.withStore { store in
                    try await store.withAccessTransaction(commit: false) { transaction in
                        var rows: [ReviewView] = []
                        let campaigns = Dictionary(uniqueKeysWithValues: try await transaction.reviewCampaigns().map { ($0.id, $0) })
                        for instance in try await transaction.reviewInstances(campaignID: nil) {
                            guard let campaign = campaigns[instance.campaignID] else { continue }
                            rows.append(ReviewView(instance, campaign, items: try await transaction.reviewItems(instanceID: instance.id)))
                        }
                        return rows
                    }
                }
                switch format {
                case .json: print(try JSONOutput.encode(rows))
                case .table:
                    print(TableRenderer(
                        headers: ["REVIEW", "NAME", "RUN", "STATUS", "START", "END", "ITEMS", "DECIDED"],
                        rows: rows.map { [$0.id, $0.name, "\($0.run)", $0.status, formatTime($0.startAt), formatTime($0.endAt), "\($0.items)", "\($0.decided)"] }
                    ).render())
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A review's items with recommendation and decision.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The review's id.") var id: String
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let items = try await context.withStore { try await reviewItems(ReviewInstanceID(rawValue: id), $0) }
                switch format {
                case .json: print(try JSONOutput.encode(items.map(ReviewItemView.init)))
                case .table:
                    print(TableRenderer(
                        headers: ["ITEM", "HOLDER", "VIA", "ROLE", "SCOPE", "REVIEWERS", "RECOMMENDED", "DECISION", "OUTCOME"],
                        rows: items.map {
                            [$0.id.rawValue, $0.holder, $0.viaGroup ?? "—", $0.role.rawValue, $0.scope.description, $0.reviewerLogins.joined(separator: " "),
                             "\($0.recommendation.rawValue) (\($0.recommendationReason))", $0.decision?.rawValue ?? "—", $0.outcome?.rawValue ?? "—"]
                        }
                    ).render())
                }
            }
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve or deny review items as an administrator (reviewers use the web UI or API).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Item ids.") var items: [String]
        @Option(help: "approve or deny") var decision: ReviewItem.Decision
        @Option var reason: String?

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let decided = try await context.withStore { store in
                    try await context.engine(store).decideReview(
                        items: items.map { ReviewItemID(rawValue: $0) }, decision, reason: reason, by: context.operatorActor, source: .cli)
                }
                for item in decided { print("\(decision == .approve ? "Approved" : "Denied") \(item.holder): \(item.role) at \(item.scope)") }
            }
        }
    }

    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a review now; with --apply, apply a completed review's results.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The review's id.") var id: String
        @Flag(help: "Apply a review that was completed without applying.") var apply = false

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let instance = try await context.withStore { store in
                    let engine = context.engine(store)
                    let id = ReviewInstanceID(rawValue: id)
                    return try await apply
                        ? engine.applyReview(id, by: context.operatorActor, source: .cli)
                        : engine.completeReview(id, by: context.operatorActor, source: .cli)
                }
                print("Review \(instance.id) is \(instance.status.rawValue)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A review's results as CSV.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The review's id.") var id: String

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let items = try await context.withStore { try await reviewItems(ReviewInstanceID(rawValue: id), $0) }
                print(ReviewItem.csvHeader)
                for item in items { print(item.csvLine) }
            }
        }
    }
}

func reviewItems(_ id: ReviewInstanceID, _ store: any DrawbridgeStore) async throws -> [ReviewItem] {
    try await store.withAccessTransaction(commit: false) { transaction in
        guard try await transaction.reviewInstance(id: id) != nil else { throw CommandFailure("no review \(id); see drawbridge review list") }
        return try await transaction.reviewItems(instanceID: id)
    }
}

extension ReviewCampaign.GroupMode: ExpressibleByArgument {}
extension ReviewCampaign.NoResponse: ExpressibleByArgument {}
extension Recurrence.Frequency: ExpressibleByArgument {}
extension ReviewItem.Decision: ExpressibleByArgument {}
