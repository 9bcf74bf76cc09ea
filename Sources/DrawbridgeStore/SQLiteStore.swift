import DrawbridgeCore
import Foundation
import LDAP
import Logging
import SQLKit
import SQLiteKit
import Synchronization

/// The embedded store: one SQLite file in WAL mode, with connections for write transactions and one for reads,
/// so that readers keep seeing the last committed state while a sync transaction is open, and one that
/// checkpoints the WAL in the background.
public final class SQLiteStore: DrawbridgeStore {
    private let writerConnection: SQLiteConnection
    private let readerConnection: SQLiteConnection
    /// Runs checkpoints on SQLiteNIO's thread pool, so their fsyncs hold neither the write lock nor a thread of
    /// Swift's pool. A passive checkpoint neither waits for nor blocks readers and writers.
    private let checkpointConnection: SQLiteConnection
    private let checkpointInFlight = Mutex<Task<Void, Never>?>(nil)
    /// WAL frames past which a commit on `transactionConnection` starts a checkpoint: SQLite's own default.
    let checkpointThreshold: Int
    /// Access transactions (every API action, the scheduler's passes) and syncs run here; migrations and
    /// credentials on `writer`.
    private let transactionConnection: DirectSQLiteConnection
    let writer: any SQLDatabase
    let reader: any SQLDatabase
    /// Held for the whole of every write transaction, so two tasks never interleave statements inside one.
    let writeLock = AsyncMutex()
    let logger: Logger

