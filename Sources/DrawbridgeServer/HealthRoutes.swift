import Foundation
import Hummingbird
import NIOCore

/// `/healthz` (the process answers), `/readyz` (the store and the directory answer too), `/metrics` (Prometheus)
/// and `/openapi.yaml`.
struct HealthRoutes {
    let services: ServerServices

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("healthz") { _, _ in StatusView(status: "ok") }
        group.get("readyz", use: ready)
        group.get("metrics") { _, _ in try await ServerMetrics.scrape(services.store, now: services.clock.now()) }
        group.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: try OpenAPIDocument.text())))
        }
    }

    @Sendable func ready(_ request: Request, context: DrawbridgeRequestContext) async throws -> StatusView {
        do {
            _ = try await services.store.syncState()
        } catch {
            context.logger.error("readiness: the store does not answer", metadata: ["error": "\(error)"])
            throw APIProblem(.serviceUnavailable, "Not ready", detail: "the store does not answer")
        }
        if let problem = await services.pool.unreachableReason() {
            context.logger.error("readiness: the directory does not answer", metadata: ["error": "\(problem)"])
            throw APIProblem(.serviceUnavailable, "Not ready", detail: "the directory does not answer")
        }
        return StatusView(status: "ready")
    }
}

/// The committed OpenAPI 3.1 description of the API, shipped as a resource.
public enum OpenAPIDocument {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "openapi.yaml is missing from the DrawbridgeServer resources" }
    }

    public static func text() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources") else { throw Missing() }
        return try String(contentsOf: url, encoding: .utf8)
    }
}
