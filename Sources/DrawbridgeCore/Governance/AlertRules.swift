import Foundation

/// What the alert rules look at, read by the caller in one transaction.
public struct AlertInput: Sendable {
    public var openDrift: [DriftFinding]
    public var bindings: [RoleBinding]
    /// Mapping rules whose groups are protected.
    public var protectedRules: Set<String>
    public var eligibilities: [Eligibility]
    /// Assignments that have not ended.
    public var assignments: [Assignment]
    /// Live activations and those that started within the longest window of interest.
    public var activations: [Activation]
    /// The users the rest of the input names, deleted ones included.
    public var users: [DirectoryEntryID: StoredUser]
    public var groupNames: [DirectoryEntryID: String]
    /// Members (through nested groups) of every eligible group, deleted and disabled accounts included.
    public var members: [DirectoryEntryID: [DirectoryEntryID]]
    /// The groups (through nesting) that each disabled or deleted account still belongs to.
    public var inactiveMemberships: [DirectoryEntryID: Set<DirectoryEntryID>]
    /// The effective policy at each binding.
    public var policies: [RoleBinding: RolePolicy]
    /// Why the directory could not be reached; nil when it answered.
    public var directoryProblem: String?
    public var oldestPendingChange: Date?

    public init(
        openDrift: [DriftFinding], bindings: [RoleBinding], protectedRules: Set<String>, eligibilities: [Eligibility], assignments: [Assignment],
        activations: [Activation], users: [DirectoryEntryID: StoredUser], groupNames: [DirectoryEntryID: String],
        members: [DirectoryEntryID: [DirectoryEntryID]], inactiveMemberships: [DirectoryEntryID: Set<DirectoryEntryID>], policies: [RoleBinding: RolePolicy],
        directoryProblem: String?, oldestPendingChange: Date?
    ) {
        self.openDrift = openDrift
        self.bindings = bindings
        self.protectedRules = protectedRules
        self.eligibilities = eligibilities
        self.assignments = assignments
        self.activations = activations
        self.users = users
        self.groupNames = groupNames
        self.members = members
        self.inactiveMemberships = inactiveMemberships
        self.policies = policies
        self.directoryProblem = directoryProblem
        self.oldestPendingChange = oldestPendingChange
    }
}

public enum AlertRules {
    public static let unreachableKey = "directory:unreachable"

    /// Every condition that holds at `now`.
    public static func evaluate(_ input: AlertInput, thresholds: AlertThresholds, now: Date) -> [AlertFinding] {
        var findings: [AlertFinding] = []
        findings += drift(input)
        findings += permanentMembers(input, thresholds)
        findings += unused(input, thresholds, now)
        findings += frequent(input, thresholds, now)
        findings += weakPolicies(input)
        findings += inactiveAccounts(input, now)
        if let problem = input.directoryProblem {
            findings.append(AlertFinding(
                key: unreachableKey, kind: .directoryUnreachable, title: "The directory is unreachable",
                detail: "Drawbridge cannot reach the directory: \(problem). Grants and removals wait until it answers.", items: []))
        }
        if let oldest = input.oldestPendingChange, now.timeIntervalSince(oldest) > thresholds.backlogAge {
            findings.append(AlertFinding(
                key: "directory:backlog", kind: .changeBacklog, title: "Membership changes are waiting",
                detail: "The oldest pending grant or removal has waited since \(oldest.iso8601), longer than \(DurationText.format(thresholds.backlogAge)).",
                items: []))
        }
        return findings.sorted { ($0.kind.severity, $1.key) > ($1.kind.severity, $0.key) }
    }

    static func login(_ id: DirectoryEntryID, _ input: AlertInput) -> String { input.users[id]?.record.login ?? id.rawValue }

    static func drift(_ input: AlertInput) -> [AlertFinding] {
        Dictionary(grouping: input.openDrift, by: \.groupID).map { groupID, findings in
            let dn = findings[0].groupDN.description
            return AlertFinding(
                key: "drift:\(groupID)", kind: .membershipOutsideDrawbridge, title: "Membership granted outside Drawbridge",
                detail: "\(findings.count) member(s) of \(dn) were added without a grant from Drawbridge.",
                items: findings.map { $0.userLogin ?? $0.memberDN.description }.sorted())
        }
    }

    static func holders(of eligibility: Eligibility, _ input: AlertInput) -> Set<DirectoryEntryID> {
        switch eligibility.principal {
        case .user(let id): [id]
        case .group(let id): Set(input.members[id] ?? []).subtracting(eligibility.excludedUserIDs)
        }
    }

    static func permanentMembers(_ input: AlertInput, _ thresholds: AlertThresholds) -> [AlertFinding] {
        input.bindings.compactMap { binding in
            guard thresholds.designatedRoles.contains(binding.role) || input.protectedRules.contains(binding.rule) else { return nil }
            let permanent = Set(input.assignments.filter {
                $0.state == .active && $0.endAt == nil && $0.scope == binding.scope && $0.role == binding.role
            }.map(\.userID))
            let eligible = input.eligibilities.filter { $0.covers(scope: binding.scope, role: binding.role) }.reduce(into: Set<DirectoryEntryID>()) {
                $0.formUnion(holders(of: $1, input))
            }
            let everyone = permanent.union(eligible).count
            let percent = everyone == 0 ? 0 : Double(permanent.count) * 100 / Double(everyone)
            guard permanent.count > thresholds.maxPermanentMembers && percent > thresholds.maxPermanentPercent else { return nil }
            return AlertFinding(
                key: "permanent:\(binding.scope):\(binding.role)", kind: .tooManyPermanentMembers,
                title: "Too many permanent members of \(binding.role) at \(binding.scope)",
                detail: "\(permanent.count) of \(everyone) holders (\(Int(percent.rounded()))%) hold it permanently; the limits are "
                    + "\(thresholds.maxPermanentMembers) and \(Int(thresholds.maxPermanentPercent))%. Make them eligible instead.",
                items: permanent.map { login($0, input) }.sorted())
        }
    }

