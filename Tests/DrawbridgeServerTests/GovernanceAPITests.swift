import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Access reviews and security alerts through the API and the web UI")
struct GovernanceAPITests {
    static let createBody = #"{"name":"prod owners","scopes":["/subscriptions/prod"],"roles":["owner"],"duration":"7d","reviewers":["bob"],"reminders":["1d"]}"#

    @Test("an administrator creates a review; only its reviewer decides, with a reason; completing it removes the denied access")
    func reviewThroughTheAPI() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let admin = APIClient(client)
            try await admin.signIn("dana")
            #expect(try await admin.send(.post, "/api/v1/admin/reviews", json: #"{"name":"x","scopes":["/"],"duration":"soon","reviewers":["bob"]}"#).status == .unprocessableContent)
            let created = try await admin.send(.post, "/api/v1/admin/reviews", json: Self.createBody)
            #expect(created.status == .created, "\(created.text)")
            let review = try #require(try admin.json(created)["review"] as? [String: Any])
            let reviewID = try #require(review["id"] as? String)
            #expect(review["status"] as? String == "inProgress")

            let alice = APIClient(client)
            try await alice.signIn("alice")
            #expect((try alice.json(try await alice.send(.get, "/api/v1/reviews/mine"))["reviews"] as? [Any])?.isEmpty == true)
            let bob = APIClient(client)
            try await bob.signIn("bob")
            let work = try #require((try bob.json(try await bob.send(.get, "/api/v1/reviews/mine"))["reviews"] as? [[String: Any]])?.first)
            let item = try #require((work["items"] as? [[String: Any]])?.first)
            let itemID = try #require(item["id"] as? String)
            #expect(item["holder"] as? String == "alice")
            #expect(item["recommendation"] as? String == "approve", "granted today: too recent to call unused")

            let deny = #"{"items":["\#(itemID)"],"decision":"deny","reason":"left the team"}"#
            #expect(try await alice.send(.post, "/api/v1/reviews/decisions", json: deny).status == .forbidden, "alice is no reviewer of her own access")
            #expect(try await bob.send(.post, "/api/v1/reviews/decisions", json: #"{"items":["\#(itemID)"],"decision":"deny"}"#).status == .unprocessableContent)
            let decided = try await bob.send(.post, "/api/v1/reviews/decisions", json: deny)
            #expect(decided.status == .ok)
            #expect((try bob.json(decided)["items"] as? [[String: Any]])?.first?["decidedBy"] as? String == "bob")

            let completed = try await admin.send(.post, "/api/v1/admin/reviews/\(reviewID)/complete")
            #expect(try admin.json(completed)["status"] as? String == "applied")
            let detail = try admin.json(try await admin.send(.get, "/api/v1/admin/reviews/\(reviewID)"))
            #expect((detail["items"] as? [[String: Any]])?.first?["outcome"] as? String == "removed")
            let csv = try await admin.send(.get, "/api/v1/admin/reviews/\(reviewID)/export")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.text.hasPrefix(ReviewItem.csvHeader + "\r\n") && csv.text.contains(",deny,left the team,bob,"))
            #expect((try admin.json(try await admin.send(.get, "/api/v1/admin/eligibilities"))["eligibilities"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("alerts: evaluate, read, dismiss with a reason, fix; the fixed alert resolves")
    func alertsThroughTheAPI() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.relaxPolicy(role: "owner")
            let admin = APIClient(client)
            try await admin.signIn("dana")
            let evaluated = try admin.json(try await admin.send(.post, "/api/v1/admin/alerts/evaluate"))
            let alerts = try #require(evaluated["alerts"] as? [[String: Any]])
            let weak = try #require(alerts.first { $0["kind"] as? String == "weakActivationPolicy" })
            let id = try #require(weak["id"] as? String)
            #expect(weak["fix"] as? String == "require MFA and a justification")
            #expect(try admin.json(try await admin.send(.get, "/api/v1/admin/alerts/\(id)"))["severity"] as? String == "low")
            #expect(try await admin.send(.get, "/api/v1/admin/alerts/nothing").status == .notFound)
            #expect(try await admin.send(.get, "/api/v1/admin/alerts?state=gone").status == .badRequest)

            #expect(try await admin.send(.post, "/api/v1/admin/alerts/\(id)/dismiss").status == .unprocessableContent)
            let dismissed = try await admin.send(.post, "/api/v1/admin/alerts/\(id)/dismiss", json: #"{"reason":"lab"}"#)
            #expect(try admin.json(dismissed)["state"] as? String == "dismissed")
            #expect(try await admin.send(.post, "/api/v1/admin/alerts/\(id)/fix").status == .ok)
            _ = try await admin.send(.post, "/api/v1/admin/alerts/evaluate")
            let resolved = try admin.json(try await admin.send(.get, "/api/v1/admin/alerts?state=resolved"))
            #expect((resolved["alerts"] as? [[String: Any]])?.contains { $0["id"] as? String == id } == true)
        }
    }

    @Test("in the browser: the reviewer denies selected items with a reason; administrators create campaigns and handle alerts")
    func reviewAndAlertPages() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.eligible("carol", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner")
            let admin = FormBrowser(client)
            _ = try await admin.api.signIn("dana")
            #expect(try await admin.get("/admin/reviews") == .ok)
            try await admin.post("/admin/reviews", pairs: [
                ("name", "quarterly owners"), ("scopes", "/subscriptions/prod"), ("roles", "owner"), ("subjects", "eligible"), ("subjects", "active"),
                ("groupMode", "perUser"), ("reviewers", "bob"), ("frequency", "quarterly"), ("duration", "14d"), ("runs", "4"),
                ("noResponse", "noChange"), ("inactivity", "30d"), ("reminders", "1d"),
            ])
            #expect(admin.contains("Created the review"), "\(admin.page)")
            #expect(admin.contains("quarterly owners"))

            let bob = FormBrowser(client)
            _ = try await bob.api.signIn("bob")
            #expect(try await bob.get("/reviews") == .ok)
            let ids = bob.page.components(separatedBy: #"name="item" value=""#).dropFirst().map { String($0.prefix { $0 != "\"" }) }
            #expect(ids.count == 2)
            try await bob.post("/reviews/decide", pairs: ids.map { ("item", $0) } + [("decision", "deny"), ("reason", "")])
            #expect(bob.contains("reason"), "a reason is required")
            try await bob.post("/reviews/decide", pairs: ids.map { ("item", $0) } + [("decision", "deny"), ("reason", "rotation ended")])
            #expect(bob.contains("Denied 2 items"), "\(bob.page)")
            #expect(try await bob.get("/admin/reviews") == .forbidden)
            #expect(try await bob.get("/alerts") == .forbidden)

            #expect(try await admin.get("/alerts") == .ok)
            try await admin.post("/alerts/evaluate", [:])
            #expect(admin.contains("can be activated without MFA"), "\(admin.page)")
            let alertID = try #require(admin.page.firstMatch(of: /action="\/alerts\/(alert-[0-9a-f]{16})\/dismiss"/)?.1)
            try await admin.post("/alerts/\(alertID)/dismiss", ["reason": "lab only"])
            #expect(admin.contains("Dismissed"))
        }
    }
}
