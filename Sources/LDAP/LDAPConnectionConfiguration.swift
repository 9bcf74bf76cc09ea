/// Everything needed to open and authenticate one connection.
public struct LDAPConnectionConfiguration: Sendable {
    public enum CertificateVerification: String, Sendable, Codable {
        /// The server certificate must chain to a trusted CA and match the host name.
        case require
        /// No verification at all; only when a configuration says so explicitly.
        case never
    }

    public struct TLS: Sendable {
        public var caFile: String?
        public var verification: CertificateVerification

        public init(caFile: String? = nil, verification: CertificateVerification = .require) {
            self.caFile = caFile
            self.verification = verification
        }
    }

    /// `ldap://` or `ldaps://` URLs, tried in order.
    public var urls: [String]
    public var startTLS: Bool
    public var tls: TLS
    public var credentials: LDAPCredentials
    public var networkTimeout: Duration
    public var operationTimeout: Duration

    public init(
        urls: [String],
        startTLS: Bool = false,
        tls: TLS = TLS(),
        credentials: LDAPCredentials,
        networkTimeout: Duration = .seconds(5),
        operationTimeout: Duration = .seconds(30)
    ) {
        self.urls = urls
        self.startTLS = startTLS
        self.tls = tls
        self.credentials = credentials
        self.networkTimeout = networkTimeout
        self.operationTimeout = operationTimeout
    }

    public var usesTLS: Bool {
        startTLS || urls.contains { $0.lowercased().hasPrefix("ldaps://") }
    }

    /// Checks what can be checked without a network: URL schemes and TLS consistency.
    public func validate() throws(LDAPError) {
        guard !urls.isEmpty else { throw .invalidConfiguration("no directory URL given") }
        for url in urls {
            let lower = url.lowercased()
            guard lower.hasPrefix("ldap://") || lower.hasPrefix("ldaps://") else {
                throw .invalidConfiguration("URL '\(url)' must start with ldap:// or ldaps://")
            }
            let rest = url.drop(while: { $0 != "/" }).dropFirst(2)
            let hostPort = rest.prefix { $0 != "/" }
            guard !hostPort.isEmpty, !hostPort.contains(where: \.isWhitespace) else {
                throw .invalidConfiguration("URL '\(url)' has no host")
            }
            if startTLS && lower.hasPrefix("ldaps://") {
                throw .invalidConfiguration("StartTLS cannot be used with ldaps:// URL '\(url)'")
            }
        }
        if case .simple(let dn, let password) = credentials {
            if dn.allSatisfy(\.isWhitespace) { throw .invalidConfiguration("the bind DN is empty") }
            if password.isBlank { throw .blankPassword(dn: dn) }
        }
    }
}
