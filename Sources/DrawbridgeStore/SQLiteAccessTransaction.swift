import DrawbridgeCore
import Foundation
import LDAP
import SQLKit

/// The access engine's reads and writes on the write connection, while `SQLiteStore.withAccessTransaction`
/// holds the write lock.
struct SQLiteAccessTransaction: AccessTransaction {
    let db: any SQLDatabase

    private var reads: SQLiteStoreReader { SQLiteStoreReader(db: db) }

    // MARK: Directory

    func user(login: String) async throws -> StoredUser? { try await reads.user(login: login) }
    func user(id: DirectoryEntryID) async throws -> StoredUser? { try await reads.user(id: id) }
    func group(id: DirectoryEntryID) async throws -> StoredGroup? { try await reads.group(id: id) }
    func userLive(dn: DistinguishedName) async throws -> StoredUser? { try await reads.user(dn: dn) }
    func members(ofGroup id: DirectoryEntryID) async throws -> [StoredUser] { try await reads.members(ofGroup: id, transitive: true) }
    func roleBindings() async throws -> [RoleBinding] { try await reads.roleBindings() }

    func users(ids: [DirectoryEntryID]) async throws -> [StoredUser] {
        var users: [StoredUser] = []
        for id in Set(ids) {
            if let user = try await reads.user(id: id) { users.append(user) }
        }
        return users
    }

    func liveGroups() async throws -> [StoredGroup] { try await reads.groups(includeDeleted: false) }

    func group(name: String) async throws -> StoredGroup? {
        try await reads.groups(includeDeleted: false).first { $0.name == name }
    }

    func groupIDs(ofUser id: DirectoryEntryID) async throws -> Set<DirectoryEntryID> {
        Set(try await reads.groups(ofUser: id, transitive: true).map(\.id))
    }

    // MARK: Eligibilities

    func eligibilities(role: RoleName?) async throws -> [Eligibility] {
        let filter: SQLQueryString = role.map { "WHERE role = \(bind: $0.rawValue)" } ?? ""
        return try await bodies("select eligibilities", "eligibilities", "SELECT body FROM eligibilities \(filter) ORDER BY scope, role, id")
    }

    func eligibilities(role: RoleName, principals: Set<DirectoryEntryID>) async throws -> [Eligibility] {
        let ids = principals.map(\.rawValue).sorted()
        var found: [Eligibility] = []
        for start in stride(from: 0, to: ids.count, by: SQLiteStoreReader.batchSize) {
            let batch = Array(ids[start..<min(start + SQLiteStoreReader.batchSize, ids.count)])
            found += try await bodies("select eligibilities of principals", "eligibilities", """
                SELECT body FROM eligibilities WHERE role = \(bind: role.rawValue) AND principal_id IN (\(binds: batch)) ORDER BY scope, id
                """) as [Eligibility]
        }
        return found
    }

    func eligibility(id: EligibilityID) async throws -> Eligibility? {
        let found: [Eligibility] = try await bodies("select eligibility", "eligibilities", "SELECT body FROM eligibilities WHERE id = \(bind: id.rawValue)")
        return found.first
    }

    func eligibilities(endingBy time: Date) async throws -> [Eligibility] {
        try await bodies("select ending eligibilities", "eligibilities",
                         "SELECT body FROM eligibilities WHERE end_at IS NOT NULL AND end_at <= \(bind: time.timeIntervalSince1970)")
    }

    func save(_ eligibility: Eligibility) async throws {
        let body = try AccessCoding.encode(eligibility)
        try await run("save eligibility", "eligibilities", """
            INSERT INTO eligibilities (id, principal_kind, principal_id, scope, role, end_at, body)
            VALUES (\(bind: eligibility.id.rawValue), \(bind: eligibility.principal.kind.rawValue), \(bind: eligibility.principal.id.rawValue),
            \(bind: eligibility.scope.description), \(bind: eligibility.role.rawValue), \(bind: eligibility.endAt?.timeIntervalSince1970), \(bind: body))
            ON CONFLICT (id) DO UPDATE SET principal_kind = excluded.principal_kind, principal_id = excluded.principal_id,
            scope = excluded.scope, role = excluded.role, end_at = excluded.end_at, body = excluded.body
            """)
    }

    func delete(_ eligibility: EligibilityID) async throws {
        try await run("delete eligibility", "eligibilities", "DELETE FROM eligibilities WHERE id = \(bind: eligibility.rawValue)")
    }

