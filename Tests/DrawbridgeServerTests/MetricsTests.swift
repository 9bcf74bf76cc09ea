import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeTestSupport
import Foundation
import HummingbirdTesting
import Testing

@Suite("Prometheus metrics")
struct MetricsTests {
    @Test("/metrics reports activations by state, applied directory changes, LDAP latency and open alerts by kind")
    func scrape() async throws {
        ServerMetrics.bootstrap()
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner")
            _ = try await harness.access.activate("alice", scope: "/subscriptions/prod/resourceGroups/web", role: "owner")
            _ = try await harness.access.applier.applyReady()
            _ = try await harness.access.engine.evaluateAlerts(directoryProblem: nil)
            let response = try await APIClient(client).send(.get, "/metrics")
            #expect(response.status == .ok)
            let text = response.text
            #expect(text.contains(#"drawbridge_activations{state="active"}"#))
            #expect(text.contains(#"drawbridge_directory_changes_total{action="add",outcome="done"}"#))
            #expect(text.contains(#"drawbridge_ldap_operation_duration_seconds_bucket{operation="modify""#))
            #expect(text.contains("drawbridge_directory_changes_pending "))
            #expect(text.contains("drawbridge_sync_duration_seconds"))
            // Gauges are process-wide and other tests evaluate alerts too: the series must be there, whatever its value now.
            for kind in SecurityAlert.Kind.allCases {
                #expect(text.contains(#"drawbridge_security_alerts_open{kind="\#(kind.rawValue)",severity="\#(kind.severity.rawValue)"}"#))
            }
        }
    }
}