    private init(
        writerConnection: SQLiteConnection, readerConnection: SQLiteConnection, checkpointConnection: SQLiteConnection,
        transactionConnection: DirectSQLiteConnection, checkpointThreshold: Int, logger: Logger
    ) {
        self.writerConnection = writerConnection
        self.readerConnection = readerConnection
        self.checkpointConnection = checkpointConnection
        self.transactionConnection = transactionConnection
        self.checkpointThreshold = checkpointThreshold
        // Query logging would put bound values into the log.
        self.writer = writerConnection.sql(queryLogLevel: nil)
        self.reader = readerConnection.sql(queryLogLevel: nil)
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`. Call `migrate()` before using it.
    public static func open(path: String, logger: Logger) async throws -> SQLiteStore {
        try await open(path: path, logger: logger, checkpointThreshold: 1000)
    }

    static func open(path: String, logger: Logger, checkpointThreshold: Int) async throws -> SQLiteStore {
        let writerConnection = try await connect(path: path, logger: logger)
        do {
            // WAL is a property of the file, so the writer sets it before the reader connects.
            let mode = try await storeStep("set journal mode", "database") {
                try await writerConnection.sql(queryLogLevel: nil).raw("PRAGMA journal_mode = WAL")
                    .first(decodingColumn: "journal_mode", as: String.self)
            }
            guard mode?.lowercased() == "wal" else {
                throw SQLiteStoreError(operation: "set journal mode", table: "database", reason: "the file does not support WAL")
            }
            // Its commits would otherwise checkpoint inside the write lock too; the next commit on
            // `transactionConnection` past the threshold covers their pages.
            try await storeStep("configure writer", "database") {
                try await writerConnection.sql(queryLogLevel: nil).raw("PRAGMA wal_autocheckpoint = 0").run()
            }
            let readerConnection = try await connect(path: path, logger: logger)
            var checkpointConnection: SQLiteConnection?
            do {
                try await storeStep("configure reader", "database") {
                    try await readerConnection.sql(queryLogLevel: nil).raw("PRAGMA query_only = ON").run()
                }
                let checkpointer = try await connect(path: path, logger: logger)
                checkpointConnection = checkpointer
                let transactionConnection = try await storeStep("open", "database") { try DirectSQLiteConnection.open(path: path, logger: logger) }
                return SQLiteStore(
                    writerConnection: writerConnection, readerConnection: readerConnection, checkpointConnection: checkpointer,
                    transactionConnection: transactionConnection, checkpointThreshold: checkpointThreshold, logger: logger)
            } catch {
                try? await checkpointConnection?.close()
                try? await readerConnection.close()
                throw error
            }
        } catch {
            try? await writerConnection.close()
            throw error
        }
    }

    private static func connect(path: String, logger: Logger) async throws -> SQLiteConnection {
        let connection = try await storeStep("open", "database") {
            try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        }
        do {
            try await storeStep("configure connection", "database") {
                let db = connection.sql(queryLogLevel: nil)
                try await db.raw("PRAGMA synchronous = NORMAL").run()
                try await db.raw("PRAGMA foreign_keys = ON").run()
                // 64 MiB instead of 2: a full sync's index pages stay in memory instead of being spilled to the WAL
                // and read back, which made it about 1.5 times slower.
                try await db.raw("PRAGMA cache_size = -65536").run()
                // Replaces SQLiteNIO's default busy handler, which would retry forever.
                try await db.raw("PRAGMA busy_timeout = 5000").run()
            }
            return connection
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Waits for an open write transaction and a running checkpoint to finish, then closes the connections.
    public func close() async throws {
        try await writeLock.withLock { [self] in
            await checkpointFinished()
            transactionConnection.close()
            try await storeStep("close", "database") {
                try await checkpointConnection.close()
                try await readerConnection.close()
                try await writerConnection.close()
            }
        }
    }

    /// Starts a background checkpoint once the WAL has grown past `checkpointThreshold`, unless one is running.
    /// The caller holds `writeLock` and has just committed on `transactionConnection`.
    private func checkpointIfDue() {
        guard transactionConnection.walFrames >= checkpointThreshold else { return }
        checkpointInFlight.withLock { inFlight in
            guard inFlight == nil else { return }
            inFlight = Task { [self] in
                do {
                    try await checkpointConnection.sql(queryLogLevel: nil).raw("PRAGMA wal_checkpoint(PASSIVE)").run()
                } catch {
                    // The next commit past the threshold tries again; the WAL only grows meanwhile.
                    let failure = SQLiteStoreError(operation: "checkpoint", table: "database", underlying: error)
                    logger.warning("WAL checkpoint failed", metadata: ["reason": "\(failure.reason)"])
                }
                checkpointInFlight.withLock { $0 = nil }
            }
        }
    }

    /// Waits for the background checkpoint, if one is running.
    func checkpointFinished() async {
        await checkpointInFlight.withLock { $0 }?.value
    }

    public func withSyncTransaction<T: Sendable>(
        commit: Bool, _ body: @escaping @Sendable (any DirectorySyncTransaction) async throws -> T
    ) async throws -> T {
        try await writeLock.withLock { [self] in
            try await storeStep("begin transaction", "database") { try await transactionConnection.beginImmediate() }
            let result = try await inTransaction(on: transactionConnection, commit: commit) {
                let transaction = SQLiteSyncTransaction(db: transactionConnection, committed: readerConnection)
                defer { transaction.finish() }
                let droppedIndexes = try transaction.dropIndexesOfEmptyTables()
                let result = try await body(transaction)
                try transaction.restoreIndexes(droppedIndexes)
                return result
            }
            checkpointIfDue()
            return result
        }
    }

    public func withAccessTransaction<T: Sendable>(
        commit: Bool, _ body: @escaping @Sendable (any AccessTransaction) async throws -> T
    ) async throws -> T {
        try await writeLock.withLock { [self] in
            try await storeStep("begin transaction", "database") { try await transactionConnection.beginImmediate() }
            let result = try await inTransaction(on: transactionConnection, commit: commit) {
                try await body(SQLiteAccessTransaction(db: transactionConnection))
            }
            checkpointIfDue()
            return result
        }
    }

    public func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord] {
        var conditions: [SQLQueryString] = []
        if let since = query.since { conditions.append("at_ms >= \(bind: Int64(since.timeIntervalSince1970 * 1000))") }
        if let until = query.until { conditions.append("at_ms < \(bind: Int64(until.timeIntervalSince1970 * 1000))") }
        if let login = query.userLogin { conditions.append("user_login = \(bind: login)") }
        if let scope = query.scope {
            let path = scope.description
            conditions.append(scope == .root ? "scope IS NOT NULL" : "(scope = \(bind: path) OR substr(scope, 1, \(literal: path.utf8.count + 1)) = \(bind: path + "/"))")
        }
        let filter: SQLQueryString = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try await storeStep("select audit records", "audit_log") {
            try await reader.raw("SELECT sequence, at_ms, event, previous_hash, hash FROM audit_log \(filter) ORDER BY sequence").all()
        }
        return try rows.map { row in
            try rowStep("decode audit record", "audit_log") {
                AuditRecord(
                    sequence: try row.decode(column: "sequence", as: Int64.self),
                    timestampMilliseconds: try row.decode(column: "at_ms", as: Int64.self),
                    eventJSON: try row.decode(column: "event", as: String.self),
                    previousHash: try row.decode(column: "previous_hash", as: String.self),
                    hash: try row.decode(column: "hash", as: String.self))
            }
        }
    }

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT` (or `ROLLBACK`) on the write connection.
    /// The caller holds `writeLock`.
    func inWriteTransaction<T: Sendable>(commit: Bool, _ body: () async throws -> T) async throws -> T {
        try await storeStep("begin transaction", "database") { try await writer.raw("BEGIN IMMEDIATE").run() }
        return try await inTransaction(on: writer, commit: commit, body)
    }

    /// Runs `body` in the transaction begun on `db`, then commits it (or rolls it back).
    private func inTransaction<T: Sendable>(on db: any SQLDatabase, commit: Bool, _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            if commit {
                try await storeStep("commit transaction", "database") { try await db.raw("COMMIT").run() }
            } else {
                try await storeStep("roll back transaction", "database") { try await db.raw("ROLLBACK").run() }
            }
            return result
        } catch {
            do {
                try await db.raw("ROLLBACK").run()
            } catch {
                // SQLite may already have rolled back on its own (for example after SQLITE_FULL); the first error matters.
                let failure = SQLiteStoreError(operation: "roll back transaction", table: "database", underlying: error)
                logger.warning("rollback after a failed transaction failed", metadata: ["reason": "\(failure.reason)"])
            }
            throw error
        }
    }

