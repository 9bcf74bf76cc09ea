import Foundation

/// A request to activate one or more roles (a bulk activation: each item becomes its own activation).
public struct ActivationRequest: Hashable, Sendable, Codable {
    public struct Item: Hashable, Sendable, Codable {
        public var scope: ScopePath
        public var role: RoleName

        public init(scope: ScopePath, role: RoleName) {
            self.scope = scope
            self.role = role
        }
    }

    public var userLogin: String
    public var items: [Item]
    public var duration: TimeInterval
    /// nil: now.
    public var startAt: Date?
    public var justification: String?
    public var ticket: String?
    public var mfa: MFAProof?
    /// Where a request through the server came from; nil for the local operator.
    public var clientAddress: IPAddress?

    public init(
        userLogin: String, items: [Item], duration: TimeInterval, startAt: Date? = nil, justification: String?, ticket: String?,
        mfa: MFAProof?, clientAddress: IPAddress? = nil
    ) {
        self.clientAddress = clientAddress
        self.userLogin = userLogin
        self.items = items
        self.duration = duration
        self.startAt = startAt
        self.justification = justification
        self.ticket = ticket
        self.mfa = mfa
    }
}

/// What the engine looked up for one activation item, for the pure rules to judge.
public struct ActivationFacts: Sendable {
    public var user: StoredUser?
    public var policy: RolePolicy
    /// The eligibilities whose scope and role cover the item and whose principal is the user or one of
    /// the user's groups, whatever their time window.
    public var eligibilities: [Eligibility]
    public var hasBinding: Bool
    /// A live activation of the same role at the same scope by the same user.
    public var liveActivation: Activation?

    public init(user: StoredUser?, policy: RolePolicy, eligibilities: [Eligibility], hasBinding: Bool, liveActivation: Activation?) {
        self.user = user
        self.policy = policy
        self.eligibilities = eligibilities
        self.hasBinding = hasBinding
        self.liveActivation = liveActivation
    }
}

/// The verdict on one activation item: either refusals, or the times and approval it would get.
public struct ActivationDecision: Hashable, Sendable, Codable {
    public var refusals: [Refusal]
    public var startAt: Date
    public var endAt: Date
    public var needsApproval: Bool
    public var approvalsRequired: Int
    public var approvalDeadline: Date?
    public var eligibility: EligibilityID?

    public var isAllowed: Bool { refusals.isEmpty }
}

/// The pure rules of privileged access: every check is a function of the facts and the time.
public enum AccessRules {
    /// Scheduled starts a little in the past are taken as "now": clocks and typing take time.
    public static let startTolerance: TimeInterval = 60
    /// A second-factor verification older than this does not count for a new activation.
    public static let maximumMFAAge: TimeInterval = 15 * 60
    /// The reason recorded when a request is approved because its policy needs no approval.
    public static let automaticApprovalReason = "the policy does not require approval"

