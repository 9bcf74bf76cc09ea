import DrawbridgeTestSupport
import Foundation
import HummingbirdTesting
import Testing

@Suite("The CLI's user commands through a live server with a personal access token")
struct RemoteCommandLineTests {
    static func drawbridge(_ arguments: [String], server: String, token: String) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try drawbridgeExecutable())
        process.arguments = arguments + ["--server", server]
        var environment = ProcessInfo.processInfo.environment
        environment["DRAWBRIDGE_TOKEN"] = token
        environment["DRAWBRIDGE_CONFIG"] = nil
        process.environment = environment
        return try await runToCompletion(process)
    }

    @Test("activate, list and deactivate as the token's owner, without a local configuration; refusals come back with their reasons")
    func remoteWorkflow() async throws {
        try await ServerHarness.with(live: true) { harness, client async throws in
            let server = "http://127.0.0.1:\(try #require(client.port))"
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.relaxPolicy(role: "owner")
            let token = try await harness.services.createToken(login: "alice", name: "cli", lifetime: 3600, by: harness.access.operatorActor).secret
            let activate = ["activate", "--scope", "/subscriptions/prod/resourceGroups/web", "--role", "owner", "--for", "1h", "--justification", "incident 5"]

            let someoneElse = try await Self.drawbridge(activate + ["--user", "bob"], server: server, token: token)
            #expect(someoneElse.status != 0)
            #expect(someoneElse.output.contains("the token belongs to alice"))

            let activated = try await Self.drawbridge(activate, server: server, token: token)
            #expect(activated.status == 0, "\(activated.output)")
            #expect(activated.output.contains("owner at /subscriptions/prod/resourceGroups/web: active"))
            let id = try #require(activated.output.firstMatch(of: /\(([0-9a-f-]{36})\)/).map { String($0.output.1) })

            let again = try await Self.drawbridge(activate, server: server, token: token)
            #expect(again.status != 0)
            #expect(again.output.contains("alreadyActive"))

            let listed = try await Self.drawbridge(["requests", "list"], server: server, token: token)
            #expect(listed.output.contains(id))
            let ended = try await Self.drawbridge(["deactivate", id, "--reason", "done"], server: server, token: token)
            #expect(ended.status == 0)
            #expect(ended.output.contains("\(id): ended"))

            let badToken = try await Self.drawbridge(["requests", "list"], server: server, token: "dbt_nothing")
            #expect(badToken.status != 0)
            #expect(badToken.output.contains("Invalid token"))
        }
    }
}
