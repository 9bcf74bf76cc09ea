import AsyncHTTPClient
import CoreMetrics
import DrawbridgeAccess
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP
import Logging
import Synchronization

/// Delivers the notification outbox: for each entry, the plan its event and policy call for, one email per
/// recipient and one post per webhook. Each acknowledged delivery is recorded at once, so a retry (or a restart
/// after a crash) sends only what was not acknowledged; transient failures are retried with backoff. A route that
/// fails (the mail server, a webhook URL) is not tried again in the same pass, and a canceled pass stops between
/// deliveries.
public struct NotificationDispatcher: Sendable {
    public struct Report: Sendable, Hashable {
        public var entries = 0
        public var sent = 0
        public var rejected = 0
        public var deferred = 0
        public var abandoned = 0
        public var expiryNotices = 0
    }

    let configuration: DrawbridgeConfiguration
    let store: any DrawbridgeStore & NotificationStore
    let engine: AccessEngine
    let clock: any WallClock
    let mailer: SMTPMailer?
    let webhooks: WebhookSender
    let lock: ApplyLock?
    let logger: Logger

    /// - Parameter lockPath: a file that processes sharing the store lock while they deliver, so no two send one entry.
    public init(
        configuration: DrawbridgeConfiguration, store: any DrawbridgeStore & NotificationStore, engine: AccessEngine, httpClient: HTTPClient = .shared,
        lockPath: String? = nil, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "drawbridge.notifications")
    ) {
        lock = lockPath.map(ApplyLock.init(path:))
        self.configuration = configuration
        self.store = store
        self.engine = engine
        self.clock = clock
        self.logger = logger
        mailer = configuration.notifications.email.map(SMTPMailer.init)
        webhooks = WebhookSender(client: httpClient)
    }

    /// One pass: records "ends soon" events that fell due, then delivers every entry that is due. Canceling the
    /// caller (shutdown) stops the pass after the delivery in progress. The pass runs as a task of its own, because
    /// the store refuses writes from a canceled task, and what was sent until then must still be recorded.
    public func deliverDue(limit: Int = 200) async throws -> Report {
        let stop = StopRequest()
        // The lock is waited for in the caller's task, so that shutdown does not wait behind another process's pass.
        let run: @Sendable () async throws -> Report = {
            let pass = Task { try await deliverDueLocked(limit: limit, stop) }
            return try await withTaskCancellationHandler { try await pass.value } onCancel: { stop.request() }
        }
        guard let lock else { return try await run() }
        return try await lock.withLock { try await run() }
    }

    private func deliverDueLocked(limit: Int, _ stop: StopRequest) async throws -> Report {
        var report = Report()
        let settings = configuration.notifications
        guard settings.isEnabled else {
            // Nowhere to send anything: close the queue in one statement, and only when something waits (a read).
            if try await store.nextNotificationTime() != nil { try await store.finishAllNotifications(at: clock.now()) }
            return report
        }
        guard !stop.isRequested else { return report }
        report.expiryNotices = try await engine.noticeExpiring(leadTime: settings.expiringLeadTime)
        let now = clock.now()
        var finished: [Int64] = []
        var context = LookupCache(store: store, configuration: configuration)
        // Routes that failed transiently in this pass, with their next try: one hanging server costs one timeout per pass.
        var stalled: [String: (retryAt: Date, failure: String)] = [:]
        for entry in try await store.dueNotifications(at: now, limit: limit) {
            guard !stop.isRequested else { break }
            report.entries += 1
            guard let event = entry.event else {
                try await store.abandonNotification(entry.id, at: now, error: "the audit record is unreadable (run drawbridge audit verify)")
                report.abandoned += 1
                continue
            }
            let deliveries: [Delivery]
            do {
                deliveries = try await self.deliveries(for: entry, event: event, &context)
            } catch {
                logger.warning("notification could not be prepared", metadata: ["entry": "\(entry.id)", "error": "\(error)"])
                try await recordFailedAttempt(entry, "\(type(of: error))", nextAttempt: now.addingTimeInterval(30), now: now, &report)
                continue
            }
            var failures: [String] = []
            var waitingFor: (retryAt: Date, failure: String)?
            var interrupted = false
            for delivery in deliveries where !entry.delivered.contains(delivery.key) {
                guard !stop.isRequested else {
                    interrupted = true
                    break
                }
                if let stall = stalled[delivery.route] {
                    if stall.retryAt > waitingFor?.retryAt ?? .distantPast { waitingFor = stall }
                    continue
                }
                do {
                    try await delivery.send()
                    try await store.recordDelivery(entry.id, channel: delivery.key)
                    report.sent += 1
                    Self.count(delivery.channel, "sent")
                } catch let failure as DeliveryFailure where !failure.transient {
                    // Retrying will not change the answer (unknown recipient, bad request): note it and move on.
                    logger.warning("notification rejected", metadata: ["channel": "\(delivery.key)", "reason": "\(failure.message)"])
                    try await store.recordDelivery(entry.id, channel: delivery.key)
                    report.rejected += 1
                    Self.count(delivery.channel, "rejected")
                } catch {
                    let failure = "\(delivery.key): \((error as? DeliveryFailure)?.message ?? "\(type(of: error))")"
                    failures.append(failure)
                    if (error as? DeliveryFailure)?.stallsRoute ?? true {
                        stalled[delivery.route] = (now.addingTimeInterval(retryDelay(after: entry.attempts)), failure)
                    }
                    Self.count(delivery.channel, "failed")
                }
            }
            // Shutting down: what was not sent stays pending as it was, without spending an attempt.
            if interrupted { break }
            if failures.isEmpty, let waitingFor {
                // Not tried, so no attempt is spent; it is due when the failed route is tried again, which keeps that
                // route's backoff rather than probing it with every waiting entry.
                try await store.retryNotification(entry.id, attempts: entry.attempts, nextAttempt: waitingFor.retryAt, error: "waiting: \(waitingFor.failure)")
                report.deferred += 1
            } else if failures.isEmpty {
                finished.append(entry.id)
            } else {
                let nextAttempt = now.addingTimeInterval(retryDelay(after: entry.attempts))
                try await recordFailedAttempt(entry, failures.joined(separator: "; "), nextAttempt: nextAttempt, now: now, &report)
            }
        }
        try await store.finishNotifications(finished, at: now)
        return report
    }

    /// Counts a failed attempt on `entry`: tried again at `nextAttempt`, or given up after `maxAttempts`.
    private func recordFailedAttempt(_ entry: OutboxEntry, _ failure: String, nextAttempt: Date, now: Date, _ report: inout Report) async throws {
        if entry.attempts + 1 >= configuration.notifications.maxAttempts {
            logger.error("notification abandoned", metadata: ["entry": "\(entry.id)", "failures": "\(failure)"])
            try await store.abandonNotification(entry.id, at: now, error: failure)
            report.abandoned += 1
        } else {
            try await store.retryNotification(entry.id, attempts: entry.attempts + 1, nextAttempt: nextAttempt, error: failure)
            report.deferred += 1
        }
    }

    private func retryDelay(after attempts: Int) -> TimeInterval {
        min(5 * pow(2, Double(attempts)), Double(configuration.notifications.maxRetryDelay.components.seconds))
    }

    private static func count(_ channel: String, _ outcome: String) {
        Counter(label: "drawbridge_notifications_total", dimensions: [("channel", channel), ("outcome", outcome)]).increment()
    }

    /// Set when the caller of a pass is canceled; the pass looks at it between deliveries.
    final class StopRequest: Sendable {
        private let requested = Atomic(false)

        func request() { requested.store(true, ordering: .relaxed) }

        var isRequested: Bool { requested.load(ordering: .relaxed) }
    }

    struct DeliveryFailure: Error {
        let message: String
        let transient: Bool
        /// The whole route is down (not only this recipient), so the pass stops trying it.
        var stallsRoute = true
    }

    struct Delivery {
        let key: String
        let channel: String
        /// What deliveries share a fate in a pass: the mail server, or one webhook URL.
        let route: String
        let send: () async throws -> Void
    }

    /// What `entry` should become: nothing when its event notifies nobody or no channel is configured.
    private func deliveries(for entry: OutboxEntry, event: AuditEvent, _ cache: inout LookupCache) async throws -> [Delivery] {
        let policy = try await cache.policy(scope: event.scope, role: event.role)
        guard let plan = NotificationRules.plan(for: event, policy: policy) else { return [] }
        var result: [Delivery] = []
        if let mailer, let email = configuration.notifications.email {
            var recipients: [String] = []
            if plan.toPerson, let login = event.userLogin, let mail = try await cache.mail(login: login) { recipients.append(mail) }
            if plan.toApprovers { recipients += try await cache.approverMails(policy, except: event.userLogin) }
            if plan.toAdministrators { recipients += try await cache.administratorMails() }
            recipients += policy.notifyEmails
            var seen = Set<String>()
            for recipient in recipients where seen.insert(recipient.lowercased()).inserted {
                let message = EmailMessage(
                    from: email.from, to: recipient, subject: plan.subject, body: body(plan, event, entry),
                    messageID: "\(entry.auditSequence).\(sha256Hex(recipient.lowercased()).prefix(16))@drawbridge", date: entry.at)
                result.append(Delivery(key: "email:\(recipient.lowercased())", channel: "email", route: "email") {
                    do {
                        try await mailer.send(message)
                    } catch let failure as SMTPMailer.Failure {
                        throw DeliveryFailure(message: failure.message, transient: failure.transient, stallsRoute: failure.serverWide)
                    }
                })
            }
        }
        for webhook in configuration.notifications.webhooks where !webhook.criticalOnly || plan.critical {
            let payload = try WebhookPayload(plan: plan, event: event, entry: entry, link: link(for: plan)).encoded()
            result.append(Delivery(key: "webhook:\(webhook.name)", channel: "webhook", route: "webhook \(webhook.url)") {
                do {
                    try await webhooks.send(payload, delivery: "\(entry.auditSequence)", to: webhook, at: clock.now())
                } catch let failure as WebhookSender.Failure {
                    throw DeliveryFailure(message: failure.message, transient: failure.transient)
                }
            })
        }
        return result
    }

    private func body(_ plan: NotificationPlan, _ event: AuditEvent, _ entry: OutboxEntry) -> String {
        var text = plan.text
        if let link = link(for: plan) { text += "\n\n\(link)" }
        text += "\n\nAudit record \(entry.auditSequence), \(entry.at.iso8601). You get this because of your role in Drawbridge's policy for \(event.role.map { "\($0)" } ?? "this event")."
        return text
    }

    private func link(for plan: NotificationPlan) -> String? {
        guard let base = configuration.notifications.publicURL else { return nil }
        switch plan.kind {
        case .requested: return base + "/requests"
        case .driftFound, .protectedRemovalRefused, .grantFailed, .eligibilityAdded, .eligibilityRemoved, .assignmentAdded, .assignmentRemoved:
            return base + "/admin"
        default: return base + "/roles"
        }
    }
}

