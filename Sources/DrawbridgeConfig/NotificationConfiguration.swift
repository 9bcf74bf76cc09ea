import DrawbridgeCore
import Foundation
import LDAP

/// Where notifications go and how they are sent.
public struct NotificationConfiguration: Sendable {
    public struct Email: Sendable {
        /// `smtp://host:port` or `smtps://host:port`.
        public var url: String
        /// On `smtp://`: STARTTLS is required (the default); `false` sends in clear only if `allowCleartext` is also set.
        public var startTLS: Bool
        public var allowCleartext: Bool
        public var from: String
        public var username: String?
        public var password: SecretBytes?
        public var tls: LDAPConnectionConfiguration.TLS

        public init(
            url: String, startTLS: Bool = true, allowCleartext: Bool = false, from: String, username: String? = nil, password: SecretBytes? = nil,
            tls: LDAPConnectionConfiguration.TLS = .init()
        ) {
            self.url = url
            self.startTLS = startTLS
            self.allowCleartext = allowCleartext
            self.from = from
            self.username = username
            self.password = password
            self.tls = tls
        }
    }

    public struct Webhook: Sendable {
        public var name: String
        public var url: String
        /// Signs each body with HMAC-SHA256; receivers check `X-Drawbridge-Signature`.
        public var secret: SecretBytes
        public var criticalOnly: Bool

        public init(name: String, url: String, secret: SecretBytes, criticalOnly: Bool = false) {
            self.name = name
            self.url = url
            self.secret = secret
            self.criticalOnly = criticalOnly
        }
    }

    public var email: Email?
    public var webhooks: [Webhook]
    /// Addresses that get administrators' notifications, besides the members of `server.administratorGroups`.
    public var administratorEmails: [String]
    /// How long before an activation ends its holder is told.
    public var expiringLeadTime: Duration
    /// Links in messages point here (e.g. `https://drawbridge.example.org`).
    public var publicURL: String?
    /// Failed deliveries are retried after 5 s, doubling up to this, for `maxAttempts` tries.
    public var maxRetryDelay: Duration
    public var maxAttempts: Int

    public init(
        email: Email? = nil, webhooks: [Webhook] = [], administratorEmails: [String] = [], expiringLeadTime: Duration = .seconds(15 * 60),
        publicURL: String? = nil, maxRetryDelay: Duration = .seconds(600), maxAttempts: Int = 12
    ) {
        self.email = email
        self.webhooks = webhooks
        self.administratorEmails = administratorEmails
        self.expiringLeadTime = expiringLeadTime
        self.publicURL = publicURL
        self.maxRetryDelay = maxRetryDelay
        self.maxAttempts = maxAttempts
    }

    public var isEnabled: Bool { email != nil || !webhooks.isEmpty }
}
