import CoreMetrics
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// Prometheus exposition of the swift-metrics the layers record, plus gauges read from the store at each scrape.
public enum ServerMetrics {
    public static let registry = PrometheusCollectorRegistry()

    /// Routes swift-metrics to the registry; the first call wins, later ones do nothing (a process has one backend).
    public static func bootstrap() {
        _ = bootstrapped
    }

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "drawbridge_expiry_lag_seconds": [.milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300)],
            "drawbridge_ldap_operation_duration_seconds": [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5)],
            "drawbridge_sync_duration_seconds": [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300)],
        ]
        MetricsSystem.bootstrap(factory)
    }()

    /// Reads the store's counts into gauges, then renders everything in the text exposition format.
    static func scrape(_ store: any DrawbridgeStore & NotificationStore, now: Date) async throws -> Response {
        let gauges = try await store.accessGauges()
        let outbox = try await store.notificationBacklog()
        Gauge(label: "drawbridge_notifications_outbox", dimensions: [("state", "pending")]).record(outbox.pending)
        Gauge(label: "drawbridge_notifications_outbox", dimensions: [("state", "failed")]).record(outbox.failed)
        for state in ActivationState.allCases {
            Gauge(label: "drawbridge_activations", dimensions: [("state", state.rawValue)]).record(gauges.activationsByState[state] ?? 0)
        }
        Gauge(label: "drawbridge_drift_findings_open").record(gauges.openDriftFindings)
        Gauge(label: "drawbridge_directory_changes_pending").record(gauges.pendingChanges)
        Gauge(label: "drawbridge_directory_changes_oldest_pending_seconds").record(gauges.oldestPendingChange.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
