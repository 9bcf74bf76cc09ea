import ArgumentParser
import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeStore
import Foundation

struct ActivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Activate eligible roles for a bounded time; repeat --scope/--role pairs for a bulk request.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var remote: RemoteOptions
    @Option(help: "The user's login (with --server: yourself, the token's owner).") var user: String?
    @Option(help: "The scope (repeat together with --role).") var scope: [ScopePath]
    @Option(help: "The role (repeat together with --scope).") var role: [RoleName]
    @Option(name: .customLong("for"), help: "How long: 30m, 2h.") var duration: DurationArgument
    @Option var justification: String?
    @Option var ticket: String?
    @Option(help: "A scheduled start (ISO 8601; default: now).") var start: TimeArgument?
    @Flag(help: "The operator vouches that the user passed a second factor (recorded in the audit log as operator-attested).")
    var mfaAttested = false
    @Option(help: "With --server: a current code from your authenticator app, where the policy requires MFA.") var totp: String?
    @Flag(help: "Report the decision and every reason it would be refused, without changing anything.") var dryRun = false

    func run() async throws {
        try await reportingErrors {
            guard scope.count == role.count, !scope.isEmpty else { throw CommandFailure("give --scope and --role in pairs") }
            if let client = try remote.client() {
                try await runRemote(client)
                return
            }
            guard let user else { throw CommandFailure("give --user LOGIN (or --server URL to act as yourself)") }
            if totp != nil { throw CommandFailure("--totp is for --server; the local operator uses --mfa-attested") }
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

    private func runRemote(_ client: RemoteClient) async throws {
        if mfaAttested { throw CommandFailure("--mfa-attested is for the local operator; through a server give --totp CODE") }
        if let user {
            let me = try await client.send(.GET, "/api/v1/me", as: MeView.self)
            guard me.login == user else { throw CommandFailure("the token belongs to \(me.login); through a server you activate only your own roles") }
        }
        var body: [String: Any] = [
            "items": zip(scope, role).map { ["scope": $0.description, "role": $1.rawValue] }, "duration": "\(Int(duration.seconds.rounded(.up)))s",
            "dryRun": dryRun,
        ]
        if let justification { body["justification"] = justification }
        if let ticket { body["ticket"] = ticket }
        if let start { body["start"] = start.date.iso8601 }
        if let totp { body["totp"] = totp }
        let response = try await client.send(.POST, "/api/v1/activations", body: body, as: ActivateResponse.self)
        var refused = false
        for outcome in response.outcomes {
            let label = "\(outcome.role) at \(outcome.scope)"
            if outcome.allowed {
                let verb = dryRun ? "would be \(outcome.needsApproval ? "pending approval" : "granted")" : outcome.activation?.state.rawValue ?? "allowed"
                print("\(label): \(verb) from \(outcome.startAt.iso8601) until \(outcome.endAt.iso8601)\(outcome.activation.map { " (\($0.id))" } ?? "")")
            } else {
                refused = true
                print("\(label): refused\n" + ActionRefused(outcome.refusals).lines)
            }
        }
        if refused { throw ExitCode.failure }
    }
}

struct DeactivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deactivate", abstract: "End an active activation early.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var remote: RemoteOptions
    @Argument var id: String
    @Option var reason: String?
    @Flag var dryRun = false

    func run() async throws {
        try await act(options, remote, remotePath: "/api/v1/activations/\(id)/deactivate", reason: reason, dryRun: dryRun) { engine, actor in
            try await engine.deactivate(ActivationID(rawValue: id), by: actor, source: .cli, reason: reason, dryRun: dryRun)
        }
    }
}

struct ExtendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extend", abstract: "Extend an active or scheduled activation.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var remote: RemoteOptions
    @Argument var id: String
    @Option(name: .customLong("for"), help: "The new duration from now (or from a later start).") var duration: DurationArgument
    @Option var justification: String?
    @Flag(help: "The operator vouches that the user passed a second factor (recorded in the audit log as operator-attested).")
    var mfaAttested = false
    @Option(help: "With --server: a current code from your authenticator app, where the policy requires MFA.") var totp: String?
    @Flag var dryRun = false

    func run() async throws {
        try await reportingErrors {
            if let client = try remote.client() {
                if dryRun { throw CommandFailure("--dry-run is not available through a server for extend") }
                if mfaAttested { throw CommandFailure("--mfa-attested is for the local operator; through a server give --totp CODE") }
                var body: [String: Any] = ["duration": "\(Int(duration.seconds.rounded(.up)))s"]
                if let justification { body["justification"] = justification }
                if let totp { body["totp"] = totp }
                let activation = try await client.send(.POST, "/api/v1/activations/\(id)/extend", body: body, as: Activation.self)
                print(Self.describe(activation, requested: id))
                return
            }
            if totp != nil { throw CommandFailure("--totp is for --server; the local operator uses --mfa-attested") }
            let context = try CommandContext(options)
            let activation = try await context.withStore { store in
                try await context.engine(store).extend(
                    ActivationID(rawValue: id), duration: duration.seconds, justification: justification,
                    mfa: mfaAttested ? MFAProof(method: "operator-attested", verifiedAt: Date()) : nil, by: context.operatorActor, source: .cli,
                    dryRun: dryRun)
            }
            print(Self.describe(activation, requested: id))
        }
    }

    static func describe(_ activation: Activation, requested id: String) -> String {
        if activation.id.rawValue == id { return "\(activation.id): \(activation.state.rawValue) until \(activation.endAt.iso8601)" }
        return "extension needs approval: request \(activation.id) is \(activation.state.rawValue), from \(activation.startAt.iso8601) until \(activation.endAt.iso8601)"
    }
}