    public static func evaluate(
        _ request: ActivationRequest, item: ActivationRequest.Item, facts: ActivationFacts, now: Date
    ) -> ActivationDecision {
        var refusals: [Refusal] = []
        let policy = facts.policy
        let requestedStart = request.startAt ?? now
        if requestedStart < now.addingTimeInterval(-startTolerance) {
            refusals.append(Refusal(.startInPast, "the start \(requestedStart.iso8601) is in the past"))
        }
        let startAt = max(requestedStart, now)
        var endAt = startAt.addingTimeInterval(request.duration)

        if let user = facts.user {
            if !user.record.enabled { refusals.append(Refusal(.userDisabled, "the account \(user.record.login) is disabled in the directory")) }
        } else {
            refusals.append(Refusal(.unknownUser, "no live directory user with login '\(request.userLogin)'"))
        }
        if !facts.hasBinding {
            refusals.append(Refusal(.noBinding, "no group is bound to role \(item.role) at \(item.scope)"))
        }
        var eligibilityID: EligibilityID?
        if facts.eligibilities.isEmpty {
            refusals.append(Refusal(.notEligible, "\(request.userLogin) is not eligible for \(item.role) at \(item.scope)"))
        } else if let valid = bestEligibility(facts.eligibilities, at: startAt) {
            eligibilityID = valid.id
            if let end = valid.endAt, end < endAt {
                endAt = end
                if end.timeIntervalSince(startAt) < RolePolicy.minimumActivationDuration {
                    refusals.append(Refusal(.eligibilityExpired, "the eligibility for \(item.role) at \(item.scope) ends at \(end.iso8601), too soon for the minimum activation of \(format(RolePolicy.minimumActivationDuration))"))
                }
            }
        } else if facts.eligibilities.contains(where: { $0.startAt > startAt }) {
            refusals.append(Refusal(.eligibilityNotStarted, "the eligibility for \(item.role) at \(item.scope) has not started at \(startAt.iso8601)"))
        } else {
            refusals.append(Refusal(.eligibilityExpired, "the eligibility for \(item.role) at \(item.scope) has expired"))
        }

        if request.duration < RolePolicy.minimumActivationDuration {
            refusals.append(Refusal(.durationTooShort, "the duration \(format(request.duration)) is below the minimum of \(format(RolePolicy.minimumActivationDuration))"))
        }
        if request.duration > policy.maxActivationDuration {
            refusals.append(Refusal(.durationTooLong, "the duration \(format(request.duration)) exceeds the policy's maximum of \(format(policy.maxActivationDuration))"))
        }
        if policy.requireJustification && request.justification.isBlank {
            refusals.append(Refusal(.justificationRequired, "the policy requires a justification"))
        }
        if policy.requireTicket && request.ticket.isBlank {
            refusals.append(Refusal(.ticketRequired, "the policy requires a ticket number"))
        }
        if let refusal = mfaRefusal(policy, proof: request.mfa, now: now) { refusals.append(refusal) }
        if let live = facts.liveActivation {
            refusals.append(Refusal(.alreadyActive, "\(request.userLogin) already has a \(live.state.rawValue) activation of \(item.role) at \(item.scope) (\(live.id)); extend it instead"))
        }
        return ActivationDecision(
            refusals: refusals, startAt: startAt, endAt: endAt, needsApproval: policy.requireApproval,
            approvalsRequired: policy.requireApproval ? policy.approvalsRequired : 0,
            // An approval after the requested window has ended would grant nothing but a start and an expiry.
            approvalDeadline: policy.requireApproval ? min(endAt, now.addingTimeInterval(policy.approvalTimeout)) : nil,
            eligibility: eligibilityID)
    }

    /// Why `proof` does not satisfy a policy that requires MFA: missing, or older than `maximumMFAAge`.
    public static func mfaRefusal(_ policy: RolePolicy, proof: MFAProof?, now: Date) -> Refusal? {
        guard policy.requireMFA else { return nil }
        guard let proof else { return Refusal(.mfaRequired, "the policy requires a verified second factor") }
        if proof.verifiedAt > now.addingTimeInterval(startTolerance) || now.timeIntervalSince(proof.verifiedAt) > maximumMFAAge {
            return Refusal(.mfaRequired, "the policy requires a second factor verified within the last \(format(maximumMFAAge))")
        }
        return nil
    }

    /// Conditional access: why `address` may not act under `policy`, or nil when it may (or the policy allows any network).
    public static func networkRefusal(_ policy: RolePolicy, address: IPAddress?, action: String) -> Refusal? {
        guard !policy.allowedNetworks.isEmpty else { return nil }
        let allowed = policy.allowedNetworks.map(\.description).joined(separator: ", ")
        guard let address else {
            return Refusal(.networkNotAllowed, "\(action) is allowed only from \(allowed), and this request's client address is unknown")
        }
        guard policy.allowedNetworks.contains(where: { $0.contains(address) }) else {
            return Refusal(.networkNotAllowed, "\(action) is allowed only from \(allowed); this request came from \(address)")
        }
        return nil
    }

