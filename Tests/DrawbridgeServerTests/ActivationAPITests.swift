import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import Testing

@Suite("Activations, approvals and authorization through the API")
struct ActivationAPITests {
    static let scope = "/subscriptions/prod/resourceGroups/web"
    static let activateBody = #"{"items":[{"scope":"\#(scope)","role":"owner"}],"duration":"1h","justification":"incident 7"}"#

    @Test("a user sees the roles they may activate, activates, lands in the LDAP group, deactivates and leaves it")
    func selfService() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner")
            let api = APIClient(client)
            try await api.signIn("alice")

            let eligible = try api.json(try await api.send(.get, "/api/v1/me/eligibilities"))
            let roles = try #require(eligible["roles"] as? [[String: Any]])
            #expect(roles.count == 1)
            #expect(roles.first?["scope"] as? String == Self.scope, "inherited from /subscriptions/prod")

            let created = try await api.send(.post, "/api/v1/activations", json: Self.activateBody)
            #expect(created.status == .created)
            let outcome = try #require((try api.json(created)["outcomes"] as? [[String: Any]])?.first)
            let activation = try #require(outcome["activation"] as? [String: Any])
            #expect(activation["state"] as? String == "active")
            let id = try #require(activation["id"] as? String)

            _ = try await harness.access.applier.applyReady()
            #expect(try await harness.access.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()))

            let mine = try api.json(try await api.send(.get, "/api/v1/me/activations?state=active"))
            #expect((mine["activations"] as? [[String: Any]])?.count == 1)

