import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeNotifications
@testable import DrawbridgeStore
import DrawbridgeTestSupport
import Foundation
import Logging
import Testing

@Suite("Notifications through a real SMTP server and a real HTTP receiver")
struct NotificationTests {
    static let scope = "/subscriptions/prod/resourceGroups/web"

    @Test("an approval request reaches the approver, the requester and the policy's extra address, over STARTTLS with AUTH")
    func email() async throws {
        try await ServerHarness.with { harness, _ async throws in
            let sink = try await SMTPSink.start(caFile: harness.access.directory.caFile)
            defer { sink.stop() }
            var configuration = harness.access.configuration
            configuration.notifications = NotificationConfiguration(
                email: .init(
                    url: "smtp://127.0.0.1:\(sink.port)", from: "drawbridge@example.org", username: SMTPSink.user,
                    password: SecretBytes(Array(SMTPSink.password.utf8)), tls: .init(caFile: harness.access.directory.caFile)),
                publicURL: "https://drawbridge.example.org")
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            let bob = try require_user(try await harness.access.store.user(login: "bob"), "bob")
            try await harness.access.relaxPolicy(role: "owner") {
                $0.requireApproval = true
                $0.approvers = [.user(bob.record.id)]
                $0.notifyEmails = ["audit@example.org"]
            }
            let dispatcher = NotificationDispatcher(configuration: configuration, store: harness.access.store, engine: harness.access.engine, clock: harness.access.clock)
            let eligibility = try await dispatcher.deliverDue()
            #expect(eligibility.sent == 3, "the new eligibility: alice, the administrator dana and the extra address")
            let before = try sink.messages().count
            _ = try await harness.access.activate("alice", scope: Self.scope, role: "owner")
            let report = try await dispatcher.deliverDue()
            #expect(report.sent == 3)
            let messages = Array(try sink.messages().dropFirst(before))
            #expect(Set(messages.flatMap(\.rcpt_tos)) == ["alice@example.org", "bob@example.org", "audit@example.org"])
            for message in messages {
                #expect(message.tls && message.auth)
                #expect(message.mail_from == "drawbridge@example.org")
                #expect(message.data.contains("Subject: [Drawbridge] alice requests owner at \(Self.scope)"))
                #expect(message.body.contains("Justification: incident 42"))
                #expect(message.body.contains("https://drawbridge.example.org/requests"))
            }
            #expect(try await dispatcher.deliverDue().sent == 0, "sent once")
        }
    }

    @Test("a full mailbox (452) holds up only its own recipient: the rest of its entry and the other entries are sent")
    func busyRecipient() async throws {
        try await ServerHarness.with { harness, _ async throws in
            let sink = try await SMTPSink.start(caFile: harness.access.directory.caFile, busy: ["alice@example.org"])
            defer { sink.stop() }
            var configuration = harness.access.configuration
            configuration.notifications = NotificationConfiguration(
                email: .init(
                    url: "smtp://127.0.0.1:\(sink.port)", from: "drawbridge@example.org", username: SMTPSink.user,
                    password: SecretBytes(Array(SMTPSink.password.utf8)), tls: .init(caFile: harness.access.directory.caFile)))
            try await harness.access.relaxPolicy(role: "owner") { $0.notifyEmails = ["audit@example.org"] }
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            try await harness.access.eligible("bob", scope: "/subscriptions/prod", role: "owner")
            let dispatcher = NotificationDispatcher(configuration: configuration, store: harness.access.store, engine: harness.access.engine, clock: harness.access.clock)
            let report = try await dispatcher.deliverDue()
            // alice's entry: dana and the extra address now, alice later; bob's entry: all three.
            #expect(report.sent == 5 && report.deferred == 1, "\(report)")
            #expect(Set(try sink.messages().flatMap(\.rcpt_tos)) == ["bob@example.org", "dana@example.org", "audit@example.org"])
        }
    }

