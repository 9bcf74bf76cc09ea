import DrawbridgeCore
import DrawbridgeStore
import Foundation

extension AccessEngine {
    // MARK: Eligibilities

    /// Makes a user or group eligible for `role` at `scope` (and below), within the policy's limits.
    public func addEligibility(
        _ principal: Principal, scope: ScopePath, role: RoleName, start: Date?, end: Date?, justification: String?, by actor: Actor,
        source: ActionSource, dryRun: Bool = false
    ) async throws -> Eligibility {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            let start = start ?? context.now
            let policy = try await context.policy(scope: scope, role: role)
            var refusals = AccessRules.evaluateWindow(
                start: start, end: end, permanentAllowed: policy.allowPermanentEligibility, maxDuration: policy.maxEligibilityDuration,
                what: "eligibility")
            if justification.isBlank { refusals.append(Refusal(.justificationRequired, "say why the eligibility is needed")) }
            let name = try await principalName(principal, context, refusals: &refusals)
            guard refusals.isEmpty else {
                try await context.audit(context.event(
                    "eligibility.added", outcome: .refused, user: name, scope: scope, role: role, justification: justification,
                    reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            let eligibility = Eligibility(
                principal: principal, scope: scope, role: role, startAt: start, endAt: end, source: .manual, createdBy: context.actor,
                createdAt: context.now, justification: justification)
            try await context.transaction.save(eligibility)
            try await context.audit(context.event(
                "eligibility.added", subject: eligibility.id.rawValue, user: name, scope: scope, role: role, justification: justification,
                details: ["principal": principal.description, "start": start.iso8601, "end": end?.iso8601 ?? "permanent"]))
            return eligibility
        }
    }

    /// Removes a manual eligibility; live activations that relied on it alone are revoked.
    public func removeEligibility(_ id: EligibilityID, reason: String?, by actor: Actor, source: ActionSource, dryRun: Bool = false) async throws -> Eligibility {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            guard let eligibility = try await context.transaction.eligibility(id: id) else {
                throw ActionRefused([Refusal(.notFound, "no eligibility \(id)")])
            }
            if case .rule(let rule) = eligibility.source {
                throw ActionRefused([Refusal(.readOnly, "eligibility \(id) comes from the eligibility rule '\(rule)' in the configuration; change the rule or the directory group instead")])
            }
            try await context.transaction.delete(id)
            try await context.audit(context.event(
                "eligibility.removed", subject: id.rawValue, scope: eligibility.scope, role: eligibility.role, reason: reason,
                details: ["principal": eligibility.principal.description]))
            try await revokeIneligible(context, reason: "eligibility \(id) was removed")
            return eligibility
        }
    }

    /// Lets a member of an eligible group hold it through the group again, after an access review excluded them.
    public func liftExclusion(_ id: EligibilityID, userLogin: String, reason: String?, by actor: Actor, source: ActionSource) async throws -> Eligibility {
        try await transaction(dryRun: false, actor: actor, source: source) { context in
            try requireAdministrator(context)
            guard var eligibility = try await context.transaction.eligibility(id: id) else {
                throw ActionRefused([Refusal(.notFound, "no eligibility \(id)")])
            }
            var refusals: [Refusal] = []
            let user = try await context.transaction.user(login: userLogin)
            if user == nil || !(user.map { eligibility.excludedUserIDs.contains($0.record.id) } ?? false) {
                refusals.append(Refusal(.notFound, "\(userLogin) is not excluded from eligibility \(id)"))
            }
            if reason.isBlank { refusals.append(Refusal(.justificationRequired, "say why the exclusion is lifted")) }
            guard refusals.isEmpty, let user else { throw ActionRefused(refusals) }
            eligibility.excludedUserIDs.remove(user.record.id)
            try await context.transaction.save(eligibility)
            try await context.audit(context.event(
                "eligibility.included", subject: id.rawValue, user: userLogin, scope: eligibility.scope, role: eligibility.role, reason: reason,
                details: ["principal": eligibility.principal.description]))
            return eligibility
        }
    }

    // MARK: Assignments

    /// Puts a user in the group bound to (scope, role) directly, now or from `start`, permanently or until `end`.
    public func assign(
        userLogin: String, scope: ScopePath, role: RoleName, start: Date?, end: Date?, justification: String?, ticket: String?, by actor: Actor,
        source: ActionSource, dryRun: Bool = false
    ) async throws -> Assignment {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            let start = start ?? context.now
            let policy = try await context.policy(scope: scope, role: role)
            var refusals = AccessRules.evaluateWindow(
                start: start, end: end, permanentAllowed: policy.allowPermanentAssignment, maxDuration: policy.maxAssignmentDuration,
                what: "assignment")
            if start < context.now.addingTimeInterval(-AccessRules.startTolerance) {
                refusals.append(Refusal(.startInPast, "the start \(start.iso8601) is in the past"))
            }
            if justification.isBlank { refusals.append(Refusal(.justificationRequired, "an assignment needs a justification")) }
            let user = try await context.transaction.user(login: userLogin)
            if let user {
                if !user.record.enabled { refusals.append(Refusal(.userDisabled, "the account \(userLogin) is disabled in the directory")) }
            } else {
                refusals.append(Refusal(.unknownUser, "no live directory user with login '\(userLogin)'"))
            }
            let binding = try await context.binding(scope: scope, role: role)
            if binding == nil { refusals.append(Refusal(.noBinding, "no group is bound to role \(role) at \(scope)")) }
            guard refusals.isEmpty, let user else {
                try await context.audit(context.event(
                    "assignment.added", outcome: .refused, user: userLogin, scope: scope, role: role, group: binding, justification: justification,
                    ticket: ticket, reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            var assignment = Assignment(
                kind: .assigned, userID: user.record.id, userLogin: user.record.login, scope: scope, role: role, startAt: max(start, context.now),
                endAt: end, justification: justification ?? "", ticket: ticket, createdBy: context.actor, createdAt: context.now)
            if assignment.grantsMembership {
                assignment.grantedGroup = try await context.grant(userID: user.record.id, scope: scope, role: role, cause: Cause.assignment(assignment.id))
            } else {
                context.markWork()
            }
            try await context.transaction.save(assignment)
            try await context.audit(context.event(
                "assignment.added", subject: assignment.id.rawValue, user: user.record.login, scope: scope, role: role, group: binding,
                justification: justification, ticket: ticket,
                details: ["start": assignment.startAt.iso8601, "end": end?.iso8601 ?? "permanent", "state": assignment.state.rawValue]))
            return assignment
        }
    }

    /// Ends an assignment now and queues the removal unless another grant keeps the user in the group.
    public func removeAssignment(_ id: AssignmentID, reason: String?, by actor: Actor, source: ActionSource, dryRun: Bool = false) async throws -> Assignment {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            var assignment = try await loadAssignment(id, context)
            guard assignment.state != .ended else {
                throw ActionRefused([Refusal(.invalidState, "assignment \(id) has already ended")])
            }
            try await endAssignment(&assignment, .revoked, reason: reason, context)
            return assignment
        }
    }

    /// Moves an assignment's end (nil: permanent), within the policy's limits.
    public func extendAssignment(_ id: AssignmentID, end: Date?, justification: String?, by actor: Actor, source: ActionSource, dryRun: Bool = false) async throws -> Assignment {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            var assignment = try await loadAssignment(id, context)
            let policy = try await context.policy(scope: assignment.scope, role: assignment.role)
            var refusals = AccessRules.evaluateWindow(
                start: assignment.startAt, end: end, permanentAllowed: policy.allowPermanentAssignment, maxDuration: policy.maxAssignmentDuration,
                what: "assignment")
            if assignment.state == .ended { refusals.append(Refusal(.invalidState, "assignment \(id) has already ended")) }
            if let end, end <= context.now { refusals.append(Refusal(.invalidInput, "the new end \(end.iso8601) is not in the future")) }
            if justification.isBlank { refusals.append(Refusal(.justificationRequired, "an extension needs a justification")) }
            guard refusals.isEmpty else {
                try await context.audit(context.event(
                    "assignment.extended", outcome: .refused, subject: id.rawValue, user: assignment.userLogin, scope: assignment.scope,
                    role: assignment.role, justification: justification, reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            let previous = assignment.endAt
            assignment.endAt = end
            try await context.transaction.save(assignment)
            context.markWork()
            try await context.audit(context.event(
                "assignment.extended", subject: id.rawValue, user: assignment.userLogin, scope: assignment.scope, role: assignment.role,
                justification: justification, details: ["previousEnd": previous?.iso8601 ?? "permanent", "end": end?.iso8601 ?? "permanent"]))
            return assignment
        }
    }

    func loadAssignment(_ id: AssignmentID, _ context: AccessContext) async throws -> Assignment {
        guard let assignment = try await context.transaction.assignment(id: id) else {
            throw ActionRefused([Refusal(.notFound, "no assignment \(id)")])
        }
        return assignment
    }

    func endAssignment(_ assignment: inout Assignment, _ reason: EndReason, reason text: String?, _ context: AccessContext) async throws {
        let wasActive = assignment.state == .active
        assignment.state = .ended
        assignment.endedAt = context.now
        assignment.endReason = reason
        try await context.transaction.save(assignment)
        if wasActive {
            try await context.ungrant(
                userID: assignment.userID, scope: assignment.scope, role: assignment.role, granted: assignment.grantedGroup,
                cause: Cause.assignment(assignment.id))
        }
        try await context.audit(context.event(
            "assignment.ended", subject: assignment.id.rawValue, user: assignment.userLogin, scope: assignment.scope, role: assignment.role,
            group: try await context.binding(scope: assignment.scope, role: assignment.role), reason: text, details: ["endReason": reason.rawValue]))
    }

    // MARK: Policies

    /// Replaces the override stored for (scope, role); `/` holds the role's defaults. An empty override removes it.
    public func setPolicy(
        _ override: PolicyOverride, scope: ScopePath, role: RoleName, by actor: Actor, source: ActionSource, dryRun: Bool = false
    ) async throws -> RolePolicy {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            try requireAdministrator(context)
            var refusals = override.problems().map { Refusal(.invalidInput, $0) }
            for approver in override.approvers ?? [] {
                _ = try await principalName(approver, context, refusals: &refusals)
            }
            guard refusals.isEmpty else {
                try await context.audit(context.event(
                    "policy.set", outcome: .refused, scope: scope, role: role, reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            try await context.transaction.setPolicyOverride(override, scope: scope, role: role)
            try await context.audit(context.event(
                "policy.set", scope: scope, role: role, details: ["override": (try? AuditJSON.text(override)) ?? ""]))
            return PolicySet(overrides: try await context.transaction.policyOverrides(role: role)).effective(at: scope)
        }
    }

    public func policy(scope: ScopePath, role: RoleName) async throws -> (policy: RolePolicy, override: PolicyOverride?, inheritedFrom: ScopePath?) {
        try await transaction(dryRun: true, actor: .system("reader"), source: .cli) { context in
            let set = PolicySet(overrides: try await context.transaction.policyOverrides(role: role))
            return (set.effective(at: scope), set.overrides[scope], set.origin(at: scope))
        }
    }

    // MARK: Helpers

    func requireAdministrator(_ context: AccessContext) throws {
        guard context.actor.kind != .user else {
            throw ActionRefused([Refusal(.notAllowed, "\(context.actor.name) is not an administrator")])
        }
    }

    func principalName(_ principal: Principal, _ context: AccessContext, refusals: inout [Refusal]) async throws -> String? {
        switch principal {
        case .user(let id):
            guard let user = try await context.transaction.user(id: id), user.deletedAt == nil else {
                refusals.append(Refusal(.unknownUser, "no live directory user \(id)"))
                return nil
            }
            return user.record.login
        case .group(let id):
            guard let group = try await context.transaction.group(id: id), group.deletedAt == nil else {
                refusals.append(Refusal(.notFound, "no live directory group \(id)"))
                return nil
            }
            return "group:\(group.name)"
        }
    }
}

/// Compact JSON for audit details.
enum AuditJSON {
    static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
