import DrawbridgeConfig
import DrawbridgeCore
import LDAP

/// Checks a configuration against the live directory without touching the store: binds, counts
/// users and groups, and evaluates the mapping rules on the groups found.
public struct DirectoryProbe: Sendable {
    public struct Result: Sendable {
        public var identity: String
        public var userCount: Int
        public var groupCount: Int
        public var mapping: ScopeMapper.Result
        public var warnings: [String]
    }

    let configuration: DirectoryConfiguration
    let pool: LDAPConnectionPool
    let mapper: ScopeMapper

    public init(configuration: DirectoryConfiguration, pool: LDAPConnectionPool, mapper: ScopeMapper) {
        self.configuration = configuration
        self.pool = pool
        self.mapper = mapper
    }

    public func run() async throws -> Result {
        let decoder = DirectoryEntryDecoder(configuration: configuration)
        let (identity, userCount, groups, warnings) = try await pool.withConnection { connection in
            let identity = try await connection.whoAmI()
            var userCount = 0
            let users = configuration.users
            let userRequest = LDAPSearchRequest(base: users.baseDN.description, filter: users.filter.description, attributes: ["1.1"], pageSize: configuration.pageSize)
            for try await page in connection.search(userRequest) { userCount += page.count }
            var groups: [GroupReference] = []
            var warnings: [String] = []
            var parsed = DistinguishedNameCache()
            let groupSchema = configuration.groups
            let groupRequest = LDAPSearchRequest(
                base: groupSchema.baseDN.description, filter: groupSchema.filter.description,
                attributes: [groupSchema.idAttribute, groupSchema.nameAttribute], pageSize: configuration.pageSize)
            for try await page in connection.search(groupRequest) {
                for entry in page {
                    let (record, problems) = decoder.group(entry, fingerprint: nil, &parsed)
                    warnings += problems.map(\.description)
                    if let record { groups.append(GroupReference(id: record.id, dn: record.dn, name: record.name)) }
                }
            }
            return (identity, userCount, groups, warnings)
        }
        let mapping = try mapper.map(groups)
        return Result(identity: identity, userCount: userCount, groupCount: groups.count, mapping: mapping, warnings: warnings + mapping.warnings.map(\.description))
    }
}
