import ArgumentParser
import DrawbridgeCore
import DrawbridgeStore
import Foundation

struct EligibilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eligibility",
        abstract: "Who may activate which role at which scope.",
        subcommands: [Add.self, Remove.self, Include.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a user, or every member of a directory group, eligible.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "A user's login.") var user: String?
        @Option(help: "A directory group's name: its members, as synced, are eligible.") var group: String?
        @Option(help: "The scope; child scopes inherit it.") var scope: ScopePath
        @Option var role: RoleName
        @OptionGroup var window: WindowOptions
        @Option var justification: String?
        @Flag(help: "Check and report without changing anything.") var dryRun = false

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let eligibility = try await context.withStore { store in
                    let principal = try await resolvePrincipal(user: user, group: group, store)
                    let (start, end) = try window.window(now: Date())
                    return try await context.engine(store).addEligibility(
                        principal, scope: scope, role: role, start: start, end: end, justification: justification, by: context.operatorActor,
                        source: .cli, dryRun: dryRun)
                }
                print("\(dryRun ? "Would add" : "Added") eligibility \(eligibility.id): \(eligibility.role) at \(eligibility.scope) until \(formatTime(eligibility.endAt))")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a manual eligibility; activations relying on it are revoked.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option var reason: String?
        @Flag var dryRun = false

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let removed = try await context.withStore { store in
                    try await context.engine(store).removeEligibility(
                        EligibilityID(rawValue: id), reason: reason, by: context.operatorActor, source: .cli, dryRun: dryRun)
                }
                print("\(dryRun ? "Would remove" : "Removed") eligibility \(removed.id) (\(removed.role) at \(removed.scope))")
            }
        }
    }

    struct Include: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift an access review's exclusion of one member from a group's eligibility.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option(help: "The excluded member's login.") var user: String
        @Option var reason: String

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let eligibility = try await context.withStore { store in
                    try await context.engine(store).liftExclusion(
                        EligibilityID(rawValue: id), userLogin: user, reason: reason, by: context.operatorActor, source: .cli)
                }
                print("\(user) is eligible through eligibility \(eligibility.id) again (\(eligibility.role) at \(eligibility.scope))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List eligibilities.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this role.") var role: RoleName?
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let rows = try await context.withStore { store in
                    try await store.withAccessTransaction(commit: false) { transaction in
                        var rows: [EligibilityView] = []
                        for eligibility in try await transaction.eligibilities(role: role) {
                            let name: String = switch eligibility.principal {
                            case .user(let id): try await transaction.user(id: id)?.record.login ?? id.rawValue
                            case .group(let id): "group:" + (try await transaction.group(id: id)?.name ?? id.rawValue)
                            }
                            var excluded: [String] = []
                            for id in eligibility.excludedUserIDs.sorted() { excluded.append(try await transaction.user(id: id)?.record.login ?? id.rawValue) }
                            rows.append(EligibilityView(eligibility, principalName: name, excluded: excluded))
                        }
                        return rows
                    }
                }
                switch format {
                case .json: print(try JSONOutput.encode(rows))
                case .table:
                    print(TableRenderer(
                        headers: ["ID", "PRINCIPAL", "ROLE", "SCOPE", "START", "END", "SOURCE", "EXCLUDED"],
                        rows: rows.map {
                            [$0.id, $0.principal, $0.role, $0.scope, formatTime($0.startAt), formatTime($0.endAt), $0.source,
                             $0.excluded.isEmpty ? "—" : $0.excluded.joined(separator: " ")]
                        }
                    ).render())
                }
            }
        }
    }
}

struct EligibilityView: Encodable {
    let id: String
    let principal: String
    let role: String
    let scope: String
    let startAt: Date
    let endAt: Date?
    let source: String
    let justification: String?
    /// Members an access review excluded from a group's eligibility.
    let excluded: [String]

    init(_ eligibility: Eligibility, principalName: String, excluded: [String]) {
        id = eligibility.id.rawValue
        principal = principalName
        role = eligibility.role.rawValue
        scope = eligibility.scope.description
        startAt = eligibility.startAt
        endAt = eligibility.endAt
        source = switch eligibility.source {
        case .manual: "manual"
        case .rule(let rule): "rule:\(rule) (read-only)"
        }
        justification = eligibility.justification
        self.excluded = excluded
    }
}

func resolvePrincipal(user: String?, group: String?, _ store: any DrawbridgeStore) async throws -> Principal {
    switch (user, group) {
    case (let login?, nil):
        guard let found = try await store.user(login: login) else { throw CommandFailure("no live directory user with login '\(login)'; run drawbridge sync?") }
        return .user(found.record.id)
    case (nil, let name?):
        guard let found = try await store.groups(includeDeleted: false).first(where: { $0.name == name }) else {
            throw CommandFailure("no live directory group named '\(name)'; run drawbridge sync?")
        }
        return .group(found.id)
    default:
        throw CommandFailure("give exactly one of --user or --group")
    }
}
