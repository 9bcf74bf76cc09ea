import DrawbridgeServer
import Foundation
import Hummingbird
import Testing
import Yams

@Suite("The committed OpenAPI document")
struct OpenAPIDocumentTests {
    @Test("documents exactly the routes the server has")
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
            Set(try buildRouter(harness.services).routes.map { route in
                let path = route.path.description.split(separator: "/").map { component in
                    component.hasPrefix(":") ? "{\(component.dropFirst())}" : String(component)
                }.joined(separator: "/")
                return "\(route.method) /\(path)"
            })
        }
        #expect(served.subtracting(documented).sorted() == [], "served but not documented")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
    }
}
