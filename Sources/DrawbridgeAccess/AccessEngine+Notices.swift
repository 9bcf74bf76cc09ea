import DrawbridgeCore
import Foundation

extension AccessEngine {
    /// Records an `activation.expiring` event for each active activation that ends within `leadTime` and whose
    /// holder was not told about that end yet; the notification outbox picks the events up. Returns how many.
    public func noticeExpiring(leadTime: Duration) async throws -> Int {
        try await transaction(dryRun: false, actor: .system("scheduler"), source: .scheduler) { context in
            let horizon = context.now.addingTimeInterval(TimeInterval(leadTime.components.seconds))
            let ending = try await context.transaction.activationsEndingUnnoticed(after: context.now, by: horizon)
            guard !ending.isEmpty else { return 0 }
            var events: [AuditEvent] = []
            for activation in ending {
                let binding = try await context.binding(scope: activation.scope, role: activation.role)
                events.append(context.event(
                    "activation.expiring", requestID: activation.requestID, subject: activation.id.rawValue, user: activation.userLogin,
                    scope: activation.scope, role: activation.role, group: binding, details: ["end": activation.endAt.iso8601]))
            }
            try await context.transaction.appendAudit(events, at: context.now)
            try await context.transaction.markExpiryNoticed(ending.map(\.id), at: context.now)
            return ending.count
        }
    }
}
