import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird
import HummingbirdAuth
import LDAP

/// `/api/v1`: what every signed-in person may do for themselves, and the approver's queue.
struct SelfServiceRoutes {
    let services: ServerServices

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("me", use: me)
        group.get("me/eligibilities", use: eligibilities)
        group.get("me/activations", use: myActivations)
        group.post("activations", use: activate)
        group.get("activations/{id}", use: activation)
        group.post("activations/{id}/deactivate", use: deactivate)
        group.post("activations/{id}/extend", use: extend)
        group.post("activations/{id}/cancel", use: cancel)
        group.get("approvals", use: approvals)
        group.post("approvals/{id}/approve") { request, context in try await decide(.approve, request, context) }
        group.post("approvals/{id}/deny") { request, context in try await decide(.deny, request, context) }
    }

    @Sendable func me(_ request: Request, context: DrawbridgeRequestContext) async throws -> MeView {
        let identity = try context.requireIdentity()
        let enrolled = try await services.store.mfaEnrollment(userID: identity.user.id)?.confirmedAt != nil
        return MeView(
            id: identity.user.id.rawValue, login: identity.user.login, displayName: identity.user.displayName, mail: identity.user.mail,
            administrator: identity.isAdministrator, mfaEnrolled: enrolled, mfaVerifiedAt: identity.mfaVerifiedAt)
    }

    @Sendable func eligibilities(_ request: Request, context: DrawbridgeRequestContext) async throws -> EligibleRoleList {
        EligibleRoleList(roles: try await services.eligibleRoles(of: try context.requireIdentity().user.id))
    }

    @Sendable func myActivations(_ request: Request, context: DrawbridgeRequestContext) async throws -> ActivationList {
        let userID = try context.requireIdentity().user.id
        let states = try stateFilter(request)
        return ActivationList(activations: try await services.read { transaction in
            try await transaction.activations(ActivationQuery(userID: userID, states: states)).sorted { $0.requestedAt > $1.requestedAt }
        })
    }

    @Sendable func activate(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: ActivateBody.self, context: context)
        let dryRun = body.dryRun ?? false
        let activation = ActivationRequest(
            userLogin: identity.user.login, items: body.items.map { .init(scope: $0.scope, role: $0.role) },
            duration: try durationField(body.duration, "duration"), startAt: body.start, justification: body.justification, ticket: body.ticket,
            mfa: try await services.mfaProof(for: identity, code: body.totp, clientAddress: context.clientAddress), clientAddress: context.clientAddress)
        let outcomes = try await services.engine.activate(activation, by: identity.actor, source: .api, dryRun: dryRun)
        let views = outcomes.map {
            ActivationOutcomeView(
                scope: $0.item.scope, role: $0.item.role, allowed: $0.decision.isAllowed, needsApproval: $0.decision.needsApproval,
                startAt: $0.decision.startAt, endAt: $0.decision.endAt, refusals: $0.decision.refusals, activation: $0.activation)
        }
        if !dryRun && views.allSatisfy({ !$0.allowed }) {
            throw APIProblem.refused(ActionRefused(views.flatMap(\.refusals)))
        }
        return try ActivateResponse(dryRun: dryRun, outcomes: views).response(from: request, context: context)
            .withStatus(dryRun ? .ok : .created)
    }

    @Sendable func activation(_ request: Request, context: DrawbridgeRequestContext) async throws -> Activation {
        let identity = try context.requireIdentity()
        let id = ActivationID(rawValue: try context.parameters.require("id"))
        guard let activation = try await services.read({ try await $0.activation(id: id) }) else {
            throw APIProblem.notFound("no activation \(id)")
        }
        if activation.userID == identity.user.id || identity.isAdministrator { return activation }
        if try await services.approvalQueue(for: identity.user.id).contains(where: { $0.id == id }) { return activation }
        // Someone else's request is not theirs to see, and not theirs to learn exists.
        throw APIProblem.notFound("no activation \(id)")
    }

    @Sendable func deactivate(_ request: Request, context: DrawbridgeRequestContext) async throws -> Activation {
        let identity = try context.requireIdentity()
        let body = try await optionalBody(ReasonBody.self, request, context)
        return try await services.engine.deactivate(try activationID(context), by: identity.actor, source: .api, reason: body?.reason)
    }

    @Sendable func extend(_ request: Request, context: DrawbridgeRequestContext) async throws -> Activation {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: ExtendBody.self, context: context)
        return try await services.engine.extend(
            try activationID(context), duration: try durationField(body.duration, "duration"), justification: body.justification,
            mfa: try await services.mfaProof(for: identity, code: body.totp, clientAddress: context.clientAddress), by: identity.actor, source: .api,
            clientAddress: context.clientAddress)
    }

    @Sendable func cancel(_ request: Request, context: DrawbridgeRequestContext) async throws -> Activation {
        let identity = try context.requireIdentity()
        let body = try await optionalBody(ReasonBody.self, request, context)
        return try await services.engine.cancel(try activationID(context), by: identity.actor, source: .api, reason: body?.reason)
    }

    @Sendable func approvals(_ request: Request, context: DrawbridgeRequestContext) async throws -> ActivationList {
        ActivationList(activations: try await services.approvalQueue(for: try context.requireIdentity().user.id))
    }

    @Sendable func decide(_ verdict: ApprovalDecision.Verdict, _ request: Request, _ context: DrawbridgeRequestContext) async throws -> Activation {
        let identity = try context.requireIdentity()
        let body = try await optionalBody(ReasonBody.self, request, context)
        return try await services.engine.decide(
            try activationID(context), verdict, approverLogin: identity.user.login, reason: body?.reason, clientAddress: context.clientAddress, source: .api)
    }
}

func activationID(_ context: DrawbridgeRequestContext) throws -> ActivationID {
    ActivationID(rawValue: try context.parameters.require("id"))
}

/// `?state=active,pendingApproval`; absent means every state.
func stateFilter(_ request: Request) throws -> Set<ActivationState>? {
    guard let text = request.uri.queryParameters["state"].map(String.init), !text.isEmpty else { return nil }
    var states = Set<ActivationState>()
    for name in text.split(separator: ",") {
        guard let state = ActivationState(rawValue: String(name)) else {
            throw APIProblem.badRequest("state '\(name)' is not one of \(ActivationState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        states.insert(state)
    }
    return states
}

/// Decodes a JSON body that may be left out entirely.
func optionalBody<T: Decodable>(_ type: T.Type, _ request: Request, _ context: DrawbridgeRequestContext) async throws -> T? {
    var request = request
    let buffer = try await request.collectBody(upTo: context.maxUploadSize)
    guard buffer.readableBytes > 0 else { return nil }
    return try APICoding.decoder.decode(type, from: Data(buffer.readableBytesView))
}

extension Response {
    func withStatus(_ status: HTTPResponse.Status) -> Response {
        var response = self
        response.status = status
        return response
    }
}
