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

    @Test("a long non-ASCII subject becomes folded encoded words of at most 75 characters, each whole UTF-8, that decode to the subject")
    func longSubjectFolded() throws {
        let subject = "[Drawbridge] Zoë requests an extension of owner at /subscriptions/prod — 日本語のテキスト ✓ 👩‍👩‍👧 ünd so weiter"
        let message = EmailMessage(
            from: "drawbridge@example.org", to: "zoe@example.org", subject: subject, body: "text", messageID: "1@drawbridge", date: Date())
        let headerLines = try #require(message.rendered().components(separatedBy: "\r\n\r\n").first).components(separatedBy: "\r\n")
        let start = try #require(headerLines.firstIndex { $0.hasPrefix("Subject: ") })
        let continuation = headerLines[(start + 1)...].prefix { $0.hasPrefix(" ") }
        let lines = [headerLines[start]] + continuation
        #expect(lines.allSatisfy { $0.count <= 76 })
        let words = [String(headerLines[start].dropFirst("Subject: ".count))] + continuation.map { String($0.dropFirst()) }
        #expect(words.count > 1)
        var decoded = Data()
        for word in words {
            #expect(word.count <= 75 && word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="), "\(word)")
            let bytes = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            #expect(String(data: bytes, encoding: .utf8) != nil, "no character split across words: \(word)")
            decoded += bytes
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
    }
}
