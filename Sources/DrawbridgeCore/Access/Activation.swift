import Foundation
import LDAP

/// One user's time-bound activation of one role at one scope, from request to end.
public struct Activation: Hashable, Sendable, Codable, Identifiable {
    public var id: ActivationID
    public var requestID: RequestID
    public var userID: DirectoryEntryID
    public var userLogin: String
    public var scope: ScopePath
    public var role: RoleName
    public var requestedBy: Actor
    public var requestedAt: Date
    public var startAt: Date
    public var endAt: Date
    public var justification: String?
    public var ticket: String?
    public var mfa: MFAProof?
    public var state: ActivationState
    public var approvalsRequired: Int
    /// A pending request times out at this moment.
    public var approvalDeadline: Date?
    public var decisions: [ApprovalDecision]
    /// The activation this one continues, for an extension that needed approval.
    public var extends: ActivationID?
    /// The group the grant was queued for: the removal goes there even if the binding has moved since.
    public var grantedGroup: GrantedGroup?
    public var endedAt: Date?
    public var endReason: EndReason?
    public var failureReason: String?

    public init(
        id: ActivationID = .make(), requestID: RequestID, userID: DirectoryEntryID, userLogin: String, scope: ScopePath, role: RoleName,
        requestedBy: Actor, requestedAt: Date, startAt: Date, endAt: Date, justification: String?, ticket: String?, mfa: MFAProof?,
        state: ActivationState, approvalsRequired: Int, approvalDeadline: Date?, extends: ActivationID? = nil
    ) {
        self.id = id
        self.requestID = requestID
        self.userID = userID
        self.userLogin = userLogin
        self.scope = scope
        self.role = role
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.startAt = startAt
        self.endAt = endAt
        self.justification = justification
        self.ticket = ticket
        self.mfa = mfa
        self.state = state
        self.approvalsRequired = approvalsRequired
        self.approvalDeadline = approvalDeadline
        self.decisions = []
        self.extends = extends
    }

    /// When the scheduler must next look at it: the approval deadline, the start, or the end.
    public var nextDueAt: Date? {
        switch state {
        case .pendingApproval: approvalDeadline
        case .approved, .scheduled: startAt
        case .active: endAt
        case .denied, .canceled, .timedOut, .ended, .failed: nil
        }
    }

    public var grantsMembership: Bool { state == .active }

    public var approvals: [ApprovalDecision] { decisions.filter { $0.verdict == .approve } }

    /// Moves to `next`, or throws when the state machine has no such edge.
    public mutating func transition(to next: ActivationState) throws(InvalidTransition) {
        guard state.allowedNext.contains(next) else { throw InvalidTransition(activation: id, from: state, to: next) }
        state = next
    }

    /// Ends an active (or not yet started) activation.
    public mutating func end(_ reason: EndReason, at time: Date) throws(InvalidTransition) {
        try transition(to: .ended)
        endedAt = time
        endReason = reason
    }

    public mutating func fail(_ reason: String, at time: Date) throws(InvalidTransition) {
        try transition(to: .failed)
        endedAt = time
        failureReason = reason
    }
}

public enum ActivationState: String, Hashable, Sendable, Codable, CaseIterable {
    case pendingApproval
    case approved
    case denied
    case canceled
    case timedOut
    case scheduled
    case active
    case ended
    case failed

    public var allowedNext: Set<ActivationState> {
        switch self {
        case .pendingApproval: [.approved, .denied, .canceled, .timedOut]
        case .approved: [.scheduled, .active]
        case .scheduled: [.active, .canceled, .ended, .failed]
        case .active: [.ended, .failed]
        case .denied, .canceled, .timedOut, .ended, .failed: []
        }
    }

    /// Still waiting for a decision or a start, or holding the role.
    public var isLive: Bool {
        switch self {
        case .pendingApproval, .approved, .scheduled, .active: true
        case .denied, .canceled, .timedOut, .ended, .failed: false
        }
    }
}

public struct InvalidTransition: Error, Hashable, Sendable, CustomStringConvertible {
    public let activation: ActivationID
    public let from: ActivationState
    public let to: ActivationState

    public var description: String { "activation \(activation) is \(from) and cannot become \(to)" }
}

/// The directory group a grant put its user in.
public struct GrantedGroup: Hashable, Sendable, Codable {
    public var id: DirectoryEntryID
    public var dn: DistinguishedName

    public init(id: DirectoryEntryID, dn: DistinguishedName) {
        self.id = id
        self.dn = dn
    }
}

/// Evidence that the requester passed a second factor shortly before the request.
public struct MFAProof: Hashable, Sendable, Codable {
    /// totp, or operator-attested for the local CLI, where the operator vouches for the person.
    public var method: String
    public var verifiedAt: Date

    public init(method: String, verifiedAt: Date) {
        self.method = method
        self.verifiedAt = verifiedAt
    }
}

public struct ApprovalDecision: Hashable, Sendable, Codable {
    public enum Verdict: String, Hashable, Sendable, Codable {
        case approve
        case deny
    }

    public var approver: Actor
    public var verdict: Verdict
    public var reason: String?
    public var at: Date

    public init(approver: Actor, verdict: Verdict, reason: String?, at: Date) {
        self.approver = approver
        self.verdict = verdict
        self.reason = reason
        self.at = at
    }
}
