import ArgumentParser
import DrawbridgeCore
import DrawbridgeStore
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Activation policies per role, overridable per scope.", subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The effective policy for a role at a scope, and where it comes from.")
        @OptionGroup var options: GlobalOptions
        @Option var scope: ScopePath = .root
        @Option var role: RoleName
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let (policy, _, origin) = try await context.withStore { try await context.engine($0).policy(scope: scope, role: role) }
                if format == .json {
                    print(try JSONOutput.encode(policy))
                    return
                }
                let approvers = policy.approvers.map(\.description).joined(separator: ", ")
                let rows: [[String]] = [
                    ["maxActivationDuration", AccessRules.format(policy.maxActivationDuration)],
                    ["requireJustification", "\(policy.requireJustification)"],
                    ["requireTicket", "\(policy.requireTicket)"],
                    ["requireMFA", "\(policy.requireMFA)"],
                    ["requireApproval", "\(policy.requireApproval)"],
                    ["approvers", approvers.isEmpty ? "—" : approvers],
                    ["approvalsRequired", "\(policy.approvalsRequired)"],
                    ["approvalTimeout", AccessRules.format(policy.approvalTimeout)],
                    ["allowPermanentEligibility", "\(policy.allowPermanentEligibility)"],
                    ["maxEligibilityDuration", AccessRules.format(policy.maxEligibilityDuration)],
                    ["allowPermanentAssignment", "\(policy.allowPermanentAssignment)"],
                    ["maxAssignmentDuration", AccessRules.format(policy.maxAssignmentDuration)],
                    ["extensionRequiresApproval", "\(policy.extensionRequiresApproval)"],
                    ["allowedNetworks", policy.allowedNetworks.isEmpty ? "any" : policy.allowedNetworks.map(\.description).joined(separator: ", ")],
                    ["notifyRequester", "\(policy.notifyRequester)"],
                    ["notifyApprovers", "\(policy.notifyApprovers)"],
                    ["notifyAdministrators", "\(policy.notifyAdministrators)"],
                    ["notifyEmails", policy.notifyEmails.isEmpty ? "—" : policy.notifyEmails.joined(separator: ", ")],
                    ["notifyCriticalOnly", "\(policy.notifyCriticalOnly)"],
                ]
                print("Policy for \(role) at \(scope) (\(origin.map { "nearest override at \($0)" } ?? "built-in defaults")):")
                print(TableRenderer(headers: ["SETTING", "VALUE"], rows: rows).render())
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Override policy settings for a role at a scope (/ for the role's defaults); unset settings are inherited.")
        @OptionGroup var options: GlobalOptions
        @Option var scope: ScopePath = .root
        @Option var role: RoleName
        @Option var maxActivation: DurationArgument?
        @Option var requireJustification: Bool?
        @Option var requireTicket: Bool?
        @Option var requireMfa: Bool?
        @Option var requireApproval: Bool?
        @Option(help: "user:LOGIN or group:NAME; repeat for several.") var approver: [String] = []
        @Option var approvalsRequired: Int?
        @Option var approvalTimeout: DurationArgument?
        @Option var allowPermanentEligibility: Bool?
        @Option var maxEligibility: DurationArgument?
        @Option var allowPermanentAssignment: Bool?
        @Option var maxAssignment: DurationArgument?
        @Option var extensionRequiresApproval: Bool?
        @Option(help: "Conditional access: a CIDR block activations and approvals must come from; repeat for several; 'any' clears.")
        var allowedNetwork: [String] = []
        @Option var notifyRequester: Bool?
        @Option var notifyApprovers: Bool?
        @Option var notifyAdministrators: Bool?
        @Option(help: "An extra address told about this role's events; repeat for several; 'none' clears.") var notifyEmail: [String] = []
        @Option var notifyCriticalOnly: Bool?
        @Flag(help: "Remove this scope's override first, so only the settings given here remain.") var reset = false
        @Flag(help: "Show the resulting policy without storing it.") var dryRun = false

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let policy = try await context.withStore { store in
                    var override = reset ? PolicyOverride() : try await store.withAccessTransaction(commit: false) {
                        try await $0.policyOverrides(role: role)[scope] ?? PolicyOverride()
                    }
                    var given = PolicyOverride()
                    given.maxActivationDuration = maxActivation?.seconds
                    given.requireJustification = requireJustification
                    given.requireTicket = requireTicket
                    given.requireMFA = requireMfa
                    given.requireApproval = requireApproval
                    given.approvalsRequired = approvalsRequired
                    given.approvalTimeout = approvalTimeout?.seconds
                    given.allowPermanentEligibility = allowPermanentEligibility
                    given.maxEligibilityDuration = maxEligibility?.seconds
                    given.allowPermanentAssignment = allowPermanentAssignment
                    given.maxAssignmentDuration = maxAssignment?.seconds
                    given.extensionRequiresApproval = extensionRequiresApproval
                    given.notifyRequester = notifyRequester
                    given.notifyApprovers = notifyApprovers
                    given.notifyAdministrators = notifyAdministrators
                    given.notifyCriticalOnly = notifyCriticalOnly
                    if notifyEmail == ["none"] {
                        given.notifyEmails = []
                    } else if !notifyEmail.isEmpty {
                        given.notifyEmails = notifyEmail
                    }
                    if allowedNetwork == ["any"] {
                        given.allowedNetworks = []
                    } else if !allowedNetwork.isEmpty {
                        given.allowedNetworks = try allowedNetwork.map { text in
                            guard let network = IPNetwork(text) else { throw CommandFailure("--allowed-network '\(text)' is not a CIDR block such as 10.0.0.0/8") }
                            return network
                        }
                    }
                    if !approver.isEmpty {
                        var principals: [Principal] = []
                        for entry in approver {
                            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
                            guard parts.count == 2, ["user", "group"].contains(parts[0]) else {
                                throw CommandFailure("--approver '\(entry)' must be user:LOGIN or group:NAME")
                            }
                            principals.append(try await resolvePrincipal(
                                user: parts[0] == "user" ? parts[1] : nil, group: parts[0] == "group" ? parts[1] : nil, store))
                        }
                        given.approvers = principals
                    }
                    override = override.merged(with: given)
                    return try await context.engine(store).setPolicy(
                        override, scope: scope, role: role, by: context.operatorActor, source: .cli, dryRun: dryRun)
                }
                print("\(dryRun ? "Would set policy" : "Policy") for \(role) at \(scope)\(dryRun ? "" : " set"); max activation \(AccessRules.format(policy.maxActivationDuration)), approval \(policy.requireApproval ? "\(policy.approvalsRequired) required" : "not required"), MFA \(policy.requireMFA ? "required" : "not required")")
            }
        }
    }
}
