import DrawbridgeCore
import Foundation
import LDAP
import SQLKit

/// The access engine's reads and writes on the write connection, while `SQLiteStore.withAccessTransaction`
/// holds the write lock.
final class SQLiteAccessTransaction: AccessTransaction, @unchecked Sendable {
    let db: any SQLDatabase
    /// The last audit record's number and hash, once read: appends in one transaction chain on from it.
    // Mutated only by the transaction's body, which awaits each call before the next.
    private var auditHead: (sequence: Int64, hash: String)?

    init(db: any SQLDatabase) {
        self.db = db
    }

    private var reads: SQLiteStoreReader { SQLiteStoreReader(db: db) }

    // MARK: Directory

    func user(login: String) async throws -> StoredUser? { try await reads.user(login: login) }
    func user(id: DirectoryEntryID) async throws -> StoredUser? { try await reads.user(id: id) }
    func group(id: DirectoryEntryID) async throws -> StoredGroup? { try await reads.group(id: id) }
    func liveGroupDN(id: DirectoryEntryID) async throws -> DistinguishedName? { try await reads.liveGroupDN(id: id) }
    func userLive(dn: DistinguishedName) async throws -> StoredUser? { try await reads.user(dn: dn) }
    func roleBindings() async throws -> [RoleBinding] { try await reads.roleBindings() }
    func roleBinding(scope: ScopePath, role: RoleName) async throws -> RoleBinding? { try await reads.roleBinding(scope: scope, role: role) }
    func roleBindings(groupIDs: Set<DirectoryEntryID>) async throws -> [RoleBinding] { try await reads.roleBindings(groupIDs: groupIDs) }

    func users(ids: [DirectoryEntryID]) async throws -> [StoredUser] {
        let unique = Array(Set(ids.map(\.rawValue))).sorted()
        var users: [StoredUser] = []
        for start in stride(from: 0, to: unique.count, by: SQLiteStoreReader.batchSize) {
            let batch = Array(unique[start..<min(start + SQLiteStoreReader.batchSize, unique.count)])
            users += try await storeStep("select users by id", "directory_users") {
                try await db.select().columns(SQLiteStoreReader.userColumns).from("directory_users").where("id", .in, batch).all()
                    .storedUsers()
            }
        }
        return users
    }

    func liveGroups() async throws -> [StoredGroup] { try await reads.groups(includeDeleted: false) }

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

    func save(_ activations: [Activation]) async throws {
        for chunk in Self.chunks(activations) {
            let rows: [SQLQueryString] = try chunk.map { activation in
                let body = try AccessCoding.encode(activation)
                return """
                    (\(bind: activation.id.rawValue), \(bind: activation.requestID.rawValue), \(bind: activation.userID.rawValue),
                    \(bind: activation.scope.description), \(bind: activation.role.rawValue), \(bind: activation.state.rawValue),
                    \(bind: activation.requestedAt.timeIntervalSince1970), \(bind: activation.nextDueAt?.timeIntervalSince1970), \(bind: body))
                    """
            }
            try await run("save activations", "activations", """
                INSERT INTO activations (id, request_id, user_id, scope, role, state, requested_at, next_due_at, body)
                VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, next_due_at = excluded.next_due_at, body = excluded.body
                """)
        }
    }

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

    func activationsEndingUnnoticed(after now: Date, by time: Date) async throws -> [Activation] {
        // A notice covers the end it announced; one recorded before due_at existed (NULL) covers the activation.
        try await bodies("select activations ending soon", "activations", """
            SELECT body FROM activations WHERE state = 'active' AND next_due_at > \(bind: now.timeIntervalSince1970)
            AND next_due_at <= \(bind: time.timeIntervalSince1970)
            AND NOT EXISTS (SELECT 1 FROM expiry_notices WHERE activation_id = activations.id AND (due_at IS NULL OR due_at = activations.next_due_at))
            ORDER BY next_due_at
            """)
    }

    func markExpiryNoticed(_ ids: [ActivationID], at time: Date) async throws {
        for chunk in Self.chunks(ids) {
            // The end is copied from the row rather than bound, so it compares equal to next_due_at exactly.
            try await run("record expiry notices", "expiry_notices", """
                INSERT OR REPLACE INTO expiry_notices (activation_id, noticed_at, due_at)
                SELECT id, \(bind: time.timeIntervalSince1970), next_due_at FROM activations WHERE id IN (\(binds: chunk.map(\.rawValue)))
                """)
        }
    }

    func save(_ activation: Activation) async throws {
        try await save([activation])
    }