    /// The eligibility valid at `time` that lasts longest (permanent first).
    public static func bestEligibility(_ eligibilities: [Eligibility], at time: Date) -> Eligibility? {
        eligibilities.filter { $0.isValid(at: time) }.max { ($0.endAt ?? .distantFuture) < ($1.endAt ?? .distantFuture) }
    }

    /// Checks an approver's decision on a pending activation.
    public static func evaluateDecision(
        on activation: Activation, by approver: Actor, isApprover: Bool, now: Date
    ) -> [Refusal] {
        var refusals: [Refusal] = []
        if activation.state != .pendingApproval {
            refusals.append(Refusal(.notPending, "activation \(activation.id) is \(activation.state.rawValue), not pending approval"))
        } else if let deadline = activation.approvalDeadline, now >= deadline {
            refusals.append(Refusal(.approvalTimedOut, "the request timed out at \(deadline.iso8601)"))
        } else if now >= activation.endAt {
            refusals.append(Refusal(.approvalTimedOut, "the requested window ended at \(activation.endAt.iso8601)"))
        }
        if approver.userID == activation.userID || approver == activation.requestedBy || (approver.userID != nil && approver.userID == activation.requestedBy.userID) {
            refusals.append(Refusal(.selfApproval, "\(approver.name) cannot decide on a request for or by themselves"))
        }
        if !isApprover {
            refusals.append(Refusal(.notApprover, "\(approver.name) is not an approver for \(activation.role) at \(activation.scope)"))
        }
        if activation.decisions.contains(where: { $0.approver == approver || ($0.approver.userID != nil && $0.approver.userID == approver.userID) }) {
            refusals.append(Refusal(.alreadyDecided, "\(approver.name) has already decided on this request"))
        }
        return refusals
    }

    /// Records an allowed decision: the first denial ends the request; enough approvals approve it.
    public static func apply(_ decision: ApprovalDecision, to activation: inout Activation) throws(InvalidTransition) {
        guard activation.state == .pendingApproval else {
            throw InvalidTransition(activation: activation.id, from: activation.state, to: decision.verdict == .deny ? .denied : .approved)
        }
        activation.decisions.append(decision)
        switch decision.verdict {
        case .deny:
            try activation.transition(to: .denied)
            activation.endedAt = decision.at
        case .approve:
            if activation.approvals.count >= activation.approvalsRequired {
                try activation.transition(to: .approved)
            }
        }
    }

    /// The state an approved (or auto-approved) activation moves to at `now`.
    public static func stateAfterApproval(_ activation: Activation, now: Date) -> ActivationState {
        activation.startAt > now ? .scheduled : .active
    }

    /// Checks a time window for a new eligibility or assignment against the policy's limits.
    public static func evaluateWindow(
        start: Date, end: Date?, permanentAllowed: Bool, maxDuration: TimeInterval, what: String
    ) -> [Refusal] {
        guard let end else {
            return permanentAllowed ? [] : [Refusal(.permanentNotAllowed, "the policy does not allow a permanent \(what); give an end (at most \(format(maxDuration)))")]
        }
        if end <= start { return [Refusal(.endBeforeStart, "the \(what)'s end \(end.iso8601) is not after its start \(start.iso8601)")] }
        if end.timeIntervalSince(start) > maxDuration {
            return [Refusal(.durationTooLong, "the \(what) would last \(format(end.timeIntervalSince(start))), more than the policy's maximum of \(format(maxDuration))")]
        }
        return []
    }

    /// `90m` → "1h30m"; whole seconds.
    public static func format(_ interval: TimeInterval) -> String {
        if interval < 0 { return "-" + format(-interval) }
        var seconds = Int(interval.rounded())
        if seconds == 0 { return "0s" }
        var parts: [String] = []
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where seconds >= size {
            parts.append("\(seconds / size)\(unit)")
            seconds %= size
        }
        return parts.joined()
    }
}

extension Optional where Wrapped == String {
    public var isBlank: Bool { self?.allSatisfy(\.isWhitespace) ?? true }
}

extension Date {
    /// ISO 8601 in UTC with seconds, as audit records and messages show times.
    public var iso8601: String {
        formatted(.iso8601)
    }
}