    static func activated(_ activation: Activation, since: Date, now: Date) -> Bool {
        [.active, .ended].contains(activation.state) && activation.startAt >= since && activation.startAt <= now
            && (activation.endedAt.map { $0 > activation.startAt } ?? true)
    }

    static func unused(_ input: AlertInput, _ thresholds: AlertThresholds, _ now: Date) -> [AlertFinding] {
        let since = now.addingTimeInterval(-thresholds.unusedAfter)
        let days = Int((thresholds.unusedAfter / 86400).rounded())
        return input.eligibilities.compactMap { eligibility in
            guard eligibility.startAt <= since, eligibility.isValid(at: now) else { return nil }
            let holders = holders(of: eligibility, input)
            let used = input.activations.contains {
                holders.contains($0.userID) && $0.role == eligibility.role && eligibility.scope.contains($0.scope) && activated($0, since: since, now: now)
            }
            guard !used else { return nil }
            let name: String = switch eligibility.principal {
            case .user(let id): login(id, input)
            case .group(let id): "group:" + (input.groupNames[id] ?? id.rawValue)
            }
            let manual = eligibility.source == .manual
            return AlertFinding(
                key: "unused:\(eligibility.id)", kind: .eligibleButUnused, title: "\(name) is eligible for \(eligibility.role) but does not use it",
                detail: "Nobody activated \(eligibility.role) at \(eligibility.scope) through this eligibility in the last \(days) days."
                    + (manual ? "" : " It comes from a rule in the configuration; change the rule or the group to remove it."),
                items: [name, "\(eligibility.role) at \(eligibility.scope)"], fix: manual ? .removeEligibility(eligibility.id) : nil)
        }
    }

    static func frequent(_ input: AlertInput, _ thresholds: AlertThresholds, _ now: Date) -> [AlertFinding] {
        struct Key: Hashable {
            var user: DirectoryEntryID
            var scope: ScopePath
            var role: RoleName
        }
        let since = now.addingTimeInterval(-thresholds.frequentWindow)
        let recent = input.activations.filter { activated($0, since: since, now: now) }
        return Dictionary(grouping: recent) { Key(user: $0.userID, scope: $0.scope, role: $0.role) }.compactMap { key, activations in
            guard activations.count >= thresholds.frequentActivations else { return nil }
            let who = login(key.user, input)
            return AlertFinding(
                key: "frequent:\(key.user):\(key.scope):\(key.role)", kind: .activatedTooFrequently,
                title: "\(who) activates \(key.role) at \(key.scope) very often",
                detail: "\(activations.count) activations within \(DurationText.format(thresholds.frequentWindow)); a longer maximum duration "
                    + "or an assignment may fit the work better, or the account may be misused.",
                items: [who, "\(key.role) at \(key.scope)"])
        }
    }

    static func weakPolicies(_ input: AlertInput) -> [AlertFinding] {
        input.bindings.compactMap { binding in
            guard let policy = input.policies[binding] else { return nil }
            let missing = [policy.requireMFA ? nil : "MFA", policy.requireJustification ? nil : "a justification"].compactMap { $0 }
            guard !missing.isEmpty else { return nil }
            return AlertFinding(
                key: "policy:\(binding.scope):\(binding.role)", kind: .weakActivationPolicy,
                title: "\(binding.role) at \(binding.scope) can be activated without \(missing.joined(separator: " or "))",
                detail: "Activating \(binding.role) at \(binding.scope) puts people in \(binding.groupDN) without asking for \(missing.joined(separator: " or ")).",
                items: ["\(binding.role) at \(binding.scope)"], fix: .requireMFAAndJustification(binding.scope, binding.role))
        }
    }

    static func inactiveAccounts(_ input: AlertInput, _ now: Date) -> [AlertFinding] {
        var holdings: [DirectoryEntryID: [String]] = [:]
        for eligibility in input.eligibilities where eligibility.isValid(at: now) {
            if case .user(let id) = eligibility.principal { holdings[id, default: []].append("eligible for \(eligibility.role) at \(eligibility.scope)") }
        }
        for assignment in input.assignments where assignment.state != .ended {
            holdings[assignment.userID, default: []].append("assigned \(assignment.role) at \(assignment.scope)")
        }
        for activation in input.activations where activation.state.isLive {
            holdings[activation.userID, default: []].append("activation of \(activation.role) at \(activation.scope) (\(activation.state.rawValue))")
        }
        for binding in input.bindings {
            for (member, groups) in input.inactiveMemberships where groups.contains(binding.groupID) {
                holdings[member, default: []].append("member of \(binding.groupDN)")
            }
        }
        return holdings.compactMap { userID, held in
            let account = input.users[userID]
            let state: String
            if account == nil || account?.deletedAt != nil {
                state = "deleted from"
            } else if account?.record.enabled == false {
                state = "disabled in"
            } else {
                return nil
            }
            let who = login(userID, input)
            var seen: Set<String> = []
            return AlertFinding(
                key: "account:\(userID)", kind: .inactiveAccountHoldsAccess, title: "\(who) is \(state) the directory but still holds access",
                detail: "The account \(who) is \(state) the directory and still holds privileged access.",
                items: held.filter { seen.insert($0).inserted }.sorted(), fix: .revokeAccess(userID))
        }
    }
}