    func activeGrants(userIDs: [DirectoryEntryID]?) async throws -> [ActiveGrant] {
        let filters: [SQLQueryString]
        if let userIDs {
            let unique = Array(Set(userIDs.map(\.rawValue))).sorted()
            filters = Self.chunks(unique, size: SQLiteStoreReader.batchSize).map { "AND user_id IN (\(binds: Array($0)))" }
        } else {
            filters = [""]
        }
        var cache = GrantDecodingCache()
        var grants: [ActiveGrant] = []
        for filter in filters {
            let rows = try await storeStep("select active grants", "activations") {
                try await db.raw("""
                    SELECT 'activation:' || id AS cause, user_id, scope, role, json_extract(body, '$.grantedGroup.id') AS group_id,
                    json_extract(body, '$.grantedGroup.dn') AS group_dn FROM activations WHERE state = 'active' \(filter)
                    UNION ALL
                    SELECT 'assignment:' || id, user_id, scope, role, json_extract(body, '$.grantedGroup.id'), json_extract(body, '$.grantedGroup.dn')
                    FROM assignments WHERE state = 'active' \(filter)
                    """).all()
            }
            grants += try rows.map { try Self.grant(from: $0, &cache) }
        }
        return grants
    }

    func expiringActivations(by time: Date) async throws -> [ExpiringActivation] {
        let rows = try await storeStep("select expiring activations", "activations") {
            try await db.raw("""
                SELECT id, request_id, 'activation:' || id AS cause, user_id, scope, role, json_extract(body, '$.grantedGroup.id') AS group_id,
                json_extract(body, '$.grantedGroup.dn') AS group_dn, next_due_at FROM activations
                WHERE next_due_at IS NOT NULL AND next_due_at <= \(bind: time.timeIntervalSince1970) AND state = 'active'
                ORDER BY next_due_at
                """).all()
        }
        var cache = GrantDecodingCache()
        return try rows.map { row in
            ExpiringActivation(
                id: ActivationID(rawValue: try row.decode(column: "id", as: String.self)),
                requestID: RequestID(rawValue: try row.decode(column: "request_id", as: String.self)),
                grant: try Self.grant(from: row, &cache),
                endAt: Date(timeIntervalSince1970: try row.decode(column: "next_due_at", as: Double.self)))
        }
    }

    func markExpired(_ ids: [ActivationID], at time: Date) async throws {
        // json_set edits the stored record in SQLite itself: decoding and re-encoding thousands of records in a
        // burst of expiries was a third of its time. The keys are Activation's own, as JSONEncoder writes them.
        for chunk in Self.chunks(ids, size: SQLiteStoreReader.batchSize) {
            try await run("mark activations expired", "activations", """
                UPDATE activations SET state = 'ended', next_due_at = NULL,
                body = json_set(body, '$.state', 'ended', '$.endedAt', \(bind: time.timeIntervalSince1970), '$.endReason', 'expired')
                WHERE state = 'active' AND id IN (\(binds: chunk.map(\.rawValue)))
                """)
        }
    }

    /// Thousands of grants share a few hundred scopes and groups: each is parsed once.
    private struct GrantDecodingCache {
        var scopes: [String: ScopePath] = [:]
        var groups: [String: DistinguishedName] = [:]
    }

    private static func grant(from row: any SQLRow, _ cache: inout GrantDecodingCache) throws -> ActiveGrant {
        try rowStep("decode active grant", "activations") {
            let scopeText = try row.decode(column: "scope", as: String.self)
            let scope = try cache.scopes[scopeText] ?? ScopePath(scopeText)
            cache.scopes[scopeText] = scope
            guard let role = RoleName(rawValue: try row.decode(column: "role", as: String.self)) else {
                throw SQLiteStoreError(operation: "decode active grant", table: "activations", reason: "invalid role")
            }
            var granted: GrantedGroup?
            if let id = try row.decode(column: "group_id", as: String?.self), let dnText = try row.decode(column: "group_dn", as: String?.self) {
                let dn = try cache.groups[dnText] ?? DistinguishedName(dnText)
                cache.groups[dnText] = dn
                granted = GrantedGroup(id: DirectoryEntryID(rawValue: id), dn: dn)
            }
            return ActiveGrant(
                cause: try row.decode(column: "cause", as: String.self), userID: DirectoryEntryID(rawValue: try row.decode(column: "user_id", as: String.self)),
                scope: scope, role: role, grantedGroup: granted)
        }
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
        // The state column is authoritative (reads put it into the record), so superseding is one statement.
        try await run("supersede pending intents", "membership_operations", """
            UPDATE membership_operations SET state = 'superseded'
            WHERE state = 'pending' AND group_id = \(bind: operation.groupID.rawValue) AND user_id = \(bind: operation.userID.rawValue)
            """)
        var stored = operation
        stored.state = .pending
        let body = try AccessCoding.encode(stored)
        let id = try await storeStep("insert intent", "membership_operations") {
            try await db.raw("""
                INSERT INTO membership_operations (group_id, user_id, state, not_before, body)
                VALUES (\(bind: stored.groupID.rawValue), \(bind: stored.userID.rawValue), 'pending', \(bind: stored.notBefore.timeIntervalSince1970), \(bind: body))
                RETURNING id
                """).first(decodingColumn: "id", as: Int64.self)
        }
        guard let id else { throw SQLiteStoreError(operation: "insert intent", table: "membership_operations", reason: "no id returned") }
        stored.id = id
        return stored
    }

