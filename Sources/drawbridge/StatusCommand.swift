import ArgumentParser
import DrawbridgeCore
import DrawbridgeStore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The directory-change backlog, recent failures, open drift findings and what falls due next.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "table or json") var format: OutputFormat = .table

    struct Status: Encodable {
        var pendingChanges: Int
        var oldestPendingSince: Date?
        var retrying: [MembershipOperation]
        var recentFailures: [MembershipOperation]
        var openDriftFindings: [DriftFinding]
        var liveActivations: Int
        var nextDueAt: Date?
    }

    func run() async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            let status = try await context.withStore { store in
                try await store.withAccessTransaction(commit: false) { transaction in
                    let pending = try await transaction.operations(states: [.pending], limit: nil)
                    return Status(
                        pendingChanges: pending.count, oldestPendingSince: pending.map(\.createdAt).min(),
                        retrying: pending.filter { $0.attempts > 0 },
                        recentFailures: try await transaction.operations(states: [.failed, .refused], limit: 20),
                        openDriftFindings: try await transaction.driftFindings(openOnly: true),
                        liveActivations: try await transaction.activations(.live).count,
                        nextDueAt: try await transaction.nextDueTime())
                }
            }
            if format == .json {
                print(try JSONOutput.encode(status))
                return
            }
            print("Directory changes pending: \(status.pendingChanges)\(status.oldestPendingSince.map { ", oldest since \($0.iso8601)" } ?? "")")
            for operation in status.retrying {
                print("  retrying \(operation.action.rawValue) \(operation.userLogin) in \(operation.groupDN) (attempt \(operation.attempts + 1)): \(operation.lastError ?? "")")
            }
            print("Live activations: \(status.liveActivations); next due: \(formatTime(status.nextDueAt))")
            if !status.recentFailures.isEmpty {
                print("Recent refusals and failures:")
                for operation in status.recentFailures {
                    print("  \(operation.state.rawValue) \(operation.action.rawValue) \(operation.userLogin) in \(operation.groupDN): \(operation.lastError ?? "")")
                }
            }
            print("Open drift findings: \(status.openDriftFindings.count)")
            for finding in status.openDriftFindings {
                print("  \(finding.memberDN) in \(finding.groupDN) since \(finding.detectedAt.iso8601): \(finding.effect)")
            }
        }
    }
}
