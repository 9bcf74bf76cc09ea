import DrawbridgeTestSupport
import Foundation
import HummingbirdTesting
import Testing

@Suite("The web UI in a real browser (Chromium, chromedriver, Selenium)")
struct BrowserTests {
    @Test("sign in, enroll TOTP, request a role needing approval, the approver approves, the LDAP group gains and loses the user")
    func walkthrough() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw TestDirectoryError("\(tool) is missing; install with: apt-get install chromium chromium-driver (Scripts/install-dependencies does)")
        }
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
            let directory = harness.access.directory
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
            let artifacts = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-browser-\(UUID().uuidString)").path
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Browser/ui_walkthrough.py").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", script, "--url", "http://127.0.0.1:\(try #require(client.port))", "--ldap-url", directory.url,
                "--bind-dn", directory.serviceDN, "--bind-password", directory.servicePassword, "--group-dn", Fixtures.groupDN("pim-prod-web-owner"),
                "--member-dn", Fixtures.userDN("alice"), "--artifacts", artifacts, "--password-prefix", "correct horse ", "--password-suffix", " battery ✓",
            ]
            let (status, text) = try await runToCompletion(process)
            #expect(status == 0, "\(text)")
            #expect(text.contains("browser walkthrough passed"), "\(text)")
        }
    }
}
