import CLDAP
import Dispatch
import Foundation

/// One libldap handle.
///
/// Safety of `@unchecked Sendable`: `handle` is read and written only inside blocks running on `queue`,
/// a serial queue owned by this object, so libldap never sees two threads on one handle; `configuration`
/// is immutable. libldap calls block, so they run on that queue rather than on Swift's cooperative pool.
public final class LDAPConnection: @unchecked Sendable {
    public let configuration: LDAPConnectionConfiguration
    private let queue: DispatchQueue
    private var handle: OpaquePointer?

    private init(configuration: LDAPConnectionConfiguration, handle: OpaquePointer, queue: DispatchQueue) {
        self.configuration = configuration
        self.handle = handle
        self.queue = queue
    }

    deinit {
        // No other reference exists here, so touching the handle off the queue is safe.
        if let handle { ldap_unbind_ext_s(handle, nil, nil) }
    }

    /// libldap writes to sockets with write(2); a server that went away must surface as an error, not SIGPIPE.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Opens a connection, negotiates StartTLS if configured, and binds.
    public static func connect(_ configuration: LDAPConnectionConfiguration) async throws -> LDAPConnection {
        try configuration.validate()
        _ = ignoreBrokenPipes
        let queue = DispatchQueue(label: "drawbridge.ldap.connection")
        let started = ContinuousClock.now
        do {
            let connection = try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    do {
                        let handle = try openHandle(configuration)
                        continuation.resume(returning: LDAPConnection(configuration: configuration, handle: handle, queue: queue))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
            LDAPMetrics.record("connect", since: started, error: nil)
            return connection
        } catch {
            LDAPMetrics.record("connect", since: started, error: error)
            throw error
        }
    }

    /// Runs `body` with the handle on this connection's queue, timing it as `operation` in the metrics.
    func withHandle<T: Sendable>(operation: String, _ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        let started = ContinuousClock.now
        do {
            let result = try await withHandle(body)
            LDAPMetrics.record(operation, since: started, error: nil)
            return result
        } catch {
            LDAPMetrics.record(operation, since: started, error: error)
            throw error
        }
    }

    /// Runs `body` with the handle on this connection's queue.
    private func withHandle<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let handle = self.handle else {
                    continuation.resume(throwing: LDAPError.server(.serverDown, diagnostic: "connection closed", operation: "use"))
                    return
                }
                continuation.resume(with: Result {
                    do {
                        return try body(handle)
                    } catch let error as LDAPError where error.isConnectionLost {
                        // A handle that lost its server must never be used again: were libldap to reconnect it
                        // (it has code paths that connect a handle on demand), it would do so without binding and
                        // without StartTLS. Closing it means this connection can only fail from now on.
                        ldap_unbind_ext_s(handle, nil, nil)
                        self.handle = nil
                        throw error
                    }
                })
            }
        }
    }

    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle {
                    ldap_unbind_ext_s(handle, nil, nil)
                    self.handle = nil
                }
                continuation.resume()
            }
        }
    }

    /// The authorization identity of this connection (RFC 4532), e.g. `dn:cn=drawbridge,ou=services,…`.
    public func whoAmI() async throws -> String {
        try await withHandle(operation: "whoami") { handle in
            var identity: UnsafeMutablePointer<berval>?
            let code = ldap_whoami_s(handle, &identity, nil, nil)
            defer { if let identity { ber_bvfree(identity) } }
            try Self.check(code, handle, operation: "who am I")
            guard let value = identity?.pointee, let bytes = value.bv_val else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(value.bv_len)), as: UTF8.self)
        }
    }

    /// The numeric address and port of the server this connection reached (of those its URLs name), or nil when
    /// it is closed or the socket cannot say.
    public func serverAddress() async -> String? {
        try? await withHandle { handle -> String? in
            var descriptor: Int32 = -1
            guard ldap_get_option(handle, LDAP_OPT_DESC, &descriptor) == LDAP_OPT_SUCCESS, descriptor >= 0 else { return nil }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            var port = [CChar](repeating: 0, count: Int(NI_MAXSERV))
            let found = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    getpeername(descriptor, address, &length) == 0
                        && getnameinfo(address, length, &host, socklen_t(host.count), &port, socklen_t(port.count), NI_NUMERICHOST | NI_NUMERICSERV) == 0
                }
            }
            guard found else { return nil }
            let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let portText = String(decoding: port.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return hostText.contains(":") ? "[\(hostText)]:\(portText)" : "\(hostText):\(portText)"
        } ?? nil
    }

    // MARK: - Opening

    private static func openHandle(_ configuration: LDAPConnectionConfiguration) throws -> OpaquePointer {
        var optionalHandle: OpaquePointer?
        let initCode = ldap_initialize(&optionalHandle, configuration.urls.joined(separator: " "))
        guard initCode == LDAP_SUCCESS, let handle = optionalHandle else {
            throw LDAPError.invalidConfiguration("libldap cannot use URL(s) \(configuration.urls.joined(separator: " ")): \(String(cString: ldap_err2string(initCode)))")
        }
        do {
            try setOptions(handle, configuration)
            if configuration.startTLS {
                try check(ldap_start_tls_s(handle, nil, nil), handle, operation: "StartTLS")
            }
            try bind(handle, configuration.credentials)
            return handle
        } catch {
            ldap_unbind_ext_s(handle, nil, nil)
            throw error
        }
    }

    private static func setOptions(_ handle: OpaquePointer, _ configuration: LDAPConnectionConfiguration) throws {
        var version = Int32(LDAP_VERSION3)
        try setOption(handle, LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version")
        try setOption(handle, LDAP_OPT_REFERRALS, cldap_opt_off(), "referrals")
        try setOption(handle, LDAP_OPT_RESTART, cldap_opt_on(), "restart")
        var networkTimeout = timeval(configuration.networkTimeout)
        try setOption(handle, LDAP_OPT_NETWORK_TIMEOUT, &networkTimeout, "network timeout")
        var operationTimeout = timeval(configuration.operationTimeout)
        try setOption(handle, LDAP_OPT_TIMEOUT, &operationTimeout, "operation timeout")
        // A flow that a firewall dropped while idle is then found dead within about two minutes, before the next
        // operation has to wait out its whole timeout on it.
        for (option, value, name) in [
            (LDAP_OPT_X_KEEPALIVE_IDLE, Int32(60), "keepalive idle time"), (LDAP_OPT_X_KEEPALIVE_PROBES, 3, "keepalive probes"),
            (LDAP_OPT_X_KEEPALIVE_INTERVAL, 15, "keepalive interval"),
        ] {
            var value = value
            try setOption(handle, option, &value, name)
        }
        guard configuration.usesTLS else { return }
        var requireCertificate = configuration.tls.verification == .require ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER
        try setOption(handle, LDAP_OPT_X_TLS_REQUIRE_CERT, &requireCertificate, "TLS certificate verification")
        if let caFile = configuration.tls.caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw LDAPError.invalidConfiguration("CA file \(caFile) is not readable")
            }
            try caFile.withCString { try setOption(handle, LDAP_OPT_X_TLS_CACERTFILE, $0, "TLS CA file") }
        }
        // Per-handle TLS options only take effect once a new context is built after them.
        var isServer: Int32 = 0
        try setOption(handle, LDAP_OPT_X_TLS_NEWCTX, &isServer, "TLS context")
    }

    private static func setOption(_ handle: OpaquePointer, _ option: Int32, _ value: UnsafeRawPointer?, _ name: String) throws {
        let code = ldap_set_option(handle, option, value)
        guard code == LDAP_OPT_SUCCESS else {
            throw LDAPError.invalidConfiguration("libldap refused the \(name) option: \(String(cString: ldap_err2string(code)))")
        }
    }

    private static func bind(_ handle: OpaquePointer, _ credentials: LDAPCredentials) throws {
        switch credentials {
        case .anonymous:
            var empty = berval(bv_len: 0, bv_val: nil)
            try check(ldap_sasl_bind_s(handle, "", cldap_sasl_simple(), &empty, nil, nil, nil), handle, operation: "anonymous bind")
        case .simple(let dn, let password):
            guard !password.isBlank else { throw LDAPError.blankPassword(dn: dn) }
            var bytes = Array(password.value.utf8)
            let code = bytes.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    var credential = berval(bv_len: ber_len_t(chars.count), bv_val: chars.baseAddress)
                    return ldap_sasl_bind_s(handle, dn, cldap_sasl_simple(), &credential, nil, nil, nil)
                }
            }
            try check(code, handle, operation: "bind as \(dn)")
        }
    }

    // MARK: - Results

    static func check(_ code: Int32, _ handle: OpaquePointer, operation: String) throws {
        guard code != LDAP_SUCCESS else { return }
        throw LDAPError.server(LDAPResultCode(rawValue: code), diagnostic: diagnosticMessage(handle), operation: operation)
    }

    static func diagnosticMessage(_ handle: OpaquePointer) -> String {
        var message: UnsafeMutablePointer<CChar>?
        guard ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) == LDAP_OPT_SUCCESS, let message else { return "" }
        defer { ldap_memfree(message) }
        return String(cString: message)
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
