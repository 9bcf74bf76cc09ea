import DrawbridgeCore
import Foundation

// What the Mustache templates render. Every value is already text for display; templates escape it.

/// Shared by every page: who is signed in, the CSRF token for its forms, and messages from the last action.
struct PageFrame: Sendable {
    var title: String
    var login: String?
    var administrator: Bool
    var csrf: String
    var notices: [String]
    var errors: [String]
    /// Which navigation entry is current: roles, requests, tokens, mfa, admin, audit.
    var section: String
}

struct SignInPage: Sendable {
    var frame: PageFrame
    var login: String
    /// Second step: the password was right, the TOTP code is next.
    var secondFactor: Bool
}

struct RolesPage: Sendable {
    struct Scope: Sendable {
        var path: String
        var roles: [Role]
    }

    struct Role: Sendable {
        var scope: String
        var role: String
        var group: String
        var via: String
        var maxDuration: String
        var requirements: String
        var needsJustification: Bool
        var needsTicket: Bool
        var needsMFA: Bool
        var needsApproval: Bool
        /// A live activation of this role, if any: then no Activate form.
        var activation: ActivationRow?
        var formID: String
    }

    var frame: PageFrame
    var scopes: [Scope]
    var active: [ActivationRow]
    var hasEligible: Bool
    var mfaFresh: Bool
    var mfaEnrolled: Bool
}

struct ActivationRow: Sendable {
    var id: String
    var user: String
    var scope: String
    var role: String
    var state: String
    var start: String
    var end: String
    var timeLeft: String
    var justification: String
    var ticket: String
    var approvals: String
    var isActive: Bool
    var canCancel: Bool
    var canExtend: Bool
    var reason: String
}

struct RequestsPage: Sendable {
    var frame: PageFrame
    var mine: [ActivationRow]
    var queue: [ActivationRow]
    var isApprover: Bool
}

struct MFAPage: Sendable {
    var frame: PageFrame
    var enrolled: Bool
    var available: Bool
    /// During enrollment: the secret, its URI and the QR code (trusted SVG from libqrencode, rendered unescaped).
    var secret: String?
    var uri: String?
    var qrSVG: String?
    /// Right after confirmation, shown once.
    var recoveryCodes: [String]
    var verifiedAt: String?
}

struct TokensPage: Sendable {
    struct Token: Sendable {
        var id: String
        var name: String
        var created: String
        var expires: String
        var lastUsed: String
        var status: String
        var usable: Bool
    }

    var frame: PageFrame
    var tokens: [Token]
    /// Right after creation, shown once.
    var newSecret: String?
}

struct AdminPage: Sendable {
    struct Scope: Sendable {
        var path: String
        var depth: Int
        var bindings: [Binding]
        var eligibilities: [Eligibility]
        var assignments: [Assignment]
    }

    struct Binding: Sendable {
        var role: String
        var group: String
        var rule: String
    }

    struct Eligibility: Sendable {
        var id: String
        var principal: String
        var role: String
        var window: String
        var source: String
        var removable: Bool
    }

    struct Assignment: Sendable {
        var id: String
        var user: String
        var role: String
        var window: String
        var kind: String
    }

    struct Drift: Sendable {
        var group: String
        var member: String
        var effect: String
        var since: String
    }

    var frame: PageFrame
    var scopes: [Scope]
    var drift: [Drift]
    var roles: [String]
    var scopePaths: [String]
}

struct PolicyPage: Sendable {
    struct Setting: Sendable {
        var name: String
        var label: String
        var value: String
        var overridden: Bool
        var isBool: Bool
    }

    var frame: PageFrame
    var scope: String
    var role: String
    var origin: String
    var settings: [Setting]
    var approvers: String
    var allowedNetworks: String
}

struct AuditPage: Sendable {
    struct Row: Sendable {
        var sequence: String
        var at: String
        var action: String
        var outcome: String
        var actor: String
        var user: String
        var scope: String
        var role: String
        var reason: String
    }

    var frame: PageFrame
    var since: String
    var until: String
    var user: String
    var scope: String
    var rows: [Row]
    var csvLink: String
    var truncated: Bool
}

struct ErrorPage: Sendable {
    var frame: PageFrame
    var status: Int
    var message: String
}

enum WebFormat {
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space)) + " UTC"
    }

    static func left(until end: Date, now: Date) -> String {
        let seconds = Int(end.timeIntervalSince(now))
        guard seconds > 0 else { return "ending" }
        if seconds >= 3600 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        if seconds >= 60 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }

    static func row(_ activation: Activation, now: Date) -> ActivationRow {
        ActivationRow(
            id: activation.id.rawValue, user: activation.userLogin, scope: activation.scope.description, role: activation.role.rawValue,
            state: activation.state.rawValue, start: time(activation.startAt), end: time(activation.endAt),
            timeLeft: activation.state == .active ? left(until: activation.endAt, now: now) : "",
            justification: activation.justification ?? "", ticket: activation.ticket ?? "",
            approvals: activation.approvalsRequired > 0 ? "\(activation.approvals.count) of \(activation.approvalsRequired)" : "",
            isActive: activation.state == .active,
            canCancel: [.pendingApproval, .approved, .scheduled].contains(activation.state),
            canExtend: [.active, .scheduled].contains(activation.state),
            reason: activation.endReason?.rawValue ?? activation.failureReason ?? activation.decisions.last?.reason ?? "")
    }
}

struct ReviewItemRow: Sendable {
    var id: String
    var holder: String
    var via: String
    var role: String
    var scope: String
    var kind: String
    var reviewers: String
    var recommendation: String
    var recommendationReason: String
    var decision: String
    var reason: String
    var decidedBy: String
    var outcome: String
    var undecided: Bool
}

struct MyReviewsPage: Sendable {
    struct Review: Sendable {
        var id: String
        var name: String
        var end: String
        var reasonRequired: Bool
        var pending: Int
        var items: [ReviewItemRow]
    }

    var frame: PageFrame
    var reviews: [Review]
}

struct AdminReviewsPage: Sendable {
    struct Review: Sendable {
        var id: String
        var name: String
        var run: Int
        var status: String
        var start: String
        var end: String
        var progress: String
    }

    var frame: PageFrame
    var reviews: [Review]
    var frequencies: [String]
    var noResponses: [String]
}

struct AdminReviewPage: Sendable {
    var frame: PageFrame
    var id: String
    var name: String
    var run: Int
    var status: String
    var start: String
    var end: String
    var noResponse: String
    var progress: String
    var canComplete: Bool
    var canApply: Bool
    var items: [ReviewItemRow]
}

struct AlertsPage: Sendable {
    struct Alert: Sendable {
        var id: String
        var severity: String
        var state: String
        var title: String
        var detail: String
        var items: [String]
        var fix: String?
        var raised: String
        var isOpen: Bool
        var note: String
    }

    var frame: PageFrame
    var showingAll: Bool
    var alerts: [Alert]
}

extension WebFormat {
    static func reviewRow(_ item: ReviewItem) -> ReviewItemRow {
        ReviewItemRow(
            id: item.id.rawValue, holder: item.holder, via: item.viaGroup.map { "via group \($0)" } ?? "", role: item.role.rawValue,
            scope: item.scope.description, kind: item.kind == .eligibility ? "eligible" : "assigned", reviewers: item.reviewerLogins.joined(separator: ", "),
            recommendation: item.recommendation.rawValue, recommendationReason: item.recommendationReason, decision: item.decision?.rawValue ?? "",
            reason: item.reason ?? "", decidedBy: item.decidedBy ?? "", outcome: item.outcome?.rawValue ?? "", undecided: item.decision == nil)
    }
}
