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