    // MARK: Reads, on the read connection

    private var reads: SQLiteStoreReader { SQLiteStoreReader(db: reader) }

    public func users(includeDeleted: Bool) async throws -> [StoredUser] { try await reads.users(includeDeleted: includeDeleted) }
    public func groups(includeDeleted: Bool) async throws -> [StoredGroup] { try await reads.groups(includeDeleted: includeDeleted) }
    public func user(id: DirectoryEntryID) async throws -> StoredUser? { try await reads.user(id: id) }
    public func user(login: String) async throws -> StoredUser? { try await reads.user(login: login) }
    public func user(dn: DistinguishedName) async throws -> StoredUser? { try await reads.user(dn: dn) }
    public func group(id: DirectoryEntryID) async throws -> StoredGroup? { try await reads.group(id: id) }
    public func group(dn: DistinguishedName) async throws -> StoredGroup? { try await reads.group(dn: dn) }

    public func memberReferences(ofGroup id: DirectoryEntryID) async throws -> [MemberReference] {
        try await reads.memberReferences(ofGroup: id)
    }

    public func members(ofGroup id: DirectoryEntryID, transitive: Bool) async throws -> [StoredUser] {
        try await reads.members(ofGroup: id, transitive: transitive)
    }

    public func groups(ofUser id: DirectoryEntryID, transitive: Bool) async throws -> [StoredGroup] {
        try await reads.groups(ofUser: id, transitive: transitive)
    }

    public func roleBindings() async throws -> [RoleBinding] { try await reads.roleBindings() }
    public func syncState() async throws -> SyncState { try await reads.syncState() }

    public func accessGauges() async throws -> AccessGauges {
        try await storeStep("read gauges", "activations") {
            // One statement, so the counts come from one snapshot without an explicit read transaction.
            let rows = try await reader.raw("""
                SELECT 'state' AS kind, state AS name, count(*) AS n, NULL AS oldest FROM activations GROUP BY state
                UNION ALL SELECT 'drift', NULL, count(*), NULL FROM drift_findings WHERE resolved = 0
                UNION ALL SELECT 'pending', NULL, count(*), min(json_extract(body, '$.createdAt')) FROM membership_operations WHERE state = 'pending'
                """).all()
            var gauges = AccessGauges(activationsByState: [:], openDriftFindings: 0, pendingChanges: 0, oldestPendingChange: nil)
            for row in rows {
                let count = try row.decode(column: "n", as: Int.self)
                switch try row.decode(column: "kind", as: String.self) {
                case "state":
                    if let state = ActivationState(rawValue: try row.decode(column: "name", as: String.self)) { gauges.activationsByState[state] = count }
                case "drift":
                    gauges.openDriftFindings = count
                default:
                    gauges.pendingChanges = count
                    gauges.oldestPendingChange = try row.decode(column: "oldest", as: Double?.self).map(Date.init(timeIntervalSince1970:))
                }
            }
            return gauges
        }
    }
}