struct RequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests", abstract: "Activation requests and approvals.", subcommands: [List.self, Approve.self, Deny.self, Cancel.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List activations (default: live ones).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var remote: RemoteOptions
        @Option(help: "Only this user's (local only; through a server you see your own).") var user: String?
        @Flag(help: "With --server: the requests waiting for your approval instead of your own.") var approvals = false
        @Option(help: "Only in this state: \(ActivationState.allCases.map(\.rawValue).joined(separator: ", ")).") var state: String?
        @Flag(help: "Include finished ones.") var all = false
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                var states: Set<ActivationState>? = all ? nil : ActivationQuery.live.states
                if let state {
                    guard let parsed = ActivationState(rawValue: state) else { throw CommandFailure("unknown state '\(state)'") }
                    states = [parsed]
                }
                let selected = states
                if let client = try remote.client() {
                    if user != nil { throw CommandFailure("--user is for the local operator; through a server you see your own requests") }
                    let path = approvals ? "/api/v1/approvals" : "/api/v1/me/activations" + (selected.map { "?state=" + $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "")
                    try show(try await client.send(.GET, path, as: ActivationList.self).activations)
                    return
                }
                if approvals { throw CommandFailure("--approvals needs --server: locally, list with --state pendingApproval") }
                let context = try CommandContext(options)
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
                try show(activations)
            }
        }

        private func show(_ activations: [Activation]) throws {
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

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a pending request as an approver.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var remote: RemoteOptions
        @Argument var id: String
        @Option(name: .customLong("as"), help: "The approver's login (local only; through a server you decide as yourself).") var approver: String?
        @Option var reason: String?
        @Flag var dryRun = false

        func run() async throws {
            try await RequestsCommand.decide(options, remote, id, .approve, approver, reason, dryRun: dryRun)
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a pending request as an approver.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var remote: RemoteOptions
        @Argument var id: String
        @Option(name: .customLong("as"), help: "The approver's login (local only; through a server you decide as yourself).") var approver: String?
        @Option var reason: String
        @Flag var dryRun = false

        func run() async throws {
            try await RequestsCommand.decide(options, remote, id, .deny, approver, reason, dryRun: dryRun)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a pending or scheduled request.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var remote: RemoteOptions
        @Argument var id: String
        @Option var reason: String?
        @Flag var dryRun = false

        func run() async throws {
            try await act(options, remote, remotePath: "/api/v1/activations/\(id)/cancel", reason: reason, dryRun: dryRun) { engine, actor in
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
            try await act(options, nil, remotePath: nil, reason: reason, dryRun: dryRun) { engine, actor in
                try await engine.revoke(ActivationID(rawValue: id), by: actor, source: .cli, reason: reason, dryRun: dryRun)
            }
        }
    }

    fileprivate static func decide(
        _ options: GlobalOptions, _ remote: RemoteOptions, _ id: String, _ verdict: ApprovalDecision.Verdict, _ approver: String?, _ reason: String?,
        dryRun: Bool
    ) async throws {
        try await reportingErrors {
            if let client = try remote.client() {
                if approver != nil { throw CommandFailure("--as is for the local operator; through a server you decide as the token's owner") }
                if dryRun { throw CommandFailure("--dry-run is not available through a server for decisions") }
                let activation = try await client.send(
                    .POST, "/api/v1/approvals/\(id)/\(verdict == .approve ? "approve" : "deny")", body: reason.map { ["reason": $0] } ?? [:], as: Activation.self)
                print("\(activation.id): \(activation.state.rawValue) (\(activation.approvals.count) of \(activation.approvalsRequired) approvals)")
                return
            }
            guard let approver else { throw CommandFailure("give --as LOGIN: the approver whose decision you record") }
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

/// Runs one action on an activation, through the server's `remotePath` when `--server` is given, else as the local
/// operator, and prints the activation's new state.
private func act(
    _ options: GlobalOptions, _ remote: RemoteOptions?, remotePath: String?, reason: String?, dryRun: Bool,
    _ action: @escaping @Sendable (AccessEngine, Actor) async throws -> Activation
) async throws {
    try await reportingErrors {
        if let remotePath, let client = try remote?.client() {
            if dryRun { throw CommandFailure("--dry-run is not available through a server for this command") }
            let activation = try await client.send(.POST, remotePath, body: reason.map { ["reason": $0] } ?? [:], as: Activation.self)
            print("\(activation.id): \(activation.state.rawValue)\(activation.endReason.map { " (\($0.rawValue))" } ?? "")")
            return
        }
        let context = try CommandContext(options)
        let activation = try await context.withStore { store in try await action(context.engine(store), context.operatorActor) }
        print("\(activation.id): \(activation.state.rawValue)\(activation.endReason.map { " (\($0.rawValue))" } ?? "")")
    }
}
