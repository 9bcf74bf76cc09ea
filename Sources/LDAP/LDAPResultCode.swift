/// An LDAP result code (RFC 4511 §4.1.9), or one of libldap's negative client-side codes.
public struct LDAPResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let success = LDAPResultCode(rawValue: 0)
    public static let operationsError = LDAPResultCode(rawValue: 1)
    public static let protocolError = LDAPResultCode(rawValue: 2)
    public static let timeLimitExceeded = LDAPResultCode(rawValue: 3)
    public static let sizeLimitExceeded = LDAPResultCode(rawValue: 4)
    public static let authMethodNotSupported = LDAPResultCode(rawValue: 7)
    public static let strongerAuthRequired = LDAPResultCode(rawValue: 8)
    public static let referral = LDAPResultCode(rawValue: 10)
    public static let adminLimitExceeded = LDAPResultCode(rawValue: 11)
    public static let unavailableCriticalExtension = LDAPResultCode(rawValue: 12)
    public static let confidentialityRequired = LDAPResultCode(rawValue: 13)
    public static let noSuchAttribute = LDAPResultCode(rawValue: 16)
    public static let undefinedAttributeType = LDAPResultCode(rawValue: 17)
    public static let inappropriateMatching = LDAPResultCode(rawValue: 18)
    public static let constraintViolation = LDAPResultCode(rawValue: 19)
    public static let attributeOrValueExists = LDAPResultCode(rawValue: 20)
    public static let invalidAttributeSyntax = LDAPResultCode(rawValue: 21)
    public static let noSuchObject = LDAPResultCode(rawValue: 32)
    public static let invalidDNSyntax = LDAPResultCode(rawValue: 34)
    public static let inappropriateAuthentication = LDAPResultCode(rawValue: 48)
    public static let invalidCredentials = LDAPResultCode(rawValue: 49)
    public static let insufficientAccessRights = LDAPResultCode(rawValue: 50)
    public static let busy = LDAPResultCode(rawValue: 51)
    public static let unavailable = LDAPResultCode(rawValue: 52)
    public static let unwillingToPerform = LDAPResultCode(rawValue: 53)
    public static let namingViolation = LDAPResultCode(rawValue: 64)
    public static let objectClassViolation = LDAPResultCode(rawValue: 65)
    public static let notAllowedOnNonLeaf = LDAPResultCode(rawValue: 66)
    public static let entryAlreadyExists = LDAPResultCode(rawValue: 68)
    public static let other = LDAPResultCode(rawValue: 80)

    public static let serverDown = LDAPResultCode(rawValue: -1)
    public static let localError = LDAPResultCode(rawValue: -2)
    public static let encodingError = LDAPResultCode(rawValue: -3)
    public static let decodingError = LDAPResultCode(rawValue: -4)
    public static let timeout = LDAPResultCode(rawValue: -5)
    public static let filterError = LDAPResultCode(rawValue: -7)
    public static let parameterError = LDAPResultCode(rawValue: -9)
    public static let noMemory = LDAPResultCode(rawValue: -10)
    public static let connectError = LDAPResultCode(rawValue: -11)
    public static let notSupported = LDAPResultCode(rawValue: -12)
    public static let controlNotFound = LDAPResultCode(rawValue: -13)

    /// The connection is gone and a new one may succeed.
    public var meansConnectionLost: Bool {
        self == .serverDown || self == .connectError
    }

    public var name: String {
        switch self {
        case .success: "success"
        case .operationsError: "operationsError"
        case .protocolError: "protocolError"
        case .timeLimitExceeded: "timeLimitExceeded"
        case .sizeLimitExceeded: "sizeLimitExceeded"
        case .authMethodNotSupported: "authMethodNotSupported"
        case .strongerAuthRequired: "strongerAuthRequired"
        case .referral: "referral"
        case .adminLimitExceeded: "adminLimitExceeded"
        case .unavailableCriticalExtension: "unavailableCriticalExtension"
        case .confidentialityRequired: "confidentialityRequired"
        case .noSuchAttribute: "noSuchAttribute"
        case .undefinedAttributeType: "undefinedAttributeType"
        case .inappropriateMatching: "inappropriateMatching"
        case .constraintViolation: "constraintViolation"
        case .attributeOrValueExists: "attributeOrValueExists"
        case .invalidAttributeSyntax: "invalidAttributeSyntax"
        case .noSuchObject: "noSuchObject"
        case .invalidDNSyntax: "invalidDNSyntax"
        case .inappropriateAuthentication: "inappropriateAuthentication"
        case .invalidCredentials: "invalidCredentials"
        case .insufficientAccessRights: "insufficientAccessRights"
        case .busy: "busy"
        case .unavailable: "unavailable"
        case .unwillingToPerform: "unwillingToPerform"
        case .namingViolation: "namingViolation"
        case .objectClassViolation: "objectClassViolation"
        case .notAllowedOnNonLeaf: "notAllowedOnNonLeaf"
        case .entryAlreadyExists: "entryAlreadyExists"
        case .other: "other"
        case .serverDown: "serverDown"
        case .localError: "localError"
        case .encodingError: "encodingError"
        case .decodingError: "decodingError"
        case .timeout: "timeout"
        case .filterError: "filterError"
        case .parameterError: "parameterError"
        case .noMemory: "noMemory"
        case .connectError: "connectError"
        case .notSupported: "notSupported"
        case .controlNotFound: "controlNotFound"
        default: "code"
        }
    }

    public var description: String {
        "\(name) (\(rawValue))"
    }
}
