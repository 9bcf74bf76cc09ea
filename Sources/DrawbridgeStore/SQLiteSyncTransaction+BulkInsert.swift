import SQLiteKit

extension SQLiteSyncTransaction {
    /// A multi-row INSERT whose values are bound with SQLite's own types. SQLKit binds every value through an
    /// `Encoder`, which made inserting a full sync's hundreds of thousands of rows several times slower than SQLite.
    /// `table`, `columns` and `suffix` are SQL written in this module, never input.
    func insertRows(
        into table: String, columns: [String], rows: [[SQLiteData]], suffix: String = "", operation: String
    ) async throws {
        // SQLite accepts at most 32,766 bound values per statement.
        let rowsPerStatement = min(2_000, 32_766 / columns.count)
        let placeholder = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let batch = rows[start..<min(start + rowsPerStatement, rows.count)]
            let sql = head + Array(repeating: placeholder, count: batch.count).joined(separator: ", ") + (suffix.isEmpty ? "" : " " + suffix)
            var binds: [SQLiteData] = []
            binds.reserveCapacity(batch.count * columns.count)
            for row in batch { binds.append(contentsOf: row) }
            try await storeStep(operation, table) { try await connection.query(sql, binds) { _ in } }
        }
    }
}

extension SQLiteData {
    init(_ text: String?) {
        self = text.map(SQLiteData.text) ?? .null
    }
}
