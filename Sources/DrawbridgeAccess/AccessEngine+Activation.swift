import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// The verdict on one item of an activation request, and the activation it created (none in a dry run
/// that rolls back, or when refused).
public struct ActivationOutcome: Sendable, Hashable {
    public var item: ActivationRequest.Item
    public var decision: ActivationDecision
    public var activation: Activation?
}

extension AccessEngine {
    /// Activates each item of the request on its own: allowed items become activations (pending approval,
    /// scheduled or active), refused ones are audited with every reason.
    public func activate(_ request: ActivationRequest, by actor: Actor, source: ActionSource, dryRun: Bool = false) async throws -> [ActivationOutcome] {
        guard !request.items.isEmpty else { throw ActionRefused([Refusal(.invalidInput, "name at least one role and scope to activate")]) }
        return try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            let user = try await context.transaction.user(login: request.userLogin)
            var outcomes: [ActivationOutcome] = []
            let requestID = RequestID.make()
            for item in request.items {
                outcomes.append(try await activate(item, of: request, user: user, requestID: requestID, context))
            }
            return outcomes
        }
    }

    private func activate(
        _ item: ActivationRequest.Item, of request: ActivationRequest, user: StoredUser?, requestID: RequestID, _ context: AccessContext
    ) async throws -> ActivationOutcome {
        let transaction = context.transaction
        let policy = try await context.policy(scope: item.scope, role: item.role)
        let binding = try await context.binding(scope: item.scope, role: item.role)
        var eligibilities: [Eligibility] = []
        var live: Activation?
        if let user {
            eligibilities = try await context.eligibilities(of: user.record.id, scope: item.scope, role: item.role)
            live = try await transaction.activations(ActivationQuery(
                userID: user.record.id, states: Set(ActivationState.allCases.filter(\.isLive)), scope: item.scope, role: item.role)).first
        }
        let facts = ActivationFacts(user: user, policy: policy, eligibilities: eligibilities, hasBinding: binding != nil, liveActivation: live)
        var decision = AccessRules.evaluate(request, item: item, facts: facts, now: context.now)
        if context.actor.kind == .user, let user, context.actor.userID != user.record.id {
            decision.refusals.append(Refusal(.notAllowed, "\(context.actor.name) cannot activate roles for \(user.record.login)"))
        }
        // The local operator holds the store; everyone else comes through the network and its conditions.
        if context.actor.kind != .operator, let refusal = AccessRules.networkRefusal(policy, address: request.clientAddress, action: "activation") {
            decision.refusals.append(refusal)
        }
        guard decision.isAllowed, let user else {
            try await context.audit(context.event(
                "activation.requested", outcome: .refused, requestID: requestID, user: request.userLogin, scope: item.scope, role: item.role,
                group: binding, justification: request.justification, ticket: request.ticket,
                reason: decision.refusals.map(\.message).joined(separator: "; ")))
            return ActivationOutcome(item: item, decision: decision, activation: nil)
        }
        var activation = Activation(
            requestID: requestID, userID: user.record.id, userLogin: user.record.login, scope: item.scope, role: item.role,
            requestedBy: context.actor, requestedAt: context.now, startAt: decision.startAt, endAt: decision.endAt,
            justification: request.justification, ticket: request.ticket, mfa: request.mfa,
            state: decision.needsApproval ? .pendingApproval : .approved, approvalsRequired: decision.approvalsRequired,
            approvalDeadline: decision.approvalDeadline)
        var details = ["start": decision.startAt.iso8601, "end": decision.endAt.iso8601]
        if let mfa = request.mfa { details["mfa"] = mfa.method }
        if let address = request.clientAddress { details["client"] = address.description }
        if decision.needsApproval { details["approvalsRequired"] = "\(decision.approvalsRequired)" }
        try await context.audit(context.event(
            "activation.requested", requestID: requestID, subject: activation.id.rawValue, user: user.record.login, scope: item.scope,
            role: item.role, group: binding, justification: request.justification, ticket: request.ticket, details: details))
        if activation.state == .approved {
            try await context.audit(context.event(
                "activation.approved", requestID: requestID, subject: activation.id.rawValue, user: user.record.login, scope: item.scope,
                role: item.role, group: binding, reason: AccessRules.automaticApprovalReason))
            try await start(&activation, context)
        }
        try await transaction.save(activation)
        return ActivationOutcome(item: item, decision: decision, activation: activation)
    }

    /// Moves an approved activation on: scheduled for a later start, or active with its grant queued.
    func start(_ activation: inout Activation, _ context: AccessContext) async throws {
        let next = AccessRules.stateAfterApproval(activation, now: context.now)
        try activation.transition(to: next)
        let binding = try await context.binding(scope: activation.scope, role: activation.role)
        if next == .active {
            activation.grantedGroup = try await context.grant(
                userID: activation.userID, scope: activation.scope, role: activation.role, cause: Cause.activation(activation.id))
        }
        try await context.audit(context.event(
            next == .active ? "activation.started" : "activation.scheduled", requestID: activation.requestID, subject: activation.id.rawValue,
            user: activation.userLogin, scope: activation.scope, role: activation.role, group: binding,
            details: ["start": activation.startAt.iso8601, "end": activation.endAt.iso8601]))
    }

    /// An approver's decision. The first denial ends the request; enough approvals start it.
    /// `recordedBy` is who entered the decision (the operator at the CLI); it is kept in the audit record beside
    /// the approver it names.
    public func decide(
        _ id: ActivationID, _ verdict: ApprovalDecision.Verdict, approverLogin: String, reason: String?, recordedBy: Actor? = nil,
        clientAddress: IPAddress? = nil, source: ActionSource, dryRun: Bool = false
    ) async throws -> Activation {
        try await transaction(dryRun: dryRun, actor: .system("approval"), source: source) { context in
            guard let approver = try await context.transaction.user(login: approverLogin) else {
                throw ActionRefused([Refusal(.unknownUser, "no live directory user with login '\(approverLogin)'")])
            }
            var activation = try await load(id, context)
            let actor = Actor.user(approver.record)
            let policy = try await context.policy(scope: activation.scope, role: activation.role)
            var refusals = AccessRules.evaluateDecision(
                on: activation, by: actor, isApprover: try await context.isApprover(approver.record.id, policy: policy), now: context.now)
            if !approver.record.enabled { refusals.append(Refusal(.userDisabled, "the account \(approverLogin) is disabled")) }
            if source == .api, let refusal = AccessRules.networkRefusal(policy, address: clientAddress, action: "approval") { refusals.append(refusal) }
            if verdict == .deny && reason.isBlank { refusals.append(Refusal(.invalidInput, "a denial needs a reason")) }
            if verdict == .approve, activation.state == .pendingApproval, let problem = try await reasonToRevoke(activation, context) {
                refusals.append(Refusal(.notEligible, "cannot be approved: \(problem)"))
            }
            if verdict == .approve, let original = activation.extends, let extended = try await context.transaction.activation(id: original),
                ![.active, .scheduled].contains(extended.state)
            {
                refusals.append(Refusal(.invalidState, "cannot be approved: the activation it extends (\(original)) is \(extended.state.rawValue)"))
            }
            let binding = try await context.binding(scope: activation.scope, role: activation.role)
            let action = verdict == .approve ? "activation.approved" : "activation.denied"
            let approverContext = AccessContext(
                transaction: context.transaction, now: context.now, actor: actor, source: source, configuration: configuration)
            approverContext.refusalLog = context.refusalLog
            guard refusals.isEmpty else {
                try await approverContext.audit(approverContext.event(
                    action, outcome: .refused, requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin,
                    scope: activation.scope, role: activation.role, group: binding, reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            try AccessRules.apply(ApprovalDecision(approver: actor, verdict: verdict, reason: reason, at: context.now), to: &activation)
            var details = ["approvals": "\(activation.approvals.count) of \(activation.approvalsRequired)"]
            if let recordedBy { details["recordedBy"] = recordedBy.description }
            if let clientAddress { details["client"] = clientAddress.description }
            try await approverContext.audit(approverContext.event(
                verdict == .approve && activation.state == .pendingApproval ? "activation.approval-recorded" : action,
                requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin, scope: activation.scope,
                role: activation.role, group: binding, reason: reason, details: details))
            if activation.state == .approved { try await start(&activation, approverContext) }
            try await context.transaction.save(activation)
            if approverContext.wroteWork { context.markWork() }
            return activation
        }
    }

    /// Withdraws a request that has not started: pending approval, approved or scheduled.
    public func cancel(_ id: ActivationID, by actor: Actor, source: ActionSource, reason: String? = nil, dryRun: Bool = false) async throws -> Activation {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            var activation = try await load(id, context)
            try await requireOwnerOrOperator(activation, context, action: "cancel")
            guard [.pendingApproval, .scheduled].contains(activation.state) else {
                try await refuse(activation, "activation.canceled", [Refusal(.invalidState, "activation \(id) is \(activation.state.rawValue); only a pending or scheduled request can be canceled")], context)
            }
            try activation.transition(to: .canceled)
            activation.endedAt = context.now
            try await context.transaction.save(activation)
            try await context.audit(context.event(
                "activation.canceled", requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin,
                scope: activation.scope, role: activation.role, group: try await context.binding(scope: activation.scope, role: activation.role),
                reason: reason))
            try await cancelExtensions(of: activation, context)
            return activation
        }
    }

    /// Ends an active activation early (or cancels a scheduled one) and queues the removal.
    public func deactivate(_ id: ActivationID, by actor: Actor, source: ActionSource, reason: String? = nil, dryRun: Bool = false) async throws -> Activation {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            var activation = try await load(id, context)
            try await requireOwnerOrOperator(activation, context, action: "deactivate")
            switch activation.state {
            case .active:
                try await end(&activation, .deactivated, reason: reason, context)
            case .scheduled, .pendingApproval:
                try activation.transition(to: .canceled)
                activation.endedAt = context.now
                try await context.audit(context.event(
                    "activation.canceled", requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin,
                    scope: activation.scope, role: activation.role, reason: reason))
            default:
                try await refuse(activation, "activation.deactivated", [Refusal(.invalidState, "activation \(id) is \(activation.state.rawValue), not active")], context)
            }
            try await context.transaction.save(activation)
            try await cancelExtensions(of: activation, context)
            return activation
        }
    }

    /// Ends an activation for good (administrator, review or lost eligibility): active ones lose the group,
    /// pending and scheduled ones are canceled.
    public func revoke(_ id: ActivationID, by actor: Actor, source: ActionSource, reason: String, dryRun: Bool = false) async throws -> Activation {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            guard actor.kind != .user else { throw ActionRefused([Refusal(.notAllowed, "only an administrator can revoke an activation")]) }
            var activation = try await load(id, context)
            guard activation.state.isLive else {
                throw ActionRefused([Refusal(.invalidState, "activation \(id) is \(activation.state.rawValue), not live")])
            }
            try await revoke(&activation, reason: reason, context)
            try await context.transaction.save(activation)
            try await cancelExtensions(of: activation, context)
            return activation
        }
    }

    /// Extends an active or scheduled activation to `duration` from now (from its start, if later). When the
    /// policy says extensions need approval, a follow-on request starting at the current end is created instead.
    /// A policy that requires MFA requires a fresh `mfa` proof for the extension too, or one activation could be
    /// kept alive indefinitely with a token and no second factor.
    public func extend(
        _ id: ActivationID, duration: TimeInterval, justification: String?, mfa: MFAProof? = nil, by actor: Actor, source: ActionSource,
        clientAddress: IPAddress? = nil, dryRun: Bool = false
    ) async throws -> Activation {
        try await transaction(dryRun: dryRun, actor: actor, source: source) { context in
            var activation = try await load(id, context)
            try await requireOwnerOrOperator(activation, context, action: "extend")
            let policy = try await context.policy(scope: activation.scope, role: activation.role)
            var refusals: [Refusal] = []
            if context.actor.kind != .operator, let refusal = AccessRules.networkRefusal(policy, address: clientAddress, action: "extension") {
                refusals.append(refusal)
            }
            if ![.active, .scheduled].contains(activation.state) {
                refusals.append(Refusal(.invalidState, "activation \(id) is \(activation.state.rawValue); only an active or scheduled one can be extended"))
            } else if activation.endAt <= context.now {
                refusals.append(Refusal(.invalidState, "activation \(id) ended at \(activation.endAt.iso8601); request a new one"))
            }
            if duration > policy.maxActivationDuration {
                refusals.append(Refusal(.durationTooLong, "the duration \(AccessRules.format(duration)) exceeds the policy's maximum of \(AccessRules.format(policy.maxActivationDuration))"))
            }
            if policy.requireJustification && justification.isBlank {
                refusals.append(Refusal(.justificationRequired, "the policy requires a justification"))
            }
            if let refusal = AccessRules.mfaRefusal(policy, proof: mfa, now: context.now) { refusals.append(refusal) }
            var newEnd = max(context.now, activation.startAt).addingTimeInterval(duration)
            let eligibilities = try await context.eligibilities(of: activation.userID, scope: activation.scope, role: activation.role)
            if let eligibility = AccessRules.bestEligibility(eligibilities, at: context.now) {
                if let end = eligibility.endAt { newEnd = min(newEnd, end) }
            } else {
                refusals.append(Refusal(.notEligible, "\(activation.userLogin) is no longer eligible for \(activation.role) at \(activation.scope)"))
            }
            if newEnd <= activation.endAt {
                refusals.append(Refusal(.invalidInput, "the new end \(newEnd.iso8601) would not be later than the current end \(activation.endAt.iso8601)"))
            }
            let binding = try await context.binding(scope: activation.scope, role: activation.role)
            guard refusals.isEmpty else {
                try await context.audit(context.event(
                    "activation.extended", outcome: .refused, requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin,
                    scope: activation.scope, role: activation.role, group: binding, justification: justification,
                    reason: refusals.map(\.message).joined(separator: "; ")))
                throw ActionRefused(refusals)
            }
            var details = ["end": newEnd.iso8601]
            if let mfa { details["mfa"] = mfa.method }
            if policy.extensionRequiresApproval {
                details["extends"] = id.rawValue
                let followOn = Activation(
                    requestID: .make(), userID: activation.userID, userLogin: activation.userLogin, scope: activation.scope, role: activation.role,
                    requestedBy: context.actor, requestedAt: context.now, startAt: activation.endAt, endAt: newEnd, justification: justification,
                    ticket: activation.ticket, mfa: mfa ?? activation.mfa, state: .pendingApproval, approvalsRequired: policy.approvalsRequired,
                    approvalDeadline: min(activation.endAt, context.now.addingTimeInterval(policy.approvalTimeout)), extends: id)
                try await context.transaction.save(followOn)
                details["start"] = followOn.startAt.iso8601
                details["approvalsRequired"] = "\(followOn.approvalsRequired)"
                try await context.audit(context.event(
                    "activation.extension-requested", requestID: followOn.requestID, subject: followOn.id.rawValue, user: activation.userLogin,
                    scope: activation.scope, role: activation.role, group: binding, justification: justification,
                    details: details))
                return followOn
            }
            let previousEnd = activation.endAt
            activation.endAt = newEnd
            if let mfa { activation.mfa = mfa }
            try await context.transaction.save(activation)
            context.markWork()
            details["previousEnd"] = previousEnd.iso8601
            try await context.audit(context.event(
                "activation.extended", requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin,
                scope: activation.scope, role: activation.role, group: binding, justification: justification, details: details))
            return activation
        }
    }

    // MARK: Shared steps

    func load(_ id: ActivationID, _ context: AccessContext) async throws -> Activation {
        guard let activation = try await context.transaction.activation(id: id) else {
            throw ActionRefused([Refusal(.notFound, "no activation \(id)")])
        }
        return activation
    }

    private func requireOwnerOrOperator(_ activation: Activation, _ context: AccessContext, action: String) async throws {
        let actor = context.actor
        guard actor.kind == .user else { return }
        guard actor.userID == activation.userID || actor.userID == activation.requestedBy.userID else {
            try await refuse(activation, "activation.\(action)", [Refusal(.notAllowed, "\(actor.name) cannot \(action) an activation of \(activation.userLogin)")], context)
        }
    }

    /// Audits a refused action on an activation and throws; the audit record outlives the rollback.
    func refuse(_ activation: Activation, _ action: String, _ refusals: [Refusal], _ context: AccessContext) async throws -> Never {
        try await context.audit(context.event(
            action, outcome: .refused, requestID: activation.requestID, subject: activation.id.rawValue, user: activation.userLogin,
            scope: activation.scope, role: activation.role, reason: refusals.map(\.message).joined(separator: "; ")))
        throw ActionRefused(refusals)
    }

    /// Ends an active activation and queues the removal unless another grant keeps the user in the group.
    func end(_ activation: inout Activation, _ reason: EndReason, reason text: String?, _ context: AccessContext) async throws {
        try activation.end(reason, at: context.now)
        try await context.ungrant(
            userID: activation.userID, scope: activation.scope, role: activation.role, granted: activation.grantedGroup,
            cause: Cause.activation(activation.id))
        try await context.audit(context.event(
            "activation.ended", requestID: activation.requestID, subject: activation.id.rawValue, user: activation.userLogin,
            scope: activation.scope, role: activation.role, group: try await context.binding(scope: activation.scope, role: activation.role),
            reason: text, details: ["endReason": reason.rawValue]))
    }

    /// Cancels the pending or scheduled requests that would continue `activation`, which ended early: an
    /// approver who approved one later, or its scheduled start, would grant again what was just taken away.
    /// One already active stands on its own approval and is left as it is.
    func cancelExtensions(of activation: Activation, _ context: AccessContext) async throws {
        let live = try await context.transaction.activations(ActivationQuery(
            userID: activation.userID, states: [.pendingApproval, .scheduled], scope: activation.scope, role: activation.role))
        for var followOn in live where followOn.extends == activation.id {
            try followOn.transition(to: .canceled)
            followOn.endedAt = context.now
            try await context.audit(context.event(
                "activation.canceled", requestID: followOn.requestID, subject: followOn.id.rawValue, user: followOn.userLogin,
                scope: followOn.scope, role: followOn.role, reason: "the activation it extends (\(activation.id)) ended early",
                details: ["extends": activation.id.rawValue]))
            try await context.transaction.save(followOn)
        }
    }

    /// Takes a live activation away: active → ended (revoked); pending or scheduled → canceled.
    func revoke(_ activation: inout Activation, reason: String, _ context: AccessContext) async throws {
        switch activation.state {
        case .active:
            try await end(&activation, .revoked, reason: reason, context)
        case .pendingApproval, .scheduled:
            try activation.transition(to: .canceled)
            activation.endedAt = context.now
            activation.endReason = .revoked
            try await context.audit(context.event(
                "activation.revoked", requestID: activation.requestID, subject: activation.id.rawValue, user: activation.userLogin,
                scope: activation.scope, role: activation.role, reason: reason))
        default:
            return
        }
    }
}
