import DrawbridgeCore
@testable import DrawbridgeServer
import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import LDAP
import Testing

@Suite("Sign-in, sessions, CSRF and tokens against a real slapd")
struct SignInTests {
    @Test("a directory password signs in; wrong, empty and unknown logins fail alike")
    func passwordSignIn() async throws {
        try await ServerHarness.with { _, client async throws in
            let api = APIClient(client)
            let wrong = try await api.signIn("alice", password: "not it")
            let unknown = try await api.signIn("nobody", password: "not it")
            let empty = try await api.signIn("alice", password: "")
            let blank = try await api.signIn("alice", password: "   ")
            for response in [wrong, unknown, empty, blank] {
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try api.json(response)["detail"] as? String == "the login or password is wrong")
            }
            #expect(try await api.signIn("alice").status == .tooManyRequests, "alice had 3 failures, the limit")

            let fresh = APIClient(client)
            let signedIn = try await fresh.signIn("bob")
            #expect(signedIn.status == .ok)
            let setCookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("drawbridge_session=") })
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Lax"))
            #expect(!setCookie.contains("Secure"), "served without TLS here")
            let me = try await fresh.send(.get, "/api/v1/me")
            #expect(me.status == .ok)
            #expect(try fresh.json(me)["login"] as? String == "bob")
            #expect(try fresh.json(me)["administrator"] as? Bool == false)
        }
    }

    @Test("an injection attempt in the login is escaped, not interpreted")
    func filterInjection() async throws {
        try await ServerHarness.with { _, client async throws in
            let api = APIClient(client)
            #expect(try await api.signIn("*", password: ServerHarness.password("alice")).status == .unauthorized)
            #expect(try await api.signIn("alice)(uid=*", password: ServerHarness.password("alice")).status == .unauthorized)
        }
    }

    @Test("failures are limited per login: after the limit even the right password waits for the window")
    func rateLimit() async throws {
        try await ServerHarness.with { harness, client async throws in
            let api = APIClient(client)
            for _ in 0..<3 { #expect(try await api.signIn("carol", password: "guess").status == .unauthorized) }
            let limited = try await api.signIn("carol")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            harness.access.clock.advance(by: 301)
            #expect(try await api.signIn("carol").status == .ok)
        }
    }

    @Test("the session id changes at sign-in and the old one stops working; sign-out ends the session")
    func sessionRotation() async throws {
        try await ServerHarness.with { _, client async throws in
            let api = APIClient(client)
            let before = try await api.send(.get, "/api/v1/session")
            #expect(before.status == .ok)
            let anonymousCookie = try #require(api.cookie)
            try await api.signIn("alice")
            let signedInCookie = try #require(api.cookie)
            #expect(signedInCookie != anonymousCookie)

            let stale = APIClient(client)
            stale.cookie = anonymousCookie
            #expect(try await stale.send(.get, "/api/v1/me").status == .unauthorized)

            #expect(try await api.send(.delete, "/api/v1/session").status == .noContent)
            let replay = APIClient(client)
            replay.cookie = signedInCookie
            #expect(try await replay.send(.get, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test("sessions expire when idle and after the absolute timeout, and survive a new router over the same store")
    func sessionTimeouts() async throws {
        try await ServerHarness.with { harness, client async throws in
            let api = APIClient(client)
            try await api.signIn("alice")
            harness.access.clock.advance(by: 29 * 60)
            #expect(try await api.send(.get, "/api/v1/me").status == .ok, "29 minutes idle is within the 30-minute default")
            harness.access.clock.advance(by: 31 * 60)
            #expect(try await api.send(.get, "/api/v1/me").status == .unauthorized, "31 minutes idle is not")

            try await api.signIn("alice")
            let restarted = try await Application(router: try buildRouter(harness.services)).test(.router) { other in
                let copy = APIClient(other)
                copy.cookie = api.cookie
                return try await copy.send(.get, "/api/v1/me").status
            }
            #expect(restarted == .ok)
            for _ in 0..<25 {
                harness.access.clock.advance(by: 29 * 60)
                _ = try await api.send(.get, "/api/v1/me")
            }
            #expect(try await api.send(.get, "/api/v1/me").status == .unauthorized, "past the 12-hour absolute timeout")
        }
    }

    @Test("a state-changing request with the session cookie needs the session's CSRF token")
    func csrf() async throws {
        try await ServerHarness.with { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner")
            let api = APIClient(client)
            try await api.signIn("alice")
            let body = #"{"items":[{"scope":"/subscriptions/prod/resourceGroups/web","role":"owner"}],"duration":"1h","justification":"incident 7","dryRun":true}"#
            let missing = try await api.send(.post, "/api/v1/activations", json: body, csrf: false)
            #expect(missing.status == .forbidden)
            let token = api.csrf
            api.csrf = "forged"
            #expect(try await api.send(.post, "/api/v1/activations", json: body).status == .forbidden)
            api.csrf = token
            #expect(try await api.send(.post, "/api/v1/activations", json: body).status == .ok)
        }
    }

    @Test("personal access tokens: shown once, stored hashed, usable as Bearer, revocable, expiring, unable to mint tokens")
    func tokens() async throws {
        try await ServerHarness.with { harness, client async throws in
            let browser = APIClient(client)
            try await browser.signIn("alice")
            let created = try await browser.send(.post, "/api/v1/tokens", json: #"{"name":"laptop cli","lifetime":"2h"}"#)
            #expect(created.status == .created)
            let secret = try #require(try browser.json(created)["secret"] as? String)
            #expect(secret.hasPrefix("dbt_"))
            let id = try #require((try browser.json(created)["token"] as? [String: Any])?["id"] as? String)

            let listed = try await browser.send(.get, "/api/v1/tokens")
            #expect(!listed.text.contains(secret))
            let database = try String(contentsOfFile: harness.access.configuration.store.sqlitePath, encoding: .isoLatin1)
            #expect(!database.contains(secret))

            let automation = APIClient(client)
            automation.bearer = secret
            let me = try await automation.send(.get, "/api/v1/me")
            #expect(me.status == .ok)
            #expect(try automation.json(me)["login"] as? String == "alice")
            #expect(try await automation.send(.post, "/api/v1/tokens", json: #"{"name":"more","lifetime":"1d"}"#).status == .forbidden)
            // The pages take no tokens: the token's holder meets the sign-in page, not the forms that mint tokens or enroll MFA.
            for (method, path) in [(HTTPRequest.Method.get, "/tokens"), (.post, "/tokens"), (.post, "/mfa/enroll"), (.post, "/mfa/confirm")] {
                let page = try await automation.send(method, path, headers: [.contentType: "application/x-www-form-urlencoded"])
                #expect(page.status == .seeOther && page.headers[.location] == "/signin", "\(method) \(path): \(page.status)")
            }
            #expect(try await harness.access.store.tokens(userID: try #require(try await harness.access.store.user(login: "alice")).record.id).count == 1)
            #expect(try await harness.access.store.mfaEnrollment(userID: try #require(try await harness.access.store.user(login: "alice")).record.id) == nil)

            let forged = APIClient(client)
            forged.bearer = secret + "x"
            #expect(try await forged.send(.get, "/api/v1/me").status == .unauthorized)

            #expect(try await browser.send(.delete, "/api/v1/tokens/\(id)").status == .ok)
            #expect(try await automation.send(.get, "/api/v1/me").status == .unauthorized)

            let second = try await browser.send(.post, "/api/v1/tokens", json: #"{"name":"short","lifetime":"1h"}"#)
            automation.bearer = try #require(try browser.json(second)["secret"] as? String)
            #expect(try await automation.send(.get, "/api/v1/me").status == .ok)
            harness.access.clock.advance(by: 3601)
            #expect(try await automation.send(.get, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test("a bind refused for the account (locked: 19, inactivated: 53) reads as a wrong password; a busy or unreachable server does not")
    func bindResultsThatRefuseTheAccount() {
        for code in [LDAPResultCode.invalidCredentials, .inappropriateAuthentication, .constraintViolation, .unwillingToPerform, .insufficientAccessRights] {
            #expect(DirectorySignIn.refusesTheAccount(code), "\(code)")
        }
        for code in [LDAPResultCode.busy, .unavailable, .confidentialityRequired, .strongerAuthRequired, .operationsError, .referral, .other, .serverDown, .connectError, .timeout] {
            #expect(!DirectorySignIn.refusesTheAccount(code), "\(code)")
        }
    }

    @Test("wrong passwords and wrong codes are counted apart per login, whatever the login looks like")
    func throttleCountsPasswordsAndCodesApart() async {
        let throttle = SignInThrottle(limit: 3, window: .seconds(300), clock: ManualClock())
        for _ in 0..<3 { await throttle.recordFailure(login: "totp:alice", address: nil) }
        #expect(await throttle.retryAfter(login: "totp:alice", address: nil) != nil)
        #expect(await throttle.retryAfter(login: "alice", address: nil, guessing: .code) == nil, "another login's passwords do not block alice's codes")
        for _ in 0..<3 { await throttle.recordFailure(login: "alice", address: nil, guessing: .code) }
        #expect(await throttle.retryAfter(login: "alice", address: nil, guessing: .code) != nil)
        await throttle.recordSuccess(login: "alice")
        #expect(await throttle.retryAfter(login: "alice", address: nil, guessing: .code) != nil, "a correct password does not reset wrong codes")
        #expect(await throttle.retryAfter(login: "alice", address: nil) == nil)
    }

    @Test("errors are problem documents that never echo the password")
    func problems() async throws {
        try await ServerHarness.with { _, client async throws in
            let api = APIClient(client)
            let secret = "hunter2-very-secret"
            let failed = try await api.send(.post, "/api/v1/session", json: #"{"login":"alice","password":"\#(secret)"}"#)
            #expect(!failed.text.contains(secret))
            let malformed = try await api.send(.post, "/api/v1/session", json: #"{"login":"alice","password":"\#(secret)""#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.headers[.contentType] == "application/problem+json")
            #expect(!malformed.text.contains(secret))
        }
    }
}
