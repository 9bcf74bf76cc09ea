import DrawbridgeServer
import Foundation
import Hummingbird
import Testing
import Yams

@Suite("The committed OpenAPI document")
struct OpenAPIDocumentTests {
    /// The API and the machine-facing routes; the HTML pages are not part of the API.
    static func isAPI(_ route: String) -> Bool {
        let path = route.split(separator: " ")[1]
        return path.hasPrefix("/api/") || ["/healthz", "/readyz", "/metrics", "/openapi.yaml"].contains(path)
    }

    @Test("documents exactly the API routes the server has")
    func routesMatch() async throws {
        let document = try #require(try Yams.load(yaml: try OpenAPIDocument.text()) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "put", "post", "delete", "patch"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let served = try await ServerHarness.with { harness, _ in
            Set(try buildRouter(harness.services).routes.compactMap { route -> String? in
                let path = route.path.description.split(separator: "/").map { component in
                    component.hasPrefix(":") ? "{\(component.dropFirst())}" : String(component)
                }.joined(separator: "/")
                let text = "\(route.method) /\(path)"
                return Self.isAPI(text) ? text : nil
            })
        }
        #expect(served.subtracting(documented).sorted() == [], "served but not documented")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
    }
}
