import Foundation

/// One audit record flattened for export: JSON objects or CSV lines.
public struct AuditRow: Encodable, Sendable {
    public let sequence: Int64
    public let at: Date
    public let action: String
    public let outcome: String
    public let actor: String
    public let source: String
    public let requestID: String?
    public let subjectID: String?
    public let user: String?
    public let scope: String?
    public let role: String?
    public let group: String?
    public let justification: String?
    public let ticket: String?
    public let reason: String?
    public let details: [String: String]
    public let hash: String

    public init(_ record: AuditRecord) {
        let event = record.event
        sequence = record.sequence
        at = record.at
        action = event?.action ?? "(unreadable: run audit verify)"
        outcome = event?.outcome.rawValue ?? ""
        actor = event?.actor.description ?? ""
        source = event?.source.rawValue ?? ""
        requestID = event?.requestID?.rawValue
        subjectID = event?.subjectID
        user = event?.userLogin
        scope = event?.scope?.description
        role = event?.role?.rawValue
        group = event?.groupDN
        justification = event?.justification
        ticket = event?.ticket
        reason = event?.reason
        details = event?.details ?? [:]
        hash = record.hash
    }

    public static let csvHeader = "sequence,at,action,outcome,actor,source,request_id,subject_id,user,scope,role,group,justification,ticket,reason,details,hash"

    public var csvLine: String {
        let detailText = details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let cells: [String?] = [
            "\(sequence)", at.iso8601, action, outcome, actor, source, requestID, subjectID, user, scope, role, group, justification, ticket, reason,
            detailText, hash,
        ]
        return cells.map { Self.csvCell($0 ?? "") }.joined(separator: ",")
    }

    /// RFC 4180 quoting; a leading =, +, -, @, tab or carriage return is prefixed with ' so spreadsheets do not
    /// run it as a formula.
    public static func csvCell(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
