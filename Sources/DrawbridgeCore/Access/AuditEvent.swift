import Crypto
import Foundation

/// One entry of the audit log as an action writes it; the store numbers and chains it.
public struct AuditEvent: Hashable, Sendable, Codable {
    public enum Outcome: String, Hashable, Sendable, Codable {
        case success
        case refused
        case failed
    }

    /// What happened, such as `activation.requested` or `membership.removed`.
    public var action: String
    public var outcome: Outcome
    public var actor: Actor
    public var source: ActionSource
    public var requestID: RequestID?
    public var subjectID: String?
    public var userLogin: String?
    public var scope: ScopePath?
    public var role: RoleName?
    public var groupDN: String?
    public var justification: String?
    public var ticket: String?
    public var reason: String?
    /// Anything else worth keeping, as text.
    public var details: [String: String]

    public init(
        action: String, outcome: Outcome = .success, actor: Actor, source: ActionSource, requestID: RequestID? = nil,
        subjectID: String? = nil, userLogin: String? = nil, scope: ScopePath? = nil, role: RoleName? = nil, groupDN: String? = nil,
        justification: String? = nil, ticket: String? = nil, reason: String? = nil, details: [String: String] = [:]
    ) {
        self.action = action
        self.outcome = outcome
        self.actor = actor
        self.source = source
        self.requestID = requestID
        self.subjectID = subjectID
        self.userLogin = userLogin
        self.scope = scope
        self.role = role
        self.groupDN = groupDN
        self.justification = justification
        self.ticket = ticket
        self.reason = reason
        self.details = details
    }
}

/// A stored audit entry: its place in the log, its time, the event as the JSON text that was hashed, and
/// the hash that chains it to the one before.
public struct AuditRecord: Hashable, Sendable {
    public var sequence: Int64
    /// Milliseconds since 1970, so the hashed text never depends on floating-point formatting.
    public var timestampMilliseconds: Int64
    /// The event's canonical JSON, exactly as stored and hashed.
    public var eventJSON: String
    public var previousHash: String
    public var hash: String

    /// A new record chained after `previousHash`.
    public init(sequence: Int64, at time: Date, event: AuditEvent, previousHash: String) {
        self.init(
            sequence: sequence, timestampMilliseconds: Int64((time.timeIntervalSince1970 * 1000).rounded()),
            eventJSON: String(decoding: Self.canonicalJSON(event), as: UTF8.self), previousHash: previousHash, hash: "")
        hash = computedHash()
    }

    /// A record as read back from the store.
    public init(sequence: Int64, timestampMilliseconds: Int64, eventJSON: String, previousHash: String, hash: String) {
        self.sequence = sequence
        self.timestampMilliseconds = timestampMilliseconds
        self.eventJSON = eventJSON
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The hash before the first record.
    public static let genesisHash = String(repeating: "0", count: 64)

    public var at: Date { Date(timeIntervalSince1970: Double(timestampMilliseconds) / 1000) }

    /// The event, or nil when the stored text is no longer a valid event (which `AuditChain.verify` reports).
    public var event: AuditEvent? { try? JSONDecoder().decode(AuditEvent.self, from: Data(eventJSON.utf8)) }

    /// SHA-256 over the previous hash, the sequence number, the time and the event's JSON text.
    public func computedHash() -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(previousHash)\n\(sequence)\n\(timestampMilliseconds)\n".utf8))
        hasher.update(data: Data(eventJSON.utf8))
        return Self.hex(hasher.finalize())
    }

    /// Lowercase hex; String(format:) per byte was a tenth of the time of a burst of expiries.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Sorted keys: the same event always gives the same bytes.
    public static func canonicalJSON(_ event: AuditEvent) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // An event holds only strings, string enums and a dictionary of strings: encoding cannot fail.
        return (try? encoder.encode(event)) ?? Data()
    }
}

/// The first place where the stored log stops agreeing with its hash chain.
public struct AuditChainBreak: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// The record's content no longer matches its hash.
        case modified
        /// Records are missing before this one.
        case deleted
        /// This record was not written by the chain (its predecessor link or numbering is wrong).
        case inserted
    }

    public var kind: Kind
    public var sequence: Int64
    public var detail: String

    public var description: String { "record \(sequence) \(kind.rawValue): \(detail)" }
}

public enum AuditChain {
    /// Checks records in stored order; returns the first break, or nil when the chain is intact.
    public static func verify(_ records: some Sequence<AuditRecord>) -> AuditChainBreak? {
        var previousHash = AuditRecord.genesisHash
        var expectedSequence: Int64 = 1
        for record in records {
            let contentIntact = record.computedHash() == record.hash
            if record.previousHash != previousHash {
                if record.sequence > expectedSequence && contentIntact {
                    return AuditChainBreak(kind: .deleted, sequence: record.sequence, detail: "records \(expectedSequence)…\(record.sequence - 1) are missing")
                }
                return AuditChainBreak(
                    kind: .inserted, sequence: record.sequence,
                    detail: "it does not link to record \(expectedSequence - 1): it was inserted, or that record was rewritten")
            }
            if !contentIntact {
                return AuditChainBreak(kind: .modified, sequence: record.sequence, detail: "its content does not match its hash")
            }
            if record.sequence != expectedSequence {
                return AuditChainBreak(kind: .inserted, sequence: record.sequence, detail: "expected number \(expectedSequence)")
            }
            previousHash = record.hash
            expectedSequence = record.sequence + 1
        }
        return nil
    }
}