    func enqueue(_ operations: [MembershipOperation]) async throws -> [MembershipOperation] {
        var stored: [MembershipOperation] = []
        for chunk in Self.chunks(operations) {
            let pairs: [SQLQueryString] = chunk.map { "(\(bind: $0.groupID.rawValue), \(bind: $0.userID.rawValue))" }
            try await run("supersede pending intents", "membership_operations", """
                UPDATE membership_operations SET state = 'superseded'
                WHERE state = 'pending' AND (group_id, user_id) IN (VALUES \(pairs.joined(separator: ", ")))
                """)
            var pending = chunk.map { operation -> MembershipOperation in
                var operation = operation
                operation.state = .pending
                return operation
            }
            let rows: [SQLQueryString] = try pending.map { operation in
                "(\(bind: operation.groupID.rawValue), \(bind: operation.userID.rawValue), 'pending', \(bind: operation.notBefore.timeIntervalSince1970), \(bind: try AccessCoding.encode(operation)))"
            }
            // One statement under the write lock: AUTOINCREMENT numbers its rows consecutively, in order.
            let last = try await storeStep("insert intents", "membership_operations") {
                try await db.raw("""
                    INSERT INTO membership_operations (group_id, user_id, state, not_before, body) VALUES \(rows.joined(separator: ", "))
                    RETURNING id
                    """).all(decodingColumn: "id", as: Int64.self).max()
            }
            guard let last else { throw SQLiteStoreError(operation: "insert intents", table: "membership_operations", reason: "no id returned") }
            for index in pending.indices { pending[index].id = last - Int64(pending.count - 1 - index) }
            stored += pending
        }
        return stored
    }

    func operations(after id: Int64) async throws -> [MembershipOperation] {
        try await bodies("select recent intents", "membership_operations", """
            SELECT id, state, body FROM membership_operations WHERE id > \(bind: id) ORDER BY id
            """)
    }

    func stillPending(_ ids: [Int64]) async throws -> Set<Int64> {
        var pending = Set<Int64>()
        for chunk in Self.chunks(ids, size: SQLiteStoreReader.batchSize) {
            pending.formUnion(try await storeStep("select pending intents", "membership_operations") {
                try await db.raw("SELECT id FROM membership_operations WHERE state = 'pending' AND id IN (\(binds: Array(chunk)))")
                    .all(decodingColumn: "id", as: Int64.self)
            })
        }
        return pending
    }

    func update(_ operations: [MembershipOperation]) async throws {
        for chunk in Self.chunks(operations) {
            let rows: [SQLQueryString] = try chunk.map { operation in
                """
                (\(bind: operation.id), \(bind: operation.groupID.rawValue), \(bind: operation.userID.rawValue), \(bind: operation.state.rawValue),
                \(bind: operation.notBefore.timeIntervalSince1970), \(bind: try AccessCoding.encode(operation)))
                """
            }
            try await run("update intents", "membership_operations", """
                INSERT INTO membership_operations (id, group_id, user_id, state, not_before, body) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, not_before = excluded.not_before, body = excluded.body
                """)
        }
    }

    func operations(states: [MembershipOperation.State], limit: Int?) async throws -> [MembershipOperation] {
        let limitClause: SQLQueryString = limit.map { "LIMIT \(literal: $0)" } ?? ""
        return try await bodies("select intents", "membership_operations", """
            SELECT id, state, body FROM membership_operations WHERE state IN (\(binds: states.map(\.rawValue))) ORDER BY id DESC \(limitClause)
            """)
    }

