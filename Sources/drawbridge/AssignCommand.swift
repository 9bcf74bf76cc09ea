import ArgumentParser
import DrawbridgeCore
import Foundation

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Direct (active) assignments: membership granted by an administrator.",
        subcommands: [Add.self, Remove.self, Extend.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign a role to a user now or from --start.")
        @OptionGroup var options: GlobalOptions
        @Option var user: String
        @Option var scope: ScopePath
        @Option var role: RoleName
        @OptionGroup var window: WindowOptions
        @Option var justification: String?
        @Option var ticket: String?
        @Flag var dryRun = false

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let assignment = try await context.withStore { store in
                    let (start, end) = try window.window(now: Date())
                    return try await context.engine(store).assign(
                        userLogin: user, scope: scope, role: role, start: start, end: end, justification: justification, ticket: ticket,
                        by: context.operatorActor, source: .cli, dryRun: dryRun)
                }
                print("\(dryRun ? "Would assign" : "Assigned") \(assignment.id): \(assignment.userLogin) \(assignment.role) at \(assignment.scope), \(assignment.state.rawValue), until \(formatTime(assignment.endAt))")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End an assignment now.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option var reason: String?
        @Flag var dryRun = false

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let assignment = try await context.withStore { store in
                    try await context.engine(store).removeAssignment(
                        AssignmentID(rawValue: id), reason: reason, by: context.operatorActor, source: .cli, dryRun: dryRun)
                }
                print("\(dryRun ? "Would end" : "Ended") assignment \(assignment.id) of \(assignment.userLogin)")
            }
        }
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move an assignment's end.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option(help: "The new end (ISO 8601).") var end: TimeArgument?
        @Flag(help: "No end (where the policy allows it).") var permanent = false
        @Option var justification: String?
        @Flag var dryRun = false

        func run() async throws {
            try await reportingErrors {
                guard (end != nil) != permanent else { throw CommandFailure("give exactly one of --end or --permanent") }
                let context = try CommandContext(options)
                let assignment = try await context.withStore { store in
                    try await context.engine(store).extendAssignment(
                        AssignmentID(rawValue: id), end: end?.date, justification: justification, by: context.operatorActor, source: .cli, dryRun: dryRun)
                }
                print("\(dryRun ? "Would extend" : "Extended") assignment \(assignment.id) until \(formatTime(assignment.endAt))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List assignments.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Include ended ones.") var all = false
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let assignments = try await context.withStore { store in
                    try await store.withAccessTransaction(commit: false) { try await $0.assignments(userID: nil, liveOnly: !all) }
                }
                switch format {
                case .json: print(try JSONOutput.encode(assignments))
                case .table:
                    print(TableRenderer(
                        headers: ["ID", "USER", "ROLE", "SCOPE", "KIND", "STATE", "START", "END"],
                        rows: assignments.map {
                            [$0.id.rawValue, $0.userLogin, $0.role.rawValue, $0.scope.description, $0.kind.rawValue, $0.state.rawValue,
                             formatTime($0.startAt), formatTime($0.endAt)]
                        }).render())
                }
            }
        }
    }
}
