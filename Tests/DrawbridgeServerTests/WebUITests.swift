import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeTestSupport
import Foundation
import HTTPTypes
import HummingbirdOTP
import HummingbirdTesting
import NIOCore
import Testing

/// A browser without JavaScript: follows redirects by hand, keeps the cookie, posts forms with the page's CSRF token.
final class FormBrowser: @unchecked Sendable {
    // Used by one test task at a time.
    let api: APIClient
    var page = ""

    init(_ client: any TestClientProtocol) {
        api = APIClient(client)
    }

    @discardableResult
    func get(_ path: String) async throws -> HTTPResponse.Status {
        let response = try await api.send(.get, path)
        page = response.text
        if response.status == .seeOther, let location = response.headers[.location] { return try await get(location) }
        return response.status
    }

    /// Posts a form with the CSRF token of the page last loaded, and follows the redirect.
    @discardableResult
    func post(_ path: String, _ fields: [String: String]) async throws -> HTTPResponse.Status {
        try await post(path, pairs: fields.map { ($0.key, $0.value) })
    }

    /// The same with fields in order, a name given more than once (checkboxes) as a browser sends it.
    @discardableResult
    func post(_ path: String, pairs: [(String, String)]) async throws -> HTTPResponse.Status {
        let all = pairs + [("_csrf", csrf)]
        let body = all.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie = api.cookie { headers[.cookie] = "drawbridge_session=\(cookie)" }
        let response = try await api.client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        for value in response.headers[values: .setCookie] where value.hasPrefix("drawbridge_session=") {
            api.cookie = String(value.dropFirst("drawbridge_session=".count).prefix { $0 != ";" })
        }
        page = response.text
        if response.status == .seeOther, let location = response.headers[.location] { return try await get(location) }
        return response.status
    }

