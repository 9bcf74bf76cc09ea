import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP
import Logging

/// Compares each managed group's members in the directory with what Drawbridge granted: missing grants are
/// queued again, and members nobody granted are handled by the binding's drift policy.
public struct Reconciler: Sendable {
    let engine: AccessEngine
    let pool: LDAPConnectionPool
    let memberAttribute: MemberAttribute
    let logger: Logger

    public init(engine: AccessEngine, pool: LDAPConnectionPool, memberAttribute: MemberAttribute, logger: Logger = Logger(label: "drawbridge.reconciler")) {
        self.engine = engine
        self.pool = pool
        self.memberAttribute = memberAttribute
        self.logger = logger
    }

    public struct GroupResult: Sendable, Hashable {
        public var groupDN: DistinguishedName
        public var policy: DriftPolicy
        /// False until an administrator enforces the group: drift is then only reported, with what the policy would do.
        public var enforced: Bool
        public var missing: [String]
        public var drift: [String]
        /// What happened (or, in a dry run or before enforcement, would happen) to each drifted member.
        public var effect: String
    }

    /// - Parameter enforce: let the drift policies act on groups never enforced before.
    public func reconcile(dryRun: Bool, enforce: Bool, source: ActionSource) async throws -> [GroupResult] {
        let bindings = try await engine.store.roleBindings()
        let groups = Dictionary(grouping: bindings, by: \.groupID)
        // Intents in flight while the directory is read: one applied meanwhile makes the snapshot stale for its
        // member, who must not be taken for drift (and adopted for good).
        let (pendingBefore, lastBefore) = try await engine.store.withAccessTransaction(commit: false) { transaction in
            (try await transaction.operations(states: [.pending], limit: nil),
             try await transaction.operations(states: MembershipOperation.State.allCases, limit: 1).first?.id ?? 0)
        }
        var actual: [DirectoryEntryID: [DistinguishedName]] = [:]
        for (groupID, groupBindings) in groups {
            let dn = groupBindings[0].groupDN
            let request = LDAPSearchRequest(base: dn.description, scope: .base, attributes: [memberAttribute.attribute], pageSize: nil)
            let values = try await pool.withConnection { try await $0.searchAll(request) }.first?.strings(memberAttribute.attribute) ?? []
            actual[groupID] = values.compactMap { try? DistinguishedName($0) }
        }
        let snapshot = actual
        let configuration = engine.configuration
        let results = try await engine.transaction(dryRun: dryRun, actor: .system("reconciler"), source: source) { context in
            var results: [GroupResult] = []
            let states = try await context.transaction.bindingStates()
            let openFindings = try await context.transaction.driftFindings(openOnly: true)
            let desiredByGroup = try await context.desiredMembers()
            let pending = pendingBefore
                + (try await context.transaction.operations(states: [.pending], limit: nil))
                + (try await context.transaction.operations(after: lastBefore))
            for (groupID, groupBindings) in groups.sorted(by: { $0.value[0].groupDN.description < $1.value[0].groupDN.description }) {
                let binding = groupBindings[0]
                let settings = groupBindings.map { configuration.settings(forRule: $0.rule) }
                let policy = settings.contains { $0.drift == .revert } ? DriftPolicy.revert : settings.contains { $0.drift == .adopt } ? .adopt : .report
                var state = states[groupID] ?? BindingState(groupID: groupID, enforcedAt: nil, lastReconciledAt: nil)
                if enforce && state.enforcedAt == nil {
                    state.enforcedAt = context.now
                    try await context.audit(context.event("binding.enforced", group: binding, details: ["drift": policy.rawValue]))
                }
                let enforced = state.enforcedAt != nil
                let desiredIDs = desiredByGroup[groupID] ?? []
                let desiredUsers = try await context.transaction.users(ids: Array(desiredIDs))
                let desired = Dictionary(desiredUsers.map { ($0.record.dn.normalized, $0) }, uniquingKeysWith: { first, _ in first })
                let present = snapshot[groupID] ?? []
                let presentNormalized = Set(present.map(\.normalized))
                let pendingForGroup = pending.filter { $0.groupID == groupID }
                let inFlight = Set(pendingForGroup.map(\.userDN.normalized))
                let placeholder = configuration.placeholderMember?.normalized

                var missing: [String] = []
                for (normalized, user) in desired where !presentNormalized.contains(normalized) && !inFlight.contains(normalized) {
                    missing.append(user.record.login)
                    try await context.transaction.enqueue(MembershipOperation(
                        action: .add, groupID: groupID, groupDN: binding.groupDN, userID: user.record.id, userDN: user.record.dn,
                        userLogin: user.record.login, cause: Cause.reconcile, scope: binding.scope, role: binding.role, createdAt: context.now))
                    context.markWork()
                    try await context.audit(context.event(
                        "membership.missing", user: user.record.login, group: binding, reason: "granted but not in the group; queued again"))
                }

                let extras = present.filter { dn in
                    let normalized = dn.normalized
                    return desired[normalized] == nil && normalized != placeholder && !inFlight.contains(normalized)
                }
                let effect = enforced ? Self.effectName(policy) : "reported (would be \(Self.effectName(policy)) once enforced)"
                var driftNames: [String] = []
                var seenNow = Set<String>()
                for dn in extras {
                    seenNow.insert(dn.normalized)
                    let user = try await context.transaction.userLive(dn: dn)
                    let name = user?.record.login ?? dn.description
                    driftNames.append(name)
                    let existing = openFindings.first { $0.groupID == groupID && $0.memberDN.normalized == dn.normalized }
                    var finding = existing ?? DriftFinding(
                        groupID: groupID, groupDN: binding.groupDN, memberDN: dn, userLogin: user?.record.login, detectedAt: context.now,
                        lastSeenAt: context.now, effect: effect, resolvedAt: nil)
                    finding.lastSeenAt = context.now
                    finding.effect = effect
                    if existing == nil {
                        logger.warning("member granted outside Drawbridge", metadata: [
                            "group": "\(binding.groupDN)", "member": "\(dn)", "effect": "\(effect)",
                        ])
                        try await context.audit(context.event(
                            "drift.detected", user: user?.record.login, scope: binding.scope, role: binding.role, group: binding,
                            reason: "member granted outside Drawbridge",
                            details: ["member": dn.description, "effect": effect]))
                    }
                    if enforced {
                        switch policy {
                        case .report:
                            break
                        case .revert:
                            if let user {
                                try await context.transaction.enqueue(MembershipOperation(
                                    action: .remove, groupID: groupID, groupDN: binding.groupDN, userID: user.record.id, userDN: dn,
                                    userLogin: user.record.login, cause: Cause.drift(groupID), scope: binding.scope, role: binding.role,
                                    createdAt: context.now))
                                context.markWork()
                                try await context.audit(context.event(
                                    "drift.reverted", user: user.record.login, scope: binding.scope, role: binding.role, group: binding,
                                    details: ["member": dn.description]))
                            }
                        case .adopt:
                            if let user {
                                var assignment = Assignment(
                                    kind: .adopted, userID: user.record.id, userLogin: user.record.login, scope: binding.scope, role: binding.role,
                                    startAt: context.now, endAt: nil, justification: "adopted: found in \(binding.groupDN) when reconciled",
                                    ticket: nil, createdBy: context.actor, createdAt: context.now)
                                assignment.grantedGroup = GrantedGroup(id: groupID, dn: binding.groupDN)
                                try await context.transaction.save(assignment)
                                finding.resolvedAt = context.now
                                try await context.audit(context.event(
                                    "drift.adopted", subject: assignment.id.rawValue, user: user.record.login, scope: binding.scope,
                                    role: binding.role, group: binding))
                            }
                        }
                    }
                    try await context.transaction.save(finding)
                }
                for var finding in openFindings where finding.groupID == groupID && !seenNow.contains(finding.memberDN.normalized) {
                    finding.resolvedAt = context.now
                    try await context.transaction.save(finding)
                    try await context.audit(context.event(
                        "drift.resolved", user: finding.userLogin, scope: binding.scope, role: binding.role, group: binding,
                        details: ["member": finding.memberDN.description]))
                }
                state.lastReconciledAt = context.now
                try await context.transaction.setBindingState(state)
                results.append(GroupResult(
                    groupDN: binding.groupDN, policy: policy, enforced: enforced, missing: missing.sorted(), drift: driftNames.sorted(),
                    effect: extras.isEmpty ? "none" : effect))
            }
            return results
        }
        // Drift is one of the alerts: every reconcile, from anywhere, brings them up to date.
        if !dryRun { _ = try await engine.evaluateAlerts(directoryProblem: nil, directoryChecked: false, source: source) }
        return results
    }

    static func effectName(_ policy: DriftPolicy) -> String {
        switch policy {
        case .report: "reported"
        case .revert: "removed"
        case .adopt: "adopted as permanent assignments"
        }
    }
}