    @Test("a refused SMTP login or an untrusted certificate is retried rather than dropped, and ends as failed after maxAttempts")
    func smtpSetupFailuresAreRetried() async throws {
        try await ServerHarness.with { harness, _ async throws in
            let caFile = harness.access.directory.caFile
            let sink = try await SMTPSink.start(caFile: caFile)
            defer { sink.stop() }
            let wrongPassword = NotificationConfiguration.Email(
                url: "smtp://127.0.0.1:\(sink.port)", from: "drawbridge@example.org", username: SMTPSink.user,
                password: SecretBytes(Array("not the password".utf8)), tls: .init(caFile: caFile))
            var untrusted = wrongPassword
            untrusted.password = SecretBytes(Array(SMTPSink.password.utf8))
            untrusted.tls = .init()  // the system's CAs do not know the sandbox's
            for (scope, email) in [("/subscriptions/prod", wrongPassword), (Self.scope, untrusted)] {
                var configuration = harness.access.configuration
                configuration.notifications = NotificationConfiguration(email: email, maxAttempts: 2)
                let dispatcher = NotificationDispatcher(configuration: configuration, store: harness.access.store, engine: harness.access.engine, clock: harness.access.clock)
                try await harness.access.eligible("alice", scope: scope, role: "owner")
                let first = try await dispatcher.deliverDue()
                #expect(first.rejected == 0 && first.deferred == 1, "\(scope): \(first)")
                harness.access.clock.advance(by: 60)
                #expect(try await dispatcher.deliverDue().abandoned == 1, "\(scope)")
            }
            #expect(try await harness.access.store.notificationBacklog().failed == 2, "both stay visible as failed")
            #expect(try sink.messages().isEmpty)
        }
    }

    @Test("a mail server that never answers costs one timeout per pass: every entry's webhook still goes, and entries not tried keep their attempts")
    func hangingMailServer() async throws {
        try await ServerHarness.with { harness, _ async throws in
            let silent = try SilentServer()
            defer { silent.stop() }
            let receiver = WebhookReceiver(secret: "webhook-signing-secret")
            try await receiver.serve { url in
                var configuration = harness.access.configuration
                configuration.notifications = NotificationConfiguration(
                    email: .init(url: "smtp://127.0.0.1:\(silent.port)", from: "drawbridge@example.org"),
                    webhooks: [.init(name: "chat", url: url, secret: SecretBytes(Array("webhook-signing-secret".utf8)))])
                for login in ["alice", "bob", "carol"] { try await harness.access.eligible(login, scope: "/subscriptions/prod", role: "owner") }
                let store = harness.access.store
                let clock = harness.access.clock
                let dispatcher = NotificationDispatcher(configuration: configuration, store: store, engine: harness.access.engine, clock: clock)
                let started = ContinuousClock.now
                let report = try await dispatcher.deliverDue()
                // One 10 s connection timeout in all, where each of the six messages used to wait out its own.
                #expect(ContinuousClock.now - started < .seconds(25))
                #expect(report.sent == 3 && receiver.received.count == 3)
                #expect(try await store.dueNotifications(at: clock.now().addingTimeInterval(4), limit: 10).isEmpty, "the server's backoff holds for all")
                let waiting = try await store.dueNotifications(at: clock.now().addingTimeInterval(5), limit: 10)
                #expect(waiting.map(\.attempts) == [1, 0, 0], "only the entry that tried the server spent an attempt")
            }
        }
    }

    @Test("a canceled pass records the delivery in progress, then stops; the rest stay pending and due, without spending an attempt")
    func canceledPass() async throws {
        try await ServerHarness.with { harness, _ async throws in
            let receiver = WebhookReceiver(secret: "webhook-signing-secret")
            receiver.answer(after: .seconds(2))
            try await receiver.serve { url in
                var configuration = harness.access.configuration
                configuration.notifications = NotificationConfiguration(
                    webhooks: [.init(name: "chat", url: url, secret: SecretBytes(Array("webhook-signing-secret".utf8)))])
                for login in ["alice", "bob", "carol"] { try await harness.access.eligible(login, scope: "/subscriptions/prod", role: "owner") }
                let dispatcher = NotificationDispatcher(
                    configuration: configuration, store: harness.access.store, engine: harness.access.engine, clock: harness.access.clock)
                let pass = Task { try await dispatcher.deliverDue() }
                while receiver.received.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
                pass.cancel()
                let report = try await pass.value
                #expect(report.sent == 1 && receiver.received.count == 1)
                let pending = try await harness.access.store.dueNotifications(at: harness.access.clock.now(), limit: 10)
                #expect(pending.count == 2 && pending.allSatisfy { $0.attempts == 0 && $0.delivered.isEmpty })
            }
        }
    }

