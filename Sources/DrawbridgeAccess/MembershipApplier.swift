import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP
import Logging

/// Applies queued membership intents to the directory: every intent due for one group goes in one modify
/// per direction, so a burst of expiries costs one operation per group, not one per user.
public struct MembershipApplier: Sendable {
    let store: any DrawbridgeStore
    let pool: LDAPConnectionPool
    let configuration: AccessConfiguration
    let memberAttribute: MemberAttribute
    let clock: any WallClock
    let logger: Logger
    let lock: ApplyLock?

    /// - Parameter lockPath: a file that processes sharing the store lock while they apply intents.
    public init(
        store: any DrawbridgeStore, pool: LDAPConnectionPool, configuration: AccessConfiguration, memberAttribute: MemberAttribute,
        lockPath: String? = nil, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "drawbridge.applier")
    ) {
        self.store = store
        self.pool = pool
        self.configuration = configuration
        self.memberAttribute = memberAttribute
        self.lock = lockPath.map(ApplyLock.init(path:))
        self.clock = clock
        self.logger = logger
    }

    public struct Report: Sendable, Hashable {
        public var applied = 0
        public var refused = 0
        public var failed = 0
        /// Left pending for a later attempt (the directory was unreachable or busy).
        public var deferred = 0
        public var modifies = 0
        /// From the first modify sent to the last one answered.
        public var directoryTime: Duration = .zero

        public init() {}
    }

    enum Outcome: Sendable {
        /// Applied; the time the directory confirmed it.
        case done(Date)
        case refused(String)
        case failed(String)
        case retry(String)
    }

    /// Applies every intent that is due, and records the outcomes.
    @discardableResult
    public func applyReady() async throws -> Report {
        guard let lock else { return try await applyReadyLocked() }
        return try await lock.withLock { try await applyReadyLocked() }
    }

    private func applyReadyLocked() async throws -> Report {
        let now = clock.now()
        let (ready, formerValues, protectedGroups) = try await store.withAccessTransaction(commit: false) { transaction in
            let queued = try await transaction.pendingOperations(readyBy: now)
            let ready = try await Self.withCurrentNames(queued, transaction)
            // A removal also deletes the value it was queued with, if the user's name changed since: with
            // `memberUid`, or DN members without referential integrity, the old value is the one in the group.
            let formerValues = Dictionary(
                zip(queued, ready).compactMap { old, new in new.action == .remove && normalized(value(old)) != normalized(value(new)) ? (new.id, value(old)) : nil },
                uniquingKeysWith: { first, _ in first })
            let bindings = try await transaction.roleBindings(groupIDs: Set(ready.map(\.groupID)))
            return (ready, formerValues, Set(bindings.filter { configuration.settings(forRule: $0.rule).protected }.map(\.groupID)))
        }
        guard !ready.isEmpty else { return Report() }
        // By DN as well: intents for a group that is gone from the store may still carry different names.
        let byGroup = Dictionary(grouping: ready) { GroupTarget(id: $0.groupID, dn: $0.groupDN.normalized) }
        var outcomes: [Int64: Outcome] = [:]
        var modifies = 0
        let directoryStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: ([Int64: Outcome], Int).self) { group in
            var pending = byGroup.values.makeIterator()
            var running = 0
            func launch() {
                guard let operations = pending.next() else { return }
                running += 1
                group.addTask { await apply(operations, protected: protectedGroups.contains(operations[0].groupID), formerValues: formerValues) }
            }
            for _ in 0..<pool.maximumConnections { launch() }
            while running > 0, let (result, count) = try await group.next() {
                running -= 1
                outcomes.merge(result) { _, new in new }
                modifies += count
                launch()
            }
        }
        let directoryTime = ContinuousClock.now - directoryStart
        var report = try await record(outcomes, ready, at: clock.now())
        report.modifies = modifies
        report.directoryTime = directoryTime
        return report
    }

    private struct GroupTarget: Hashable {
        var id: DirectoryEntryID
        var dn: String
    }

    /// The intents with the user's and group's names as the store knows them now: an intent waits (for its
    /// time, or for the directory to come back), and a rename synced meanwhile must not send it to a DN that is
    /// gone, where a removal would fail, or find nothing to delete and count as done.
    private static func withCurrentNames(_ operations: [MembershipOperation], _ transaction: any AccessTransaction) async throws -> [MembershipOperation] {
        guard !operations.isEmpty else { return operations }
        let users = Dictionary(
            try await transaction.users(ids: Array(Set(operations.map(\.userID)))).map { ($0.record.id, $0.record) }, uniquingKeysWith: { first, _ in first })
        var groups: [DirectoryEntryID: DistinguishedName] = [:]
        for id in Set(operations.map(\.groupID)) { groups[id] = try await transaction.liveGroupDN(id: id) }
        return operations.map { operation in
            var operation = operation
            if let user = users[operation.userID] {
                operation.userDN = user.dn
                operation.userLogin = user.login
            }
            if let dn = groups[operation.groupID] { operation.groupDN = dn }
            return operation
        }
    }

    private func value(_ operation: MembershipOperation) -> String {
        memberAttribute.references == .dn ? operation.userDN.description : operation.userLogin
    }

    /// Applies one group's intents; returns each intent's outcome and how many modify operations were sent.
    private func apply(_ operations: [MembershipOperation], protected: Bool, formerValues: [Int64: String]) async -> ([Int64: Outcome], Int) {
        let groupDN = operations[0].groupDN.description
        let attribute = memberAttribute.attribute
        let adds = operations.filter { $0.action == .add }
        var removes = operations.filter { $0.action == .remove }
        var outcomes: [Int64: Outcome] = [:]
        var modifies = 0
        if !adds.isEmpty {
            do {
                try await pool.withConnection { try await $0.addValues(adds.map(value), to: attribute, of: groupDN) }
                modifies += 1
                let confirmed = clock.now()
                for operation in adds { outcomes[operation.id] = .done(confirmed) }
            } catch {
                let (results, count) = await settle(adds, after: error, groupDN: groupDN)
                outcomes.merge(results) { _, new in new }
                modifies += count
            }
        }
        guard !removes.isEmpty else { return (outcomes, modifies) }
        do {
            try await pool.withConnection { connection in
                if protected, let kept = try await lastMemberKept(removes, groupDN: groupDN, connection) {
                    outcomes[kept.id] = .refused("\(kept.userLogin) is the last member of the protected group \(groupDN)")
                    removes.removeAll { $0.id == kept.id }
                }
                guard !removes.isEmpty else { return }
                modifies += try await remove(removes.map(value) + removes.compactMap { formerValues[$0.id] }, from: groupDN, connection)
            }
            let confirmed = clock.now()
            for operation in removes where outcomes[operation.id] == nil { outcomes[operation.id] = .done(confirmed) }
        } catch {
            let (results, count) = await settle(removes.filter { outcomes[$0.id] == nil }, after: error, groupDN: groupDN)
            outcomes.merge(results) { _, new in new }
            modifies += count
        }
        return (outcomes, modifies)
    }

    /// Deletes member values; when the schema refuses an empty groupOfNames, keeps the placeholder in it first.
    /// Returns how many modify operations it sent.
    private func remove(_ values: [String], from groupDN: String, _ connection: LDAPConnection) async throws -> Int {
        let attribute = memberAttribute.attribute
        do {
            try await connection.deleteValues(values, from: attribute, of: groupDN)
            return 1
        } catch let error as LDAPError where error.isObjectClassViolation {
            guard let placeholder = configuration.placeholderMember else { throw error }
            try await connection.addValues([placeholder.description], to: attribute, of: groupDN)
            try await connection.deleteValues(values, from: attribute, of: groupDN)
            return 2
        }
    }

    /// A batch failed: a transient error leaves every intent for a retry; a permanent one may be one value's
    /// fault, so each intent is tried on its own and only the values the directory refuses fail.
    private func settle(_ operations: [MembershipOperation], after error: any Error, groupDN: String) async -> ([Int64: Outcome], Int) {
        let outcome = Self.classify(error)
        guard case .failed = outcome, operations.count > 1 else {
            return (Dictionary(uniqueKeysWithValues: operations.map { ($0.id, outcome) }), 0)
        }
        var outcomes: [Int64: Outcome] = [:]
        var modifies = 0
        for operation in operations {
            do {
                try await pool.withConnection { connection in
                    switch operation.action {
                    case .add: try await connection.addValues([value(operation)], to: memberAttribute.attribute, of: groupDN)
                    case .remove: modifies += try await remove([value(operation)], from: groupDN, connection) - 1
                    }
                }
                modifies += 1
                outcomes[operation.id] = .done(clock.now())
            } catch {
                outcomes[operation.id] = Self.classify(error)
            }
        }
        return (outcomes, modifies)
    }

    /// When removing all of `removes` would leave a protected group without a real member, the intent to keep.
    private func lastMemberKept(_ removes: [MembershipOperation], groupDN: String, _ connection: LDAPConnection) async throws -> MembershipOperation? {
        let request = LDAPSearchRequest(base: groupDN, scope: .base, attributes: [memberAttribute.attribute], pageSize: nil)
        let current = try await connection.searchAll(request).first?.strings(memberAttribute.attribute) ?? []
        let removing = Set(removes.map { normalized(value($0)) })
        let placeholder = configuration.placeholderMember?.normalized
        let remaining = current.map(normalized).filter { !removing.contains($0) && $0 != placeholder }
        guard remaining.isEmpty else { return nil }
        // Keep the member granted last: the one the group would have had longest to itself.
        let present = Set(current.map(normalized))
        return removes.filter { present.contains(normalized(value($0))) }.max { $0.id < $1.id }
    }

    private func normalized(_ value: String) -> String {
        guard memberAttribute.references == .dn else { return value }
        return (try? DistinguishedName(value))?.normalized ?? value.lowercased()
    }

    /// Transient failures are retried; a refusal the directory will repeat is permanent.
    static func classify(_ error: any Error) -> Outcome {
        guard let error = error as? LDAPError else { return .retry(String(describing: type(of: error))) }
        let permanent: Set<LDAPResultCode> = [
            .noSuchObject, .insufficientAccessRights, .constraintViolation, .objectClassViolation, .invalidDNSyntax,
            .invalidAttributeSyntax, .undefinedAttributeType, .namingViolation, .unwillingToPerform,
        ]
        if let code = error.resultCode, permanent.contains(code) { return .failed(error.description) }
        return .retry(error.description)
    }

    private func record(_ outcomes: [Int64: Outcome], _ operations: [MembershipOperation], at now: Date) async throws -> Report {
        let (report, recorded) = try await store.withAccessTransaction(commit: true) { transaction in
            var report = Report()
            let still = try await transaction.stillPending(operations.map(\.id))
            let context = AccessContext(
                transaction: transaction, now: now, actor: .system("scheduler"), source: .scheduler, configuration: configuration)
            var updated: [MembershipOperation] = []
            var events: [AuditEvent] = []
            for operation in operations {
                // An intent superseded while it was applied stays superseded: its successor is applied next.
                guard still.contains(operation.id), let outcome = outcomes[operation.id] else { continue }
                var current = operation
                let verb = current.action == .add ? "membership.added" : "membership.removed"
                var details = ["cause": current.cause]
                if current.attempts > 0 { details["attempts"] = "\(current.attempts + 1)" }
                switch outcome {
                case .done(let confirmed):
                    current.state = .done
                    current.finishedAt = confirmed
                    report.applied += 1
                    events.append(event(context, verb, current, .success, nil, details))
                case .refused(let reason):
                    logger.warning("membership change refused", metadata: [
                        "group": "\(current.groupDN)", "user": "\(current.userLogin)", "action": "\(current.action.rawValue)", "reason": "\(reason)",
                    ])
                    current.state = .refused
                    current.finishedAt = now
                    current.lastError = reason
                    report.refused += 1
                    events.append(event(context, verb, current, .refused, reason, details))
                case .failed(let reason):
                    current.state = .failed
                    current.finishedAt = now
                    current.lastError = reason
                    report.failed += 1
                    events.append(event(context, verb, current, .failed, reason, details))
                    try await failActivation(of: current, reason: reason, context)
                case .retry(let reason):
                    if current.attempts == 0 {
                        events.append(event(context, verb, current, .failed, "will retry: \(reason)", details))
                    }
                    current.attempts += 1
                    current.lastError = reason
                    let delay = min(pow(2, Double(current.attempts - 1)), Double(configuration.maxRetryDelay.components.seconds))
                    current.notBefore = now.addingTimeInterval(max(delay, 0.25))
                    report.deferred += 1
                }
                updated.append(current)
            }
            try await transaction.update(updated)
            try await transaction.appendAudit(events, at: now)
            return (report, updated)
        }
        AccessMetrics.recordApplied(recorded)
        return report
    }

    private func event(
        _ context: AccessContext, _ action: String, _ operation: MembershipOperation, _ outcome: AuditEvent.Outcome, _ reason: String?,
        _ details: [String: String]
    ) -> AuditEvent {
        AuditEvent(
            action: action, outcome: outcome, actor: context.actor, source: .scheduler, subjectID: "\(operation.id)",
            userLogin: operation.userLogin, scope: operation.scope, role: operation.role, groupDN: operation.groupDN.description, reason: reason,
            details: details)
    }

    /// A grant the directory refuses for good leaves its activation `failed`, so nobody believes they hold it.
    private func failActivation(of operation: MembershipOperation, reason: String, _ context: AccessContext) async throws {
        guard operation.action == .add, operation.cause.hasPrefix("activation:") else { return }
        let id = ActivationID(rawValue: String(operation.cause.dropFirst("activation:".count)))
        guard var activation = try await context.transaction.activation(id: id), activation.state == .active else { return }
        try activation.fail("the directory refused the grant: \(reason)", at: context.now)
        try await context.transaction.save(activation)
        try await context.audit(context.event(
            "activation.failed", requestID: activation.requestID, subject: id.rawValue, user: activation.userLogin, scope: activation.scope,
            role: activation.role, reason: reason))
    }
}
