import Foundation

/// What an audit event is worth telling people about, and whom.
public struct NotificationPlan: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case requested
        case approved
        case denied
        case activated
        case expiringSoon
        case ended
        case eligibilityAdded
        case eligibilityRemoved
        case assignmentAdded
        case assignmentRemoved
        case driftFound
        case protectedRemovalRefused
        case grantFailed
        case reviewStarted
        case reviewReminder
        case alertRaised
        case alertResolved
    }

    public var kind: Kind
    /// Critical events reach recipients whose policy says "critical only", and critical-only webhooks.
    public var critical: Bool
    public var toPerson: Bool
    public var toApprovers: Bool
    public var toAdministrators: Bool
    public var subject: String
    public var text: String
}

public enum NotificationRules {
    /// The plan for `event` under the policy of its (scope, role); nil when it notifies nobody.
    public static func plan(for event: AuditEvent, policy: RolePolicy) -> NotificationPlan? {
        guard let kind = kind(of: event) else { return nil }
        let critical = [.driftFound, .protectedRemovalRefused, .grantFailed].contains(kind)
            || (kind == .alertRaised && event.details["severity"] == SecurityAlert.Severity.high.rawValue)
        if policy.notifyCriticalOnly && !critical { return nil }
        let person = event.userLogin ?? "someone"
        let what = [event.role.map { "\($0)" }, event.scope.map { "at \($0)" }].compactMap { $0 }.joined(separator: " ")
        var lines: [String] = []
        let subject: String
        var toPerson = policy.notifyRequester
        var toApprovers = false
        var toAdministrators = policy.notifyAdministrators
        switch kind {
        case .requested:
            let end = event.details["end"] ?? "—"
            toApprovers = policy.notifyApprovers
            if event.action == "activation.extension-requested" {
                subject = "\(person) requests an extension of \(what)"
                lines.append("\(person) asks to extend \(what) until \(end); the extension starts at \(event.details["start"] ?? "the current end").")
            } else {
                subject = "\(person) requests \(what)"
                lines.append("\(person) asks to activate \(what) from \(event.details["start"] ?? "now") until \(end).")
            }
            lines.append("Approvals needed: \(event.details["approvalsRequired"] ?? "1").")
        case .approved:
            subject = "Approved: \(what) for \(person)"
            lines.append("\(event.actor.name) approved \(person)'s request for \(what).")
        case .denied:
            subject = "Denied: \(what) for \(person)"
            lines.append("\(event.actor.name) denied \(person)'s request for \(what).")
        case .activated:
            subject = "\(person) now holds \(what)"
            lines.append("\(person) holds \(what) until \(event.details["end"] ?? "—"); the directory group is \(event.groupDN ?? "—").")
        case .expiringSoon:
            subject = "\(what) for \(person) ends soon"
            lines.append("\(person)'s activation of \(what) ends at \(event.details["end"] ?? "—"). Extend it before then if the work is not done.")
        case .ended:
            subject = "\(what) for \(person) ended"
            lines.append("\(person)'s activation of \(what) ended (\(event.details["endReason"] ?? event.action)); the directory membership is removed.")
        case .eligibilityAdded, .eligibilityRemoved:
            let added = kind == .eligibilityAdded
            subject = added ? "Eligible for \(what)" : "No longer eligible for \(what)"
            lines.append(added ? "\(person) may now activate \(what)." : "\(person) may no longer activate \(what).")
            toAdministrators = true
        case .assignmentAdded, .assignmentRemoved:
            let added = kind == .assignmentAdded
            subject = added ? "Assigned \(what)" : "Assignment of \(what) ended"
            lines.append(added ? "\(person) is assigned \(what) directly." : "\(person)'s direct assignment of \(what) ended.")
            toAdministrators = true
        case .driftFound:
            subject = "Membership granted outside Drawbridge in \(event.groupDN ?? "a managed group")"
            lines.append("\(event.details["member"] ?? person) is a member of \(event.groupDN ?? "a managed group") without a grant from Drawbridge.")
            toPerson = false
            toAdministrators = true
        case .protectedRemovalRefused:
            subject = "Kept the last member of protected group \(event.groupDN ?? "")"
            lines.append("Removing \(person) would have left the protected group \(event.groupDN ?? "") empty, so the removal was refused.")
            toPerson = false
            toAdministrators = true
        case .reviewStarted, .reviewReminder:
            let name = event.details["name"] ?? "access review"
            subject = kind == .reviewStarted ? "Please review access: \(name)" : "Reminder: \(name) ends \(event.details["end"] ?? "soon")"
            lines.append("You have \(event.details["items"] ?? "some") item(s) to decide in the access review '\(name)', open until \(event.details["end"] ?? "—").")
            lines.append("Undecided items follow the review's no-response rule when it ends.")
            toPerson = true
            toAdministrators = false
        case .alertRaised, .alertResolved:
            let severity = event.details["severity"] ?? "—"
            subject = (kind == .alertRaised ? "Security alert (\(severity)): " : "Resolved: ") + (event.reason ?? "alert")
            lines.append(event.details["detail"] ?? "")
            if let items = event.details["items"], !items.isEmpty { lines.append("Concerns: \(items)") }
            toPerson = false
            toAdministrators = true
        case .grantFailed:
            subject = "Could not grant \(what) to \(person)"
            lines.append("The directory refused the change for \(person)'s activation of \(what).")
            toAdministrators = true
        }
        if let justification = event.justification { lines.append("Justification: \(justification)") }
        if let ticket = event.ticket { lines.append("Ticket: \(ticket)") }
        if let reason = event.reason, ![.alertRaised, .alertResolved].contains(kind) { lines.append("Reason: \(reason)") }
        return NotificationPlan(
            kind: kind, critical: critical, toPerson: toPerson, toApprovers: toApprovers, toAdministrators: toAdministrators,
            subject: "[Drawbridge] " + subject, text: lines.joined(separator: "\n"))
    }

    static func kind(of event: AuditEvent) -> NotificationPlan.Kind? {
        switch (event.action, event.outcome) {
        case ("activation.requested", .success): event.details["approvalsRequired"] == nil ? nil : .requested
        case ("activation.extension-requested", .success): .requested
        case ("activation.approved", .success): event.reason == AccessRules.automaticApprovalReason ? nil : .approved
        case ("activation.denied", .success): .denied
        case ("activation.started", .success): .activated
        case ("activation.expiring", .success): .expiringSoon
        case ("activation.ended", .success), ("activation.revoked", .success): .ended
        case ("eligibility.added", .success): .eligibilityAdded
        case ("eligibility.removed", .success), ("eligibility.expired", .success): .eligibilityRemoved
        case ("assignment.added", .success): .assignmentAdded
        case ("assignment.ended", .success): .assignmentRemoved
        case ("drift.detected", _): .driftFound
        case ("membership.removed", .refused): .protectedRemovalRefused
        case ("activation.failed", _): .grantFailed
        case ("review.started", .success): .reviewStarted
        case ("review.reminder", .success): .reviewReminder
        case ("alert.raised", .success): .alertRaised
        case ("alert.resolved", .success): .alertResolved
        default: nil
        }
    }
}