/// The JSON a webhook receives.
struct WebhookPayload: Encodable {
    struct Event: Encodable {
        var sequence: Int64
        var at: String
        var action: String
        var outcome: String
        var actor: String
        var user: String?
        var scope: String?
        var role: String?
        var group: String?
        var requestID: String?
        var subject: String?
        var justification: String?
        var ticket: String?
        var reason: String?
    }

    /// Slack and compatible chat tools show this, escaped as they require.
    var text: String
    var kind: String
    var critical: Bool
    var link: String?
    var event: Event

    init(plan: NotificationPlan, event: AuditEvent, entry: OutboxEntry, link: String?) {
        text = Self.chatEscaped(plan.subject + "\n" + plan.text + (link.map { "\n" + $0 } ?? ""))
        kind = plan.kind.rawValue
        critical = plan.critical
        self.link = link
        self.event = Event(
            sequence: entry.auditSequence, at: entry.at.iso8601, action: event.action, outcome: event.outcome.rawValue, actor: event.actor.description,
            user: event.userLogin, scope: event.scope?.description, role: event.role?.rawValue, group: event.groupDN, requestID: event.requestID?.rawValue,
            subject: event.subjectID, justification: event.justification, ticket: event.ticket, reason: event.reason)
    }

    /// Chat tools read `<…>` as links and mentions (`<!channel>`) and `&` as the start of an entity: text a user
    /// typed (justification, ticket, reason) must show as typed, not ping a channel or hide a link behind a label.
    static func chatEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}

