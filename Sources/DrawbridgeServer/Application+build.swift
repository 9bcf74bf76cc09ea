import DrawbridgeCore
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdTLS
import Logging
import NIOSSL

/// The HTTP application: API, health and documentation routes over the given services. Tests build it too.
public func buildApplication(_ services: ServerServices) throws -> some ApplicationProtocol {
    let configuration = services.configuration.server
    let router = try buildRouter(services)
    let address = BindAddress.hostname(configuration.host, port: configuration.port)
    if let tls = configuration.tls {
        let certificates = try NIOSSLCertificate.fromPEMFile(tls.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
        let tlsConfiguration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: .privateKey(key))
        return Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tlsConfiguration),
            configuration: .init(address: address, serverName: "Drawbridge"), logger: services.logger)
    }
    return Application(router: router, configuration: .init(address: address, serverName: "Drawbridge"), logger: services.logger)
}

/// The routes and middleware; `buildApplication` serves them.
public func buildRouter(_ services: ServerServices) throws -> Router<DrawbridgeRequestContext> {
    let configuration = services.configuration.server
    let driver = StoredSessionDriver(store: services.store, clock: services.clock)
    let cookies = SessionCookies(secure: configuration.secureCookies, driver: driver, idleTimeout: configuration.sessionIdleTimeout)
    let router = Router(context: DrawbridgeRequestContext.self)
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))

    HealthRoutes(services: services).register(on: router.group())

    let sessions = router.group()
        .add(middleware: SessionMiddleware(
            storage: driver,
            configuration: .init(
                sessionCookieParameters: cookies.parameters, keyPrefix: SessionCookies.keyPrefix,
                defaultSessionExpiration: configuration.sessionIdleTimeout)))

    let api = sessions.group("api/v1").add(middleware: AuthenticationMiddleware(services: services))
    let account = AccountRoutes(services: services, sessions: cookies)
    account.registerPublic(on: api.group().add(middleware: CSRFMiddleware(exemptJSONSignIn: true)))

    let signedIn = api.group().add(middleware: RequireSignIn()).add(middleware: CSRFMiddleware())
    account.register(on: signedIn)
    SelfServiceRoutes(services: services).register(on: signedIn)
    ReviewerRoutes(services: services).register(on: signedIn)
    let administration = signedIn.group("admin").add(middleware: RequireSignIn(administrator: true))
    AdminRoutes(services: services).register(on: administration)
    GovernanceAdminRoutes(services: services).register(on: administration)

    let pages = try WebRenderer()
    let web = WebRoutes(services: services, sessions: cookies, pages: pages)
    let browser = sessions.group().add(middleware: AuthenticationMiddleware(services: services, acceptsTokens: false))
    web.registerPublic(on: browser.group().add(middleware: WebPageMiddleware(pages: pages, requireSignIn: false)).add(middleware: CSRFMiddleware()))
    let signedInPages = browser.group().add(middleware: WebPageMiddleware(pages: pages)).add(middleware: CSRFMiddleware())
    web.register(on: signedInPages)
    let governance = WebGovernanceRoutes(web: web)
    governance.registerReviewer(on: signedInPages)
    let administratorPages = signedInPages.group().add(middleware: WebPageMiddleware(pages: pages, administrator: true))
    WebAdminRoutes(web: web).register(on: administratorPages)
    governance.registerAdministrator(on: administratorPages)
    return router
}