    var csrf: String {
        guard let range = page.range(of: #"name="_csrf" value=""#) else { return "" }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    func contains(_ text: String) -> Bool { page.contains(text) }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}

@Suite("The web UI, driven through its forms")
struct WebUITests {
    @Test("sign in, activate a role that needs approval, the approver approves, the user deactivates")
    func activationWithApproval() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let bob = try require_user(try await harness.access.store.user(login: "bob"), "bob")
            try await harness.access.relaxPolicy(role: "owner") {
                $0.requireApproval = true
                $0.approvers = [.user(bob.record.id)]
            }
            let alice = FormBrowser(client)
            #expect(try await alice.get("/roles") == .ok)
            #expect(alice.contains(#"action="/signin""#), "not signed in: the sign-in page")
            #expect(try await alice.post("/signin", ["login": "alice", "password": "wrong"]) == .ok)
            #expect(alice.contains("the login or password is wrong"))
            try await alice.post("/signin", ["login": "alice", "password": ServerHarness.password("alice")])
            #expect(alice.contains("/subscriptions/prod/resourceGroups/web"))
            #expect(alice.contains(#"action="/roles/activate""#))

            try await alice.post("/roles/activate", [
                "scope": "/subscriptions/prod/resourceGroups/web", "role": "owner", "duration": "1h", "justification": "<script>incident</script>",
            ])
            #expect(alice.contains("waits for approval"))
            #expect(try await alice.get("/requests") == .ok)
            #expect(alice.contains("pendingApproval"))

            let approver = FormBrowser(client)
            try await approver.get("/signin")
            try await approver.post("/signin", ["login": "bob", "password": ServerHarness.password("bob")])
            try await approver.get("/requests")
            let activation = try #require(try await harness.access.store.withAccessTransaction(commit: false) { try await $0.activations(.live).first })
            #expect(approver.contains("/approvals/\(activation.id)/approve"))
            #expect(approver.contains("&lt;script&gt;incident&lt;"), "the requester's text is escaped")
            #expect(!approver.contains("<script>incident"))
            try await approver.post("/approvals/\(activation.id)/approve", ["reason": "on call"])
            #expect(approver.contains("Approved alice"))

            _ = try await harness.access.applier.applyReady()
            #expect(try await harness.access.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()))
            try await alice.get("/roles")
            #expect(alice.contains("/activations/\(activation.id)/deactivate"))
            try await alice.post("/activations/\(activation.id)/deactivate", [:])
            #expect(alice.contains("Deactivated"))
            _ = try await harness.access.applier.applyReady()
            #expect(!(try await harness.access.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased())))
        }
    }

    @Test("a form without the session's CSRF token is refused")
    func csrf() async throws {
        try await ServerHarness.with { _, client async throws in
            let browser = FormBrowser(client)
            try await browser.get("/signin")
            try await browser.post("/signin", ["login": "alice", "password": ServerHarness.password("alice")])
            let forged = FormBrowser(client)
            forged.api.cookie = browser.api.cookie
            forged.page = #"name="_csrf" value="forged""#
            #expect(try await forged.post("/tokens", ["name": "x", "lifetime": "1d"]) == .forbidden)
        }
    }

    @Test("administration pages are for administrators; the audit page filters and links the CSV")
    func administration() async throws {
        try await ServerHarness.with { harness, client async throws in
            let user = FormBrowser(client)
            try await user.get("/signin")
            try await user.post("/signin", ["login": "alice", "password": ServerHarness.password("alice")])
            #expect(!user.contains(#"href="/admin""#))
            #expect(try await user.get("/admin") == .forbidden)
            #expect(try await user.get("/audit") == .forbidden)

            let admin = FormBrowser(client)
            try await admin.get("/signin")
            try await admin.post("/signin", ["login": "dana", "password": ServerHarness.password("dana")])
            #expect(try await admin.get("/admin") == .ok)
            #expect(admin.contains("/subscriptions/prod/resourceGroups/web"))
            #expect(admin.contains("cn=pim-prod-web-owner,ou=groups,dc=example,dc=org"))
            try await admin.post("/admin/eligibilities", [
                "principal": "bob", "scope": "/subscriptions/prod", "role": "owner", "end": "2030-06-30", "justification": "rota",
            ])
            #expect(admin.contains("bob is eligible for owner at /subscriptions/prod"))
            try await admin.get("/admin/policy?scope=/subscriptions/prod&role=owner")
            try await admin.post("/admin/policy", [
                "scope": "/subscriptions/prod", "role": "owner", "requireTicket": "true", "approvers": "", "allowedNetworks": "10.0.0.0/8",
            ])
            #expect(admin.contains("saved"))
            let policy = try await harness.services.engine.policy(scope: try ScopePath("/subscriptions/prod"), role: RoleName(rawValue: "owner")!)
            #expect(policy.policy.requireTicket)
            #expect(policy.policy.allowedNetworks.map(\.description) == ["10.0.0.0/8"])
            #expect(try await admin.get("/audit?user=bob") == .ok)
            #expect(admin.contains("eligibility.added"))
            #expect(admin.contains("/api/v1/admin/audit?format=csv&amp;user=bob"))
        }
    }

    @Test("tokens are shown once after creation; MFA enrollment shows a QR code and confirms with a code")
    func tokensAndMFA() async throws {
        try await ServerHarness.with { harness, client async throws in
            let browser = FormBrowser(client)
            try await browser.get("/signin")
            try await browser.post("/signin", ["login": "carol", "password": ServerHarness.password("carol")])
            try await browser.get("/tokens")
            try await browser.post("/tokens", ["name": "ci", "lifetime": "7d"])
            let secret = try #require(browser.page.range(of: "dbt_").map { String(browser.page[$0.lowerBound...].prefix { $0 != "<" }) })
            try await browser.get("/tokens")
            #expect(!browser.contains(secret))
            #expect(browser.contains("ci"))

            try await browser.get("/mfa")
            try await browser.post("/mfa/enroll", [:])
            #expect(browser.contains("<svg"))
            #expect(browser.contains("otpauth://totp/"))
            let enrolled = try #require(try await harness.services.store.mfaEnrollment(userID: try require_user(try await harness.access.store.user(login: "carol"), "carol").record.id))
            #expect(enrolled.confirmedAt == nil)
            #expect(try await browser.post("/mfa/confirm", ["code": "000000"]) == .ok)
            #expect(browser.contains("not valid"))
            try await browser.post("/mfa/enroll", [:])
            let base32 = try #require(browser.page.firstMatch(of: /[A-Z2-7]{52}/).map { String($0.output) })
            let code = String(format: "%06d", TOTP(secret: totpKey(base32: base32)).compute(date: harness.access.clock.now()))
            try await browser.post("/mfa/confirm", ["code": code])
            #expect(browser.contains("not shown again"))
            #expect(browser.page.firstMatch(of: /[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}/) != nil, "recovery codes are listed")
        }
    }
}