/// Looks up policies and addresses once per pass.
struct LookupCache {
    let store: any DrawbridgeStore & NotificationStore
    let configuration: DrawbridgeConfiguration
    private var policies: [String: PolicySet] = [:]
    private var mails: [String: String?] = [:]
    private var administrators: [String]?

    init(store: any DrawbridgeStore & NotificationStore, configuration: DrawbridgeConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    mutating func policy(scope: ScopePath?, role: RoleName?) async throws -> RolePolicy {
        guard let role else { return RolePolicy.defaults }
        if policies[role.rawValue] == nil {
            policies[role.rawValue] = PolicySet(overrides: try await store.withAccessTransaction(commit: false) { try await $0.policyOverrides(role: role) })
        }
        return policies[role.rawValue]!.effective(at: scope ?? .root)
    }

    mutating func mail(login: String) async throws -> String? {
        if let cached = mails[login] { return cached }
        let mail = try await store.user(login: login).flatMap { $0.record.enabled ? $0.record.mail : nil }.flatMap { EmailAddress.isPlausible($0) ? $0 : nil }
        mails[login] = mail
        return mail
    }

    func approverMails(_ policy: RolePolicy, except login: String?) async throws -> [String] {
        var users: [StoredUser] = []
        for principal in policy.approvers {
            switch principal {
            case .user(let id): if let user = try await store.user(id: id) { users.append(user) }
            case .group(let id): users += try await store.members(ofGroup: id, transitive: true)
            }
        }
        return Self.mails(users.filter { $0.record.login != login })
    }

    mutating func administratorMails() async throws -> [String] {
        if let administrators { return administrators }
        let names = configuration.server.administratorGroups
        var users: [StoredUser] = []
        for group in try await store.groups(includeDeleted: false) where names.contains(where: { name in
            (try? DistinguishedName(name)) == group.dn || name.caseInsensitiveCompare(group.name) == .orderedSame
        }) {
            users += try await store.members(ofGroup: group.id, transitive: true)
        }
        let found = Self.mails(users) + configuration.notifications.administratorEmails
        administrators = found
        return found
    }

    static func mails(_ users: [StoredUser]) -> [String] {
        users.filter { $0.deletedAt == nil && $0.record.enabled }.compactMap(\.record.mail).filter(EmailAddress.isPlausible)
    }
}
