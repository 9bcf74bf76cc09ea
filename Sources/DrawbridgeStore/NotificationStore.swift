import DrawbridgeCore
import Foundation

/// The notification outbox: one entry per notifiable audit record, written with it (see migration 4).
public protocol NotificationStore: Sendable {
    /// Pending entries whose next attempt is due, oldest first.
    func dueNotifications(at time: Date, limit: Int) async throws -> [OutboxEntry]
    /// Records that `channel` acknowledged the entry, so a retry never sends it there again.
    func recordDelivery(_ id: Int64, channel: String) async throws
    func finishNotifications(_ ids: [Int64], at time: Date) async throws
    /// Marks every pending entry finished: nothing is configured to send them.
    func finishAllNotifications(at time: Date) async throws
    func retryNotification(_ id: Int64, attempts: Int, nextAttempt: Date, error: String) async throws
    func abandonNotification(_ id: Int64, at time: Date, error: String) async throws
    /// When the earliest pending entry is due.
    func nextNotificationTime() async throws -> Date?
    func notificationBacklog() async throws -> (pending: Int, failed: Int)
}

public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var auditSequence: Int64
    /// nil when the audit record no longer reads as an event (which `audit verify` reports).
    public var event: AuditEvent?
    public var at: Date
    public var attempts: Int
    /// Channels that acknowledged it: `email:ADDRESS` or `webhook:NAME`.
    public var delivered: Set<String>

    public init(id: Int64, auditSequence: Int64, event: AuditEvent?, at: Date, attempts: Int, delivered: Set<String>) {
        self.id = id
        self.auditSequence = auditSequence
        self.event = event
        self.at = at
        self.attempts = attempts
        self.delivered = delivered
    }
}
