import DrawbridgeTestSupport
import Foundation
import HummingbirdTesting
import Testing

@Suite("schemathesis against the committed OpenAPI document, on a live server")
struct SchemathesisTests {
    @Test("generated requests to every operation: no server errors, every response as documented")
    func fuzz() async throws {
        try await ServerHarness.with(live: true) { harness, client async throws in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let token = try await harness.services.createToken(login: "dana", name: "fuzz", lifetime: 3600, by: harness.access.operatorActor).secret
            let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-schemathesis-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: workspace) }
            let process = Process()
            // schemathesis keeps its example cache in the working directory; a temporary one keeps the checkout clean.
            process.currentDirectoryURL = workspace
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-m", "schemathesis.cli", "run", base + "/openapi.yaml", "--url", base, "--header", "Authorization: Bearer \(token)",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                // The run's own token must survive it; one worker, as hypothesis's lambda descriptions are not thread-safe.
                "--exclude-operation-id", "revokeToken", "--max-examples", "15", "--seed", "7", "--workers", "1", "--max-time", "60", "--no-color",
            ]
            let (status, text) = try await runToCompletion(process)
            #expect(!text.contains("No module named"), "schemathesis is not installed: run Scripts/install-dependencies")
            #expect(status == 0, "\(text.suffix(6000))")
        }
    }
}
