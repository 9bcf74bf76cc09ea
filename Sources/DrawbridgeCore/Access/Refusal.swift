/// One reason an action is not allowed. An action is refused with every reason that applies, so a dry run
/// tells the whole story at once.
public struct Refusal: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable, Codable {
        case unknownUser
        case userDisabled
        case noBinding
        case notEligible
        case eligibilityNotStarted
        case eligibilityExpired
        case durationTooShort
        case durationTooLong
        case justificationRequired
        case ticketRequired
        case mfaRequired
        case startInPast
        case endBeforeStart
        case alreadyActive
        case selfApproval
        case notApprover
        case alreadyDecided
        case notPending
        case approvalTimedOut
        case notAllowed
        case permanentNotAllowed
        case readOnly
        case invalidState
        case notFound
        case invalidInput
        case networkNotAllowed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// An action refused for the reasons listed; nothing was changed.
public struct ActionRefused: Error, Hashable, Sendable, CustomStringConvertible {
    public var refusals: [Refusal]

    public init(_ refusals: [Refusal]) {
        self.refusals = refusals
    }

    public var description: String { "refused: " + refusals.map(\.message).joined(separator: "; ") }
}
