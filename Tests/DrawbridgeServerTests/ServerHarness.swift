import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A real slapd with people who have passwords, a synced store, and the server's router over them.
// The test's own task and the test client's task use it in turn, never at once.
struct ServerHarness: @unchecked Sendable {
    let access: AccessHarness
    let services: ServerServices

    /// 32 bytes of key material for sealing TOTP secrets, as base64.
    static let mfaKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()

    static let serverYAML = """
        server:
          administratorGroups: [drawbridge-admins]
          mfa: { keyEnv: SERVER_TEST_MFA_KEY, stepUpMaxAge: 10m }
          signIn: { failureLimit: 3, window: 5m }
        """

    /// People `alice`, `bob`, `carol` and the administrator `dana`; `pim-prod-web-owner` is a managed group.
    static var ldif: [String] {
        ["alice", "bob", "carol", "dana"].map(person) + [
            Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("carol")]),
            Fixtures.group("drawbridge-admins", members: [Fixtures.userDN("dana")]),
        ]
    }

    static func person(_ uid: String) -> String { Fixtures.user(uid) + "userPassword: \(password(uid))\nmail: \(uid)@example.org\n" }

    static func password(_ uid: String) -> String { "correct horse \(uid) battery ✓" }

    /// `live` serves on a loopback port (real client addresses) instead of calling the router directly.
    static func with<T: Sendable>(
        ldif: [String] = ldif, extraServerYAML: String = "", live: Bool = false, clock: ManualClock = ManualClock(),
        _ body: @escaping @Sendable (ServerHarness, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await AccessHarness.with(
            ldif: ldif, configYAML: AccessHarness.mappingRules + "\n" + serverYAML + "\n" + extraServerYAML, environment: ["SERVER_TEST_MFA_KEY": mfaKey],
            clock: clock
        ) { access in
            let services = ServerServices(configuration: access.configuration, store: access.store, pool: access.pool, clock: access.clock)
            let harness = ServerHarness(access: access, services: services)
            let application = Application(router: try buildRouter(services))
            return try await application.test(live ? .live : .router) { client in try await body(harness, client) }
        }
    }
}

/// A browser's view of the API: the session cookie and CSRF token it holds.
final class APIClient: @unchecked Sendable {
    // Used by one test task at a time.
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?
    var bearer: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, json: String? = nil, csrf sendCSRF: Bool = true, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let cookie { headers[.cookie] = "drawbridge_session=\(cookie)" }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if sendCSRF, let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        if json != nil { headers[.contentType] = "application/json" }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        for value in response.headers[values: .setCookie] where value.hasPrefix("drawbridge_session=") {
            cookie = String(value.dropFirst("drawbridge_session=".count).prefix { $0 != ";" })
        }
        return response
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    /// Signs in with the password and, when the account has TOTP, the code; keeps the session's CSRF token.
    @discardableResult
    func signIn(_ login: String, password: String? = nil) async throws -> TestResponse {
        let body = try String(decoding: JSONSerialization.data(withJSONObject: ["login": login, "password": password ?? ServerHarness.password(login)]), as: UTF8.self)
        let response = try await send(.post, "/api/v1/session", json: body)
        if response.status == .ok { csrf = try json(response)["csrfToken"] as? String }
        return response
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

/// The key text HummingbirdOTP's `TOTP(secret:)` takes, from the base32 secret an authenticator app is given.
func totpKey(base32 text: String) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var bits = 0
    var value = 0
    var bytes: [UInt8] = []
    for character in text.uppercased() where character != "=" {
        guard let index = alphabet.firstIndex(of: character) else { continue }
        value = (value << 5) | index
        bits += 5
        if bits >= 8 {
            bytes.append(UInt8((value >> (bits - 8)) & 0xff))
            bits -= 8
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
