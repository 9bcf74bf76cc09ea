import DrawbridgeCore
import Foundation
import Hummingbird
import Mustache

/// The page templates (Resources/templates/*.mustache), parsed once at start-up.
struct WebRenderer: Sendable {
    struct MissingTemplate: Error, CustomStringConvertible {
        let name: String
        var description: String { "no template named \(name)" }
    }

    private let library: MustacheLibrary

    init() throws {
        guard let folder = Bundle.module.url(forResource: "templates", withExtension: nil, subdirectory: "Resources") else {
            throw MissingTemplate(name: "templates folder")
        }
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) where file.pathExtension == "mustache" {
            try library.register(String(contentsOf: file, encoding: .utf8), named: file.deletingPathExtension().lastPathComponent)
        }
        self.library = library
    }

    func render(_ template: String, _ page: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        guard let html = library.render(page, withTemplate: template) else { throw MissingTemplate(name: template) }
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentSecurityPolicy: Self.contentSecurityPolicy],
            body: .init(byteBuffer: .init(string: html)))
    }

    /// Pages load nothing from elsewhere and cannot be framed.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func stylesheet() throws -> String {
        guard let url = Bundle.module.url(forResource: "drawbridge", withExtension: "css", subdirectory: "Resources") else {
            throw MissingTemplate(name: "drawbridge.css")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// For pages: someone not signed in is sent to the sign-in page; problems become an HTML error page.
struct WebPageMiddleware: RouterMiddleware {
    typealias Context = DrawbridgeRequestContext

    let pages: WebRenderer
    var requireSignIn = true
    var administrator = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if requireSignIn && context.identity == nil { return WebRoutes.redirect("/signin") }
        do {
            if administrator, let identity = context.identity, !identity.isAdministrator {
                throw APIProblem.forbidden("\(identity.user.login) is not a Drawbridge administrator")
            }
            return try await next(request, context)
        } catch let problem as APIProblem {
            return try pages.render("error", errorPage(context, status: problem.status, message: problem.detail ?? problem.title), status: problem.status)
        } catch let refused as ActionRefused {
            let problem = APIProblem.refused(refused)
            return try pages.render("error", errorPage(context, status: problem.status, message: refused.refusals.map(\.message).joined(separator: "; ")), status: problem.status)
        }
    }

    private func errorPage(_ context: Context, status: HTTPResponse.Status, message: String) -> ErrorPage {
        ErrorPage(
            frame: PageFrame(
                title: status.reasonPhrase, login: context.identity?.user.login,
                administrator: context.identity?.isAdministrator ?? false, csrf: context.sessions.session?.csrfToken ?? "", notices: [], errors: [], section: ""),
            status: status.code, message: message)
    }
}
