/// The configuration file as written: every field optional, so presets and defaults can fill the gaps.
struct RawConfiguration: Codable {
    var directory: RawDirectory?
    var store: RawStore?
    var mapping: RawMapping?
    var access: RawAccess?
    var server: RawServer?
    var notifications: RawNotifications?
}

struct RawNotifications: Codable {
    var email: RawEmail?
    var webhooks: [RawWebhook]?
    var administratorEmails: [String]?
    var expiringLeadTime: String?
    var publicURL: String?
    var maxRetryDelay: String?
    var maxAttempts: Int?
}

struct RawEmail: Codable {
    var url: String?
    var startTLS: Bool?
    var allowCleartext: Bool?
    var from: String?
    var username: String?
    var password: String?
    var passwordFile: String?
    var passwordEnv: String?
    var tls: RawTLS?
}

struct RawWebhook: Codable {
    var name: String?
    var url: String?
    var secret: String?
    var secretFile: String?
    var secretEnv: String?
    var level: String?
}

struct RawDirectory: Codable {
    var flavor: String?
    var urls: [String]?
    var startTLS: Bool?
    var tls: RawTLS?
    var bind: RawBind?
    var timeouts: RawTimeouts?
    var pageSize: Int?
    var poolSize: Int?
    var baseDN: String?
    var users: RawUsers?
    var groups: RawGroups?
    var sync: RawSync?
}

struct RawTLS: Codable {
    var caFile: String?
    var verify: String?
    var allowCleartext: Bool?
}

struct RawBind: Codable {
    var dn: String?
    var passwordFile: String?
    var passwordEnv: String?
    var anonymous: Bool?
    /// Only decoded to refuse it with a clear message.
    var password: String?
}

struct RawTimeouts: Codable {
    var connect: String?
    var operation: String?
}

struct RawUsers: Codable {
    var baseDN: String?
    var filter: String?
    var idAttribute: String?
    var loginAttribute: String?
    var displayNameAttribute: String?
    var mailAttribute: String?
    var disabled: RawDisabledRule?
}

struct RawDisabledRule: Codable {
    var attribute: String?
    var present: Bool?
    var equals: String?
    var bitmask: Int?
}

struct RawGroups: Codable {
    var baseDN: String?
    var filter: String?
    var idAttribute: String?
    var nameAttribute: String?
    var descriptionAttribute: String?
    var ownerAttribute: String?
    var memberAttributes: [RawMemberAttribute]?
}

struct RawMemberAttribute: Codable {
    var attribute: String?
    var references: String?
}

struct RawSync: Codable {
    var changeAttribute: String?
    var changeOrdering: String?
    var fullSyncInterval: String?
    var changeMargin: String?
    var maxDeletionPercent: Int?
}

struct RawStore: Codable {
    var sqlite: RawSQLite?
}

struct RawSQLite: Codable {
    var path: String?
}

struct RawMapping: Codable {
    var rules: [RawRule]?
}

struct RawRule: Codable {
    var name: String?
    var groupName: String?
    var groupDNPattern: String?
    var groupDN: String?
    var scope: String?
    var role: String?
    /// Mapping rules only.
    var drift: String?
    var protected: Bool?
}

struct RawAccess: Codable {
    var syncInterval: String?
    var reconcileInterval: String?
    var placeholderMember: String?
    var maxRetryDelay: String?
    var eligibilityRules: [RawRule]?
    var governanceInterval: String?
    var alerts: RawAlerts?
}

struct RawAlerts: Codable {
    var designatedRoles: [String]?
    var maxPermanentMembers: Int?
    var maxPermanentPercent: Double?
    var unusedAfter: String?
    var frequentActivations: Int?
    var frequentWindow: String?
    var backlogAge: String?
}

struct RawServer: Codable {
    var listen: String?
    var tls: RawServerTLS?
    var trustedProxies: [String]?
    var secureCookies: Bool?
    var administratorGroups: [String]?
    var sessions: RawSessions?
    var signIn: RawSignIn?
    var mfa: RawMFA?
}

struct RawServerTLS: Codable {
    var certificateFile: String?
    var keyFile: String?
}

struct RawSessions: Codable {
    var idleTimeout: String?
    var absoluteTimeout: String?
}

struct RawSignIn: Codable {
    var failureLimit: Int?
    var window: String?
}

struct RawMFA: Codable {
    var keyFile: String?
    var keyEnv: String?
    var stepUpMaxAge: String?
    var issuer: String?
}