    // MARK: Assignments

    func assignments(userID: DirectoryEntryID?, liveOnly: Bool) async throws -> [Assignment] {
        var conditions: [SQLQueryString] = []
        if let userID { conditions.append("user_id = \(bind: userID.rawValue)") }
        if liveOnly { conditions.append("state <> 'ended'") }
        return try await bodies("select assignments", "assignments",
                                "SELECT body FROM assignments \(whereClause(conditions)) ORDER BY scope, role, id")
    }

    func assignment(id: AssignmentID) async throws -> Assignment? {
        let found: [Assignment] = try await bodies("select assignment", "assignments", "SELECT body FROM assignments WHERE id = \(bind: id.rawValue)")
        return found.first
    }

    func assignments(dueBy time: Date) async throws -> [Assignment] {
        try await bodies("select due assignments", "assignments",
                         "SELECT body FROM assignments WHERE next_due_at IS NOT NULL AND next_due_at <= \(bind: time.timeIntervalSince1970) ORDER BY next_due_at")
    }

    func save(_ assignment: Assignment) async throws {
        let body = try AccessCoding.encode(assignment)
        try await run("save assignment", "assignments", """
            INSERT INTO assignments (id, user_id, scope, role, state, next_due_at, body)
            VALUES (\(bind: assignment.id.rawValue), \(bind: assignment.userID.rawValue), \(bind: assignment.scope.description),
            \(bind: assignment.role.rawValue), \(bind: assignment.state.rawValue), \(bind: assignment.nextDueAt?.timeIntervalSince1970), \(bind: body))
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, next_due_at = excluded.next_due_at, body = excluded.body
            """)
    }

    // MARK: Activations

    func activations(_ query: ActivationQuery) async throws -> [Activation] {
        var conditions: [SQLQueryString] = []
        if let userID = query.userID { conditions.append("user_id = \(bind: userID.rawValue)") }
        if let requestID = query.requestID { conditions.append("request_id = \(bind: requestID.rawValue)") }
        if let scope = query.scope { conditions.append("scope = \(bind: scope.description)") }
        if let role = query.role { conditions.append("role = \(bind: role.rawValue)") }
        if let states = query.states { conditions.append("state IN (\(binds: states.map(\.rawValue).sorted()))") }
        return try await bodies("select activations", "activations",
                                "SELECT body FROM activations \(whereClause(conditions)) ORDER BY requested_at, id")
    }

    func activation(id: ActivationID) async throws -> Activation? {
        let found: [Activation] = try await bodies("select activation", "activations", "SELECT body FROM activations WHERE id = \(bind: id.rawValue)")
        return found.first
    }

    func activations(dueBy time: Date) async throws -> [Activation] {
        try await bodies("select due activations", "activations",
                         "SELECT body FROM activations WHERE next_due_at IS NOT NULL AND next_due_at <= \(bind: time.timeIntervalSince1970) ORDER BY next_due_at")
    }

    func save(_ activation: Activation) async throws {
        let body = try AccessCoding.encode(activation)
        try await run("save activation", "activations", """
            INSERT INTO activations (id, request_id, user_id, scope, role, state, requested_at, next_due_at, body)
            VALUES (\(bind: activation.id.rawValue), \(bind: activation.requestID.rawValue), \(bind: activation.userID.rawValue),
            \(bind: activation.scope.description), \(bind: activation.role.rawValue), \(bind: activation.state.rawValue),
            \(bind: activation.requestedAt.timeIntervalSince1970), \(bind: activation.nextDueAt?.timeIntervalSince1970), \(bind: body))
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, next_due_at = excluded.next_due_at, body = excluded.body
            """)
    }

    // MARK: Policies

    func policyOverrides(role: RoleName) async throws -> [ScopePath: PolicyOverride] {
        let rows = try await storeStep("select policy overrides", "policy_overrides") {
            try await db.raw("SELECT scope, body FROM policy_overrides WHERE role = \(bind: role.rawValue)").all()
        }
        var result: [ScopePath: PolicyOverride] = [:]
        for row in rows {
            try rowStep("decode policy override", "policy_overrides") {
                result[try ScopePath(try row.decode(column: "scope", as: String.self))] =
                    try AccessCoding.decode(PolicyOverride.self, try row.decode(column: "body", as: String.self))
            }
        }
        return result
    }

