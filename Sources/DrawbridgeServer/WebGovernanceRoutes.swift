import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird

/// Access reviews and security alerts in the browser: reviewers decide their items (one or many at once);
/// administrators create campaigns, follow and complete reviews, and handle alerts.
struct WebGovernanceRoutes {
    let web: WebRoutes
    var services: ServerServices { web.services }

    func registerReviewer(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("reviews", use: myReviewsPage)
        group.post("reviews/decide", use: decide)
    }

    func registerAdministrator(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("admin/reviews", use: reviewsPage)
        group.post("admin/reviews", use: createReview)
        group.get("admin/reviews/{id}", use: reviewPage)
        group.post("admin/reviews/{id}/complete") { request, context in
            try await web.act(request, context, back: "/admin/reviews") { identity, _ in
                let instance = try await services.engine.completeReview(try reviewID(context), by: identity.administratorActor, source: .api)
                return "The review is \(instance.status.rawValue)."
            }
        }
        group.post("admin/reviews/{id}/apply") { request, context in
            try await web.act(request, context, back: "/admin/reviews") { identity, _ in
                let instance = try await services.engine.applyReview(try reviewID(context), by: identity.administratorActor, source: .api)
                return "The review is \(instance.status.rawValue)."
            }
        }
        group.get("alerts", use: alertsPage)
        group.post("alerts/evaluate") { request, context in
            try await web.act(request, context, back: "/alerts") { _, _ in
                let evaluation = try await services.engine.evaluateAlerts(directoryProblem: await services.pool.unreachableReason(), source: .api)
                return "Evaluated: \(evaluation.raised.count) raised, \(evaluation.resolved.count) resolved."
            }
        }
        group.post("alerts/{id}/fix") { request, context in
            try await web.act(request, context, back: "/alerts") { identity, _ in
                let alert = try await services.engine.fixAlert(try context.parameters.require("id"), by: identity.administratorActor, source: .api)
                return "Done: \(alert.fix?.summary ?? "fix"). The alert resolves at the next evaluation."
            }
        }
        group.post("alerts/{id}/dismiss") { request, context in
            try await web.act(request, context, back: "/alerts") { identity, form in
                let alert = try await services.engine.dismissAlert(
                    try context.parameters.require("id"), reason: form["reason"].nonBlank, by: identity.administratorActor, source: .api)
                return "Dismissed: \(alert.title)."
            }
        }
    }

    func reviewID(_ context: DrawbridgeRequestContext) throws -> ReviewInstanceID {
        ReviewInstanceID(rawValue: try context.parameters.require("id"))
    }

