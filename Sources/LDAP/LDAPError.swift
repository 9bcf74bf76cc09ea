/// An error from the LDAP client. Its `description` names the operation and the server's diagnostic
/// but never a password: credentials are not stored in the error.
public struct LDAPError: Error, Sendable, CustomStringConvertible {
    private enum Base: Sendable {
        case server(code: LDAPResultCode, diagnostic: String, operation: String)
        case blankPassword(dn: String)
        case invalidConfiguration(String)
        case invalidResponse(String)
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    static func server(_ code: LDAPResultCode, diagnostic: String, operation: String) -> LDAPError {
        LDAPError(.server(code: code, diagnostic: diagnostic, operation: operation))
    }

    static func blankPassword(dn: String) -> LDAPError {
        LDAPError(.blankPassword(dn: dn))
    }

    static func invalidConfiguration(_ message: String) -> LDAPError {
        LDAPError(.invalidConfiguration(message))
    }

    static func invalidResponse(_ message: String) -> LDAPError {
        LDAPError(.invalidResponse(message))
    }

    /// The LDAP result code, when the server (or libldap) produced one.
    public var resultCode: LDAPResultCode? {
        if case .server(let code, _, _) = base { return code }
        return nil
    }

    /// The server's diagnostic message, if any.
    public var diagnosticMessage: String? {
        if case .server(_, let diagnostic, _) = base, !diagnostic.isEmpty { return diagnostic }
        return nil
    }

    public var isConnectionLost: Bool {
        resultCode?.meansConnectionLost ?? false
    }

    /// The server did not answer in time; the connection may be half-dead and is not worth reusing.
    public var isTimeout: Bool {
        resultCode == .timeout
    }

    /// The directory's schema refused the change, e.g. removing the last `member` of a `groupOfNames`.
    public var isObjectClassViolation: Bool {
        resultCode == .objectClassViolation
    }

    public var description: String {
        switch base {
        case .server(let code, let diagnostic, let operation):
            var text = "LDAP \(operation) failed: \(code)"
            if !diagnostic.isEmpty { text += ": \(diagnostic)" }
            if code == .objectClassViolation {
                text += " (the schema refused the change; a groupOfNames must keep at least one member)"
            }
            return text
        case .blankPassword(let dn):
            return "refusing to bind as \(dn) with an empty password: a simple bind without a password is an anonymous bind (RFC 4513 §5.1.2)"
        case .invalidConfiguration(let message):
            return "invalid LDAP configuration: \(message)"
        case .invalidResponse(let message):
            return "unexpected LDAP response: \(message)"
        }
    }
}
