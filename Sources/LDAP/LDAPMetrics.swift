import CoreMetrics

/// Directory operation latency and errors, through swift-metrics (a no-op until the process bootstraps a backend).
enum LDAPMetrics {
    static func record(_ operation: String, since started: ContinuousClock.Instant, error: (any Error)?) {
        let elapsed = ContinuousClock.now - started
        Timer(label: "drawbridge_ldap_operation_duration_seconds", dimensions: [("operation", operation)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        guard let error else { return }
        let code = (error as? LDAPError)?.resultCode.map { "\($0)" } ?? "connection"
        Counter(label: "drawbridge_ldap_errors_total", dimensions: [("operation", operation), ("result", code)]).increment()
    }
}
