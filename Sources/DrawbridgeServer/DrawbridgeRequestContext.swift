import DrawbridgeCore
import Foundation
import Hummingbird
import HummingbirdAuth
import NIOCore

/// Per-request state: who is signed in (by session or token), their session, and the peer address.
public struct DrawbridgeRequestContext: AuthRequestContext, SessionRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: SignedInUser?
    public let sessions: SessionContext<WebSession>
    public let remoteAddress: SocketAddress?
    /// Set by `ClientAddressMiddleware`: the socket peer, or the forwarded client when the peer is a trusted proxy.
    public var clientAddress: IPAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sessions = .init()
        remoteAddress = source.channel.remoteAddress
    }

    public var requestDecoder: JSONDecoder { APICoding.decoder }
    public var responseEncoder: JSONEncoder { APICoding.encoder }
}

/// A person the server has authenticated, and how.
public struct SignedInUser: Sendable {
    public enum Method: Sendable, Equatable {
        case session
        case token(APITokenID)
    }

    public var user: DirectoryUserRecord
    public var isAdministrator: Bool
    public var method: Method
    /// The last TOTP verification in this session (a token request may carry its own code instead).
    public var mfaVerifiedAt: Date?

    /// The actor for self-service actions: the person as themselves.
    public var actor: Actor { .user(user) }

    /// The actor for administration, which the engine allows only to administrators.
    public var administratorActor: Actor { Actor(kind: .administrator, name: user.login, userID: user.id) }
}

/// What the session cookie stands for, stored server-side.
public struct WebSession: Codable, Sendable {
    /// nil before sign-in: the session then only carries the sign-in form's CSRF token.
    public var userID: DirectoryEntryID?
    /// Signed in with the password, waiting for the TOTP code of an enrolled user.
    public var awaitingSecondFactor: Bool
    public var csrfToken: String
    /// The absolute timeout runs from here.
    public var createdAt: Date
    public var mfaVerifiedAt: Date?
    /// Messages for the next page the browser loads (post, redirect, get).
    public var flash: [Flash]?

    public struct Flash: Codable, Sendable {
        public var error: Bool
        public var text: String
    }

    public init(userID: DirectoryEntryID? = nil, awaitingSecondFactor: Bool = false, csrfToken: String = WebSession.newCSRFToken(), createdAt: Date, mfaVerifiedAt: Date? = nil) {
        self.userID = userID
        self.awaitingSecondFactor = awaitingSecondFactor
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.mfaVerifiedAt = mfaVerifiedAt
    }

    public static func newCSRFToken() -> String { RandomToken.make(bytes: 24) }
}

/// The API's JSON: ISO 8601 dates, sorted keys.
public enum APICoding {
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