    func allPolicyOverrides() async throws -> [PolicyKey: PolicyOverride] {
        let rows = try await storeStep("select policy overrides", "policy_overrides") {
            try await db.raw("SELECT scope, role, body FROM policy_overrides").all()
        }
        var result: [PolicyKey: PolicyOverride] = [:]
        for row in rows {
            try rowStep("decode policy override", "policy_overrides") {
                guard let role = RoleName(rawValue: try row.decode(column: "role", as: String.self)) else {
                    throw SQLiteStoreError(operation: "decode policy override", table: "policy_overrides", reason: "invalid role")
                }
                let key = PolicyKey(scope: try ScopePath(try row.decode(column: "scope", as: String.self)), role: role)
                result[key] = try AccessCoding.decode(PolicyOverride.self, try row.decode(column: "body", as: String.self))
            }
        }
        return result
    }

    func setPolicyOverride(_ override: PolicyOverride, scope: ScopePath, role: RoleName) async throws {
        if override.isEmpty {
            try await run("delete policy override", "policy_overrides",
                          "DELETE FROM policy_overrides WHERE scope = \(bind: scope.description) AND role = \(bind: role.rawValue)")
            return
        }
        let body = try AccessCoding.encode(override)
        try await run("save policy override", "policy_overrides", """
            INSERT INTO policy_overrides (scope, role, body) VALUES (\(bind: scope.description), \(bind: role.rawValue), \(bind: body))
            ON CONFLICT (scope, role) DO UPDATE SET body = excluded.body
            """)
    }

    // MARK: Membership intents

    func enqueue(_ operation: MembershipOperation) async throws -> MembershipOperation {
        let superseded: [MembershipOperation] = try await bodies("select pending intents", "membership_operations", """
            SELECT id, body FROM membership_operations
            WHERE state = 'pending' AND group_id = \(bind: operation.groupID.rawValue) AND user_id = \(bind: operation.userID.rawValue)
            """)
        for var old in superseded {
            old.state = .superseded
            old.finishedAt = operation.createdAt
            try await update(old)
        }
        var stored = operation
        stored.state = .pending
        let id = try await storeStep("insert intent", "membership_operations") {
            try await db.raw("""
                INSERT INTO membership_operations (group_id, user_id, state, not_before, body)
                VALUES (\(bind: stored.groupID.rawValue), \(bind: stored.userID.rawValue), 'pending', \(bind: stored.notBefore.timeIntervalSince1970), '{}')
                RETURNING id
                """).first(decodingColumn: "id", as: Int64.self)
        }
        guard let id else { throw SQLiteStoreError(operation: "insert intent", table: "membership_operations", reason: "no id returned") }
        stored.id = id
        try await update(stored)
        return stored
    }

    func operations(states: [MembershipOperation.State], limit: Int?) async throws -> [MembershipOperation] {
        let limitClause: SQLQueryString = limit.map { "LIMIT \(literal: $0)" } ?? ""
        return try await bodies("select intents", "membership_operations", """
            SELECT id, body FROM membership_operations WHERE state IN (\(binds: states.map(\.rawValue))) ORDER BY id DESC \(limitClause)
            """)
    }

    func pendingOperations(readyBy time: Date) async throws -> [MembershipOperation] {
        try await bodies("select ready intents", "membership_operations", """
            SELECT id, body FROM membership_operations WHERE state = 'pending' AND not_before <= \(bind: time.timeIntervalSince1970) ORDER BY id
            """)
    }

    func update(_ operation: MembershipOperation) async throws {
        let body = try AccessCoding.encode(operation)
        try await run("update intent", "membership_operations", """
            UPDATE membership_operations SET state = \(bind: operation.state.rawValue), not_before = \(bind: operation.notBefore.timeIntervalSince1970),
            body = \(bind: body) WHERE id = \(bind: operation.id)
            """)
    }

    // MARK: Reconciliation

