import Foundation
import Logging
import SQLKit
import Testing

@testable import DrawbridgeStore

@Suite struct DirectSQLiteConnectionTests {
    func withConnection(_ body: (DirectSQLiteConnection) async throws -> Void) async throws {
        try await withConnections { first, _ in try await body(first) }
    }

    /// Two connections on one file in WAL mode, as two processes would have.
    func withConnections(_ body: (DirectSQLiteConnection, DirectSQLiteConnection) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-direct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("test.sqlite").path
        let first = try DirectSQLiteConnection.open(path: path, logger: Logger(label: "test"))
        defer { first.close() }
        try await first.raw("PRAGMA journal_mode = WAL").run()
        let second = try DirectSQLiteConnection.open(path: path, logger: Logger(label: "test"))
        defer { second.close() }
        try await body(first, second)
    }

    @Test("every kind of value is bound and read back as it was, text with NUL and non-ASCII characters and an empty blob included")
    func valuesRoundTrip() async throws {
        try await withConnection { db in
            try await db.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, n TEXT)").run()
            let text = "Zoë, \u{0} \"quoted\" \\ ✓ 𝄞"
            let blob = Data([0, 1, 2, 255])
            let none: String? = nil
            try await db.raw("INSERT INTO t VALUES (1, \(bind: Int.min), \(bind: 0.1), \(bind: text), \(bind: blob), \(bind: none))").run()
            try await db.raw("INSERT INTO t VALUES (2, \(bind: Int.max), \(bind: -1.5e300), \(bind: ""), \(bind: Data()), \(bind: "x"))").run()
            let rows = try await db.raw("SELECT i, f, s, b, n FROM t ORDER BY id").all()
            try #require(rows.count == 2)
            #expect(try rows[0].decode(column: "i", as: Int.self) == Int.min)
            #expect(try rows[0].decode(column: "f", as: Double.self) == 0.1)
            #expect(try rows[0].decode(column: "s", as: String.self) == text)
            #expect(try rows[0].decode(column: "b", as: Data.self) == blob)
            #expect(try rows[0].decodeNil(column: "n"))
            #expect(try rows[1].decode(column: "i", as: Int.self) == Int.max)
            #expect(try rows[1].decode(column: "f", as: Double.self) == -1.5e300)
            #expect(try rows[1].decode(column: "s", as: String.self) == "")
            #expect(try rows[1].decode(column: "b", as: Data.self) == Data())
            #expect(try rows[1].decode(column: "n", as: String?.self) == "x")
            #expect(rows[0].allColumns == ["i", "f", "s", "b", "n"])
            #expect(throws: (any Error).self) { try rows[0].decode(column: "missing", as: String.self) }
        }
    }

    @Test("a failed statement reports SQLite's message without the values bound to it")
    func failuresKeepBoundValuesOut() async throws {
        try await withConnection { db in
            try await db.raw("CREATE TABLE secrets (name TEXT PRIMARY KEY)").run()
            try await db.raw("INSERT INTO secrets VALUES (\(bind: "hunter2-secret"))").run()
            let error = await #expect(throws: SQLiteStoreError.self) {
                try await storeStep("insert secret", "secrets") { try await db.raw("INSERT INTO secrets VALUES (\(bind: "hunter2-secret"))").run() }
            }
            let description = error.map(String.init(describing:)) ?? ""
            #expect(description.contains("UNIQUE constraint failed: secrets.name"), "\(description)")
            #expect(!description.contains("hunter2"))
            // The statement that failed is reset: the connection goes on.
            try await db.raw("INSERT INTO secrets VALUES (\(bind: "other"))").run()
            #expect(try await db.raw("SELECT count(*) AS n FROM secrets").first(decodingColumn: "n", as: Int.self) == 2)
        }
    }

    @Test("text holding two statements is refused instead of running only the first")
    func oneStatementPerCall() async throws {
        try await withConnection { db in
            try await db.raw("CREATE TABLE t (x INTEGER)").run()
            await #expect(throws: DirectSQLiteError.self) { try await db.raw("INSERT INTO t VALUES (1); DROP TABLE t").run() }
            #expect(try await db.raw("SELECT count(*) AS n FROM t").first(decodingColumn: "n", as: Int.self) == 0)
        }
    }

    @Test("BEGIN IMMEDIATE waits, sleeping, for another connection's write transaction, and gives up after its patience")
    func beginWaitsForTheWriteLock() async throws {
        try await withConnections { first, second in
            try await first.raw("CREATE TABLE t (x INTEGER)").run()
            try await first.beginImmediate()
            await #expect(throws: DirectSQLiteError.self, "the lock is still held after the patience") {
                try await second.beginImmediate(patience: .milliseconds(200))
            }
            let release = Task {
                try await Task.sleep(for: .milliseconds(300))
                try await first.raw("INSERT INTO t VALUES (1)").run()
                try await first.raw("COMMIT").run()
            }
            let start = ContinuousClock.now
            // A generous patience: on a loaded machine the releasing task may wait long for a thread.
            try await second.beginImmediate(patience: .seconds(60))
            #expect(ContinuousClock.now - start >= .milliseconds(200), "the second transaction began only after the first ended")
            #expect(try await second.raw("SELECT count(*) AS n FROM t").first(decodingColumn: "n", as: Int.self) == 1)
            try await second.raw("COMMIT").run()
            try await release.value
        }
    }

    @Test("past the cache's limit of kept statements, statements still run, the earlier ones again too")
    func statementCacheStartsAfresh() async throws {
        try await withConnection { db in
            for round in 0..<2 {
                for value in 0..<300 {
                    let read = try await db.raw("SELECT \(literal: value) + \(bind: round) AS v").first(decodingColumn: "v", as: Int.self)
                    #expect(read == value + round)
                }
            }
        }
    }
}
