import DrawbridgeConfig
import DrawbridgeCore
import Foundation
import LDAP
import Logging

/// Checks a login and password against the directory: finds the user's entry with the service account (the
/// login escaped into the filter), then binds as that entry over the same URLs and TLS settings.
public struct DirectorySignIn: Sendable {
    public enum Outcome: Sendable, Equatable {
        case authenticated(DistinguishedName)
        /// Unknown login, ambiguous login or wrong password: deliberately one case, so no caller can tell them apart.
        case rejected
    }

    let directory: DirectoryConfiguration
    let pool: LDAPConnectionPool
    let logger: Logger

    public init(directory: DirectoryConfiguration, pool: LDAPConnectionPool, logger: Logger) {
        self.directory = directory
        self.pool = pool
        self.logger = logger
    }

    /// Throws only when the directory cannot be asked (down, misconfigured); never because of the credentials.
    public func verify(login: String, password: LDAPPassword) async throws -> Outcome {
        // An empty password would be an unauthenticated bind (RFC 4513 §5.1.2), which servers accept.
        guard !password.isBlank, !login.isEmpty, login.count <= 256 else { return .rejected }
        let filter = LDAPFilter.and([directory.users.filter, try LDAPFilter.equal(directory.users.loginAttribute, login)])
        let request = LDAPSearchRequest(base: directory.users.baseDN.description, filter: filter.string, attributes: ["1.1"], pageSize: nil)
        let entries = try await pool.withConnection { try await $0.searchAll(request) }
        guard entries.count == 1, let entry = entries.first, let dn = try? DistinguishedName(entry.dn) else {
            if entries.count > 1 { logger.warning("sign-in refused: the login matches more than one directory entry", metadata: ["count": "\(entries.count)"]) }
            return .rejected
        }
        var configuration = directory.connection
        configuration.credentials = .simple(dn: entry.dn, password: password)
        do {
            let connection = try await LDAPConnection.connect(configuration)
            await connection.close()
            return .authenticated(dn)
        } catch let error as LDAPError where error.resultCode.map(Self.refusesTheAccount) ?? false {
            // Anything but a wrong password (a locked or inactivated account) is logged for the administrator, and
            // answered like a wrong password, under the same throttle, so it reveals nothing to the caller.
            if let code = error.resultCode, code != .invalidCredentials {
                logger.notice("sign-in bind refused by the directory", metadata: ["result": "\(code)"])
            }
            return .rejected
        }
    }

    /// A result that refuses these credentials or this account (wrong password; locked: 19 on OpenLDAP's ppolicy
    /// and 389-ds; inactivated: 53 on 389-ds; denied: 50), as opposed to a server or setup problem, which stays
    /// "directory unavailable" and is not counted against the login or the address.
    static func refusesTheAccount(_ code: LDAPResultCode) -> Bool {
        [.invalidCredentials, .inappropriateAuthentication, .constraintViolation, .unwillingToPerform, .insufficientAccessRights].contains(code)
    }
}
