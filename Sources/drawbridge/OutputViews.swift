import DrawbridgeCore
import Foundation

/// JSON shapes of the CLI's output: flat, stable field names, ISO 8601 dates.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

struct UserView: Encodable {
    let id: String
    let dn: String
    let login: String
    let displayName: String?
    let mail: String?
    let status: String
    let firstSeenAt: Date
    let syncedAt: Date
    let deletedAt: Date?

    init(_ user: StoredUser) {
        id = user.record.id.rawValue
        dn = user.record.dn.description
        login = user.record.login
        displayName = user.record.displayName
        mail = user.record.mail
        status = user.status
        firstSeenAt = user.firstSeenAt
        syncedAt = user.syncedAt
        deletedAt = user.deletedAt
    }
}

struct GroupView: Encodable {
    let id: String
    let dn: String
    let name: String
    let description: String?
    let directMemberCount: Int
    let deletedAt: Date?

    init(_ group: StoredGroup) {
        id = group.id.rawValue
        dn = group.dn.description
        name = group.name
        description = group.description
        directMemberCount = group.directMemberCount
        deletedAt = group.deletedAt
    }
}

struct BindingView: Encodable {
    let scope: String
    let role: String
    let groupID: String
    let groupDN: String
    let groupName: String
    let rule: String

    init(_ binding: RoleBinding) {
        scope = binding.scope.description
        role = binding.role.rawValue
        groupID = binding.groupID.rawValue
        groupDN = binding.groupDN.description
        groupName = binding.groupName
        rule = binding.rule
    }
}

struct UserDetailView: Encodable {
    let user: UserView
    let groups: [String]
    let effectiveGroups: [String]
    let roleBindings: [BindingView]
}

struct GroupDetailView: Encodable {
    let group: GroupView
    let members: [String]
    let effectiveMembers: [String]
    let roleBindings: [BindingView]
}
