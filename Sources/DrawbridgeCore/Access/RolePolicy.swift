import Foundation

/// The rules for one role at one scope, after inheritance: what an activation needs and how long things may last.
public struct RolePolicy: Hashable, Sendable, Codable {
    /// No activation is shorter: shorter ones would expire before the directory has settled.
    public static let minimumActivationDuration: TimeInterval = 5 * 60

    public var maxActivationDuration: TimeInterval = 8 * 3600
    public var requireJustification = true
    public var requireTicket = false
    public var requireMFA = true
    public var requireApproval = false
    public var approvers: [Principal] = []
    /// How many different approvers must approve (N of M).
    public var approvalsRequired = 1
    public var approvalTimeout: TimeInterval = 24 * 3600
    public var allowPermanentEligibility = false
    public var maxEligibilityDuration: TimeInterval = 365 * 86400
    public var allowPermanentAssignment = false
    public var maxAssignmentDuration: TimeInterval = 180 * 86400
    /// An extension becomes a new request for approval instead of moving the end time.
    public var extensionRequiresApproval = false
    /// Conditional access: activations and approvals only from these client networks; empty allows any.
    public var allowedNetworks: [IPNetwork] = []
    /// Who is told about this role's events: the person concerned, the approvers, the administrators, more addresses.
    public var notifyRequester = true
    public var notifyApprovers = true
    public var notifyAdministrators = false
    public var notifyEmails: [String] = []
    /// Only critical events (drift, protected-group refusals, failed grants) reach this role's recipients.
    public var notifyCriticalOnly = false

    public init() {}

    public static let defaults = RolePolicy()
}

/// A partial policy stored for (scope, role): the fields it sets override what the parent scope's policy says.
/// The root scope `/` holds the role's own defaults.
public struct PolicyOverride: Hashable, Sendable, Codable {
    public var maxActivationDuration: TimeInterval?
    public var requireJustification: Bool?
    public var requireTicket: Bool?
    public var requireMFA: Bool?
    public var requireApproval: Bool?
    public var approvers: [Principal]?
    public var approvalsRequired: Int?
    public var approvalTimeout: TimeInterval?
    public var allowPermanentEligibility: Bool?
    public var maxEligibilityDuration: TimeInterval?
    public var allowPermanentAssignment: Bool?
    public var maxAssignmentDuration: TimeInterval?
    public var extensionRequiresApproval: Bool?
    public var allowedNetworks: [IPNetwork]?
    public var notifyRequester: Bool?
    public var notifyApprovers: Bool?
    public var notifyAdministrators: Bool?
    public var notifyEmails: [String]?
    public var notifyCriticalOnly: Bool?

    public init() {}

    public var isEmpty: Bool { self == PolicyOverride() }

    /// `self` with every field that `newer` sets replaced.
    public func merged(with newer: PolicyOverride) -> PolicyOverride {
        var result = self
        result.maxActivationDuration = newer.maxActivationDuration ?? maxActivationDuration
        result.requireJustification = newer.requireJustification ?? requireJustification
        result.requireTicket = newer.requireTicket ?? requireTicket
        result.requireMFA = newer.requireMFA ?? requireMFA
        result.requireApproval = newer.requireApproval ?? requireApproval
        result.approvers = newer.approvers ?? approvers
        result.approvalsRequired = newer.approvalsRequired ?? approvalsRequired
        result.approvalTimeout = newer.approvalTimeout ?? approvalTimeout
        result.allowPermanentEligibility = newer.allowPermanentEligibility ?? allowPermanentEligibility
        result.maxEligibilityDuration = newer.maxEligibilityDuration ?? maxEligibilityDuration
        result.allowPermanentAssignment = newer.allowPermanentAssignment ?? allowPermanentAssignment
        result.maxAssignmentDuration = newer.maxAssignmentDuration ?? maxAssignmentDuration
        result.extensionRequiresApproval = newer.extensionRequiresApproval ?? extensionRequiresApproval
        result.allowedNetworks = newer.allowedNetworks ?? allowedNetworks
        result.notifyRequester = newer.notifyRequester ?? notifyRequester
        result.notifyApprovers = newer.notifyApprovers ?? notifyApprovers
        result.notifyAdministrators = newer.notifyAdministrators ?? notifyAdministrators
        result.notifyEmails = newer.notifyEmails ?? notifyEmails
        result.notifyCriticalOnly = newer.notifyCriticalOnly ?? notifyCriticalOnly
        return result
    }

    func applied(to policy: RolePolicy) -> RolePolicy {
        var result = policy
        if let value = maxActivationDuration { result.maxActivationDuration = value }
        if let value = requireJustification { result.requireJustification = value }
        if let value = requireTicket { result.requireTicket = value }
        if let value = requireMFA { result.requireMFA = value }
        if let value = requireApproval { result.requireApproval = value }
        if let value = approvers { result.approvers = value }
        if let value = approvalsRequired { result.approvalsRequired = value }
        if let value = approvalTimeout { result.approvalTimeout = value }
        if let value = allowPermanentEligibility { result.allowPermanentEligibility = value }
        if let value = maxEligibilityDuration { result.maxEligibilityDuration = value }
        if let value = allowPermanentAssignment { result.allowPermanentAssignment = value }
        if let value = maxAssignmentDuration { result.maxAssignmentDuration = value }
        if let value = extensionRequiresApproval { result.extensionRequiresApproval = value }
        if let value = allowedNetworks { result.allowedNetworks = value }
        if let value = notifyRequester { result.notifyRequester = value }
        if let value = notifyApprovers { result.notifyApprovers = value }
        if let value = notifyAdministrators { result.notifyAdministrators = value }
        if let value = notifyEmails { result.notifyEmails = value }
        if let value = notifyCriticalOnly { result.notifyCriticalOnly = value }
        return result
    }

    /// The problems with these values, each naming its field; empty when valid.
    public func problems() -> [String] {
        var problems: [String] = []
        if let value = maxActivationDuration, value < RolePolicy.minimumActivationDuration {
            problems.append("maxActivationDuration must be at least 5m")
        }
        if let value = approvalsRequired, value < 1 { problems.append("approvalsRequired must be at least 1") }
        if let value = approvalTimeout, value < 60 { problems.append("approvalTimeout must be at least 1m") }
        if let value = maxEligibilityDuration, value < 3600 { problems.append("maxEligibilityDuration must be at least 1h") }
        if let value = maxAssignmentDuration, value < RolePolicy.minimumActivationDuration {
            problems.append("maxAssignmentDuration must be at least 5m")
        }
        for address in notifyEmails ?? [] where !EmailAddress.isPlausible(address) {
            problems.append("notifyEmails: '\(address)' is not an email address")
        }
        return problems
    }
}

/// The stored overrides for one role, and the effective policy at any scope.
public struct PolicySet: Sendable {
    public private(set) var overrides: [ScopePath: PolicyOverride]

    public init(overrides: [ScopePath: PolicyOverride] = [:]) {
        self.overrides = overrides
    }

    /// The policy at `scope`: the defaults, then each ancestor's override from the root down, then the scope's own.
    public func effective(at scope: ScopePath) -> RolePolicy {
        scope.selfAndAncestors.reversed().reduce(RolePolicy.defaults) { policy, path in
            overrides[path]?.applied(to: policy) ?? policy
        }
    }

    /// The nearest scope, at or above `scope`, with an override of its own (nil: only the built-in defaults apply).
    public func origin(at scope: ScopePath) -> ScopePath? {
        scope.selfAndAncestors.first { overrides[$0] != nil }
    }
}
