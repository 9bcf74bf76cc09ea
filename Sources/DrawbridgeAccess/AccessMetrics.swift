import CoreMetrics
import DrawbridgeCore
import Foundation

/// What the applier did to the directory, through swift-metrics (a no-op until the process bootstraps a backend).
enum AccessMetrics {
    /// Records the outcome of each intent, and for expiries that reached the directory how late they were.
    static func recordApplied(_ operations: [MembershipOperation]) {
        for operation in operations {
            let outcome = operation.state == .pending ? "retried" : operation.state.rawValue
            Counter(label: "drawbridge_directory_changes_total", dimensions: [("action", operation.action.rawValue), ("outcome", outcome)]).increment()
            if operation.state == .done, let due = operation.dueAt, let finished = operation.finishedAt {
                let lag = max(0, finished.timeIntervalSince(due))
                Timer(label: "drawbridge_expiry_lag_seconds").recordNanoseconds(Int64(lag * 1_000_000_000))
            }
        }
    }

    /// One gauge per alert kind, zero included, so a dashboard sees a kind clear.
    static func recordOpenAlerts(_ openByKind: [SecurityAlert.Kind: Int]) {
        for kind in SecurityAlert.Kind.allCases {
            Gauge(label: "drawbridge_security_alerts_open", dimensions: [("kind", kind.rawValue), ("severity", kind.severity.rawValue)])
                .record(openByKind[kind] ?? 0)
        }
    }
}
