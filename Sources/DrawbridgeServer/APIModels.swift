import DrawbridgeCore
import Foundation
import Hummingbird

// Bodies and views of the REST API; the views the CLI's remote mode reads are public, so both sides share one shape. Domain records (Activation, Assignment, RolePolicy) are returned as they
// are; principals and eligibilities get views that name groups and users instead of internal ids.

public struct MeView: ResponseCodable {
    public var id: String
    public var login: String
    public var displayName: String?
    public var mail: String?
    public var administrator: Bool
    public var mfaEnrolled: Bool
    public var mfaVerifiedAt: Date?
}

struct PrincipalView: Codable, Sendable {
    /// `user` or `group`.
    var kind: String
    var id: String
    var name: String
}

struct EligibilityView: ResponseCodable {
    var id: String
    var principal: PrincipalView
    var scope: ScopePath
    var role: RoleName
    var startAt: Date
    var endAt: Date?
    /// `manual`, or `rule:NAME` for eligibilities an eligibility rule derives from the directory.
    var source: String
    var justification: String?
    /// Logins of members an access review excluded from a group's eligibility.
    var excluded: [String]
}

/// A role the caller may activate at a scope: a binding covered by one or more of their eligibilities.
struct EligibleRoleView: ResponseCodable {
    var scope: ScopePath
    var role: RoleName
    var groupDN: String
    var groupName: String
    var via: [EligibilityView]
    var policy: PolicySummary
    var activation: Activation?
}

struct PolicySummary: Codable, Sendable {
    var maxActivationSeconds: Double
    var requireJustification: Bool
    var requireTicket: Bool
    var requireMFA: Bool
    var requireApproval: Bool
    var extensionRequiresApproval: Bool

    init(_ policy: RolePolicy) {
        maxActivationSeconds = policy.maxActivationDuration
        requireJustification = policy.requireJustification
        requireTicket = policy.requireTicket
        requireMFA = policy.requireMFA
        requireApproval = policy.requireApproval
        extensionRequiresApproval = policy.extensionRequiresApproval
    }
}

struct ScopeRoleBody: Codable, Sendable {
    var scope: ScopePath
    var role: RoleName
}

struct ActivateBody: Decodable, Sendable {
    var items: [ScopeRoleBody]
    /// `30m`, `2h`, …
    var duration: String
    var start: Date?
    var justification: String?
    var ticket: String?
    /// A current TOTP code, for token clients where the policy requires MFA (sessions step up instead).
    var totp: String?
    var dryRun: Bool?
}

public struct ActivationOutcomeView: Codable, Sendable {
    public var scope: ScopePath
    public var role: RoleName
    public var allowed: Bool
    public var needsApproval: Bool
    public var startAt: Date
    public var endAt: Date
    public var refusals: [Refusal]
    public var activation: Activation?
}

public struct ActivateResponse: ResponseCodable {
    public var dryRun: Bool
    public var outcomes: [ActivationOutcomeView]
}

struct ReasonBody: Decodable, Sendable {
    var reason: String?
}

struct ExtendBody: Decodable, Sendable {
    var duration: String
    var justification: String?
    var totp: String?
}

public struct ActivationList: ResponseCodable {
    public var activations: [Activation]
}

struct EligibleRoleList: ResponseCodable {
    var roles: [EligibleRoleView]
}

struct TokenView: ResponseCodable {
    var id: String
    var name: String
    var createdAt: Date
    var expiresAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?

    init(_ token: APIToken) {
        id = token.id.rawValue
        name = token.name
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
        lastUsedAt = token.lastUsedAt
    }
}

struct TokenList: ResponseCodable {
    var tokens: [TokenView]
}

struct CreateTokenBody: Decodable, Sendable {
    var name: String
    /// `30d`, `12h`, …; at most 366 days.
    var lifetime: String
}

struct CreatedToken: ResponseCodable {
    var token: TokenView
    /// Shown once; only its hash is stored.
    var secret: String
}

struct SignInBody: Decodable, Sendable {
    var login: String
    var password: String
}

struct SessionView: ResponseCodable {
    var login: String?
    var awaitingSecondFactor: Bool
    var csrfToken: String
}

struct CodeBody: Decodable, Sendable {
    var code: String
}

struct EnrollmentView: ResponseCodable {
    var secret: String
    var otpauthURI: String
    /// The URI as an SVG QR code.
    var qrSVG: String
}

struct RecoveryCodes: ResponseCodable {
    var recoveryCodes: [String]
}

struct StatusView: ResponseCodable {
    var status: String
}

extension Activation: ResponseEncodable {}
extension Assignment: ResponseEncodable {}

/// Parses a `30m` / `2h` duration field or refuses with the field's name.
func durationField(_ text: String, _ field: String) throws -> TimeInterval {
    guard let seconds = DurationText.seconds(text) else {
        throw APIProblem.badRequest("\(field) '\(text)' is not a duration like 30m, 2h or 7d")
    }
    return seconds
}
