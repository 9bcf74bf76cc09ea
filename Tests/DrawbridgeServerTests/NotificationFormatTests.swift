import DrawbridgeCore
@testable import DrawbridgeNotifications
import DrawbridgeStore
import Foundation
import Testing

@Suite("Notification formats (pure)")
struct NotificationFormatTests {
    @Test("webhook text escapes what chat tools read as markup; the event's own fields stay as typed")
    func webhookTextEscaped() throws {
        let typed = "<!channel> see <https://evil.example|the runbook> & more"
        let event = AuditEvent(
            action: "activation.requested", actor: .system("tests"), source: .api, userLogin: "alice", scope: try ScopePath("/subscriptions/prod"),
            role: RoleName(rawValue: "owner"), justification: typed, ticket: "INC-1 <b>", details: ["approvalsRequired": "1"])
        let plan = try #require(NotificationRules.plan(for: event, policy: RolePolicy()))
        let entry = OutboxEntry(id: 1, auditSequence: 7, event: event, at: Date(timeIntervalSince1970: 1_900_000_000), attempts: 0, delivered: [])
        let body = try WebhookPayload(plan: plan, event: event, entry: entry, link: "https://drawbridge.example.org/requests?a=1&b=2").encoded()
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let text = try #require(json["text"] as? String)
        #expect(text.contains("Justification: &lt;!channel&gt; see &lt;https://evil.example|the runbook&gt; &amp; more"))
        #expect(text.contains("Ticket: INC-1 &lt;b&gt;") && text.contains("requests?a=1&amp;b=2"))
        #expect(!text.contains("<") && !text.contains(">"))
        let fields = try #require(json["event"] as? [String: Any])
        #expect(fields["justification"] as? String == typed && fields["ticket"] as? String == "INC-1 <b>")
        #expect(json["link"] as? String == "https://drawbridge.example.org/requests?a=1&b=2")
    }
}
