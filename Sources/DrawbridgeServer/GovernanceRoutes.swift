import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/reviews`: what a reviewer sees and decides. Anyone signed in; the engine checks who reviews what.
struct ReviewerRoutes {
    let services: ServerServices

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("reviews/mine", use: mine)
        group.post("reviews/decisions", use: decide)
    }

    struct ReviewerWorkView: ResponseCodable, Sendable {
        var review: ReviewView
        var items: [ReviewItemView]
    }

    struct WorkList: ResponseCodable, Sendable { var reviews: [ReviewerWorkView] }

    struct DecisionBody: Decodable, Sendable {
        var items: [String]
        var decision: ReviewItem.Decision
        var reason: String?
    }

    struct ItemList: ResponseCodable, Sendable { var items: [ReviewItemView] }

    @Sendable func mine(_ request: Request, context: DrawbridgeRequestContext) async throws -> WorkList {
        let work = try await services.reviewerWork(for: try context.requireIdentity().user.id)
        return WorkList(reviews: work.map { ReviewerWorkView(review: $0.review, items: $0.items.map(ReviewItemView.init)) })
    }

    @Sendable func decide(_ request: Request, context: DrawbridgeRequestContext) async throws -> ItemList {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: DecisionBody.self, context: context)
        let decided = try await services.engine.decideReview(
            items: body.items.map { ReviewItemID(rawValue: $0) }, body.decision, reason: body.reason, by: identity.actor, source: .api)
        return ItemList(items: decided.map(ReviewItemView.init))
    }
}

/// `/api/v1/admin/reviews` and `/api/v1/admin/alerts`: administrators only.
struct GovernanceAdminRoutes {
    let services: ServerServices

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("reviews", use: reviews)
        group.post("reviews", use: createReview)
        group.get("reviews/{id}", use: review)
        group.get("reviews/{id}/export", use: export)
        group.post("reviews/{id}/complete") { request, context in
            try await change(request, context) { try await services.engine.completeReview($0, by: $1, source: .api) }
        }
        group.post("reviews/{id}/apply") { request, context in
            try await change(request, context) { try await services.engine.applyReview($0, by: $1, source: .api) }
        }
        group.get("alerts", use: alerts)
        group.post("alerts/evaluate", use: evaluate)
        group.get("alerts/{id}", use: alert)
        group.post("alerts/{id}/fix", use: fix)
        group.post("alerts/{id}/dismiss", use: dismiss)
    }

    struct ReviewList: ResponseCodable, Sendable { var reviews: [ReviewView] }

    struct ReviewDetail: ResponseCodable, Sendable {
        var review: ReviewView
        var items: [ReviewItemView]
    }

    struct AlertList: ResponseCodable, Sendable { var alerts: [AlertView] }

    @Sendable func reviews(_ request: Request, context: DrawbridgeRequestContext) async throws -> ReviewList {
        ReviewList(reviews: try await services.reviewViews())
    }

    @Sendable func createReview(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let actor = try context.requireIdentity().administratorActor
        let draft = try await request.decode(as: ReviewDraft.self, context: context)
        let (_, instance) = try await services.engine.createReview(try await services.campaign(from: draft, by: actor), by: actor, source: .api)
        let (view, items) = try await services.review(instance.id)
        return try ReviewDetail(review: view, items: items.map(ReviewItemView.init)).response(from: request, context: context).withStatus(.created)
    }

    @Sendable func review(_ request: Request, context: DrawbridgeRequestContext) async throws -> ReviewDetail {
        let (view, items) = try await services.review(ReviewInstanceID(rawValue: try context.parameters.require("id")))
        return ReviewDetail(review: view, items: items.map(ReviewItemView.init))
    }

    @Sendable func export(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let (_, items) = try await services.review(ReviewInstanceID(rawValue: try context.parameters.require("id")))
        return csvResponse(header: ReviewItem.csvHeader, lines: items.map(\.csvLine), filename: "drawbridge-review.csv")
    }

    func change(
        _ request: Request, _ context: DrawbridgeRequestContext, _ action: (ReviewInstanceID, Actor) async throws -> ReviewInstance
    ) async throws -> ReviewView {
        let instance = try await action(ReviewInstanceID(rawValue: try context.parameters.require("id")), try context.requireIdentity().administratorActor)
        return try await services.review(instance.id).0
    }

    /// `?state=open,dismissed,resolved`; default open.
    @Sendable func alerts(_ request: Request, context: DrawbridgeRequestContext) async throws -> AlertList {
        var states: Set<SecurityAlert.State> = [.open]
        if let text = request.uri.queryParameters["state"], !text.isEmpty {
            states = []
            for name in text.split(separator: ",") {
                guard let state = SecurityAlert.State(rawValue: String(name)) else {
                    throw APIProblem.badRequest("state '\(name)' is not one of \(SecurityAlert.State.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                states.insert(state)
            }
        }
        let alerts = try await services.engine.alerts(states: states).sorted { ($0.severity, $1.raisedAt) > ($1.severity, $0.raisedAt) }
        return AlertList(alerts: alerts.map(AlertView.init))
    }

    @Sendable func evaluate(_ request: Request, context: DrawbridgeRequestContext) async throws -> AlertList {
        _ = try context.requireIdentity()
        _ = try await services.engine.evaluateAlerts(directoryProblem: await services.pool.unreachableReason(), source: .api)
        return AlertList(alerts: try await services.engine.alerts(states: [.open]).map(AlertView.init))
    }

    @Sendable func alert(_ request: Request, context: DrawbridgeRequestContext) async throws -> AlertView {
        let id = try context.parameters.require("id")
        guard let alert = try await services.read({ try await $0.securityAlert(id: id) }) else { throw APIProblem.notFound("no alert \(id)") }
        return AlertView(alert)
    }

    @Sendable func fix(_ request: Request, context: DrawbridgeRequestContext) async throws -> AlertView {
        let actor = try context.requireIdentity().administratorActor
        return AlertView(try await services.engine.fixAlert(try context.parameters.require("id"), by: actor, source: .api))
    }

    @Sendable func dismiss(_ request: Request, context: DrawbridgeRequestContext) async throws -> AlertView {
        let actor = try context.requireIdentity().administratorActor
        let body = try await optionalBody(ReasonBody.self, request, context)
        return AlertView(try await services.engine.dismissAlert(try context.parameters.require("id"), reason: body?.reason, by: actor, source: .api))
    }
}

/// A CSV download: RFC 4180 line ends, a name for the saved file.
func csvResponse(header: String, lines: [String], filename: String) -> Response {
    Response(
        status: .ok,
        headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
        body: .init(byteBuffer: ByteBuffer(string: ([header] + lines).joined(separator: "\r\n") + "\r\n")))
}
