import DrawbridgeCore
import Foundation
import SQLKit

extension SQLiteStore: NotificationStore {
    private func write(_ operation: String, _ query: SQLQueryString) async throws {
        try await writeLock.withLock { [writer] in
            try await storeStep(operation, "notification_outbox") { try await writer.raw(query).run() }
        }
    }

    public func dueNotifications(at time: Date, limit: Int) async throws -> [OutboxEntry] {
        let rows = try await storeStep("select due notifications", "notification_outbox") {
            try await reader.raw("""
                SELECT o.id, o.audit_sequence, o.attempts, o.delivered, a.event, a.at_ms FROM notification_outbox o
                JOIN audit_log a ON a.sequence = o.audit_sequence
                WHERE o.state = 'pending' AND o.next_attempt_at <= \(bind: time.timeIntervalSince1970)
                ORDER BY o.next_attempt_at, o.id LIMIT \(literal: limit)
                """).all()
        }
        return try rows.map { row in
            try rowStep("decode notification", "notification_outbox") {
                let eventJSON = try row.decode(column: "event", as: String.self)
                let event = try? JSONDecoder().decode(AuditEvent.self, from: Data(eventJSON.utf8))
                let delivered = try JSONDecoder().decode([String].self, from: Data(try row.decode(column: "delivered", as: String.self).utf8))
                return OutboxEntry(
                    id: try row.decode(column: "id", as: Int64.self), auditSequence: try row.decode(column: "audit_sequence", as: Int64.self), event: event,
                    at: Date(timeIntervalSince1970: Double(try row.decode(column: "at_ms", as: Int64.self)) / 1000),
                    attempts: try row.decode(column: "attempts", as: Int.self), delivered: Set(delivered))
            }
        }
    }

    public func recordDelivery(_ id: Int64, channel: String) async throws {
        try await write("record delivery", """
            UPDATE notification_outbox SET delivered = json_insert(delivered, '$[#]', \(bind: channel))
            WHERE id = \(bind: id) AND NOT EXISTS (SELECT 1 FROM json_each(delivered) WHERE value = \(bind: channel))
            """)
    }

    public func finishNotifications(_ ids: [Int64], at time: Date) async throws {
        for start in stride(from: 0, to: ids.count, by: SQLiteStoreReader.batchSize) {
            let batch = Array(ids[start..<min(start + SQLiteStoreReader.batchSize, ids.count)])
            try await write("finish notifications", """
                UPDATE notification_outbox SET state = 'sent', finished_at = \(bind: time.timeIntervalSince1970) WHERE id IN (\(binds: batch))
                """)
        }
    }

    public func finishAllNotifications(at time: Date) async throws {
        try await write("finish notifications", "UPDATE notification_outbox SET state = 'sent', finished_at = \(bind: time.timeIntervalSince1970) WHERE state = 'pending'")
    }

    public func retryNotification(_ id: Int64, attempts: Int, nextAttempt: Date, error: String) async throws {
        try await write("retry notification", """
            UPDATE notification_outbox SET attempts = \(bind: attempts), next_attempt_at = \(bind: nextAttempt.timeIntervalSince1970), last_error = \(bind: error)
            WHERE id = \(bind: id)
            """)
    }

    public func abandonNotification(_ id: Int64, at time: Date, error: String) async throws {
        try await write("abandon notification", """
            UPDATE notification_outbox SET state = 'failed', finished_at = \(bind: time.timeIntervalSince1970), last_error = \(bind: error) WHERE id = \(bind: id)
            """)
    }

    public func nextNotificationTime() async throws -> Date? {
        try await storeStep("select next notification", "notification_outbox") {
            try await reader.raw("SELECT min(next_attempt_at) AS next FROM notification_outbox WHERE state = 'pending'")
                .first(decodingColumn: "next", as: Double?.self) ?? nil
        }.map(Date.init(timeIntervalSince1970:))
    }

    public func notificationBacklog() async throws -> (pending: Int, failed: Int) {
        let rows = try await storeStep("count notifications", "notification_outbox") {
            try await reader.raw("SELECT state, count(*) AS n FROM notification_outbox WHERE state != 'sent' GROUP BY state").all()
        }
        var backlog = (pending: 0, failed: 0)
        for row in rows {
            let count = try row.decode(column: "n", as: Int.self)
            if try row.decode(column: "state", as: String.self) == "pending" { backlog.pending = count } else { backlog.failed = count }
        }
        return backlog
    }
}