    func bindingStates() async throws -> [DirectoryEntryID: BindingState] {
        let states: [BindingState] = try await bodies("select binding states", "binding_states", "SELECT body FROM binding_states")
        return Dictionary(states.map { ($0.groupID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func setBindingState(_ state: BindingState) async throws {
        let body = try AccessCoding.encode(state)
        try await run("save binding state", "binding_states", """
            INSERT INTO binding_states (group_id, body) VALUES (\(bind: state.groupID.rawValue), \(bind: body))
            ON CONFLICT (group_id) DO UPDATE SET body = excluded.body
            """)
    }

    func driftFindings(openOnly: Bool) async throws -> [DriftFinding] {
        let filter: SQLQueryString = openOnly ? "WHERE resolved = 0" : ""
        return try await bodies("select drift findings", "drift_findings", "SELECT body FROM drift_findings \(filter) ORDER BY group_id, member_norm")
    }

    func save(_ finding: DriftFinding) async throws {
        let body = try AccessCoding.encode(finding)
        try await run("save drift finding", "drift_findings", """
            INSERT INTO drift_findings (group_id, member_norm, resolved, body)
            VALUES (\(bind: finding.groupID.rawValue), \(bind: finding.memberDN.normalized), \(bind: finding.resolvedAt == nil ? 0 : 1), \(bind: body))
            ON CONFLICT (group_id, member_norm) DO UPDATE SET resolved = excluded.resolved, body = excluded.body
            """)
    }

    // MARK: Due queue

    func nextDueTime() async throws -> Date? {
        let seconds = try await storeStep("select next due time", "database") {
            try await db.raw("""
                SELECT min(t) AS t FROM (
                SELECT min(next_due_at) AS t FROM activations WHERE next_due_at IS NOT NULL
                UNION ALL SELECT min(next_due_at) FROM assignments WHERE next_due_at IS NOT NULL
                UNION ALL SELECT min(end_at) FROM eligibilities WHERE end_at IS NOT NULL
                UNION ALL SELECT min(not_before) FROM membership_operations WHERE state = 'pending'
                )
                """).first(decodingColumn: "t", as: Double?.self)
        }
        return (seconds ?? nil).map(Date.init(timeIntervalSince1970:))
    }

    // MARK: Audit

    func appendAudit(_ event: AuditEvent, at time: Date) async throws -> AuditRecord {
        let last = try await storeStep("select audit head", "audit_log") {
            try await db.raw("SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1").first()
        }
        let sequence = try last.map { try $0.decode(column: "sequence", as: Int64.self) } ?? 0
        let previousHash = try last.map { try $0.decode(column: "hash", as: String.self) } ?? AuditRecord.genesisHash
        let record = AuditRecord(sequence: sequence + 1, at: time, event: event, previousHash: previousHash)
        try await run("append audit record", "audit_log", """
            INSERT INTO audit_log (sequence, at_ms, action, user_login, scope, event, previous_hash, hash)
            VALUES (\(bind: record.sequence), \(bind: record.timestampMilliseconds), \(bind: event.action), \(bind: event.userLogin),
            \(bind: event.scope?.description), \(bind: record.eventJSON), \(bind: record.previousHash), \(bind: record.hash))
            """)
        return record
    }

    // MARK: Helpers

    private func whereClause(_ conditions: [SQLQueryString]) -> SQLQueryString {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    private func run(_ operation: String, _ table: String, _ query: SQLQueryString) async throws {
        try await storeStep(operation, table) { try await db.raw(query).run() }
    }

    private func bodies<T: Decodable & WithStoredID>(_ operation: String, _ table: String, _ query: SQLQueryString) async throws -> [T] {
        let rows = try await storeStep(operation, table) { try await db.raw(query).all() }
        return try rows.map { row in
            try rowStep("decode \(table)", table) {
                var value = try AccessCoding.decode(T.self, try row.decode(column: "body", as: String.self))
                if T.hasStoredID { value.setStoredID(try row.decode(column: "id", as: Int64.self)) }
                return value
            }
        }
    }
}

/// Records whose id is the row's own (the intent queue's autoincrement), not part of the JSON body.
protocol WithStoredID {
    static var hasStoredID: Bool { get }
    mutating func setStoredID(_ id: Int64)
}

extension WithStoredID {
    static var hasStoredID: Bool { false }
    mutating func setStoredID(_ id: Int64) {}
}

extension MembershipOperation: WithStoredID {
    static var hasStoredID: Bool { true }
    mutating func setStoredID(_ id: Int64) { self.id = id }
}

extension Eligibility: WithStoredID {}
extension Assignment: WithStoredID {}
extension Activation: WithStoredID {}
extension BindingState: WithStoredID {}
extension DriftFinding: WithStoredID {}

/// The JSON form of stored records: times as seconds since 1970.
enum AccessCoding {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
