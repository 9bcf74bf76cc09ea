import CoreMetrics

/// Directory operation latency and errors, through swift-metrics (a no-op until the process bootstraps a backend).
enum LDAPMetrics {
    static func record(_ operation: String, since started: ContinuousClock.Instant, error: (any Error)?) {
        let nanoseconds = Int64(started.duration(to: .now) / .nanoseconds(1))
        Timer(label: "drawbridge_ldap_operation_duration_seconds", dimensions: [("operation", operation)]).recordNanoseconds(nanoseconds)
        guard let error else { return }
        var result = "connection"
        if let failure = error as? LDAPError, let code = failure.resultCode { result = code.description }
        Counter(label: "drawbridge_ldap_errors_total", dimensions: [("operation", operation), ("result", result)]).increment()
    }
}