    @Test("an entry that cannot be prepared is given up after maxAttempts, like one whose deliveries fail, and stays visible as failed")
    func unpreparedEntryAbandoned() async throws {
        try await ServerHarness.with { harness, _ async throws in
            var configuration = harness.access.configuration
            configuration.notifications = NotificationConfiguration(
                webhooks: [.init(name: "chat", url: "http://127.0.0.1:1/hook", secret: SecretBytes(Array("webhook-signing-secret".utf8)))], maxAttempts: 2)
            try await harness.access.relaxPolicy(role: "owner")
            try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
            // A policy that no longer reads: who hears about the event cannot be worked out.
            let database = try DirectSQLiteConnection.open(path: configuration.store.sqlitePath, logger: Logger(label: "test"))
            try database.run("UPDATE policy_overrides SET body = 'not json'", [])
            database.close()
            let dispatcher = NotificationDispatcher(configuration: configuration, store: harness.access.store, engine: harness.access.engine, clock: harness.access.clock)
            #expect(try await dispatcher.deliverDue().deferred == 1)
            harness.access.clock.advance(by: 60)
            #expect(try await dispatcher.deliverDue().abandoned == 1)
            let backlog = try await harness.access.store.notificationBacklog()
            #expect(backlog.pending == 0 && backlog.failed == 1)
        }
    }

    @Test("webhooks are signed; a failed delivery is retried, an unsent one survives a restart, and none is sent twice")
    func webhook() async throws {
        try await ServerHarness.with { harness, _ async throws in
            let receiver = WebhookReceiver(secret: "webhook-signing-secret")
            try await receiver.serve { url in
                var configuration = harness.access.configuration
                configuration.notifications = NotificationConfiguration(
                    webhooks: [.init(name: "chat", url: url, secret: SecretBytes(Array("webhook-signing-secret".utf8)))],
                    expiringLeadTime: .seconds(15 * 60))
                try await harness.access.eligible("alice", scope: "/subscriptions/prod", role: "owner")
                try await harness.access.relaxPolicy(role: "owner")
                _ = try await harness.access.activate("alice", scope: Self.scope, role: "owner")
                let engine = harness.access.engine
                let clock = harness.access.clock

                receiver.fail(with: 503)
                let first = NotificationDispatcher(configuration: configuration, store: harness.access.store, engine: engine, clock: clock)
                let failed = try await first.deliverDue()
                #expect(failed.sent == 0 && failed.deferred > 0)

                // A new dispatcher, as after a restart, finds what the first one could not send.
                receiver.fail(with: nil)
                clock.advance(by: 6)
                let restarted = NotificationDispatcher(configuration: configuration, store: harness.access.store, engine: engine, clock: clock)
                #expect(try await restarted.deliverDue().sent > 0)
                let received = receiver.received
                #expect(received.allSatisfy { $0.signatureValid })
                #expect(received.contains { $0.body.contains(#""kind":"activated""#) && $0.body.contains(#""text":"[Drawbridge] alice now holds owner"#) })
                #expect(Set(received.map(\.delivery)).count == received.count, "one delivery per event")
                clock.advance(by: 600)
                _ = try await restarted.deliverDue()
                #expect(receiver.received.count == received.count, "nothing acknowledged is sent again")

                clock.advance(by: 40 * 60)
                let expiring = try await restarted.deliverDue()
                #expect(expiring.expiryNotices == 1)
                #expect(receiver.received.filter { $0.body.contains(#""kind":"expiringSoon""#) }.count == 1)
                clock.advance(by: 60)
                #expect(try await restarted.deliverDue().expiryNotices == 0, "told once")
            }
        }
    }
}
