import SQLiteKit

extension SQLiteSyncTransaction {
    /// Inserts rows with one prepared one-row INSERT and SQLite's own bind values. SQLKit binds every value through
    /// an `Encoder`, which made inserting a full sync's hundreds of thousands of rows several times slower than
    /// SQLite, and a multi-row INSERT is parsed anew for every batch. `table`, `columns` and `suffix` are SQL
    /// written in this module, never input.
    func insertRows(into table: String, columns: [String], rows: [[SQLiteData]], suffix: String = "", operation: String) throws {
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))" + (suffix.isEmpty ? "" : " " + suffix)
        try rowStep(operation, table) { try db.runEach(sql, rows) }
    }
}

extension SQLiteData {
    init(_ text: String?) {
        self = text.map(SQLiteData.text) ?? .null
    }
}

extension SQLiteSyncTransaction {
    /// The tables a sync fills. One that is empty as the sync begins (on the first sync) is filled without its
    /// indexes, which are built once at the end: inserting a large directory's member DNs into an index one by
    /// one, in no particular order, costs several times what sorting them once does.
    static let bulkLoadedTables = ["directory_users", "directory_groups", "directory_group_members"]

    /// Drops the indexes of the empty tables among `bulkLoadedTables`; returns their definitions for `restoreIndexes`.
    func dropIndexesOfEmptyTables() throws -> [String] {
        try rowStep("drop indexes for a bulk load", "database") {
            var definitions: [String] = []
            for table in Self.bulkLoadedTables {
                var empty = false
                try db.run("SELECT NOT EXISTS (SELECT 1 FROM \(table))", []) { empty = $0.values.first == .integer(1) }
                guard empty else { continue }
                var indexes: [(name: String, definition: String)] = []
                // Indexes without SQL are the ones SQLite made for a primary key or a UNIQUE constraint.
                try db.run("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", [.text(table)]) { row in
                    if case .text(let name) = row.values[0], case .text(let definition) = row.values[1] { indexes.append((name, definition)) }
                }
                for index in indexes {
                    try db.run("DROP INDEX \"\(index.name)\"", [])
                    definitions.append(index.definition)
                }
            }
            return definitions
        }
    }

    func restoreIndexes(_ definitions: [String]) throws {
        try rowStep("build indexes after a bulk load", "database") {
            for definition in definitions { try db.run(definition, []) }
        }
    }
}
