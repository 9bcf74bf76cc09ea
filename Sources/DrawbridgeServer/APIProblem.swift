import DrawbridgeCore
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// An error response as RFC 9457 `application/problem+json`. `detail` is written for the person who made the
/// request and never carries secrets or internal error text.
public struct APIProblem: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String?
    /// Every reason an action was refused, with a machine-readable code.
    public var refusals: [Refusal]
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ title: String, detail: String? = nil, refusals: [Refusal] = [], retryAfter: Int? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.refusals = refusals
        self.retryAfter = retryAfter
    }

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var refusals: [Refusal]?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(type: "about:blank", title: title, status: status.code, detail: detail, refusals: refusals.isEmpty ? nil : refusals)
        let data = try APICoding.encoder.encode(body)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func unauthorized() -> APIProblem {
        APIProblem(.unauthorized, "Sign-in required", detail: "send a personal access token as 'Authorization: Bearer …' or sign in")
    }

    static func forbidden(_ detail: String) -> APIProblem { APIProblem(.forbidden, "Not allowed", detail: detail) }

    static func notFound(_ detail: String) -> APIProblem { APIProblem(.notFound, "Not found", detail: detail) }

    static func badRequest(_ detail: String) -> APIProblem { APIProblem(.badRequest, "Invalid request", detail: detail) }

    /// A refused action: 404 when the thing does not exist, 403 when the caller may not do it, else 409 for a
    /// request in the wrong state and 422 for one that breaks a rule.
    static func refused(_ error: ActionRefused) -> APIProblem {
        let codes = Set(error.refusals.map(\.code))
        let status: HTTPResponse.Status
        if codes == [.notFound] {
            status = .notFound
        } else if !codes.isDisjoint(with: [.notAllowed, .selfApproval, .notApprover, .readOnly]) {
            status = .forbidden
        } else if !codes.isDisjoint(with: [.notPending, .alreadyDecided, .invalidState, .alreadyActive, .approvalTimedOut]) {
            status = .conflict
        } else {
            status = .unprocessableContent
        }
        return APIProblem(status, "Refused", detail: error.refusals.map(\.message).joined(separator: "; "), refusals: error.refusals)
    }
}

/// Turns every error into a problem response: refusals with their reasons, malformed bodies as 400, and anything
/// else as a 500 or 503 whose details go to the log only.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as APIProblem {
            throw problem
        } catch let refused as ActionRefused {
            throw APIProblem.refused(refused)
        } catch let error as HTTPError {
            throw APIProblem(error.status, error.status.reasonPhrase, detail: error.body)
        } catch is DecodingError {
            throw APIProblem.badRequest("the body is not the JSON this endpoint expects; see /openapi.yaml")
        } catch {
            if error is DirectoryUnavailable {
                throw APIProblem(.serviceUnavailable, "Directory unavailable", detail: "the directory could not be reached; try again shortly")
            }
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIProblem(.internalServerError, "Internal error", detail: "the server could not complete the request; the log has details")
        }
    }
}

/// The directory could not be asked (down, or its answer made no sense); the request may succeed later.
struct DirectoryUnavailable: Error, CustomStringConvertible {
    var description: String { "the directory could not be reached" }
}
