import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// What one pass over the due queue did.
public struct AdvanceReport: Sendable, Hashable {
    public var started = 0
    public var expired = 0
    public var timedOut = 0
    public var revoked = 0
    public var eligibilitiesExpired = 0

    public init() {}
}

/// What the post-sync pass did.
public struct SyncFollowUpReport: Sendable, Hashable {
    public var eligibilitiesAdded = 0
    public var eligibilitiesRemoved = 0
    public var revoked = 0

    public init() {}
}

extension AccessEngine {
    /// Applies every transition due at or before now: timeouts, starts, ends, expired eligibilities.
    public func advance() async throws -> AdvanceReport {
        try await transaction(dryRun: false, actor: .system("scheduler"), source: .scheduler) { context in
            var report = AdvanceReport()
            let transaction = context.transaction
            // Expiries come in bursts (a shift ends, a maintenance window closes): they go in bulk.
            report.expired += try await expire(try await transaction.expiringActivations(by: context.now), context)
            for var activation in try await transaction.activations(dueBy: context.now) where activation.state != .active {
                switch activation.state {
                case .pendingApproval:
                    try activation.transition(to: .timedOut)
                    activation.endedAt = context.now
                    report.timedOut += 1
                    try await context.audit(context.event(
                        "activation.timed-out", requestID: activation.requestID, subject: activation.id.rawValue, user: activation.userLogin,
                        scope: activation.scope, role: activation.role,
                        reason: "\(activation.approvals.count) of \(activation.approvalsRequired) approvals by the deadline"))
                case .scheduled:
                    if let problem = try await reasonToRevoke(activation, context) {
                        try await revoke(&activation, reason: problem, context)
                        report.revoked += 1
                    } else if activation.endAt <= context.now {
                        // Never granted, so nothing to remove.
                        try activation.transition(to: .active)
                        try activation.end(.expired, at: context.now)
                        try await context.audit(context.event(
                            "activation.ended", requestID: activation.requestID, subject: activation.id.rawValue, user: activation.userLogin,
                            scope: activation.scope, role: activation.role, reason: "it ended before the scheduler could start it",
                            details: ["endReason": EndReason.expired.rawValue]))
                        report.expired += 1
                    } else {
                        try await start(&activation, context)
                        report.started += 1
                    }
                default:
                    continue
                }
                try await transaction.save(activation)
            }
            for var assignment in try await transaction.assignments(dueBy: context.now) {
                switch assignment.state {
                case .scheduled:
                    assignment.state = .active
                    assignment.grantedGroup = try await context.grant(
                        userID: assignment.userID, scope: assignment.scope, role: assignment.role, cause: Cause.assignment(assignment.id))
                    try await transaction.save(assignment)
                    try await context.audit(context.event(
                        "assignment.started", subject: assignment.id.rawValue, user: assignment.userLogin, scope: assignment.scope,
                        role: assignment.role, group: try await context.binding(scope: assignment.scope, role: assignment.role)))
                    report.started += 1
                case .active:
                    try await endAssignment(&assignment, .expired, reason: nil, context)
                    report.expired += 1
                case .ended:
                    continue
                }
            }
            let ended = try await transaction.eligibilities(endingBy: context.now)
            for eligibility in ended {
                try await transaction.delete(eligibility.id)
                try await context.audit(context.event(
                    "eligibility.expired", subject: eligibility.id.rawValue, scope: eligibility.scope, role: eligibility.role,
                    details: ["principal": eligibility.principal.description, "end": eligibility.endAt?.iso8601 ?? ""]))
            }
            report.eligibilitiesExpired = ended.count
            if !ended.isEmpty {
                report.revoked += try await revokeIneligible(context, reason: "the eligibility expired")
            }
            return report
        }
    }

