/// Presets for the common directory servers. They only supply defaults; every value can be overridden.
public enum DirectoryFlavor: String, Sendable, CaseIterable, Codable {
    case openldap
    case ds389 = "389ds"
    case freeipa
    case activedirectory

    var userFilter: String {
        switch self {
        case .openldap, .ds389: "(objectClass=inetOrgPerson)"
        case .freeipa: "(objectClass=posixAccount)"
        case .activedirectory: "(&(objectCategory=person)(objectClass=user))"
        }
    }

    var groupFilter: String {
        switch self {
        case .openldap: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"
        case .ds389: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
        case .freeipa: "(objectClass=ipaUserGroup)"
        // Security groups only: groupType has the security-enabled bit (0x80000000).
        case .activedirectory: "(&(objectClass=group)(groupType:1.2.840.113556.1.4.803:=2147483648))"
        }
    }

    var idAttribute: String {
        switch self {
        case .openldap: "entryUUID"
        case .ds389: "nsUniqueId"
        case .freeipa: "ipaUniqueID"
        case .activedirectory: "objectGUID"
        }
    }

    var loginAttribute: String {
        self == .activedirectory ? "sAMAccountName" : "uid"
    }

    var disabledRule: DisabledRule {
        switch self {
        case .openldap: DisabledRule(attribute: "pwdAccountLockedTime", test: .present)
        case .ds389, .freeipa: DisabledRule(attribute: "nsAccountLock", test: .equals("TRUE"))
        case .activedirectory: DisabledRule(attribute: "userAccountControl", test: .bitmask(2))
        }
    }

    var memberAttributes: [MemberAttribute] {
        switch self {
        case .openldap:
            [MemberAttribute(attribute: "member", references: .dn), MemberAttribute(attribute: "uniqueMember", references: .dn),
             MemberAttribute(attribute: "memberUid", references: .login)]
        case .ds389:
            [MemberAttribute(attribute: "member", references: .dn), MemberAttribute(attribute: "uniqueMember", references: .dn)]
        case .freeipa, .activedirectory:
            [MemberAttribute(attribute: "member", references: .dn)]
        }
    }

    var ownerAttribute: String {
        self == .activedirectory ? "managedBy" : "owner"
    }

    var changeAttribute: String {
        self == .activedirectory ? "uSNChanged" : "modifyTimestamp"
    }

    var changeOrdering: ChangeOrdering {
        self == .activedirectory ? .number : .time
    }
}
