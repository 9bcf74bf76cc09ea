import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP
import Logging
import Synchronization

/// Decides and records who holds which privileged group, when. Every action runs in one store transaction
/// together with its audit records; directory changes are queued as intents for the `MembershipApplier`.
/// A dry run takes the same path and rolls the transaction back.
public struct AccessEngine: Sendable {
    public let store: any DrawbridgeStore
    public let configuration: AccessConfiguration
    public let clock: any WallClock
    let signal: WorkSignal?
    let logger: Logger

    public init(
        store: any DrawbridgeStore, configuration: AccessConfiguration, clock: any WallClock = SystemWallClock(), signal: WorkSignal? = nil,
        logger: Logger = Logger(label: "drawbridge.access")
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.signal = signal
        self.logger = logger
    }

    /// Runs `body` in a transaction that commits unless `dryRun`; wakes the scheduler after a commit that queued work.
    func transaction<T: Sendable>(
        dryRun: Bool, actor: Actor, source: ActionSource, _ body: @escaping @Sendable (AccessContext) async throws -> T
    ) async throws -> T {
        let now = clock.now()
        let refusals = RefusalLog()
        do {
            let (result, wroteWork) = try await store.withAccessTransaction(commit: !dryRun) { transaction in
                let context = AccessContext(transaction: transaction, now: now, actor: actor, source: source, configuration: configuration)
                context.refusalLog = refusals
                let result = try await body(context)
                return (result, context.wroteWork)
            }
            // Any committed action may move the next due time (a new start, deadline or end), not only queued changes.
            if !dryRun && (wroteWork || source != .scheduler) { signal?.notify() }
            return result
        } catch let error as ActionRefused {
            // The refused action's writes are rolled back, but the refusal itself is a decision the audit log keeps.
            let events = refusals.events
            if !dryRun && !events.isEmpty {
                try await store.withAccessTransaction(commit: true) { transaction in
                    for event in events { try await transaction.appendAudit(event, at: now) }
                }
            }
            throw error
        }
    }
}

/// One transaction's view: the store, the time, who acts, and caches of what the transaction looked up.
final class AccessContext: @unchecked Sendable {
    // Used by one task at a time: the body of one store transaction, which awaits each call in turn.
    let transaction: any AccessTransaction
    let now: Date
    let actor: Actor
    let source: ActionSource
    let configuration: AccessConfiguration
    private var bindingsCache: [BindingKey: RoleBinding?] = [:]
    private var policyCache: [RoleName: PolicySet] = [:]
    private var groupsOfUser: [DirectoryEntryID: Set<DirectoryEntryID>] = [:]
    private var currentGroups: [DirectoryEntryID: GrantedGroup] = [:]
    private var queuedWork = false
    var refusalLog: RefusalLog?

    init(transaction: any AccessTransaction, now: Date, actor: Actor, source: ActionSource, configuration: AccessConfiguration) {
        self.transaction = transaction
        self.now = now
        self.actor = actor
        self.source = source
        self.configuration = configuration
    }

    var wroteWork: Bool { queuedWork }

    func markWork() { queuedWork = true }

    struct BindingKey: Hashable {
        var scope: ScopePath
        var role: RoleName
    }

    func binding(scope: ScopePath, role: RoleName) async throws -> RoleBinding? {
        let key = BindingKey(scope: scope, role: role)
        if let cached = bindingsCache[key] { return cached }
        let binding = try await transaction.roleBinding(scope: scope, role: role)
        bindingsCache[key] = binding
        return binding
    }

    func policy(scope: ScopePath, role: RoleName) async throws -> RolePolicy {
        if let cached = policyCache[role] { return cached.effective(at: scope) }
        let set = PolicySet(overrides: try await transaction.policyOverrides(role: role))
        policyCache[role] = set
        return set.effective(at: scope)
    }

    /// A granted group at the DN the directory has now; the recorded DN when the group is gone.
    func currentGroup(_ granted: GrantedGroup) async throws -> GrantedGroup {
        if let cached = currentGroups[granted.id] { return cached }
        var current = granted
        if let dn = try await transaction.liveGroupDN(id: granted.id) { current.dn = dn }
        currentGroups[granted.id] = current
        return current
    }

    func groupIDs(ofUser id: DirectoryEntryID) async throws -> Set<DirectoryEntryID> {
        if let cached = groupsOfUser[id] { return cached }
        let ids = try await transaction.groupIDs(ofUser: id)
        groupsOfUser[id] = ids
        return ids
    }

    /// The eligibilities that cover (scope, role) for the user, directly or through a group, whatever their window.
    func eligibilities(of userID: DirectoryEntryID, scope: ScopePath, role: RoleName) async throws -> [Eligibility] {
        let principals = try await groupIDs(ofUser: userID).union([userID])
        let groups = principals.subtracting([userID])
        return try await transaction.eligibilities(role: role, principals: principals).filter {
            $0.covers(scope: scope, role: role) && $0.applies(to: userID, groups: groups)
        }
    }

    func isApprover(_ userID: DirectoryEntryID, policy: RolePolicy) async throws -> Bool {
        let groups = try await groupIDs(ofUser: userID)
        return policy.approvers.contains { principal in
            switch principal {
            case .user(let id): id == userID
            case .group(let id): groups.contains(id)
            }
        }
    }

    @discardableResult
    func audit(_ event: AuditEvent) async throws -> AuditRecord {
        if event.outcome == .refused { refusalLog?.append(event) }
        return try await transaction.appendAudit(event, at: now)
    }

    func event(
        _ action: String, outcome: AuditEvent.Outcome = .success, requestID: RequestID? = nil, subject: String? = nil, user: String? = nil,
        scope: ScopePath? = nil, role: RoleName? = nil, group: RoleBinding? = nil, justification: String? = nil, ticket: String? = nil,
        reason: String? = nil, details: [String: String] = [:]
    ) -> AuditEvent {
        AuditEvent(
            action: action, outcome: outcome, actor: actor, source: source, requestID: requestID, subjectID: subject, userLogin: user,
            scope: scope, role: role, groupDN: group?.groupDN.description, justification: justification, ticket: ticket, reason: reason,
            details: details)
    }
}

/// Refusal events of one action, kept outside its transaction so they can be recorded after a rollback.
final class RefusalLog: Sendable {
    private let stored = Mutex<[AuditEvent]>([])

    func append(_ event: AuditEvent) {
        stored.withLock { $0.append(event) }
    }

    var events: [AuditEvent] { stored.withLock { $0 } }
}
