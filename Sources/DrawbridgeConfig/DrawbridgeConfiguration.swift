import Foundation
import DrawbridgeCore
import LDAP

/// The validated configuration: presets applied, paths resolved, secrets loaded, rules compiled.
public struct DrawbridgeConfiguration: Sendable {
    public var directory: DirectoryConfiguration
    public var store: StoreConfiguration
    public var mappingRules: [MappingRule]
    public var access: AccessConfiguration
    public var server: ServerConfiguration
    public var notifications: NotificationConfiguration

    public init(
        directory: DirectoryConfiguration, store: StoreConfiguration, mappingRules: [MappingRule], access: AccessConfiguration = AccessConfiguration(),
        server: ServerConfiguration = ServerConfiguration(), notifications: NotificationConfiguration = NotificationConfiguration()
    ) {
        self.notifications = notifications
        self.directory = directory
        self.store = store
        self.mappingRules = mappingRules
        self.access = access
        self.server = server
    }
}

/// How the access engine, scheduler and reconciler behave.
public struct AccessConfiguration: Sendable {
    /// How often `drawbridge run` syncs the directory.
    public var syncInterval: Duration
    /// How often `drawbridge run` compares managed groups with what Drawbridge granted.
    public var reconcileInterval: Duration
    /// Kept in a `groupOfNames` that would otherwise be left without members (which the schema refuses).
    public var placeholderMember: DistinguishedName?
    /// Failed directory operations are retried after 1 s, doubling up to this.
    public var maxRetryDelay: Duration
    /// Rules whose matching groups' members are eligible for the rule's role at its scope.
    public var eligibilityRules: [MappingRule]
    /// Per mapping rule name.
    public var bindingSettings: [String: BindingSettings]
    /// How often access reviews move on (start, remind, complete) and security alerts are evaluated, besides after each sync and reconcile.
    public var governanceInterval: Duration
    public var alertThresholds: AlertThresholds

    public init(
        syncInterval: Duration = .seconds(300), reconcileInterval: Duration = .seconds(300), placeholderMember: DistinguishedName? = nil,
        maxRetryDelay: Duration = .seconds(5), eligibilityRules: [MappingRule] = [], bindingSettings: [String: BindingSettings] = [:],
        governanceInterval: Duration = .seconds(60), alertThresholds: AlertThresholds = AlertThresholds()
    ) {
        self.syncInterval = syncInterval
        self.reconcileInterval = reconcileInterval
        self.placeholderMember = placeholderMember
        self.maxRetryDelay = maxRetryDelay
        self.eligibilityRules = eligibilityRules
        self.bindingSettings = bindingSettings
        self.governanceInterval = governanceInterval
        self.alertThresholds = alertThresholds
    }

    public func settings(forRule rule: String) -> BindingSettings {
        bindingSettings[rule] ?? BindingSettings()
    }
}

public struct StoreConfiguration: Sendable {
    public var sqlitePath: String

    public init(sqlitePath: String) {
        self.sqlitePath = sqlitePath
    }
}

public struct DirectoryConfiguration: Sendable {
    public var flavor: DirectoryFlavor
    public var connection: LDAPConnectionConfiguration
    public var pageSize: Int
    public var poolSize: Int
    public var users: UserSchema
    public var groups: GroupSchema
    public var changeAttribute: String
    public var changeOrdering: ChangeOrdering
    public var fullSyncInterval: Duration
    /// How far before the server's clock at a sync's start the next incremental sync reads again: changes that
    /// reach the server later with an earlier time (replication from another supplier) must still fall after it.
    public var changeMargin: Duration
    /// A full sync that would mark more than this share of the live users or groups deleted is refused.
    public var maxDeletionPercent: Int

    public init(
        flavor: DirectoryFlavor, connection: LDAPConnectionConfiguration, pageSize: Int, poolSize: Int, users: UserSchema,
        groups: GroupSchema, changeAttribute: String, changeOrdering: ChangeOrdering, fullSyncInterval: Duration,
        changeMargin: Duration = .seconds(1), maxDeletionPercent: Int = 20
    ) {
        self.flavor = flavor
        self.connection = connection
        self.pageSize = pageSize
        self.poolSize = poolSize
        self.users = users
        self.groups = groups
        self.changeAttribute = changeAttribute
        self.changeOrdering = changeOrdering
        self.fullSyncInterval = fullSyncInterval
        self.changeMargin = changeMargin
        self.maxDeletionPercent = maxDeletionPercent
    }
}

