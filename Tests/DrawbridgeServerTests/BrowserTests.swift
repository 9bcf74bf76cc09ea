import DrawbridgeCore
import DrawbridgeTestSupport
import Foundation
import HummingbirdTesting
import Testing

// One Chromium at a time: two share the machine's cores badly.
@Suite("The web UI in a real browser (Chromium, chromedriver, Selenium)", .serialized)
struct BrowserTests {
    @Test("sign in, enroll TOTP, request a role needing approval, the approver approves, the LDAP group gains and loses the user")
    func walkthrough() async throws {
        try Self.requireChromium()
        // Real time, moved forward by a ticker: the browser computes TOTP codes from its own clock.
        let clock = ManualClock(Date())
        try await ServerHarness.with(live: true, clock: clock) { harness, client async throws in
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let bob = try require_user(try await harness.access.store.user(login: "bob"), "bob")
            try await harness.access.relaxPolicy(role: "owner") {
                $0.requireMFA = true
                $0.requireApproval = true
                $0.approvers = [.user(bob.record.id)]
            }
            let background = Task {
                var last = Date()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    let now = Date()
                    clock.advance(by: now.timeIntervalSince(last))
                    last = now
                    _ = try? await harness.access.applier.applyReady()
                }
            }
            defer { background.cancel() }
            let (status, text) = try await Self.walkthrough("activation", harness, port: try #require(client.port))
            #expect(status == 0, "\(text)")
            #expect(text.contains("browser walkthrough passed"), "\(text)")
        }
    }

    @Test("a reviewer denies an item of an access review; the administrator completes it; the LDAP group loses the member")
    func reviewWalkthrough() async throws {
        try Self.requireChromium()
        try await ServerHarness.with(live: true) { harness, client async throws in
            try await harness.access.relaxPolicy(role: "owner")
            let engine = harness.access.engine
            let now = harness.access.clock.now()
            _ = try await engine.assign(
                userLogin: "alice", scope: try ScopePath("/subscriptions/prod/resourceGroups/web"), role: RoleName(rawValue: "owner")!, start: nil,
                end: now.addingTimeInterval(30 * 86400), justification: "on call", ticket: nil, by: harness.access.operatorActor, source: .cli)
            let bob = try require_user(try await harness.access.store.user(login: "bob"), "bob")
            _ = try await engine.createReview(
                ReviewCampaign(
                    name: "prod owners Q4", scopes: [try ScopePath("/subscriptions/prod")], roles: [], subjects: [.active], groupMode: .perUser,
                    reviewers: ReviewerSelection(users: [bob.record.id]), recurrence: Recurrence(frequency: .once, startAt: now, duration: 7 * 86400),
                    createdBy: harness.access.operatorActor, createdAt: now),
                by: harness.access.operatorActor, source: .cli)
            let background = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    _ = try? await harness.access.applier.applyReady()
                }
            }
            defer { background.cancel() }
            _ = try await harness.access.applier.applyReady()
            #expect(try await harness.access.members("pim-prod-web-owner").contains(Fixtures.userDN("alice").lowercased()))
            let (status, text) = try await Self.walkthrough(
                "review", harness, port: try #require(client.port), extra: ["--review-name", "prod owners Q4"])
            #expect(status == 0, "\(text)")
            #expect(text.contains("browser walkthrough passed"), "\(text)")
        }
    }

    static func requireChromium() throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw TestDirectoryError("\(tool) is missing; install with: apt-get install chromium chromium-driver (Scripts/install-dependencies does)")
        }
    }

    /// Runs Tests/Browser/ui_walkthrough.py against the live server, with the sandbox directory for its LDAP checks.
    static func walkthrough(_ scenario: String, _ harness: ServerHarness, port: Int, extra: [String] = []) async throws -> (Int32, String) {
        let directory = harness.access.directory
        let artifacts = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-browser-\(UUID().uuidString)").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Browser/ui_walkthrough.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--scenario", scenario, "--url", "http://127.0.0.1:\(port)", "--ldap-url", directory.url,
            "--bind-dn", directory.serviceDN, "--bind-password", directory.servicePassword, "--group-dn", Fixtures.groupDN("pim-prod-web-owner"),
            "--member-dn", Fixtures.userDN("alice"), "--artifacts", artifacts, "--password-prefix", "correct horse ", "--password-suffix", " battery ✓",
        ] + extra
        return try await runToCompletion(process)
    }
}