    func pendingOperations(readyBy time: Date) async throws -> [MembershipOperation] {
        try await bodies("select ready intents", "membership_operations", """
            SELECT id, state, body FROM membership_operations WHERE state = 'pending' AND not_before <= \(bind: time.timeIntervalSince1970) ORDER BY id
            """)
    }

    func update(_ operation: MembershipOperation) async throws {
        try await update([operation])
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
        let head: (sequence: Int64, hash: String)
        if let cached = auditHead {
            head = cached
        } else {
            let last = try await storeStep("select audit head", "audit_log") {
                try await db.raw("SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1").first()
            }
            head = (try last.map { try $0.decode(column: "sequence", as: Int64.self) } ?? 0,
                    try last.map { try $0.decode(column: "hash", as: String.self) } ?? AuditRecord.genesisHash)
        }
        let record = AuditRecord(sequence: head.sequence + 1, at: time, event: event, previousHash: head.hash)
        try await run("append audit record", "audit_log", """
            INSERT INTO audit_log (sequence, at_ms, action, user_login, scope, event, previous_hash, hash)
            VALUES (\(bind: record.sequence), \(bind: record.timestampMilliseconds), \(bind: event.action), \(bind: event.userLogin),
            \(bind: event.scope?.description), \(bind: record.eventJSON), \(bind: record.previousHash), \(bind: record.hash))
            """)
        auditHead = (record.sequence, record.hash)
        return record
    }

    func appendAudit(_ events: [AuditEvent], at time: Date) async throws {
        guard let first = events.first else { return }
        // The first goes through the single path, which reads the head when this transaction has not yet.
        _ = try await appendAudit(first, at: time)
        guard var head = auditHead else { return }
        for chunk in Self.chunks(Array(events.dropFirst())) {
            var rows: [SQLQueryString] = []
            for event in chunk {
                let record = AuditRecord(sequence: head.sequence + 1, at: time, event: event, previousHash: head.hash)
                rows.append("""
                    (\(bind: record.sequence), \(bind: record.timestampMilliseconds), \(bind: event.action), \(bind: event.userLogin),
                    \(bind: event.scope?.description), \(bind: record.eventJSON), \(bind: record.previousHash), \(bind: record.hash))
                    """)
                head = (record.sequence, record.hash)
            }
            try await run("append audit records", "audit_log", """
                INSERT INTO audit_log (sequence, at_ms, action, user_login, scope, event, previous_hash, hash) VALUES \(rows.joined(separator: ", "))
                """)
            auditHead = head
        }
    }

    // MARK: Helpers

    /// Rows per multi-row statement: well below SQLite's limit on bound variables.
    private static func chunks<T>(_ items: [T], size: Int = 250) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }

    func whereClause(_ conditions: [SQLQueryString]) -> SQLQueryString {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    func run(_ operation: String, _ table: String, _ query: SQLQueryString) async throws {
        try await storeStep(operation, table) { try await db.raw(query).run() }
    }

    func bodies<T: Decodable & WithStoredID>(_ operation: String, _ table: String, _ query: SQLQueryString) async throws -> [T] {
        let rows = try await storeStep(operation, table) { try await db.raw(query).all() }
        return try rows.map { row in
            try rowStep("decode \(table)", table) {
                var value = try AccessCoding.decode(T.self, try row.decode(column: "body", as: String.self))
                if T.hasStoredID {
                    value.setStored(id: try row.decode(column: "id", as: Int64.self), state: try row.decode(column: "state", as: String.self))
                }
                return value
            }
        }
    }
}

/// Records whose id and state are the row's own columns (the intent queue's autoincrement and state), which
/// win over the JSON body.
protocol WithStoredID {
    static var hasStoredID: Bool { get }
    mutating func setStored(id: Int64, state: String)
}

extension WithStoredID {
    static var hasStoredID: Bool { false }
    mutating func setStored(id: Int64, state: String) {}
}

extension MembershipOperation: WithStoredID {
    static var hasStoredID: Bool { true }
    mutating func setStored(id: Int64, state: String) {
        self.id = id
        if let stored = State(rawValue: state) { self.state = stored }
    }
}

extension Eligibility: WithStoredID {}
extension Assignment: WithStoredID {}
extension Activation: WithStoredID {}
extension BindingState: WithStoredID {}
extension DriftFinding: WithStoredID {}
extension ReviewCampaign: WithStoredID {}
extension ReviewInstance: WithStoredID {}
extension ReviewItem: WithStoredID {}
extension SecurityAlert: WithStoredID {}

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