public struct UserSchema: Sendable {
    public var baseDN: DistinguishedName
    public var filter: LDAPFilter
    public var idAttribute: String
    public var loginAttribute: String
    public var displayNameAttribute: String
    public var mailAttribute: String
    public var disabled: DisabledRule

    public init(
        baseDN: DistinguishedName, filter: LDAPFilter, idAttribute: String, loginAttribute: String, displayNameAttribute: String,
        mailAttribute: String, disabled: DisabledRule
    ) {
        self.baseDN = baseDN
        self.filter = filter
        self.idAttribute = idAttribute
        self.loginAttribute = loginAttribute
        self.displayNameAttribute = displayNameAttribute
        self.mailAttribute = mailAttribute
        self.disabled = disabled
    }
}

extension GroupSchema {
    /// The attribute Drawbridge writes memberships to: the first configured one that holds DNs, else the first.
    public var grantAttribute: MemberAttribute {
        memberAttributes.first { $0.references == .dn } ?? memberAttributes[0]
    }
}

public struct GroupSchema: Sendable {
    public var baseDN: DistinguishedName
    public var filter: LDAPFilter
    public var idAttribute: String
    public var nameAttribute: String
    public var descriptionAttribute: String
    public var memberAttributes: [MemberAttribute]
    /// Holds the DNs of the group's owners (`owner`, AD's `managedBy`), who may review its access.
    public var ownerAttribute: String

    public init(
        baseDN: DistinguishedName, filter: LDAPFilter, idAttribute: String, nameAttribute: String, descriptionAttribute: String,
        memberAttributes: [MemberAttribute], ownerAttribute: String = "owner"
    ) {
        self.baseDN = baseDN
        self.filter = filter
        self.idAttribute = idAttribute
        self.nameAttribute = nameAttribute
        self.descriptionAttribute = descriptionAttribute
        self.memberAttributes = memberAttributes
        self.ownerAttribute = ownerAttribute
    }
}

/// How to tell that an account is disabled.
public struct DisabledRule: Sendable, Hashable {
    public enum Test: Sendable, Hashable {
        /// Disabled when the attribute has any value (OpenLDAP ppolicy's pwdAccountLockedTime).
        case present
        /// Disabled when a value equals this, ignoring case (389-ds nsAccountLock: TRUE).
        case equals(String)
        /// Disabled when the integer value has any of these bits (AD userAccountControl bit 2).
        case bitmask(Int)
    }

    public var attribute: String
    public var test: Test

    public init(attribute: String, test: Test) {
        self.attribute = attribute
        self.test = test
    }

    public func isDisabled(_ values: [String]) -> Bool {
        switch test {
        case .present:
            return !values.isEmpty
        case .equals(let expected):
            return values.contains { $0.caseInsensitiveCompare(expected) == .orderedSame }
        case .bitmask(let mask):
            return values.contains { Int($0.trimmingCharacters(in: .whitespaces)).map { $0 & mask != 0 } ?? false }
        }
    }
}

public struct MemberAttribute: Sendable, Hashable {
    public enum References: String, Sendable, Hashable {
        case dn
        case login
    }

    public var attribute: String
    public var references: References

    public init(attribute: String, references: References) {
        self.attribute = attribute
        self.references = references
    }
}

/// How change markers compare: GeneralizedTime text (modifyTimestamp, whenChanged) or integers (uSNChanged).
public enum ChangeOrdering: String, Sendable, Hashable {
    case time
    case number

    /// Whether marker `a` is later than `b`.
    public func isAfter(_ a: String, _ b: String) -> Bool {
        switch self {
        case .time: a > b
        case .number: (Int(a) ?? 0) > (Int(b) ?? 0)
        }
    }
}