            let ended = try await api.send(.post, "/api/v1/activations/\(id)/deactivate")
            #expect(ended.status == .ok)
            #expect(try api.json(ended)["state"] as? String == "ended")
            _ = try await harness.access.applier.applyReady()
            #expect(!(try await harness.access.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased())))
            #expect(try await harness.access.auditActions().contains("activation.requested:success"))
        }
    }

    @Test("a refused activation is a 422 problem listing every reason; a dry run reports without creating")
    func refusals() async throws {
        try await ServerHarness.with { harness, client async throws in
            let api = APIClient(client)
            try await api.signIn("bob")
            let refused = try await api.send(.post, "/api/v1/activations", json: #"{"items":[{"scope":"\#(Self.scope)","role":"owner"}],"duration":"1h"}"#)
            #expect(refused.status == .unprocessableContent)
            let codes = (try api.json(refused)["refusals"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
            #expect(codes.contains("notEligible"))
            #expect(codes.contains("justificationRequired"))

            try await harness.access.eligible("bob", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner")
            let dry = try await api.send(.post, "/api/v1/activations", json: #"{"items":[{"scope":"\#(Self.scope)","role":"owner"}],"duration":"1h","justification":"x","dryRun":true}"#)
            #expect(dry.status == .ok)
            #expect((try api.json(try await api.send(.get, "/api/v1/me/activations"))["activations"] as? [Any])?.isEmpty == true)
            #expect(try await api.send(.post, "/api/v1/activations", json: #"{"items":[],"duration":"soon"}"#).status == .badRequest)
        }
    }

    @Test("approval: the requester cannot approve, a non-approver cannot see or decide, the approver approves")
    func approval() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let bob = try require_user(try await harness.access.store.user(login: "bob"), "bob")
            try await harness.access.relaxPolicy(role: "owner") {
                $0.requireApproval = true
                $0.approvers = [.user(bob.record.id)]
            }
            let alice = APIClient(client)
            try await alice.signIn("alice")
            let created = try await alice.send(.post, "/api/v1/activations", json: Self.activateBody)
            let activation = try #require((try alice.json(created)["outcomes"] as? [[String: Any]])?.first?["activation"] as? [String: Any])
            #expect(activation["state"] as? String == "pendingApproval")
            let id = try #require(activation["id"] as? String)

            #expect(try await alice.send(.post, "/api/v1/approvals/\(id)/approve").status == .forbidden, "no self-approval")

            let carol = APIClient(client)
            try await carol.signIn("carol")
            #expect((try carol.json(try await carol.send(.get, "/api/v1/approvals"))["activations"] as? [Any])?.isEmpty == true)
            #expect(try await carol.send(.get, "/api/v1/activations/\(id)").status == .notFound)
            #expect(try await carol.send(.post, "/api/v1/approvals/\(id)/approve").status == .forbidden)
            #expect(try await carol.send(.post, "/api/v1/activations/\(id)/cancel").status == .forbidden)

            let approver = APIClient(client)
            try await approver.signIn("bob")
            let queue = try approver.json(try await approver.send(.get, "/api/v1/approvals"))
            #expect((queue["activations"] as? [[String: Any]])?.first?["id"] as? String == id)
            #expect(try await approver.send(.get, "/api/v1/activations/\(id)").status == .ok)
            let approved = try await approver.send(.post, "/api/v1/approvals/\(id)/approve", json: #"{"reason":"on call"}"#)
            #expect(approved.status == .ok)
            #expect(try approver.json(approved)["state"] as? String == "active")
            #expect(try await approver.send(.post, "/api/v1/approvals/\(id)/deny", json: #"{"reason":"late"}"#).status == .conflict)
        }
    }

    @Test("every administrator route refuses non-administrators and anonymous callers; administrators get through")
    func administratorRoutes() async throws {
        try await ServerHarness.with { harness, client async throws in
            let routes: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/api/v1/admin/eligibilities", nil),
                (.post, "/api/v1/admin/eligibilities", #"{"principal":"alice","scope":"/subscriptions/prod","role":"owner","end":"2031-01-01T00:00:00Z","justification":"on call"}"#),
                (.delete, "/api/v1/admin/eligibilities/nothing", nil),
                (.get, "/api/v1/admin/assignments", nil),
                (.post, "/api/v1/admin/assignments", #"{"user":"alice","scope":"/subscriptions/prod","role":"owner","justification":"x"}"#),
                (.delete, "/api/v1/admin/assignments/nothing", nil),
                (.get, "/api/v1/admin/policies?scope=/&role=owner", nil),
                (.put, "/api/v1/admin/policies", #"{"scope":"/","role":"owner","override":{"requireTicket":true}}"#),
                (.get, "/api/v1/admin/scopes", nil),
                (.get, "/api/v1/admin/drift", nil),
                (.get, "/api/v1/admin/activations", nil),
                (.post, "/api/v1/admin/activations/nothing/revoke", #"{"reason":"x"}"#),
                (.post, "/api/v1/admin/sync", nil),
                (.post, "/api/v1/admin/reconcile?dryRun=true", nil),
                (.get, "/api/v1/admin/audit", nil),
                (.get, "/api/v1/admin/reviews", nil),
                (.post, "/api/v1/admin/reviews", #"{"name":"q","scopes":["/"],"duration":"7d","reviewers":["bob"]}"#),
                (.get, "/api/v1/admin/reviews/nothing", nil),
                (.get, "/api/v1/admin/reviews/nothing/export", nil),
                (.post, "/api/v1/admin/reviews/nothing/complete", nil),
                (.post, "/api/v1/admin/reviews/nothing/apply", nil),
                (.get, "/api/v1/admin/alerts", nil),
                (.post, "/api/v1/admin/alerts/evaluate", nil),
                (.get, "/api/v1/admin/alerts/nothing", nil),
                (.post, "/api/v1/admin/alerts/nothing/fix", nil),
                (.post, "/api/v1/admin/alerts/nothing/dismiss", #"{"reason":"x"}"#),
            ]
            let anonymous = APIClient(client)
            let user = APIClient(client)
            try await user.signIn("alice")
            let admin = APIClient(client)
            try await admin.signIn("dana")
            #expect(try admin.json(try await admin.send(.get, "/api/v1/me"))["administrator"] as? Bool == true)
            for (method, path, body) in routes {
                #expect(try await anonymous.send(method, path, json: body).status == .unauthorized, "\(method) \(path) anonymous")
                #expect(try await user.send(method, path, json: body).status == .forbidden, "\(method) \(path) as a user")
                let status = try await admin.send(method, path, json: body).status
                #expect(status != .unauthorized && status != .forbidden && status.code < 500, "\(method) \(path) as administrator: \(status)")
            }
            let granted = try admin.json(try await admin.send(.get, "/api/v1/admin/eligibilities"))
            #expect((granted["eligibilities"] as? [[String: Any]])?.contains { ($0["principal"] as? [String: Any])?["name"] as? String == "alice" } == true)
            let csv = try await admin.send(.get, "/api/v1/admin/audit?format=csv")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.text.hasPrefix("sequence,at,action"))
        }
    }

    @Test("signed-in routes refuse anonymous callers")
    func anonymousRefused() async throws {
        try await ServerHarness.with { _, client async throws in
            let anonymous = APIClient(client)
            let routes: [(HTTPRequest.Method, String)] = [
                (.get, "/api/v1/me"), (.get, "/api/v1/me/eligibilities"), (.get, "/api/v1/me/activations"), (.post, "/api/v1/activations"),
                (.get, "/api/v1/activations/x"), (.post, "/api/v1/activations/x/deactivate"), (.post, "/api/v1/activations/x/extend"),
                (.post, "/api/v1/activations/x/cancel"), (.get, "/api/v1/approvals"), (.post, "/api/v1/approvals/x/approve"),
                (.post, "/api/v1/approvals/x/deny"), (.get, "/api/v1/tokens"), (.post, "/api/v1/tokens"), (.delete, "/api/v1/tokens/x"),
                (.post, "/api/v1/mfa/enrollment"), (.post, "/api/v1/mfa/enrollment/confirm"), (.post, "/api/v1/mfa/verify"),
                (.get, "/api/v1/reviews/mine"), (.post, "/api/v1/reviews/decisions"),
            ]
            for (method, path) in routes {
                #expect(try await anonymous.send(method, path, json: "{}").status == .unauthorized, "\(method) \(path)")
            }
        }
    }

    @Test("TOTP: enrollment with a first code, a code works once, sign-in then needs it, and MFA policies need a recent step-up")
    func totp() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner") { $0.requireMFA = true }
            let api = APIClient(client)
            try await api.signIn("alice")
            let enrollment = try api.json(try await api.send(.post, "/api/v1/mfa/enrollment"))
            let secret = try #require(enrollment["secret"] as? String)
            #expect((enrollment["otpauthURI"] as? String)?.hasPrefix("otpauth://totp/") == true)
            #expect((enrollment["qrSVG"] as? String)?.hasPrefix("<svg") == true)
            let clock = harness.access.clock
            let code = { (date: Date) in String(format: "%06d", TOTP(secret: totpKey(base32: secret)).compute(date: date)) }

            #expect(try await api.send(.post, "/api/v1/mfa/enrollment/confirm", json: #"{"code":"000000"}"#).status == .unprocessableContent)
            let confirmed = try await api.send(.post, "/api/v1/mfa/enrollment/confirm", json: #"{"code":"\#(code(clock.now()))"}"#)
            #expect(confirmed.status == .ok)
            let recovery = try #require(try api.json(confirmed)["recoveryCodes"] as? [String])
            #expect(recovery.count == 10)
            let database = try String(contentsOfFile: harness.access.configuration.store.sqlitePath, encoding: .isoLatin1)
            #expect(!database.contains(secret), "the TOTP secret is sealed at rest")
            let alice = try #require(try await harness.access.store.user(login: "alice")).record.id
            let stored = try #require(try await harness.access.store.mfaEnrollment(userID: alice)).recoveryCodeHashes
            #expect(stored.count == 10 && recovery.allSatisfy { !stored.contains(sha256Hex($0)) }, "recovery codes are kept as keyed digests")

            clock.advance(by: 11 * 60)
            #expect(try await api.send(.post, "/api/v1/activations", json: Self.activateBody).status == .unprocessableContent, "step-up is 11 minutes old")
            #expect(try await api.send(.post, "/api/v1/mfa/verify", json: #"{"code":"\#(code(clock.now()))"}"#).status == .ok)
            #expect(try await api.send(.post, "/api/v1/mfa/verify", json: #"{"code":"\#(code(clock.now()))"}"#).status == .unprocessableContent, "replayed code")
            #expect(try await api.send(.post, "/api/v1/activations", json: Self.activateBody).status == .created)

            let again = APIClient(client)
            let first = try await again.signIn("alice")
            #expect(try again.json(first)["awaitingSecondFactor"] as? Bool == true)
            #expect(try await again.send(.get, "/api/v1/me").status == .unauthorized, "the password alone is not a session")
            clock.advance(by: 30)
            #expect(try await again.send(.post, "/api/v1/session/mfa", json: #"{"code":"\#(recovery[0].lowercased())"}"#).status == .ok)
            #expect(try await again.send(.get, "/api/v1/me").status == .ok)
            let third = APIClient(client)
            try await third.signIn("alice")
            #expect(try await third.send(.post, "/api/v1/session/mfa", json: #"{"code":"\#(recovery[0])"}"#).status == .unprocessableContent, "recovery codes are single-use")
            // A code stored before digests were keyed (plain SHA-256) still works, once.
            var legacy = try #require(try await harness.access.store.mfaEnrollment(userID: alice))
            legacy.recoveryCodeHashes.append(sha256Hex("LEGCY-CODE2"))
            try await harness.access.store.save(legacy)
            #expect(try await third.send(.post, "/api/v1/session/mfa", json: #"{"code":"legcy-code2"}"#).status == .ok)
            let fifth = APIClient(client)
            try await fifth.signIn("alice")
            #expect(try await fifth.send(.post, "/api/v1/session/mfa", json: #"{"code":"LEGCY-CODE2"}"#).status == .unprocessableContent)
            #expect(try await harness.access.auditActions().contains("mfa.verified:refused"))

            // Restarted without the MFA key, the server still asks for the second factor, and cannot take it.
            var keyless = harness.access.configuration
            keyless.server.secretKey = nil
            let services = ServerServices(configuration: keyless, store: harness.access.store, pool: harness.access.pool, clock: clock)
            clock.advance(by: 30)
            let current = code(clock.now())
            try await Application(router: try buildRouter(services)).test(.router) { keylessClient async throws in
                let fourth = APIClient(keylessClient)
                #expect(try fourth.json(try await fourth.signIn("alice"))["awaitingSecondFactor"] as? Bool == true)
                #expect(try await fourth.send(.get, "/api/v1/me").status == .unauthorized)
                #expect(try await fourth.send(.post, "/api/v1/session/mfa", json: #"{"code":"\#(current)"}"#).status == .serviceUnavailable)
                #expect(try await fourth.send(.get, "/api/v1/me").status == .unauthorized)
            }
        }
    }
}
