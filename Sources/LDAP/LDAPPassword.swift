/// A password that never shows up in `description`, `debugDescription`, `dump` or string interpolation.
public struct LDAPPassword: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// RFC 4513 §5.1.2: a simple bind with an empty password is an unauthenticated bind that servers accept.
    public var isBlank: Bool {
        value.allSatisfy(\.isWhitespace)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// How a connection authenticates after connecting.
public enum LDAPCredentials: Sendable, CustomStringConvertible {
    /// An explicit anonymous bind; only used when the configuration asks for it.
    case anonymous
    case simple(dn: String, password: LDAPPassword)

    public var description: String {
        switch self {
        case .anonymous: "anonymous"
        case .simple(let dn, _): "simple bind as \(dn)"
        }
    }
}
