import Foundation

/// A condition worth a human's attention, raised while it holds and resolved when it clears.
public struct SecurityAlert: Hashable, Sendable, Codable, Identifiable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case membershipOutsideDrawbridge
        case tooManyPermanentMembers
        case eligibleButUnused
        case activatedTooFrequently
        case weakActivationPolicy
        case inactiveAccountHoldsAccess
        case directoryUnreachable
        case changeBacklog

        public var severity: Severity {
            switch self {
            case .membershipOutsideDrawbridge, .inactiveAccountHoldsAccess, .directoryUnreachable, .changeBacklog: .high
            case .tooManyPermanentMembers: .medium
            case .eligibleButUnused, .activatedTooFrequently, .weakActivationPolicy: .low
            }
        }
    }

    public enum Severity: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
        case low
        case medium
        case high

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// What Drawbridge can do about it at an administrator's word.
    public enum Fix: Hashable, Sendable, Codable {
        case removeEligibility(EligibilityID)
        /// Removes the account's own eligibilities and ends its assignments and activations.
        case revokeAccess(DirectoryEntryID)
        /// Sets the role's policy at the scope to require MFA and a justification.
        case requireMFAAndJustification(ScopePath, RoleName)

        public var summary: String {
            switch self {
            case .removeEligibility: "remove the eligibility"
            case .revokeAccess: "revoke the account's access"
            case .requireMFAAndJustification: "require MFA and a justification"
            }
        }
    }

    public enum State: String, Hashable, Sendable, Codable, CaseIterable {
        case open
        case dismissed
        case resolved
    }

    /// Stable for one condition on one subject, so a re-evaluation finds the alert it raised before; safe in a URL.
    public var id: String
    /// The condition and its subject in words, such as `drift:GROUP-ID`.
    public var key: String
    public var kind: Kind
    public var title: String
    public var detail: String
    /// What the alert concerns: logins, DNs, scopes.
    public var items: [String]
    public var fix: Fix?
    public var state: State
    public var raisedAt: Date
    public var lastSeenAt: Date
    public var resolvedAt: Date?
    public var dismissedAt: Date?
    public var dismissedBy: String?
    public var dismissReason: String?
    /// What the alert concerned when it was dismissed: something new beyond it opens the alert again.
    public var dismissedItems: [String]?

    public init(finding: AlertFinding, at time: Date) {
        self.id = finding.id
        self.key = finding.key
        self.kind = finding.kind
        self.title = finding.title
        self.detail = finding.detail
        self.items = finding.items
        self.fix = finding.fix
        self.state = .open
        self.raisedAt = time
        self.lastSeenAt = time
    }

    public var severity: Severity { kind.severity }
}

/// One condition found by an evaluation.
public struct AlertFinding: Hashable, Sendable {
    public var key: String
    public var kind: SecurityAlert.Kind
    public var title: String
    public var detail: String
    public var items: [String]
    public var fix: SecurityAlert.Fix?

    public init(key: String, kind: SecurityAlert.Kind, title: String, detail: String, items: [String], fix: SecurityAlert.Fix? = nil) {
        self.key = key
        self.kind = kind
        self.title = title
        self.detail = detail
        self.items = items
        self.fix = fix
    }

    public var id: String { Self.id(forKey: key) }

    /// Scopes and DNs in a key hold `/`, `,` and `=`; the id is a digest of it that a URL path carries as it is.
    public static func id(forKey key: String) -> String { "alert-" + sha256Hex(key).prefix(16) }
}

/// Limits the alert rules compare against.
public struct AlertThresholds: Hashable, Sendable, Codable {
    /// Roles whose permanent members are counted, besides those bound to protected groups.
    public var designatedRoles: [RoleName]
    /// Too many permanent members: more than this many...
    public var maxPermanentMembers: Int
    /// ...and more than this share (percent) of everyone who holds or may activate the role.
    public var maxPermanentPercent: Double
    public var unusedAfter: TimeInterval
    public var frequentActivations: Int
    public var frequentWindow: TimeInterval
    /// Membership changes waiting longer than this are a backlog.
    public var backlogAge: TimeInterval

    public init(
        designatedRoles: [RoleName] = [], maxPermanentMembers: Int = 2, maxPermanentPercent: Double = 10, unusedAfter: TimeInterval = 90 * 86400,
        frequentActivations: Int = 5, frequentWindow: TimeInterval = 86400, backlogAge: TimeInterval = 300
    ) {
        self.designatedRoles = designatedRoles
        self.maxPermanentMembers = maxPermanentMembers
        self.maxPermanentPercent = maxPermanentPercent
        self.unusedAfter = unusedAfter
        self.frequentActivations = frequentActivations
        self.frequentWindow = frequentWindow
        self.backlogAge = backlogAge
    }
}
