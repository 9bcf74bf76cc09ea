import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import VaporCSQLite

/// The connection access transactions and syncs run on: SQLite called directly on the calling task's thread,
/// each statement prepared once and kept. An access transaction is a few dozen short statements on pages in
/// memory; handing each one to a thread pool and back, and parsing it again, cost several times what running it
/// did, and every write waits in line behind the transaction before it. A sync is hundreds of thousands of
/// one-row statements, each a few microseconds of SQLite's work.
///
/// It is the same SQLite library as SQLiteNIO's (so the two share the file locks of one process), opened on the
/// same file.
final class DirectSQLiteConnection: SQLDatabase, @unchecked Sendable {
    // Safe because it is used only while `SQLiteStore.writeLock` is held (transactions, opening, closing): one task
    // at a time, which runs each statement to its end before it starts the next. Hence also SQLITE_OPEN_NOMUTEX.
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    /// Frames in the write-ahead log after this connection's last commit, as SQLite's WAL hook reports them.
    /// Installing the hook replaces SQLite's automatic checkpoint on this connection: that checkpoint ran inside
    /// `COMMIT`, with its fsyncs (about 20 ms here, every hundred or so transactions), while the write lock was
    /// held. `SQLiteStore` checkpoints in the background instead.
    private(set) var walFrames = 0
    let logger: Logger
    let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    let dialect: any SQLDialect = SQLiteDialect()
    var queryLogLevel: Logger.Level? { nil }
    private let encoder = SQLiteDataEncoder()
    private let decoder = SQLiteDataDecoder()
    /// Statements whose text embeds a list length (`IN (?, ?, …)`) come in many variants; past this many the
    /// cache starts afresh rather than grow without bound.
    private static let cachedStatementLimit = 256

    private init(handle: OpaquePointer, logger: Logger) {
        self.handle = handle
        self.logger = logger
    }

    static func open(path: String, logger: Logger) throws -> DirectSQLiteConnection {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let error = DirectSQLiteError(code: status, message: handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "cannot open")
            sqlite_nio_sqlite3_close_v2(handle)
            throw error
        }
        let connection = DirectSQLiteConnection(handle: handle, logger: logger)
        // Unretained: SQLite calls the hook only inside a commit on this handle, which only this object makes.
        sqlite_nio_sqlite3_wal_hook(handle, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<DirectSQLiteConnection>.fromOpaque(context).takeUnretainedValue().walFrames = Int(frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(connection).toOpaque())
        do {
            // A short busy timeout: SQLite's wait holds the thread, and this thread belongs to Swift's small pool.
            // `beginImmediate` waits longer for another process's write transaction, without holding it.
            for pragma in ["PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", "PRAGMA cache_size = -65536", "PRAGMA busy_timeout = 50"] {
                try connection.run(SQLRaw(pragma)) { _ in }
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
    }

    /// `BEGIN IMMEDIATE`, retried while another connection (another process: a CLI command beside the server)
    /// holds the write lock, for up to `patience`; between tries the task sleeps instead of blocking its thread.
    func beginImmediate(patience: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                try run(SQLRaw("BEGIN IMMEDIATE")) { _ in }
                return
            } catch let error as DirectSQLiteError where error.code & 0xff == SQLITE_BUSY && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        do {
            try run(query, onRow)
            return eventLoop.makeSucceededVoidFuture()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try run(query, onRow)
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> ()) throws {
        let (sql, binds) = serialize(query)
        try run(sql, try binds.map { try encoder.encode($0) }, onRow)
    }

    /// Runs `sql` with SQLite's own values bound as they are: for a sync's bulk statements, where binding every
    /// value through an `Encoder` costs more than SQLite's work.
    func run(_ sql: String, _ binds: [SQLiteData], _ onRow: (DirectSQLiteRow) -> () = { _ in }) throws {
        let statement = try prepared(sql)
        // Reset only: every parameter is bound again on the next run, and clearing the bindings would mark the
        // statement for a fresh parse whenever its plan looked at a bound value.
        defer { sqlite_nio_sqlite3_reset(statement) }
        try step(statement, binds, onRow)
    }

    /// Runs the one-row statement `sql` once for each row of values, prepared once: a multi-row statement would
    /// be parsed again for every batch of rows.
    func runEach(_ sql: String, _ rows: some Sequence<[SQLiteData]>) throws {
        let statement = try prepared(sql)
        defer { sqlite_nio_sqlite3_reset(statement) }
        for row in rows {
            try step(statement, row) { _ in }
            sqlite_nio_sqlite3_reset(statement)
        }
    }

    /// `onRow` must not run statements on this connection: the statement being stepped is a cached one, which
    /// another run could reset, or finalize when the cache starts afresh.
    private func step(_ statement: OpaquePointer, _ binds: [SQLiteData], _ onRow: (DirectSQLiteRow) -> ()) throws {
        for (offset, value) in binds.enumerated() {
            try bind(value, at: Int32(offset + 1), statement)
        }
        var names: [String]?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status) }
            let count = sqlite_nio_sqlite3_column_count(statement)
            let columns = names ?? (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
            names = columns
            onRow(DirectSQLiteRow(names: columns, values: (0..<count).map { value(statement, $0) }, decoder: decoder))
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.cachedStatementLimit {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll()
        }
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let status = sql.withCString { text in
            let status = sqlite_nio_sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            // One statement per call: text after the first would be silently ignored.
            if status == SQLITE_OK, let tail, !String(cString: tail).allSatisfy(\.isWhitespace) { return SQLITE_MISUSE }
            return status
        }
        guard status == SQLITE_OK, let statement else {
            sqlite_nio_sqlite3_finalize(statement)
            throw failure(status)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ data: SQLiteData, at index: Int32, _ statement: OpaquePointer) throws {
        let status: Int32
        switch data {
        case .integer(let value): status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(value))
        case .float(let value): status = sqlite_nio_sqlite3_bind_double(statement, index, value)
        case .text(let value): status = sqlite_nio_sqlite3_bind_text64(statement, index, value, UInt64(value.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let value):
            status = value.withUnsafeReadableBytes { bytes in
                bytes.isEmpty
                    ? sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0)
                    : sqlite_nio_sqlite3_bind_blob64(statement, index, bytes.baseAddress, UInt64(bytes.count), Self.transient)
            }
        case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
        }
        guard status == SQLITE_OK else { throw failure(status) }
    }

    private func value(_ statement: OpaquePointer, _ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard let bytes = sqlite_nio_sqlite3_column_blob(statement, column), length > 0 else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: length)))
        default: return .null
        }
    }

    private func failure(_ status: Int32) -> DirectSQLiteError {
        DirectSQLiteError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// SQLite's result code and message, which names tables and columns but never a bound value.
struct DirectSQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    var description: String { "\(message) (SQLite code \(code))" }
}

struct DirectSQLiteRow: SQLRow {
    let names: [String]
    let values: [SQLiteData]
    let decoder: SQLiteDataDecoder

    var allColumns: [String] { names }

    func contains(column: String) -> Bool { names.contains(column) }

    func decodeNil(column: String) throws -> Bool { (data(column) ?? .null) == .null }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let data = data(column) else { throw DirectSQLiteError(code: SQLITE_RANGE, message: "no column \(column) in the result") }
        return try decoder.decode(D.self, from: data)
    }

    private func data(_ column: String) -> SQLiteData? {
        names.firstIndex(of: column).map { values[$0] }
    }
}
