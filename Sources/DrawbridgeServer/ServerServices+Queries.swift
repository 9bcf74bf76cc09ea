import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation

extension ServerServices {
    /// Reads in one consistent snapshot (a transaction that is rolled back).
    func read<T: Sendable>(_ body: @escaping @Sendable (any AccessTransaction) async throws -> T) async throws -> T {
        try await store.withAccessTransaction(commit: false, body)
    }

    /// The roles the user may activate now: each role binding covered by an eligibility of the user or of one of
    /// their groups (nested too) at the binding's scope or above, with the policy there and any live activation.
    func eligibleRoles(of userID: DirectoryEntryID) async throws -> [EligibleRoleView] {
        let now = clock.now()
        return try await read { transaction in
            let groups = try await transaction.groupIDs(ofUser: userID)
            let eligibilities = try await transaction.eligibilities(role: nil).filter {
                $0.applies(to: userID, groups: groups) && $0.isValid(at: now)
            }
            guard !eligibilities.isEmpty else { return [] }
            let live = try await transaction.activations(ActivationQuery(userID: userID, states: Set(ActivationState.allCases.filter(\.isLive))))
            var policies: [RoleName: PolicySet] = [:]
            var names = NameCache(transaction: transaction)
            var roles: [EligibleRoleView] = []
            for binding in try await transaction.roleBindings().sorted(by: { ($0.scope, $0.role) < ($1.scope, $1.role) }) {
                let covering = eligibilities.filter { $0.covers(scope: binding.scope, role: binding.role) }
                guard !covering.isEmpty else { continue }
                if policies[binding.role] == nil {
                    policies[binding.role] = PolicySet(overrides: try await transaction.policyOverrides(role: binding.role))
                }
                var via: [EligibilityView] = []
                for eligibility in covering { via.append(try await names.view(eligibility)) }
                roles.append(EligibleRoleView(
                    scope: binding.scope, role: binding.role, groupDN: binding.groupDN.description, groupName: binding.groupName, via: via,
                    policy: PolicySummary(policies[binding.role]!.effective(at: binding.scope)),
                    activation: live.first { $0.scope == binding.scope && $0.role == binding.role }))
            }
            return roles
        }
    }

    /// Requests waiting for a decision that `userID` may make: pending, not their own, and they are an approver
    /// under the policy at the request's scope.
    func approvalQueue(for userID: DirectoryEntryID) async throws -> [Activation] {
        try await read { transaction in
            let groups = try await transaction.groupIDs(ofUser: userID)
            var policies: [RoleName: PolicySet] = [:]
            var queue: [Activation] = []
            for activation in try await transaction.activations(ActivationQuery(states: [.pendingApproval])) where activation.userID != userID {
                if policies[activation.role] == nil {
                    policies[activation.role] = PolicySet(overrides: try await transaction.policyOverrides(role: activation.role))
                }
                let approvers = policies[activation.role]!.effective(at: activation.scope).approvers
                let isApprover = approvers.contains { principal in
                    switch principal {
                    case .user(let id): id == userID
                    case .group(let id): groups.contains(id)
                    }
                }
                if isApprover && !activation.decisions.contains(where: { $0.approver.userID == userID }) { queue.append(activation) }
            }
            return queue.sorted { $0.requestedAt < $1.requestedAt }
        }
    }

    /// `group:NAME` (case-insensitive), `user:LOGIN` or a bare login, as a live directory principal.
    func principal(named text: String) async throws -> Principal {
        if text.hasPrefix("group:") {
            let name = String(text.dropFirst(6))
            guard let group = try await store.groups(includeDeleted: false).first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else {
                throw ActionRefused([Refusal(.notFound, "no live directory group named '\(name)'")])
            }
            return .group(group.id)
        }
        let login = text.hasPrefix("user:") ? String(text.dropFirst(5)) : text
        guard let user = try await store.user(login: login) else {
            throw ActionRefused([Refusal(.unknownUser, "no live directory user with login '\(login)'")])
        }
        return .user(user.record.id)
    }

    func eligibilityViews(role: RoleName?) async throws -> [EligibilityView] {
        try await read { transaction in
            var names = NameCache(transaction: transaction)
            var views: [EligibilityView] = []
            for eligibility in try await transaction.eligibilities(role: role) { views.append(try await names.view(eligibility)) }
            return views
        }
    }
}

/// Looks up the names of users and groups that records refer to by id, each once.
struct NameCache {
    let transaction: any AccessTransaction
    private var names: [DirectoryEntryID: String] = [:]

    init(transaction: any AccessTransaction) {
        self.transaction = transaction
    }

    mutating func name(of principal: Principal) async throws -> String {
        if let cached = names[principal.id] { return cached }
        let name: String
        switch principal {
        case .user(let id): name = try await transaction.user(id: id)?.record.login ?? id.rawValue
        case .group(let id): name = try await transaction.group(id: id)?.name ?? id.rawValue
        }
        names[principal.id] = name
        return name
    }

    mutating func view(_ eligibility: Eligibility) async throws -> EligibilityView {
        let kind: String
        switch eligibility.principal {
        case .user: kind = "user"
        case .group: kind = "group"
        }
        let source: String
        switch eligibility.source {
        case .manual: source = "manual"
        case .rule(let name): source = "rule:\(name)"
        }
        var excluded: [String] = []
        for id in eligibility.excludedUserIDs.sorted() { excluded.append(try await name(of: .user(id))) }
        return EligibilityView(
            id: eligibility.id.rawValue, principal: PrincipalView(kind: kind, id: eligibility.principal.id.rawValue, name: try await name(of: eligibility.principal)),
            scope: eligibility.scope, role: eligibility.role, startAt: eligibility.startAt, endAt: eligibility.endAt, source: source,
            justification: eligibility.justification, excluded: excluded)
    }
}
