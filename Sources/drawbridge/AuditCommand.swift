import ArgumentParser
import DrawbridgeCore
import DrawbridgeStore
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The tamper-evident audit log.", subcommands: [Verify.self, Export.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; name the first record modified, deleted or inserted.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let records = try await context.withStore { try await $0.auditRecords(.all) }
                if let problem = AuditChain.verify(records) {
                    print("audit log TAMPERED: \(problem)")
                    throw ExitCode(2)
                }
                print("audit log intact: \(records.count) records, last hash \(records.last?.hash ?? AuditRecord.genesisHash)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write audit records as CSV, JSON or JSON Lines.")
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case csv, json, jsonl
        }

        @OptionGroup var options: GlobalOptions
        @Option(help: "csv, json or jsonl") var format: Format = .jsonl
        @Option(help: "From this time (ISO 8601).") var since: TimeArgument?
        @Option(help: "Before this time (ISO 8601).") var until: TimeArgument?
        @Option(help: "Only records about this user.") var user: String?
        @Option(help: "Only records about this scope or below.") var scope: ScopePath?

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let records = try await context.withStore {
                    try await $0.auditRecords(AuditQuery(since: since?.date, until: until?.date, userLogin: user, scope: scope))
                }
                let rows = records.map(AuditRow.init)
                switch format {
                case .json:
                    print(try JSONOutput.encode(rows))
                case .jsonl:
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    encoder.dateEncodingStrategy = .iso8601
                    for row in rows { print(String(decoding: try encoder.encode(row), as: UTF8.self)) }
                case .csv:
                    print(AuditRow.csvHeader)
                    for row in rows { print(row.csvLine) }
                }
            }
        }
    }
}

struct AuditRow: Encodable {
    let sequence: Int64
    let at: Date
    let action: String
    let outcome: String
    let actor: String
    let source: String
    let requestID: String?
    let subjectID: String?
    let user: String?
    let scope: String?
    let role: String?
    let group: String?
    let justification: String?
    let ticket: String?
    let reason: String?
    let details: [String: String]
    let hash: String

    init(_ record: AuditRecord) {
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

    static let csvHeader = "sequence,at,action,outcome,actor,source,request_id,subject_id,user,scope,role,group,justification,ticket,reason,details,hash"

    var csvLine: String {
        let detailText = details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let cells: [String?] = [
            "\(sequence)", at.iso8601, action, outcome, actor, source, requestID, subjectID, user, scope, role, group, justification, ticket, reason,
            detailText, hash,
        ]
        return cells.map { Self.csvCell($0 ?? "") }.joined(separator: ",")
    }

    /// RFC 4180 quoting; a leading =, +, -, @, tab or carriage return is prefixed with ' so spreadsheets do not
    /// run it as a formula.
    static func csvCell(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
