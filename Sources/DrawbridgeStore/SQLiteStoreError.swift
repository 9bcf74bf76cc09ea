import SQLiteNIO

/// A failure of the SQLite store, naming the operation and table. It never carries a bound value: the
/// description holds SQLite's own message (which names tables and columns only) or just the kind of error.
public struct SQLiteStoreError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let table: String
    public let reason: String

    init(operation: String, table: String, reason: String) {
        self.operation = operation
        self.table = table
        self.reason = reason
    }

    init(operation: String, table: String, underlying: any Error) {
        let reason: String
        if let error = underlying as? SQLiteError {
            reason = error.description
        } else if let error = underlying as? DirectSQLiteError {
            reason = error.description
        } else {
            // Other errors (decoding, parsing) may quote the offending value, so only their type is kept.
            reason = String(describing: type(of: underlying))
        }
        self.init(operation: operation, table: table, reason: reason)
    }

    public var description: String { "SQLite store: \(operation) on \(table) failed: \(reason)" }
}

/// Runs one step of the store, reporting any failure as a `SQLiteStoreError` about `operation` on `table`.
func storeStep<T>(_ operation: String, _ table: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as SQLiteStoreError {
        throw error
    } catch {
        throw SQLiteStoreError(operation: operation, table: table, underlying: error)
    }
}

/// The synchronous counterpart of `storeStep`, for decoding rows.
func rowStep<T>(_ operation: String, _ table: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SQLiteStoreError {
        throw error
    } catch {
        throw SQLiteStoreError(operation: operation, table: table, underlying: error)
    }
}