    @Sendable func myReviewsPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let work = try await services.reviewerWork(for: identity.user.id)
        return try web.pages.render("reviews", MyReviewsPage(
            frame: web.frame(context, title: "Access reviews", section: "reviews"),
            reviews: work.map { work in
                MyReviewsPage.Review(
                    id: work.review.id, name: work.review.name, end: WebFormat.time(work.review.endAt), reasonRequired: work.review.requireReason,
                    pending: work.items.filter { $0.decision == nil }.count, items: work.items.map(WebFormat.reviewRow))
            }))
    }

    @Sendable func decide(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try await web.act(request, context, back: "/reviews") { identity, form in
            let ids = form.all("item")
            guard !ids.isEmpty else { throw APIProblem.badRequest("select at least one item") }
            guard let decision = form["decision"].flatMap(ReviewItem.Decision.init(rawValue:)) else { throw APIProblem.badRequest("choose approve or deny") }
            let decided = try await services.engine.decideReview(
                items: ids.map { ReviewItemID(rawValue: $0) }, decision, reason: form["reason"].nonBlank, by: identity.actor, source: .api)
            return "\(decision == .approve ? "Approved" : "Denied") \(decided.count) item\(decided.count == 1 ? "" : "s")."
        }
    }

    @Sendable func reviewsPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let reviews = try await services.reviewViews()
        return try web.pages.render("admin-reviews", AdminReviewsPage(
            frame: web.frame(context, title: "Access reviews", section: "admin-reviews"),
            reviews: reviews.map {
                AdminReviewsPage.Review(
                    id: $0.id, name: $0.name, run: $0.run, status: $0.status, start: WebFormat.time($0.startAt), end: WebFormat.time($0.endAt),
                    progress: "\($0.decided) of \($0.items)")
            },
            frequencies: Recurrence.Frequency.allCases.map(\.rawValue), noResponses: ReviewCampaign.NoResponse.allCases.map(\.rawValue)))
    }

    @Sendable func createReview(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try await web.act(request, context, back: "/admin/reviews") { identity, form in
            let words = { (name: String) in (form[name] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init) }
            var scopes: [ScopePath] = []
            for text in words("scopes") {
                guard let scope = try? ScopePath(text) else { throw APIProblem.badRequest("'\(text)' is not a scope path") }
                scopes.append(scope)
            }
            var roles: [RoleName] = []
            for text in words("roles") {
                guard let role = RoleName(rawValue: text) else { throw APIProblem.badRequest("'\(text)' is not a role name") }
                roles.append(role)
            }
            let runs = try form["runs"].nonBlank.map { text in
                guard let runs = Int(text) else { throw APIProblem.badRequest("runs: '\(text)' is not a number") }
                return runs
            }
            let draft = ReviewDraft(
                name: form["name"] ?? "", scopes: scopes, roles: roles, subjects: form.all("subjects").compactMap(ReviewCampaign.Subject.init(rawValue:)),
                groupMode: form["groupMode"].flatMap(ReviewCampaign.GroupMode.init(rawValue:)), reviewers: words("reviewers"),
                reviewerGroups: words("reviewerGroups"), selfReview: form["selfReview"] != nil, groupOwners: form["groupOwners"] != nil,
                fallbackReviewers: words("fallbackReviewers"), frequency: form["frequency"].flatMap(Recurrence.Frequency.init(rawValue:)), start: nil,
                duration: form["duration"] ?? "", endOn: nil, runs: runs, requireReason: form["reasonOptional"] == nil, inactivity: form["inactivity"].nonBlank,
                autoApply: form["manualApply"] == nil, noResponse: form["noResponse"].flatMap(ReviewCampaign.NoResponse.init(rawValue:)),
                reminders: words("reminders"))
            let actor = identity.administratorActor
            let (campaign, instance) = try await services.engine.createReview(try await services.campaign(from: draft, by: actor), by: actor, source: .api)
            return "Created the review '\(campaign.name)'; it is \(instance.status.rawValue)."
        }
    }

    @Sendable func reviewPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let (review, items) = try await services.review(try reviewID(context))
        return try web.pages.render("admin-review", AdminReviewPage(
            frame: web.frame(context, title: "Review: \(review.name)", section: "admin-reviews"),
            id: review.id, name: review.name, run: review.run, status: review.status, start: WebFormat.time(review.startAt), end: WebFormat.time(review.endAt),
            noResponse: review.noResponse, progress: "\(review.decided) of \(review.items)", canComplete: review.status == ReviewInstance.Status.inProgress.rawValue,
            canApply: review.status == ReviewInstance.Status.completed.rawValue || review.status == ReviewInstance.Status.applying.rawValue,
            items: items.map(WebFormat.reviewRow)))
    }

    @Sendable func alertsPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let all = request.uri.queryParameters["all"] == "1"
        let alerts = try await services.engine.alerts(states: all ? nil : [.open]).sorted { ($0.severity, $1.raisedAt) > ($1.severity, $0.raisedAt) }
        return try web.pages.render("alerts", AlertsPage(
            frame: web.frame(context, title: "Security alerts", section: "alerts"), showingAll: all,
            alerts: alerts.map {
                AlertsPage.Alert(
                    id: $0.id, severity: $0.severity.rawValue, state: $0.state.rawValue, title: $0.title, detail: $0.detail, items: $0.items,
                    fix: $0.state == .resolved ? nil : $0.fix?.summary, raised: WebFormat.time($0.raisedAt), isOpen: $0.state == .open,
                    note: $0.state == .dismissed ? "Dismissed by \($0.dismissedBy ?? "—"): \($0.dismissReason ?? "")"
                        : $0.state == .resolved ? "Resolved \(WebFormat.time($0.resolvedAt))" : "")
            }))
    }
}
