import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// What one evaluation of the alert rules changed.
public struct AlertEvaluation: Sendable, Hashable {
    public var raised: [SecurityAlert] = []
    public var resolved: [SecurityAlert] = []
    /// Open alerts by kind after the evaluation, for the gauges.
    public var openByKind: [SecurityAlert.Kind: Int] = [:]

    public init() {}
}

extension AccessEngine {
    /// Raises alerts for conditions that newly hold and resolves those whose condition cleared; both are audited.
    /// `directoryProblem` says why the directory did not answer, or nil when it did; with `directoryChecked` false
    /// nobody asked it, and an open "directory unreachable" alert stays as it is.
    public func evaluateAlerts(directoryProblem: String?, directoryChecked: Bool = true, source: ActionSource = .scheduler) async throws -> AlertEvaluation {
        let oldestPending = try await store.accessGauges().oldestPendingChange
        let evaluation = try await transaction(dryRun: false, actor: .system("alerts"), source: source) { context in
            let input = try await alertInput(directoryProblem: directoryProblem, oldestPending: oldestPending, context)
            let findings = AlertRules.evaluate(input, thresholds: configuration.alertThresholds, now: context.now)
            var known = Dictionary(try await context.transaction.securityAlerts(states: nil).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var evaluation = AlertEvaluation()
            for finding in findings {
                if var alert = known.removeValue(forKey: finding.id), alert.state != .resolved {
                    alert.title = finding.title
                    alert.detail = finding.detail
                    alert.items = finding.items
                    alert.fix = finding.fix
                    alert.lastSeenAt = context.now
                    let new = Set(finding.items).subtracting(alert.dismissedItems ?? [])
                    let reopened = alert.state == .dismissed && !new.isEmpty
                    if reopened {
                        alert.state = .open
                        alert.dismissedAt = nil
                        alert.dismissedBy = nil
                        alert.dismissReason = nil
                        alert.dismissedItems = nil
                    }
                    try await context.transaction.save(alert)
                    if reopened {
                        var event = alertEvent("alert.raised", alert, context)
                        event.details["reopened"] = "new since it was dismissed: " + new.sorted().joined(separator: "; ")
                        try await context.audit(event)
                        evaluation.raised.append(alert)
                    }
                    if alert.state == .open { evaluation.openByKind[alert.kind, default: 0] += 1 }
                    continue
                }
                let alert = SecurityAlert(finding: finding, at: context.now)
                try await context.transaction.save(alert)
                try await context.audit(alertEvent("alert.raised", alert, context))
                evaluation.raised.append(alert)
                evaluation.openByKind[alert.kind, default: 0] += 1
            }
            if !directoryChecked, let unreachable = known.removeValue(forKey: AlertFinding.id(forKey: AlertRules.unreachableKey)), unreachable.state == .open {
                evaluation.openByKind[unreachable.kind, default: 0] += 1
            }
            for var alert in known.values where alert.state != .resolved {
                alert.state = .resolved
                alert.resolvedAt = context.now
                try await context.transaction.save(alert)
                try await context.audit(alertEvent("alert.resolved", alert, context))
                evaluation.resolved.append(alert)
            }
            return evaluation
        }
        AccessMetrics.recordOpenAlerts(evaluation.openByKind)
        return evaluation
    }

    /// Hides an open alert until its condition clears; it is raised again if the condition comes back after that.
    public func dismissAlert(_ id: String, reason: String?, by actor: Actor, source: ActionSource) async throws -> SecurityAlert {
        try await transaction(dryRun: false, actor: actor, source: source) { context in
            try requireAdministrator(context)
            guard var alert = try await context.transaction.securityAlert(id: id) else { throw ActionRefused([Refusal(.notFound, "no alert \(id)")]) }
            var refusals: [Refusal] = []
            if alert.state != .open { refusals.append(Refusal(.invalidState, "alert \(id) is \(alert.state.rawValue), not open")) }
            if reason.isBlank { refusals.append(Refusal(.justificationRequired, "say why the alert is dismissed")) }
            guard refusals.isEmpty else { throw ActionRefused(refusals) }
            alert.state = .dismissed
            alert.dismissedAt = context.now
            alert.dismissedBy = actor.name
            alert.dismissReason = reason
            alert.dismissedItems = alert.items
            try await context.transaction.save(alert)
            var event = alertEvent("alert.dismissed", alert, context)
            event.reason = reason
            try await context.audit(event)
            return alert
        }
    }

    /// Carries out the alert's fix action. The alert resolves at the next evaluation, once its condition is gone.
    public func fixAlert(_ id: String, by actor: Actor, source: ActionSource) async throws -> SecurityAlert {
        try await transaction(dryRun: false, actor: actor, source: source) { context in
            try requireAdministrator(context)
            guard let alert = try await context.transaction.securityAlert(id: id) else { throw ActionRefused([Refusal(.notFound, "no alert \(id)")]) }
            guard alert.state != .resolved, let fix = alert.fix else {
                throw ActionRefused([Refusal(.invalidState, alert.fix == nil ? "alert \(id) has no fix action" : "alert \(id) is resolved")])
            }
            let reason = "fix for alert: \(alert.title)"
            switch fix {
            case .removeEligibility(let eligibilityID):
                guard let eligibility = try await context.transaction.eligibility(id: eligibilityID) else { break }
                if case .rule(let rule) = eligibility.source {
                    throw ActionRefused([Refusal(.readOnly, "the eligibility comes from the rule '\(rule)' in the configuration")])
                }
                try await context.transaction.delete(eligibilityID)
                try await context.audit(context.event(
                    "eligibility.removed", subject: eligibilityID.rawValue, scope: eligibility.scope, role: eligibility.role, reason: reason,
                    details: ["principal": eligibility.principal.description]))
                try await revokeIneligible(context, reason: "eligibility \(eligibilityID) was removed")
            case .revokeAccess(let userID):
                for eligibility in try await context.transaction.eligibilities(role: nil) where eligibility.principal == .user(userID) {
                    if case .rule = eligibility.source { continue }
                    try await context.transaction.delete(eligibility.id)
                    try await context.audit(context.event(
                        "eligibility.removed", subject: eligibility.id.rawValue, scope: eligibility.scope, role: eligibility.role, reason: reason,
                        details: ["principal": eligibility.principal.description]))
                }
                for var assignment in try await context.transaction.assignments(userID: userID, liveOnly: true) {
                    try await endAssignment(&assignment, .revoked, reason: reason, context)
                }
                for var activation in try await context.transaction.activations(ActivationQuery(userID: userID, states: ActivationQuery.live.states)) {
                    try await revoke(&activation, reason: reason, context)
                    try await context.transaction.save(activation)
                }
                try await removeFromManagedGroups(userID, cause: "alert:\(alert.id)", context)
            case .requireMFAAndJustification(let scope, let role):
                var override = try await context.transaction.policyOverrides(role: role)[scope] ?? PolicyOverride()
                override.requireMFA = true
                override.requireJustification = true
                try await context.transaction.setPolicyOverride(override, scope: scope, role: role)
                try await context.audit(context.event("policy.set", scope: scope, role: role, reason: reason, details: ["override": (try? AuditJSON.text(override)) ?? ""]))
            }
            try await context.audit(alertEvent("alert.fixed", alert, context))
            return alert
        }
    }

    /// Queues removing the account from every managed group that lists it directly, granted by Drawbridge or not;
    /// membership through a nested group is the nested group's business and stays (so does the alert).
    func removeFromManagedGroups(_ userID: DirectoryEntryID, cause: String, _ context: AccessContext) async throws {
        guard let user = try await context.transaction.user(id: userID) else { return }
        var seen: Set<DirectoryEntryID> = []
        for binding in try await context.transaction.roleBindings() where seen.insert(binding.groupID).inserted {
            let listed = try await context.transaction.memberReferences(ofGroup: binding.groupID).contains { reference in
                switch reference {
                case .dn(let dn): dn == user.record.dn
                case .login(let login): login == user.record.login
                }
            }
            guard listed else { continue }
            try await context.transaction.enqueue(MembershipOperation(
                action: .remove, groupID: binding.groupID, groupDN: binding.groupDN, userID: userID, userDN: user.record.dn,
                userLogin: user.record.login, cause: cause, scope: binding.scope, role: binding.role, createdAt: context.now))
            context.markWork()
        }
    }

    public func alerts(states: Set<SecurityAlert.State>?) async throws -> [SecurityAlert] {
        try await store.withAccessTransaction(commit: false) { try await $0.securityAlerts(states: states) }
    }

    func alertEvent(_ action: String, _ alert: SecurityAlert, _ context: AccessContext) -> AuditEvent {
        context.event(
            action, subject: alert.id, reason: alert.title,
            details: ["kind": alert.kind.rawValue, "severity": alert.severity.rawValue, "detail": alert.detail, "items": alert.items.joined(separator: "; ")])
    }

    func alertInput(directoryProblem: String?, oldestPending: Date?, _ context: AccessContext) async throws -> AlertInput {
        let transaction = context.transaction
        let thresholds = configuration.alertThresholds
        let eligibilities = try await transaction.eligibilities(role: nil)
        let bindings = try await transaction.roleBindings()
        var members: [DirectoryEntryID: [DirectoryEntryID]] = [:]
        for eligibility in eligibilities {
            if case .group(let id) = eligibility.principal, members[id] == nil {
                members[id] = try await transaction.memberIDs(ofGroup: id, includeInactive: true)
            }
        }
        let inactiveMemberships = try await transaction.inactiveMemberships()
        var policies: [RoleBinding: RolePolicy] = [:]
        var sets: [RoleName: PolicySet] = [:]
        for binding in bindings {
            if sets[binding.role] == nil { sets[binding.role] = PolicySet(overrides: try await transaction.policyOverrides(role: binding.role)) }
            policies[binding] = sets[binding.role]?.effective(at: binding.scope)
        }
        let window = max(thresholds.unusedAfter, thresholds.frequentWindow) + Self.scheduleMargin
        var activations = try await transaction.activationsStarted(requestedSince: context.now.addingTimeInterval(-window))
        let started = Set(activations.map(\.id))
        activations += try await transaction.activations(.live).filter { !started.contains($0.id) }
        let assignments = try await transaction.assignments(userID: nil, liveOnly: true)
        // Only the users named somewhere above: a large directory's other accounts play no part.
        var named = Set(inactiveMemberships.keys).union(members.values.joined()).union(assignments.map(\.userID)).union(activations.map(\.userID))
        for eligibility in eligibilities { if case .user(let id) = eligibility.principal { named.insert(id) } }
        let openDrift = try await transaction.driftFindings(openOnly: true)
        var groupNames: [DirectoryEntryID: String] = [:]
        for id in Set(members.keys) {
            if let group = try await transaction.group(id: id) { groupNames[id] = group.name }
        }
        return AlertInput(
            openDrift: openDrift, bindings: bindings, protectedRules: Set(configuration.bindingSettings.filter(\.value.protected).keys),
            eligibilities: eligibilities, assignments: assignments, activations: activations,
            users: Dictionary(try await transaction.users(ids: Array(named)).map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first }),
            groupNames: groupNames, members: members, inactiveMemberships: inactiveMemberships, policies: policies,
            directoryProblem: directoryProblem, oldestPendingChange: oldestPending)
    }
}
