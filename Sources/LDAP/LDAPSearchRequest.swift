public struct LDAPSearchRequest: Sendable {
    public enum Scope: Int32, Sendable {
        case base = 0
        case oneLevel = 1
        case subtree = 2
    }

    public var base: String
    public var scope: Scope
    public var filter: String
    /// Attribute descriptions to return; empty means all user attributes.
    public var attributes: [String]
    /// Entries per page of the Simple Paged Results control (RFC 2696); nil searches without paging.
    public var pageSize: Int?

    public init(
        base: String,
        scope: Scope = .subtree,
        filter: String = "(objectClass=*)",
        attributes: [String] = [],
        pageSize: Int? = 1000
    ) {
        self.base = base
        self.scope = scope
        self.filter = filter
        self.attributes = attributes
        self.pageSize = pageSize
    }
}
