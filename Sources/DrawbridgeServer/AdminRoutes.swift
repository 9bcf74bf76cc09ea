import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeDirectory
import DrawbridgeStore
import Foundation
import Hummingbird
import LDAP
import NIOCore

/// `/api/v1/admin`: administrators only (checked by the group's middleware and again by the engine).
struct AdminRoutes {
    let services: ServerServices

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("eligibilities", use: eligibilities)
        group.post("eligibilities", use: addEligibility)
        group.delete("eligibilities/{id}", use: removeEligibility)
        group.get("assignments", use: assignments)
        group.post("assignments", use: addAssignment)
        group.delete("assignments/{id}", use: removeAssignment)
        group.get("policies", use: policy)
        group.put("policies", use: setPolicy)
        group.get("scopes", use: scopes)
        group.get("drift", use: drift)
        group.get("activations", use: activations)
        group.post("activations/{id}/revoke", use: revoke)
        group.post("sync", use: sync)
        group.post("reconcile", use: reconcile)
        group.get("audit", use: audit)
    }

    struct EligibilityList: ResponseCodable { var eligibilities: [EligibilityView] }

    struct AddEligibilityBody: Decodable {
        /// A user's login, or a group's name as `group:NAME`.
        var principal: String
        var scope: ScopePath
        var role: RoleName
        var start: Date?
        var end: Date?
        var justification: String?
        var dryRun: Bool?
    }

    @Sendable func eligibilities(_ request: Request, context: DrawbridgeRequestContext) async throws -> EligibilityList {
        let role = try request.uri.queryParameters["role"].map { text in
            guard let role = RoleName(rawValue: String(text)) else { throw APIProblem.badRequest("'\(text)' is not a role name") }
            return role
        }
        return EligibilityList(eligibilities: try await services.eligibilityViews(role: role))
    }

    @Sendable func addEligibility(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: AddEligibilityBody.self, context: context)
        let principal = try await services.principal(named: body.principal)
        let eligibility = try await services.engine.addEligibility(
            principal, scope: body.scope, role: body.role, start: body.start, end: body.end, justification: body.justification,
            by: identity.administratorActor, source: .api, dryRun: body.dryRun ?? false)
        let view = try await services.read { transaction in
            var names = NameCache(transaction: transaction)
            return try await names.view(eligibility)
        }
        return try view.response(from: request, context: context).withStatus(body.dryRun == true ? .ok : .created)
    }

    @Sendable func removeEligibility(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let reason = request.uri.queryParameters["reason"].map(String.init)
        _ = try await services.engine.removeEligibility(
            EligibilityID(rawValue: try context.parameters.require("id")), reason: reason, by: identity.administratorActor, source: .api)
        return Response(status: .noContent)
    }

    struct AssignmentList: ResponseCodable { var assignments: [Assignment] }

    struct AddAssignmentBody: Decodable {
        var user: String
        var scope: ScopePath
        var role: RoleName
        var start: Date?
        /// Absent: permanent, where the policy allows it.
        var end: Date?
        var justification: String?
        var ticket: String?
        var dryRun: Bool?
    }

    @Sendable func assignments(_ request: Request, context: DrawbridgeRequestContext) async throws -> AssignmentList {
        let all = request.uri.queryParameters["all"] == "true"
        return AssignmentList(assignments: try await services.read { try await $0.assignments(userID: nil, liveOnly: !all) })
    }

    @Sendable func addAssignment(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: AddAssignmentBody.self, context: context)
        let assignment = try await services.engine.assign(
            userLogin: body.user, scope: body.scope, role: body.role, start: body.start, end: body.end, justification: body.justification,
            ticket: body.ticket, by: identity.administratorActor, source: .api, dryRun: body.dryRun ?? false)
        return try assignment.response(from: request, context: context).withStatus(body.dryRun == true ? .ok : .created)
    }

    @Sendable func removeAssignment(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let reason = request.uri.queryParameters["reason"].map(String.init)
        _ = try await services.engine.removeAssignment(
            AssignmentID(rawValue: try context.parameters.require("id")), reason: reason, by: identity.administratorActor, source: .api)
        return Response(status: .noContent)
    }

    struct PolicyView: ResponseCodable {
        var scope: ScopePath
        var role: RoleName
        var effective: RolePolicy
        var override: PolicyOverride?
        var inheritedFrom: ScopePath?
    }

    struct SetPolicyBody: Decodable {
        var scope: ScopePath
        var role: RoleName
        var override: PolicyOverride
    }

    @Sendable func policy(_ request: Request, context: DrawbridgeRequestContext) async throws -> PolicyView {
        guard let scopeText = request.uri.queryParameters["scope"], let scope = try? ScopePath(String(scopeText)),
            let roleText = request.uri.queryParameters["role"], let role = RoleName(rawValue: String(roleText))
        else { throw APIProblem.badRequest("give ?scope=/path&role=NAME") }
        let found = try await services.engine.policy(scope: scope, role: role)
        return PolicyView(scope: scope, role: role, effective: found.policy, override: found.override, inheritedFrom: found.inheritedFrom)
    }

    @Sendable func setPolicy(_ request: Request, context: DrawbridgeRequestContext) async throws -> PolicyView {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: SetPolicyBody.self, context: context)
        _ = try await services.engine.setPolicy(body.override, scope: body.scope, role: body.role, by: identity.administratorActor, source: .api)
        let found = try await services.engine.policy(scope: body.scope, role: body.role)
        return PolicyView(scope: body.scope, role: body.role, effective: found.policy, override: found.override, inheritedFrom: found.inheritedFrom)
    }

    struct ScopeList: ResponseCodable { var bindings: [RoleBinding] }

    @Sendable func scopes(_ request: Request, context: DrawbridgeRequestContext) async throws -> ScopeList {
        ScopeList(bindings: try await services.store.roleBindings().sorted { ($0.scope, $0.role) < ($1.scope, $1.role) })
    }

    struct DriftList: ResponseCodable { var findings: [DriftFinding] }

    @Sendable func drift(_ request: Request, context: DrawbridgeRequestContext) async throws -> DriftList {
        let all = request.uri.queryParameters["all"] == "true"
        return DriftList(findings: try await services.read { try await $0.driftFindings(openOnly: !all) })
    }

    @Sendable func activations(_ request: Request, context: DrawbridgeRequestContext) async throws -> ActivationList {
        let states = try stateFilter(request)
        let login = request.uri.queryParameters["user"].map(String.init)
        return ActivationList(activations: try await services.read { transaction in
            var userID: DirectoryEntryID?
            if let login {
                guard let user = try await transaction.user(login: login) else { return [] }
                userID = user.record.id
            }
            return try await transaction.activations(ActivationQuery(userID: userID, states: states)).sorted { $0.requestedAt > $1.requestedAt }
        })
    }

    @Sendable func revoke(_ request: Request, context: DrawbridgeRequestContext) async throws -> Activation {
        let identity = try context.requireIdentity()
        let body = try await request.decode(as: ReasonBody.self, context: context)
        guard let reason = body.reason, !reason.allSatisfy(\.isWhitespace) else { throw APIProblem.badRequest("a revocation needs a reason") }
        return try await services.engine.revoke(try activationID(context), by: identity.administratorActor, source: .api, reason: reason)
    }

    struct SyncResult: ResponseCodable {
        var kind: String
        var usersSeen: Int
        var groupsSeen: Int
        var deletedUsers: Int
        var deletedGroups: Int
        var bindings: Int
        var warnings: [String]
        var revokedActivations: Int
    }

    @Sendable func sync(_ request: Request, context: DrawbridgeRequestContext) async throws -> SyncResult {
        let full = request.uri.queryParameters["full"] == "true"
        let report: SyncReport
        do {
            report = try await services.synchronizer.sync(full ? .full : .automatic)
        } catch let error as LDAPError {
            context.logger.error("sync requested through the API failed", metadata: ["error": "\(error)"])
            throw DirectoryUnavailable()
        }
        let followUp = try await services.engine.followUpSync(directoryChanged: report.changedDirectory)
        return SyncResult(
            kind: report.kind.rawValue, usersSeen: report.users.inserted + report.users.updated + report.users.unchanged,
            groupsSeen: report.groups.inserted + report.groups.updated + report.groups.unchanged, deletedUsers: report.deletedUsers,
            deletedGroups: report.deletedGroups, bindings: report.bindingCount, warnings: report.warnings, revokedActivations: followUp.revoked)
    }

    struct ReconcileGroup: Codable {
        var group: String
        var policy: String
        var enforced: Bool
        var missing: [String]
        var drift: [String]
        var effect: String
    }

    struct ReconcileResult: ResponseCodable { var groups: [ReconcileGroup] }

    @Sendable func reconcile(_ request: Request, context: DrawbridgeRequestContext) async throws -> ReconcileResult {
        let dryRun = request.uri.queryParameters["dryRun"] == "true"
        let enforce = request.uri.queryParameters["enforce"] == "true"
        let results: [Reconciler.GroupResult]
        do {
            results = try await services.reconciler.reconcile(dryRun: dryRun, enforce: enforce, source: .api)
        } catch let error as LDAPError {
            context.logger.error("reconcile requested through the API failed", metadata: ["error": "\(error)"])
            throw DirectoryUnavailable()
        }
        return ReconcileResult(groups: results.map {
            ReconcileGroup(group: $0.groupDN.description, policy: $0.policy.rawValue, enforced: $0.enforced, missing: $0.missing, drift: $0.drift, effect: $0.effect)
        })
    }

    struct AuditList: ResponseEncodable { var records: [AuditRow] }

    /// `?since&until&user&scope&format=json|csv`.
    @Sendable func audit(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let query = try auditQuery(request)
        let rows = try await services.store.auditRecords(query).map(AuditRow.init)
        switch request.uri.queryParameters["format"].map(String.init) ?? "json" {
        case "json":
            return try AuditList(records: rows).response(from: request, context: context)
        case "csv":
            return csvResponse(header: AuditRow.csvHeader, lines: rows.map(\.csvLine), filename: "drawbridge-audit.csv")
        case let other:
            throw APIProblem.badRequest("format '\(other)' is not json or csv")
        }
    }

    private func auditQuery(_ request: Request) throws -> AuditQuery {
        let parameters = request.uri.queryParameters
        func time(_ name: String) throws -> Date? {
            guard let text = parameters[Substring(name)], !text.isEmpty else { return nil }
            guard let date = try? Date(String(text), strategy: .iso8601) else { throw APIProblem.badRequest("\(name) '\(text)' is not an ISO 8601 time") }
            return date
        }
        var scope: ScopePath?
        if let text = parameters["scope"], !text.isEmpty {
            guard let parsed = try? ScopePath(String(text)) else { throw APIProblem.badRequest("scope '\(text)' is not a scope path") }
            scope = parsed
        }
        let user = parameters["user"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        return AuditQuery(since: try time("since"), until: try time("until"), userLogin: user, scope: scope)
    }
}
