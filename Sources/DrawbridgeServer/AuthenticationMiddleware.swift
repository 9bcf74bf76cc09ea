import Crypto
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdAuth

/// Establishes who is calling: a personal access token in `Authorization: Bearer`, else a signed-in session.
/// A bearer header that does not name a usable token is refused outright rather than ignored.
/// Pages do not take tokens (`acceptsTokens: false`): a token is for the API, and its holder must not reach the
/// pages that mint tokens or enroll an authenticator, which the API keeps for sessions.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = DrawbridgeRequestContext

    let services: ServerServices
    var acceptsTokens = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let now = services.clock.now()
        if acceptsTokens, let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer "), let token = try await services.tokenUser(secret: String(authorization.dropFirst(7)), at: now) else {
                throw APIProblem(.unauthorized, "Invalid token", detail: "the bearer token is unknown, expired or revoked")
            }
            context.identity = token
            return try await next(request, context)
        }
        if let session = context.sessions.session, let userID = session.userID, !session.awaitingSecondFactor {
            let configuration = services.configuration.server
            if now.timeIntervalSince(session.createdAt) >= TimeInterval(configuration.sessionAbsoluteTimeout.components.seconds) {
                context.sessions.clearSession()
            } else if let user = try await services.signedInUser(id: userID, method: .session, mfaVerifiedAt: session.mfaVerifiedAt) {
                context.identity = user
                // Sliding idle timeout, written back only when a minute of it has been used.
                context.sessions.withLockedSession { data in
                    let idle = configuration.sessionIdleTimeout
                    if let remaining = data?.expiresIn, remaining < idle - .seconds(60) { data?.expiresIn = idle }
                }
            } else {
                context.sessions.clearSession()
            }
        }
        return try await next(request, context)
    }
}

/// Lets a request through only when someone is signed in, and, with `administrator`, only an administrator.
struct RequireSignIn: RouterMiddleware {
    typealias Context = DrawbridgeRequestContext

    var administrator = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { throw APIProblem.unauthorized() }
        if administrator && !identity.isAdministrator {
            throw APIProblem.forbidden("\(identity.user.login) is not a Drawbridge administrator")
        }
        return try await next(request, context)
    }
}

/// State-changing requests made with the session cookie must carry the session's CSRF token, in the
/// `X-CSRF-Token` header or the `_csrf` form field. Token-authenticated requests carry no cookie and are exempt.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = DrawbridgeRequestContext

    static let formField = "_csrf"

    /// A JSON sign-in needs no token: browsers cannot send `application/json` cross-site without a CORS preflight,
    /// which this server never grants. Form sign-ins still need one (login CSRF).
    var exemptJSONSignIn = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if [.get, .head, .options].contains(request.method) { return try await next(request, context) }
        if case .token = context.identity?.method { return try await next(request, context) }
        if exemptJSONSignIn, context.identity == nil, request.headers[.contentType]?.hasPrefix("application/json") == true {
            return try await next(request, context)
        }
        guard let expected = context.sessions.session?.csrfToken else {
            throw APIProblem.forbidden("this form has expired; reload the page and try again")
        }
        var request = request
        var presented = request.headers[.csrfToken]
        if presented == nil, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            presented = FormFields(String(buffer: body))[Self.formField]
        }
        guard let presented, Self.equal(presented, expected) else {
            throw APIProblem.forbidden("the request lacks this session's CSRF token; reload the page and try again")
        }
        return try await next(request, context)
    }

    /// Constant-time comparison, so the token cannot be guessed byte by byte from response times.
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension HTTPField.Name {
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// Decoded `application/x-www-form-urlencoded` fields; a repeated name keeps every value.
struct FormFields {
    private(set) var values: [String: [String]] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            values[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    subscript(name: String) -> String? { values[name]?.first }

    func all(_ name: String) -> [String] { values[name] ?? [] }
}

/// The client's address: the socket peer, or, when the peer is a configured trusted proxy, the nearest
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = DrawbridgeRequestContext

    let trustedProxies: [IPNetwork]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientAddress = Self.clientAddress(peer: context.remoteAddress?.ipAddress.flatMap(IPAddress.init), forwardedFor: request.headers[values: .forwardedFor], trustedProxies: trustedProxies)
        return try await next(request, context)
    }

    /// nil when a trusted proxy forwarded the request without a readable client address: a proxy's own address
    /// must never stand in for the client's (it is often inside the networks a policy allows).
    static func clientAddress(peer: IPAddress?, forwardedFor: [String], trustedProxies: [IPNetwork]) -> IPAddress? {
        guard var address = peer else { return nil }
        var hops = Array(forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.reversed())
        while trustedProxies.contains(where: { $0.contains(address) }) {
            guard !hops.isEmpty, let forwarded = IPAddress(hops.removeFirst()) else { return nil }
            address = forwarded
        }
        return address
    }
}
