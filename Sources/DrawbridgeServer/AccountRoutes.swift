import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird
import HummingbirdAuth
import LDAP

/// `/api/v1/session`, `/api/v1/mfa` and `/api/v1/tokens`: signing in and out, TOTP, personal access tokens.
struct AccountRoutes {
    let services: ServerServices
    let sessions: SessionCookies

    func registerPublic(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("session", use: session)
        group.post("session", use: signIn)
        group.post("session/mfa", use: secondFactor)
        group.delete("session", use: signOut)
    }

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.post("mfa/enrollment", use: beginEnrollment)
        group.post("mfa/enrollment/confirm", use: confirmEnrollment)
        group.post("mfa/verify", use: stepUp)
        group.get("tokens", use: tokens)
        group.post("tokens", use: createToken)
        group.delete("tokens/{id}", use: revokeToken)
    }

    // MARK: Session

    /// The current session, created empty when there is none, so a client can read its CSRF token.
    @Sendable func session(_ request: Request, context: DrawbridgeRequestContext) async throws -> SessionView {
        let session = context.sessions.session ?? {
            let fresh = WebSession(createdAt: services.clock.now())
            context.sessions.createSession(fresh, expiresIn: services.configuration.server.sessionIdleTimeout)
            return fresh
        }()
        return SessionView(login: context.identity?.user.login, awaitingSecondFactor: session.awaitingSecondFactor, csrfToken: session.csrfToken)
    }

    @Sendable func signIn(_ request: Request, context: DrawbridgeRequestContext) async throws -> SessionView {
        let body = try await request.decode(as: SignInBody.self, context: context)
        let session = try await services.signIn(login: body.login, password: LDAPPassword(body.password), from: context.clientAddress)
        try await sessions.rotate(request, context, to: session)
        return SessionView(login: body.login, awaitingSecondFactor: session.awaitingSecondFactor, csrfToken: session.csrfToken)
    }

    @Sendable func secondFactor(_ request: Request, context: DrawbridgeRequestContext) async throws -> SessionView {
        let body = try await request.decode(as: CodeBody.self, context: context)
        guard var session = context.sessions.session, let userID = session.userID, session.awaitingSecondFactor else {
            throw APIProblem(.conflict, "No sign-in in progress", detail: "sign in with login and password first")
        }
        try await services.verifySecondFactor(userID: userID, code: body.code, from: context.clientAddress, purpose: "sign-in")
        session.awaitingSecondFactor = false
        session.mfaVerifiedAt = services.clock.now()
        session.csrfToken = WebSession.newCSRFToken()
        try await sessions.rotate(request, context, to: session)
        return SessionView(login: try await services.store.user(id: userID)?.record.login, awaitingSecondFactor: false, csrfToken: session.csrfToken)
    }

    @Sendable func signOut(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        context.sessions.clearSession()
        return Response(status: .noContent)
    }

    // MARK: MFA

    @Sendable func beginEnrollment(_ request: Request, context: DrawbridgeRequestContext) async throws -> EnrollmentView {
        let identity = try requireSession(context)
        let enrollment = try await services.requireTOTP().begin(for: identity.user, at: services.clock.now())
        return EnrollmentView(secret: enrollment.secret, otpauthURI: enrollment.uri, qrSVG: try QRCode.svg(enrollment.uri))
    }

    @Sendable func confirmEnrollment(_ request: Request, context: DrawbridgeRequestContext) async throws -> RecoveryCodes {
        let identity = try requireSession(context)
        let body = try await request.decode(as: CodeBody.self, context: context)
        let now = services.clock.now()
        let codes = try await services.requireTOTP().confirm(for: identity.user, code: body.code, at: now)
        try await services.audit(AuditEvent(action: "mfa.enrolled", actor: identity.actor, source: .api, userLogin: identity.user.login, details: ["method": "totp"]))
        try await markVerified(request, context, at: now)
        return RecoveryCodes(recoveryCodes: codes)
    }

    /// Step-up: a fresh TOTP verification for this session, which policies that require MFA accept for a while.
    @Sendable func stepUp(_ request: Request, context: DrawbridgeRequestContext) async throws -> SessionView {
        let identity = try requireSession(context)
        let body = try await request.decode(as: CodeBody.self, context: context)
        try await services.verifySecondFactor(userID: identity.user.id, code: body.code, from: context.clientAddress, purpose: "step-up")
        let session = try await markVerified(request, context, at: services.clock.now())
        return SessionView(login: identity.user.login, awaitingSecondFactor: false, csrfToken: session.csrfToken)
    }

    /// Records the verification in a new session id (the old one stops working); the CSRF token stays, as the
    /// same person holds the session.
    @discardableResult
    private func markVerified(_ request: Request, _ context: DrawbridgeRequestContext, at time: Date) async throws -> WebSession {
        guard var session = context.sessions.session else { throw APIProblem.unauthorized() }
        session.mfaVerifiedAt = time
        try await sessions.rotate(request, context, to: session)
        return session
    }

    // MARK: Tokens

    @Sendable func tokens(_ request: Request, context: DrawbridgeRequestContext) async throws -> TokenList {
        TokenList(tokens: try await services.store.tokens(userID: try context.requireIdentity().user.id).map(TokenView.init))
    }

    /// Only from a signed-in browser session: a token must not be able to mint more tokens.
    @Sendable func createToken(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try requireSession(context)
        let body = try await request.decode(as: CreateTokenBody.self, context: context)
        let created = try await services.createToken(for: identity.user.id, name: body.name, lifetime: try durationField(body.lifetime, "lifetime"))
        return try CreatedToken(token: TokenView(created.token), secret: created.secret).response(from: request, context: context).withStatus(.created)
    }

    @Sendable func revokeToken(_ request: Request, context: DrawbridgeRequestContext) async throws -> TokenView {
        let identity = try context.requireIdentity()
        let id = try context.parameters.require("id")
        guard var token = try await services.store.tokens(userID: identity.user.id).first(where: { $0.id.rawValue == id }) else {
            throw APIProblem.notFound("no token \(id) of yours")
        }
        if token.revokedAt == nil {
            token.revokedAt = services.clock.now()
            try await services.store.update(token)
            try await services.audit(AuditEvent(
                action: "token.revoked", actor: identity.actor, source: .api, subjectID: token.id.rawValue, userLogin: identity.user.login,
                details: ["name": token.name]))
        }
        return TokenView(token)
    }

    private func requireSession(_ context: DrawbridgeRequestContext) throws -> SignedInUser {
        let identity = try context.requireIdentity()
        guard identity.method == .session else {
            throw APIProblem.forbidden("this needs a signed-in browser session, not a personal access token")
        }
        return identity
    }
}

/// The session cookie's settings, and replacing a session under a new id.
struct SessionCookies: Sendable {
    static let keyPrefix = "hbs."
    let parameters: SessionCookieParameters
    let driver: StoredSessionDriver
    let idleTimeout: Duration

    init(secure: Bool, driver: StoredSessionDriver, idleTimeout: Duration) {
        parameters = SessionCookieParameters(name: "drawbridge_session", path: "/", secure: secure, sameSite: .lax)
        self.driver = driver
        self.idleTimeout = idleTimeout
    }

    /// Stores `session` under a new id and deletes the old one, so an id seen before sign-in or step-up is worthless after.
    func rotate(_ request: Request, _ context: DrawbridgeRequestContext, to session: WebSession) async throws {
        if let old = request.cookies[parameters.name]?.value { try await driver.remove(key: Self.keyPrefix + old) }
        context.sessions.createSession(session, expiresIn: idleTimeout)
    }
}
