import ArgumentParser
import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation

struct ActivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Activate eligible roles for a bounded time; repeat --scope/--role pairs for a bulk request.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The user's login.") var user: String
    @Option(help: "The scope (repeat together with --role).") var scope: [ScopePath]
    @Option(help: "The role (repeat together with --scope).") var role: [RoleName]
    @Option(name: .customLong("for"), help: "How long: 30m, 2h.") var duration: DurationArgument
    @Option var justification: String?
    @Option var ticket: String?
    @Option(help: "A scheduled start (ISO 8601; default: now).") var start: TimeArgument?
    @Flag(help: "The operator vouches that the user passed a second factor (recorded in the audit log as operator-attested).")
    var mfaAttested = false
    @Flag(help: "Report the decision and every reason it would be refused, without changing anything.") var dryRun = false

    func run() async throws {
        try await reportingErrors {
            guard scope.count == role.count, !scope.isEmpty else { throw CommandFailure("give --scope and --role in pairs") }
            let context = try CommandContext(options)
            let now = Date()
            let request = ActivationRequest(
                userLogin: user, items: zip(scope, role).map { ActivationRequest.Item(scope: $0, role: $1) }, duration: duration.seconds,
                startAt: start?.date, justification: justification, ticket: ticket,
                mfa: mfaAttested ? MFAProof(method: "operator-attested", verifiedAt: now) : nil)
            let outcomes = try await context.withStore { store in
                try await context.engine(store).activate(request, by: context.operatorActor, source: .cli, dryRun: dryRun)
            }
            var refused = false
            for outcome in outcomes {
                let label = "\(outcome.item.role) at \(outcome.item.scope)"
                if outcome.decision.isAllowed {
                    let state = outcome.activation?.state.rawValue ?? "allowed"
                    let verb = dryRun ? "would be \(outcome.decision.needsApproval ? "pending approval" : "granted")" : state
                    let id = dryRun ? "" : outcome.activation.map { " (\($0.id))" } ?? ""
                    print("\(label): \(verb) from \(outcome.decision.startAt.iso8601) until \(outcome.decision.endAt.iso8601)\(id)")
                } else {
                    refused = true
                    print("\(label): refused\n" + ActionRefused(outcome.decision.refusals).lines)
                }
            }
            if refused { throw ExitCode.failure }
        }
    }
}

struct DeactivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deactivate", abstract: "End an active activation early.")
    @OptionGroup var options: GlobalOptions
    @Argument var id: String
    @Option var reason: String?
    @Flag var dryRun = false

    func run() async throws {
        try await act(options) { engine, actor in
            try await engine.deactivate(ActivationID(rawValue: id), by: actor, source: .cli, reason: reason, dryRun: dryRun)
        }
    }
}

struct ExtendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extend", abstract: "Extend an active or scheduled activation.")
    @OptionGroup var options: GlobalOptions
    @Argument var id: String
    @Option(name: .customLong("for"), help: "The new duration from now (or from a later start).") var duration: DurationArgument
    @Option var justification: String?
    @Flag var dryRun = false

    func run() async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            let activation = try await context.withStore { store in
                try await context.engine(store).extend(
                    ActivationID(rawValue: id), duration: duration.seconds, justification: justification, by: context.operatorActor, source: .cli,
                    dryRun: dryRun)
            }
            if activation.id.rawValue == id {
                print("\(activation.id): \(activation.state.rawValue) until \(activation.endAt.iso8601)")
            } else {
                print("extension needs approval: request \(activation.id) is \(activation.state.rawValue), from \(activation.startAt.iso8601) until \(activation.endAt.iso8601)")
            }
        }
    }
}

struct RequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests", abstract: "Activation requests and approvals.", subcommands: [List.self, Approve.self, Deny.self, Cancel.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List activations (default: live ones).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this user's.") var user: String?
        @Option(help: "Only in this state: \(ActivationState.allCases.map(\.rawValue).joined(separator: ", ")).") var state: String?
        @Flag(help: "Include finished ones.") var all = false
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                var states: Set<ActivationState>? = all ? nil : ActivationQuery.live.states
                if let state {
                    guard let parsed = ActivationState(rawValue: state) else { throw CommandFailure("unknown state '\(state)'") }
                    states = [parsed]
                }
                let selected = states
                let activations = try await context.withStore { store in
                    try await store.withAccessTransaction(commit: false) { transaction in
                        var userID: DirectoryEntryID?
                        if let user {
                            guard let found = try await transaction.user(login: user) else { throw CommandFailure("no live directory user with login '\(user)'") }
                            userID = found.record.id
                        }
                        return try await transaction.activations(ActivationQuery(userID: userID, states: selected))
                    }
                }
                switch format {
                case .json: print(try JSONOutput.encode(activations))
                case .table:
                    print(TableRenderer(
                        headers: ["ID", "USER", "ROLE", "SCOPE", "STATE", "START", "END", "APPROVALS"],
                        rows: activations.map {
                            [$0.id.rawValue, $0.userLogin, $0.role.rawValue, $0.scope.description, $0.state.rawValue, $0.startAt.iso8601, $0.endAt.iso8601,
                             $0.approvalsRequired > 0 ? "\($0.approvals.count)/\($0.approvalsRequired)" : "—"]
                        }).render())
                }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a pending request as an approver.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option(name: .customLong("as"), help: "The approver's login.") var approver: String
        @Option var reason: String?
        @Flag var dryRun = false

        func run() async throws {
            try await RequestsCommand.decide(options, id, .approve, approver, reason, dryRun: dryRun)
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a pending request as an approver.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option(name: .customLong("as"), help: "The approver's login.") var approver: String
        @Option var reason: String
        @Flag var dryRun = false

        func run() async throws {
            try await RequestsCommand.decide(options, id, .deny, approver, reason, dryRun: dryRun)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a pending or scheduled request.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option var reason: String?
        @Flag var dryRun = false

        func run() async throws {
            try await act(options) { engine, actor in
                try await engine.cancel(ActivationID(rawValue: id), by: actor, source: .cli, reason: reason, dryRun: dryRun)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an activation away as an administrator: active ones lose the group.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option var reason: String
        @Flag var dryRun = false

        func run() async throws {
            try await act(options) { engine, actor in
                try await engine.revoke(ActivationID(rawValue: id), by: actor, source: .cli, reason: reason, dryRun: dryRun)
            }
        }
    }

    fileprivate static func decide(
        _ options: GlobalOptions, _ id: String, _ verdict: ApprovalDecision.Verdict, _ approver: String, _ reason: String?, dryRun: Bool
    ) async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            let activation = try await context.withStore { store in
                try await context.engine(store).decide(
                    ActivationID(rawValue: id), verdict, approverLogin: approver, reason: reason, recordedBy: context.operatorActor, source: .cli,
                    dryRun: dryRun)
            }
            print("\(activation.id): \(activation.state.rawValue) (\(activation.approvals.count) of \(activation.approvalsRequired) approvals)")
        }
    }
}

/// Runs one engine action on an activation as the operator and prints the activation's new state.
private func act(_ options: GlobalOptions, _ action: @escaping @Sendable (AccessEngine, Actor) async throws -> Activation) async throws {
    try await reportingErrors {
        let context = try CommandContext(options)
        let activation = try await context.withStore { store in try await action(context.engine(store), context.operatorActor) }
        print("\(activation.id): \(activation.state.rawValue)\(activation.endReason.map { " (\($0.rawValue))" } ?? "")")
    }
}
