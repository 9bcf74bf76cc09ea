import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird
import HummingbirdAuth
import LDAP

/// The browser UI: server-rendered pages whose forms post, then redirect (with a message) back to a page.
/// It works without JavaScript; every form carries the session's CSRF token.
struct WebRoutes {
    let services: ServerServices
    let sessions: SessionCookies
    let pages: WebRenderer

    func registerPublic(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("/") { _, context in
            WebRoutes.redirect(context.identity == nil ? "/signin" : "/roles")
        }
        group.get("signin", use: signInPage)
        group.post("signin", use: signIn)
        group.get("signin/mfa", use: secondFactorPage)
        group.post("signin/mfa", use: secondFactor)
        group.get("static/drawbridge.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"], body: .init(byteBuffer: .init(string: try WebRenderer.stylesheet())))
        }
    }

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.post("signout") { _, context in
            context.sessions.clearSession()
            return WebRoutes.redirect("/signin")
        }
        group.get("roles", use: rolesPage)
        group.post("roles/activate", use: activate)
        group.post("activations/{id}/deactivate") { request, context in
            try await act(request, context, back: "/roles") { identity, form in
                _ = try await services.engine.deactivate(try activationID(context), by: identity.actor, source: .api, reason: form["reason"].nonBlank)
                return "Deactivated; the membership is being removed."
            }
        }
        group.post("activations/{id}/cancel") { request, context in
            try await act(request, context, back: "/requests") { identity, form in
                _ = try await services.engine.cancel(try activationID(context), by: identity.actor, source: .api, reason: form["reason"].nonBlank)
                return "Request canceled."
            }
        }
        group.post("activations/{id}/extend") { request, context in
            try await act(request, context, back: "/roles") { identity, form in
                let activation = try await services.engine.extend(
                    try activationID(context), duration: try durationField(form["duration"] ?? "", "duration"), justification: form["justification"].nonBlank,
                    mfa: try await services.mfaProof(for: identity, code: form["code"].nonBlank, clientAddress: context.clientAddress),
                    by: identity.actor, source: .api, clientAddress: context.clientAddress)
                return activation.state == .pendingApproval ? "Extension requested; it waits for approval." : "Extended until \(WebFormat.time(activation.endAt))."
            }
        }
        group.get("requests", use: requestsPage)
        group.post("approvals/{id}/approve") { request, context in try await decide(.approve, request, context) }
        group.post("approvals/{id}/deny") { request, context in try await decide(.deny, request, context) }
        group.get("mfa", use: mfaPage)
        group.post("mfa/enroll", use: beginEnrollment)
        group.post("mfa/confirm", use: confirmEnrollment)
        group.post("mfa/verify", use: stepUp)
        group.get("tokens", use: tokensPage)
        group.post("tokens", use: createToken)
        group.post("tokens/{id}/revoke") { request, context in
            try await act(request, context, back: "/tokens") { identity, _ in
                let id = try context.parameters.require("id")
                guard var token = try await services.store.tokens(userID: identity.user.id).first(where: { $0.id.rawValue == id }) else {
                    throw APIProblem.notFound("no token \(id) of yours")
                }
                guard token.revokedAt == nil else { return "Token \(token.name) was already revoked." }
                token.revokedAt = services.clock.now()
                try await services.store.update(token)
                try await services.audit(AuditEvent(action: "token.revoked", actor: identity.actor, source: .api, subjectID: id, userLogin: identity.user.login, details: ["name": token.name]))
                return "Token \(token.name) revoked."
            }
        }
    }

    // MARK: Sign-in

    @Sendable func signInPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        if context.identity != nil { return Self.redirect("/roles") }
        let session = ensureSession(context)
        return try pages.render("signin", SignInPage(frame: frame(context, session: session, title: "Sign in", section: ""), login: "", secondFactor: false))
    }

    @Sendable func signIn(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let form = try await FormFields.of(request, context)
        do {
            let session = try await services.signIn(login: form["login"] ?? "", password: LDAPPassword(form["password"] ?? ""), from: context.clientAddress)
            try await sessions.rotate(request, context, to: session)
            return Self.redirect(session.awaitingSecondFactor ? "/signin/mfa" : "/roles")
        } catch let problem as APIProblem {
            flash(context, error: problem.detail ?? problem.title)
            return Self.redirect("/signin")
        }
    }

    @Sendable func secondFactorPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        guard let session = context.sessions.session, session.awaitingSecondFactor else { return Self.redirect("/signin") }
        return try pages.render("signin", SignInPage(frame: frame(context, session: session, title: "Second factor", section: ""), login: "", secondFactor: true))
    }

    @Sendable func secondFactor(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let form = try await FormFields.of(request, context)
        guard var session = context.sessions.session, let userID = session.userID, session.awaitingSecondFactor else { return Self.redirect("/signin") }
        do {
            try await services.verifySecondFactor(userID: userID, code: form["code"] ?? "", from: context.clientAddress, purpose: "sign-in")
        } catch let problem as APIProblem {
            flash(context, error: problem.detail ?? problem.title)
            return Self.redirect("/signin/mfa")
        }
        session.awaitingSecondFactor = false
        session.mfaVerifiedAt = services.clock.now()
        session.csrfToken = WebSession.newCSRFToken()
        try await sessions.rotate(request, context, to: session)
        return Self.redirect("/roles")
    }

    // MARK: My roles

    @Sendable func rolesPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let now = services.clock.now()
        let eligible = try await services.eligibleRoles(of: identity.user.id)
        let live = try await services.read { transaction in
            try await transaction.activations(ActivationQuery(userID: identity.user.id, states: [.active, .scheduled, .approved]))
        }
        var scopes: [RolesPage.Scope] = []
        for (index, role) in eligible.enumerated() {
            let row = RolesPage.Role(
                scope: role.scope.description, role: role.role.rawValue, group: role.groupName,
                via: role.via.map { $0.principal.kind == "group" ? "group \($0.principal.name)" : "you" }.joined(separator: ", "),
                maxDuration: AccessRules.format(role.policy.maxActivationSeconds),
                requirements: Self.requirements(role.policy), needsJustification: role.policy.requireJustification, needsTicket: role.policy.requireTicket,
                needsMFA: role.policy.requireMFA, needsApproval: role.policy.requireApproval,
                activation: role.activation.map { WebFormat.row($0, now: now) }, formID: "role-\(index)")
            if scopes.last?.path == row.scope { scopes[scopes.count - 1].roles.append(row) } else { scopes.append(.init(path: row.scope, roles: [row])) }
        }
        let page = RolesPage(
            frame: frame(context, title: "My roles", section: "roles"), scopes: scopes,
            active: live.sorted { $0.endAt < $1.endAt }.map { WebFormat.row($0, now: now) }, hasEligible: !eligible.isEmpty,
            mfaFresh: try await services.mfaProof(for: identity, code: nil, clientAddress: nil) != nil,
            mfaEnrolled: try await services.hasSecondFactor(identity.user.id))
        return try pages.render("roles", page)
    }

    @Sendable func activate(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try await act(request, context, back: "/roles") { identity, form in
            guard let scope = try? ScopePath(form["scope"] ?? ""), let role = RoleName(rawValue: form["role"] ?? "") else {
                throw APIProblem.badRequest("choose a role to activate")
            }
            var start: Date?
            if let text = form["start"].nonBlank {
                // <input type="datetime-local"> sends minutes without a zone; the form says it is UTC.
                guard let parsed = try? Date(text + (text.count == 16 ? ":00Z" : "Z"), strategy: .iso8601) else {
                    throw APIProblem.badRequest("the start '\(text)' is not a date and time")
                }
                start = parsed
            }
            let mfa = try await services.mfaProof(for: identity, code: form["code"].nonBlank, clientAddress: context.clientAddress)
            let outcomes = try await services.engine.activate(
                ActivationRequest(
                    userLogin: identity.user.login, items: [.init(scope: scope, role: role)], duration: try durationField(form["duration"] ?? "", "duration"),
                    startAt: start, justification: form["justification"].nonBlank, ticket: form["ticket"].nonBlank, mfa: mfa,
                    clientAddress: context.clientAddress),
                by: identity.actor, source: .api)
            guard let outcome = outcomes.first, let activation = outcome.activation else {
                throw ActionRefused(outcomes.flatMap(\.decision.refusals))
            }
            switch activation.state {
            case .pendingApproval: return "Requested \(role) at \(scope); it waits for approval."
            case .scheduled: return "Scheduled \(role) at \(scope) from \(WebFormat.time(activation.startAt))."
            default: return "Activated \(role) at \(scope) until \(WebFormat.time(activation.endAt)); the membership is being added."
            }
        }
    }

    static func requirements(_ policy: PolicySummary) -> String {
        var parts: [String] = []
        if policy.requireJustification { parts.append("justification") }
        if policy.requireTicket { parts.append("ticket") }
        if policy.requireMFA { parts.append("MFA") }
        if policy.requireApproval { parts.append("approval") }
        return parts.isEmpty ? "nothing else" : parts.joined(separator: ", ")
    }

    // MARK: Requests and approvals

    @Sendable func requestsPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let now = services.clock.now()
        let mine = try await services.read { transaction in
            try await transaction.activations(ActivationQuery(userID: identity.user.id)).sorted { $0.requestedAt > $1.requestedAt }.prefix(100)
        }
        let queue = try await services.approvalQueue(for: identity.user.id)
        return try pages.render("requests", RequestsPage(
            frame: frame(context, title: "Requests", section: "requests"), mine: mine.map { WebFormat.row($0, now: now) },
            queue: queue.map { WebFormat.row($0, now: now) }, isApprover: !queue.isEmpty))
    }

    func decide(_ verdict: ApprovalDecision.Verdict, _ request: Request, _ context: DrawbridgeRequestContext) async throws -> Response {
        try await act(request, context, back: "/requests") { identity, form in
            let activation = try await services.engine.decide(
                try activationID(context), verdict, approverLogin: identity.user.login, reason: form["reason"].nonBlank, clientAddress: context.clientAddress,
                source: .api)
            return verdict == .deny ? "Denied \(activation.userLogin)'s request." : "Approved \(activation.userLogin)'s request (\(activation.state.rawValue))."
        }
    }

    // MARK: MFA

    @Sendable func mfaPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        return try pages.render("mfa", MFAPage(
            frame: frame(context, title: "Two-factor authentication", section: "mfa"),
            enrolled: try await services.hasSecondFactor(identity.user.id), available: services.totp != nil, secret: nil, uri: nil, qrSVG: nil,
            recoveryCodes: [], verifiedAt: identity.mfaVerifiedAt.map(WebFormat.time)))
    }

    /// Renders the QR code directly (no redirect): the secret must not pass through the session store.
    @Sendable func beginEnrollment(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        do {
            let enrollment = try await services.requireTOTP().begin(for: identity.user, at: services.clock.now())
            return try pages.render("mfa", MFAPage(
                frame: frame(context, title: "Two-factor authentication", section: "mfa"), enrolled: false, available: true, secret: enrollment.secret,
                uri: enrollment.uri, qrSVG: try QRCode.svg(enrollment.uri), recoveryCodes: [], verifiedAt: nil))
        } catch let refused as ActionRefused {
            flash(context, error: refused.refusals.map(\.message).joined(separator: "; "))
            return Self.redirect("/mfa")
        }
    }

    @Sendable func confirmEnrollment(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormFields.of(request, context)
        let now = services.clock.now()
        do {
            let codes = try await services.requireTOTP().confirm(for: identity.user, code: form["code"] ?? "", at: now)
            try await services.audit(AuditEvent(action: "mfa.enrolled", actor: identity.actor, source: .api, userLogin: identity.user.login, details: ["method": "totp"]))
            try await markVerified(request, context, at: now)
            return try pages.render("mfa", MFAPage(
                frame: frame(context, title: "Two-factor authentication", section: "mfa"), enrolled: true, available: true, secret: nil, uri: nil,
                qrSVG: nil, recoveryCodes: codes, verifiedAt: WebFormat.time(now)))
        } catch let refused as ActionRefused {
            flash(context, error: refused.refusals.map(\.message).joined(separator: "; ") + " Start again.")
            return Self.redirect("/mfa")
        }
    }

    @Sendable func stepUp(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try await act(request, context, back: "/roles") { identity, form in
            try await services.verifySecondFactor(userID: identity.user.id, code: form["code"] ?? "", from: context.clientAddress, purpose: "step-up")
            try await markVerified(request, context, at: services.clock.now())
            return "Verified; roles that require MFA can be activated for the next \(services.configuration.server.mfaStepUpMaxAge.components.seconds / 60) minutes."
        }
    }

    private func markVerified(_ request: Request, _ context: DrawbridgeRequestContext, at time: Date) async throws {
        guard var session = context.sessions.session else { return }
        session.mfaVerifiedAt = time
        try await sessions.rotate(request, context, to: session)
    }

    // MARK: Tokens

    @Sendable func tokensPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try pages.render("tokens", try await tokens(context, newSecret: nil))
    }

    /// Renders the new secret directly (no redirect), so it is never stored anywhere but the browser.
    @Sendable func createToken(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormFields.of(request, context)
        do {
            let created = try await services.createToken(
                for: identity.user.id, name: form["name"] ?? "", lifetime: try durationField(form["lifetime"] ?? "", "lifetime"))
            return try pages.render("tokens", try await tokens(context, newSecret: created.secret))
        } catch let refused as ActionRefused {
            flash(context, error: refused.refusals.map(\.message).joined(separator: "; "))
        } catch let problem as APIProblem {
            flash(context, error: problem.detail ?? problem.title)
        }
        return Self.redirect("/tokens")
    }

    private func tokens(_ context: DrawbridgeRequestContext, newSecret: String?) async throws -> TokensPage {
        let identity = try context.requireIdentity()
        let now = services.clock.now()
        let tokens = try await services.store.tokens(userID: identity.user.id).map { token in
            TokensPage.Token(
                id: token.id.rawValue, name: token.name, created: WebFormat.time(token.createdAt), expires: WebFormat.time(token.expiresAt),
                lastUsed: WebFormat.time(token.lastUsedAt),
                status: token.revokedAt != nil ? "revoked" : token.expiresAt <= now ? "expired" : "active", usable: token.isUsable(at: now))
        }
        return TokensPage(frame: frame(context, title: "Access tokens", section: "tokens"), tokens: tokens, newSecret: newSecret)
    }

    // MARK: Helpers

    /// Runs a form action, then redirects to `back` with its message, or with every reason it was refused.
    func act(
        _ request: Request, _ context: DrawbridgeRequestContext, back: String,
        _ body: (SignedInUser, FormFields) async throws -> String
    ) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormFields.of(request, context)
        do {
            flash(context, notice: try await body(identity, form))
        } catch let refused as ActionRefused {
            flash(context, error: refused.refusals.map(\.message).joined(separator: "; "))
        } catch let problem as APIProblem {
            flash(context, error: problem.refusals.isEmpty ? (problem.detail ?? problem.title) : problem.refusals.map(\.message).joined(separator: "; "))
        }
        return Self.redirect(form["back"].flatMap(Self.localPath) ?? back)
    }

    func frame(_ context: DrawbridgeRequestContext, session: WebSession? = nil, title: String, section: String) -> PageFrame {
        var messages: [WebSession.Flash] = []
        context.sessions.withLockedSession { data in
            if let flash = data?.flash, !flash.isEmpty {
                messages = flash
                data?.flash = nil
            }
        }
        let current = session ?? context.sessions.session
        return PageFrame(
            title: title, login: context.identity?.user.login,
            administrator: context.identity?.isAdministrator ?? false, csrf: current?.csrfToken ?? "",
            notices: messages.filter { !$0.error }.map(\.text), errors: messages.filter(\.error).map(\.text), section: section)
    }

    private func ensureSession(_ context: DrawbridgeRequestContext) -> WebSession {
        if let session = context.sessions.session { return session }
        let fresh = WebSession(createdAt: services.clock.now())
        context.sessions.createSession(fresh, expiresIn: services.configuration.server.sessionIdleTimeout)
        return fresh
    }

    func flash(_ context: DrawbridgeRequestContext, notice: String? = nil, error: String? = nil) {
        context.sessions.withLockedSession { data in
            guard data != nil else { return }
            var messages = data?.flash ?? []
            if let notice { messages.append(.init(error: false, text: notice)) }
            if let error { messages.append(.init(error: true, text: error)) }
            data?.flash = messages
        }
    }

    /// A path on this server, never anything a browser could read as another host (`//x`, `/\\x`, control characters).
    static func localPath(_ text: String) -> String? {
        guard text.hasPrefix("/"), !text.hasPrefix("//"),
            text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7f && $0 != "\\" })
        else { return nil }
        return text
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

extension FormFields {
    /// The request's form body (already buffered by the CSRF check).
    static func of(_ request: Request, _ context: DrawbridgeRequestContext) async throws -> FormFields {
        var request = request
        return FormFields(String(buffer: try await request.collectBody(upTo: context.maxUploadSize)))
    }
}

extension Optional where Wrapped == String {
    /// nil for absent and blank form fields alike.
    var nonBlank: String? {
        guard let self, !self.allSatisfy(\.isWhitespace) else { return nil }
        return self
    }
}