    /// Ends active activations whose time is up and queues each removal unless another grant that stays keeps
    /// the user in the group: the same outcome as `end` one by one, in a handful of statements.
    func expire(_ expiring: [ExpiringActivation], _ context: AccessContext) async throws -> Int {
        guard !expiring.isEmpty else { return 0 }
        let transaction = context.transaction
        let ending = Set(expiring.map(\.grant.cause))
        var held: [DirectoryEntryID: Set<DirectoryEntryID>] = [:]
        // A few expiries look up their users' other grants; a burst reads them all in one scan, which is cheaper
        // than thousands of IN-list lookups.
        let users = expiring.count > 500 ? nil : expiring.map(\.grant.userID)
        for grant in try await transaction.activeGrants(userIDs: users) where !ending.contains(grant.cause) {
            if let group = try await context.group(granted: grant.grantedGroup, scope: grant.scope, role: grant.role) {
                held[grant.userID, default: []].insert(group.id)
            }
        }
        let records = Dictionary(
            try await transaction.users(ids: expiring.map(\.grant.userID)).map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })
        var removals: [MembershipOperation] = []
        var events: [AuditEvent] = []
        for activation in expiring {
            let grant = activation.grant
            let binding = try await context.binding(scope: grant.scope, role: grant.role)
            let group = try await context.group(granted: grant.grantedGroup, scope: grant.scope, role: grant.role)
            let user = records[grant.userID]
            if let group, let user, held[grant.userID, default: []].insert(group.id).inserted {
                var removal = MembershipOperation(
                    action: .remove, groupID: group.id, groupDN: group.dn, userID: user.record.id, userDN: user.record.dn,
                    userLogin: user.record.login, cause: grant.cause, scope: grant.scope, role: grant.role, createdAt: context.now)
                removal.dueAt = activation.endAt
                removals.append(removal)
            }
            events.append(context.event(
                "activation.ended", requestID: activation.requestID, subject: activation.id.rawValue, user: user?.record.login,
                scope: grant.scope, role: grant.role, group: binding, details: ["endReason": EndReason.expired.rawValue]))
        }
        try await transaction.markExpired(expiring.map(\.id), at: context.now)
        _ = try await transaction.enqueue(removals)
        try await transaction.appendAudit(events, at: context.now)
        if !removals.isEmpty { context.markWork() }
        return expiring.count
    }

    /// After a directory sync: re-derives the eligibilities of the eligibility rules from the groups as synced,
    /// then revokes what users no longer may hold (eligibility gone, account disabled or deleted).
    /// Ends with an evaluation of the security alerts, so every sync (CLI, API or service) brings them up to date;
    /// when neither the directory (`directoryChanged`) nor the follow-up changed anything, no alert can have moved
    /// because of the sync, and the governance timer covers what time alone changes.
    public func followUpSync(directoryChanged: Bool = true) async throws -> SyncFollowUpReport {
        let report = try await transaction(dryRun: false, actor: .system("sync"), source: .sync) { context in
            var report = SyncFollowUpReport()
            let transaction = context.transaction
            struct Key: Hashable {
                var rule: String
                var group: DirectoryEntryID
                var scope: ScopePath
                var role: RoleName
            }
            var wanted: [Key: StoredGroup] = [:]
            for group in try await transaction.liveGroups() {
                for rule in configuration.eligibilityRules {
                    switch rule.evaluate(name: group.name, dn: group.dn) {
                    case .success(let (scope, role)):
                        wanted[Key(rule: rule.name, group: group.id, scope: scope, role: role)] = group
                    case .failure(let warning):
                        logger.warning("\(warning)")
                    case nil:
                        continue
                    }
                }
            }
            var existing: [Key: Eligibility] = [:]
            for eligibility in try await transaction.eligibilities(role: nil) {
                guard case .rule(let rule) = eligibility.source else { continue }
                existing[Key(rule: rule, group: eligibility.principal.id, scope: eligibility.scope, role: eligibility.role)] = eligibility
            }
            for (key, eligibility) in existing where wanted[key] == nil {
                try await transaction.delete(eligibility.id)
                report.eligibilitiesRemoved += 1
                try await context.audit(context.event(
                    "eligibility.removed", subject: eligibility.id.rawValue, scope: key.scope, role: key.role,
                    reason: "the group no longer matches eligibility rule '\(key.rule)' or is gone",
                    details: ["principal": eligibility.principal.description, "rule": key.rule]))
            }
            for (key, group) in wanted.sorted(by: { $0.value.name < $1.value.name }) where existing[key] == nil {
                let eligibility = Eligibility(
                    principal: .group(group.id), scope: key.scope, role: key.role, startAt: context.now, endAt: nil, source: .rule(key.rule),
                    createdBy: context.actor, createdAt: context.now, justification: "members of \(group.name), by eligibility rule '\(key.rule)'")
                try await transaction.save(eligibility)
                report.eligibilitiesAdded += 1
                try await context.audit(context.event(
                    "eligibility.added", subject: eligibility.id.rawValue, user: "group:\(group.name)", scope: key.scope, role: key.role,
                    justification: eligibility.justification, details: ["principal": eligibility.principal.description, "rule": key.rule]))
            }
            report.revoked = try await revokeIneligible(context, reason: nil)
            return report
        }
        if directoryChanged || report != SyncFollowUpReport() {
            _ = try await evaluateAlerts(directoryProblem: nil, directoryChecked: false, source: .sync)
        }
        return report
    }

    /// Revokes live activations whose user may no longer hold them, and ends assignments of disabled or
    /// deleted accounts. Returns how many were revoked.
    @discardableResult
    func revokeIneligible(_ context: AccessContext, reason: String?) async throws -> Int {
        var revoked = 0
        for var activation in try await context.transaction.activations(.live) {
            guard let problem = try await reasonToRevoke(activation, context) else { continue }
            try await revoke(&activation, reason: [reason, problem].compactMap { $0 }.joined(separator: ": "), context)
            try await context.transaction.save(activation)
            revoked += 1
        }
        for var assignment in try await context.transaction.assignments(userID: nil, liveOnly: true) {
            let user = try await context.transaction.user(id: assignment.userID)
            let problem: String? = if user == nil || user?.deletedAt != nil {
                "the account \(assignment.userLogin) was deleted from the directory"
            } else if user?.record.enabled == false {
                "the account \(assignment.userLogin) is disabled in the directory"
            } else {
                nil
            }
            guard let problem else { continue }
            try await endAssignment(&assignment, .revoked, reason: problem, context)
            revoked += 1
        }
        return revoked
    }

    /// Why a live activation must go, or nil when its user may still hold it.
    func reasonToRevoke(_ activation: Activation, _ context: AccessContext) async throws -> String? {
        guard let user = try await context.transaction.user(id: activation.userID), user.deletedAt == nil else {
            return "the account \(activation.userLogin) was deleted from the directory"
        }
        if !user.record.enabled { return "the account \(activation.userLogin) is disabled in the directory" }
        let eligibilities = try await context.eligibilities(of: activation.userID, scope: activation.scope, role: activation.role)
        let checkAt = max(context.now, min(activation.startAt, activation.endAt))
        if AccessRules.bestEligibility(eligibilities, at: checkAt) == nil {
            return "\(activation.userLogin) is no longer eligible for \(activation.role) at \(activation.scope)"
        }
        return nil
    }
}
