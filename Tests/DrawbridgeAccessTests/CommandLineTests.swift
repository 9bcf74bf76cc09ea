import DrawbridgeCore
import DrawbridgeTestSupport
import Foundation
import Testing

@Suite("The drawbridge CLI against a real slapd")
struct CommandLineTests {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    static func drawbridge(_ harness: AccessHarness, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CrashRecoveryTests.executable())
        process.arguments = arguments + ["--config", harness.configFile]
        var environment = ProcessInfo.processInfo.environment
        environment["ACCESS_TEST_PASSWORD"] = harness.directory.servicePassword
        environment["LDAPNOINIT"] = "1"
        environment["USER"] = "ops-tester"
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self), errors: String(decoding: errorData, as: UTF8.self))
    }

    @Test("eligibility, a refused dry run with every reason, activation, run --once, requests, status and the audit log")
    func workflow() async throws {
        let ldif = [Fixtures.user("alice"), Fixtures.user("bob"), Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("bob")])]
            .joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif]) { harness in
            let web = ["--scope", "/subscriptions/prod/resourceGroups/web", "--role", "owner"]
            let added = try Self.drawbridge(harness, ["eligibility", "add", "--user", "alice", "--scope", "/subscriptions/prod", "--role", "owner", "--for", "30d", "--justification", "on-call rota"])
            #expect(added.status == 0, "\(added.errors)")
            #expect(added.output.hasPrefix("Added eligibility"))

            let dryRun = try Self.drawbridge(harness, ["activate", "--user", "alice"] + web + ["--for", "10h", "--dry-run"])
            #expect(dryRun.status == 1)
            for code in ["durationTooLong", "justificationRequired", "mfaRequired"] {
                #expect(dryRun.output.contains("[\(code)]"), "\(dryRun.output)")
            }

            let activated = try Self.drawbridge(harness, ["activate", "--user", "alice"] + web + ["--for", "1h", "--justification", "incident 4711", "--mfa-attested"])
            #expect(activated.status == 0, "\(activated.output)\(activated.errors)")
            #expect(activated.output.contains(": active from"))

            let once = try Self.drawbridge(harness, ["run", "--once"])
            #expect(once.status == 0, "\(once.errors)")
            #expect(once.output.contains("directory changes applied 1"))
            #expect(try await harness.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()))

            let listed = try Self.drawbridge(harness, ["requests", "list", "--format", "json"])
            let activations = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
            #expect(activations?.count == 1)
            #expect(activations?.first?["state"] as? String == "active")

            let id = try #require(activations?.first?["id"] as? String)
            let dryDeactivation = try Self.drawbridge(harness, ["deactivate", id, "--reason", "done", "--dry-run"])
            #expect(dryDeactivation.output == "\(id): ended (deactivated)\n")
            let stillActive = try Self.drawbridge(harness, ["requests", "list", "--state", "active", "--format", "json"])
            #expect(stillActive.output.contains(id), "a dry run changes nothing")

            let status = try Self.drawbridge(harness, ["status"])
            #expect(status.output.contains("Directory changes pending: 0"))
            #expect(status.output.contains("Live activations: 1"))

            let verified = try Self.drawbridge(harness, ["audit", "verify"])
            #expect(verified.status == 0)
            #expect(verified.output.hasPrefix("audit log intact"))
            let csv = try Self.drawbridge(harness, ["audit", "export", "--format", "csv", "--user", "alice"])
            let lines = csv.output.split(separator: "\n")
            #expect(lines.first.map(String.init) == "sequence,at,action,outcome,actor,source,request_id,subject_id,user,scope,role,group,justification,ticket,reason,details,hash")
            #expect(lines.contains { $0.contains(",activation.started,success,operator:ops-tester,cli,") })
            #expect(!csv.output.contains(harness.directory.servicePassword))
            let scoped = try Self.drawbridge(harness, ["audit", "export", "--format", "jsonl", "--scope", "/subscriptions/prod"])
            #expect(scoped.output.contains(#""action":"membership.added""#), "directory changes are found by scope")

            let unknown = try Self.drawbridge(harness, ["activate", "--user", "nobody"] + web + ["--for", "1h", "--justification", "x", "--mfa-attested"])
            #expect(unknown.status == 1)
            #expect(unknown.output.contains("[unknownUser]"))
        }
    }

    @Test("review create, list, show, decide, complete and export; alerts evaluate, list and dismiss")
    func reviewsAndAlerts() async throws {
        let ldif = [Fixtures.user("alice"), Fixtures.user("bob"), Fixtures.group("pim-prod-web-owner", members: [Fixtures.userDN("bob")])]
            .joined(separator: "\n")
        try await AccessHarness.with(ldif: [ldif]) { harness in
            let added = try Self.drawbridge(harness, ["eligibility", "add", "--user", "alice", "--scope", "/subscriptions/prod", "--role", "owner", "--for", "30d", "--justification", "rota"])
            #expect(added.status == 0, "\(added.errors)")
            let refused = try Self.drawbridge(harness, ["review", "create", "--name", "q", "--scope", "/", "--duration", "7d"])
            #expect(refused.status == 1 && refused.errors.contains("name reviewers"), "\(refused.errors)")
            let created = try Self.drawbridge(harness, [
                "review", "create", "--name", "prod owners, Q4", "--scope", "/subscriptions/prod", "--role", "owner", "--reviewer", "bob", "--duration", "7d",
                "--remind", "1d", "--no-response", "recommendation",
            ])
            #expect(created.status == 0, "\(created.errors)")
            #expect(created.output.contains("is inProgress"), "\(created.output)")

            let list = try Self.drawbridge(harness, ["review", "list", "--format", "json"])
            let reviews = try #require(try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]])
            let reviewID = try #require(reviews.first?["id"] as? String)
            #expect(reviews.first?["items"] as? Int == 1)
            let show = try Self.drawbridge(harness, ["review", "show", reviewID, "--format", "json"])
            let items = try #require(try JSONSerialization.jsonObject(with: Data(show.output.utf8)) as? [[String: Any]])
            let itemID = try #require(items.first?["id"] as? String)
            #expect(items.first?["holder"] as? String == "alice")
            #expect(items.first?["recommendation"] as? String == "approve", "granted today: too recent to call unused")

            let noReason = try Self.drawbridge(harness, ["review", "decide", itemID, "--decision", "approve"])
            #expect(noReason.status == 1 && noReason.errors.contains("reason"), "\(noReason.errors)")
            let decided = try Self.drawbridge(harness, ["review", "decide", itemID, "--decision", "approve", "--reason", "still on call"])
            #expect(decided.status == 0 && decided.output.contains("Approved alice"), "\(decided.errors)")
            let completed = try Self.drawbridge(harness, ["review", "complete", reviewID])
            #expect(completed.output.contains("is applied"), "\(completed.errors)")
            let export = try Self.drawbridge(harness, ["review", "export", reviewID])
            let lines = export.output.split(separator: "\n")
            #expect(lines.first.map(String.init) == ReviewItem.csvHeader)
            #expect(lines.count == 2 && lines[1].contains(",approve,still on call,ops-tester,") && lines[1].hasSuffix(",approve,kept"), "\(export.output)")
            let unknown = try Self.drawbridge(harness, ["review", "show", "nope"])
            #expect(unknown.status == 1 && unknown.errors.contains("no review nope"))

            let weakened = try Self.drawbridge(harness, ["policy", "set", "--role", "owner", "--require-mfa", "false"])
            #expect(weakened.status == 0, "\(weakened.errors)")
            let evaluated = try Self.drawbridge(harness, ["alerts", "evaluate"])
            #expect(evaluated.status == 0 && evaluated.output.contains("raised [low]") && evaluated.output.contains("without MFA"), "\(evaluated.output)\(evaluated.errors)")
            let alerts = try Self.drawbridge(harness, ["alerts", "--format", "json"])
            let open = try #require(try JSONSerialization.jsonObject(with: Data(alerts.output.utf8)) as? [[String: Any]])
            #expect(open.map { $0["kind"] as? String } == ["weakActivationPolicy"])
            #expect(open.first?["key"] as? String == "policy:/subscriptions/prod/resourceGroups/web:owner")
            let alertID = try #require(open.first?["id"] as? String)
            let dismissed = try Self.drawbridge(harness, ["alerts", "dismiss", alertID, "--reason", "lab only"])
            #expect(dismissed.status == 0, "\(dismissed.errors)")
            #expect(try Self.drawbridge(harness, ["alerts"]).output.contains("weak") == false)
        }
    }
}
