import DrawbridgeCore
import Foundation

/// How `drawbridge serve` listens, signs people in and protects what it stores.
public struct ServerConfiguration: Sendable {
    public struct TLS: Sendable {
        public var certificateFile: String
        public var keyFile: String

        public init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public var host: String
    public var port: Int
    public var tls: TLS?
    /// Peers whose `X-Forwarded-For` is believed; everyone else is taken at their socket address.
    public var trustedProxies: [IPNetwork]
    /// `Secure` session cookies: true when the server speaks TLS itself; set it when a proxy terminates TLS.
    public var secureCookies: Bool
    /// Directory groups (names or DNs) whose members, nested too, administer Drawbridge.
    public var administratorGroups: [String]
    public var sessionIdleTimeout: Duration
    public var sessionAbsoluteTimeout: Duration
    /// Failed sign-ins allowed per login and per client address within `signInWindow` before further attempts wait.
    public var signInFailureLimit: Int
    public var signInWindow: Duration
    /// Encrypts TOTP secrets at rest (AES-GCM); nil leaves MFA enrollment unavailable.
    public var secretKey: SecretBytes?
    /// A TOTP verification this recent satisfies a policy that requires MFA.
    public var mfaStepUpMaxAge: Duration
    /// Shown in authenticator apps.
    public var mfaIssuer: String

    public init(
        host: String = "127.0.0.1", port: Int = 8080, tls: TLS? = nil, trustedProxies: [IPNetwork] = [], administratorGroups: [String] = [],
        sessionIdleTimeout: Duration = .seconds(30 * 60), sessionAbsoluteTimeout: Duration = .seconds(12 * 3600),
        signInFailureLimit: Int = 5, signInWindow: Duration = .seconds(15 * 60), secretKey: SecretBytes? = nil,
        mfaStepUpMaxAge: Duration = .seconds(15 * 60), mfaIssuer: String = "Drawbridge"
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.trustedProxies = trustedProxies
        secureCookies = tls != nil
        self.administratorGroups = administratorGroups
        self.sessionIdleTimeout = sessionIdleTimeout
        self.sessionAbsoluteTimeout = sessionAbsoluteTimeout
        self.signInFailureLimit = signInFailureLimit
        self.signInWindow = signInWindow
        self.secretKey = secretKey
        self.mfaStepUpMaxAge = mfaStepUpMaxAge
        self.mfaIssuer = mfaIssuer
    }
}

/// Key material read from a file or the environment; never printed.
public struct SecretBytes: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
