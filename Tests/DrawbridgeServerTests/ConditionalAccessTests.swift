import DrawbridgeCore
import DrawbridgeTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Conditional access by client network, over a real socket")
struct ConditionalAccessTests {
    static let body = #"{"items":[{"scope":"/subscriptions/prod/resourceGroups/web","role":"owner"}],"duration":"1h","justification":"incident 9"}"#

    @Test("an activation from outside the allowed networks is refused, says why, and is audited; a trusted proxy's forwarded address counts")
    func allowedNetworks() async throws {
        let proxies = "  trustedProxies: [127.0.0.1/32, \"::1\"]\n"
        try await ServerHarness.with(extraServerYAML: proxies, live: true) { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner") { $0.allowedNetworks = [IPNetwork("10.20.0.0/16")!] }
            let api = APIClient(client)
            try await api.signIn("alice")

            let direct = try await api.send(.post, "/api/v1/activations", json: Self.body)
            #expect(direct.status == .unprocessableContent)
            let refusal = try #require((try api.json(direct)["refusals"] as? [[String: Any]])?.first)
            #expect(refusal["code"] as? String == "networkNotAllowed")
            #expect((refusal["message"] as? String)?.contains("10.20.0.0/16") == true)

            let outside = try await api.send(.post, "/api/v1/activations", json: Self.body, headers: [HTTPField.Name("X-Forwarded-For")!: "192.0.2.7"])
            #expect(outside.status == .unprocessableContent)
            #expect((try api.json(outside)["detail"] as? String)?.contains("192.0.2.7") == true)

            let inside = try await api.send(.post, "/api/v1/activations", json: Self.body, headers: [HTTPField.Name("X-Forwarded-For")!: "10.20.3.4"])
            #expect(inside.status == .created)
            let records = try await harness.access.store.auditRecords(.all).compactMap(\.event)
            #expect(records.contains { $0.action == "activation.requested" && $0.outcome == .refused && $0.reason?.contains("192.0.2.7") == true })
            #expect(records.contains { $0.action == "activation.requested" && $0.outcome == .success && $0.details["client"] == "10.20.3.4" })
        }
    }
}
