import ArgumentParser
import DrawbridgeCore
import DrawbridgeServer
import DrawbridgeStore
import Foundation

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "Security alerts: list, evaluate now, run a fix, dismiss.",
        subcommands: [List.self, Evaluate.self, Fix.self, Dismiss.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open alerts, most severe first (--all: dismissed and resolved too).")
        @OptionGroup var options: GlobalOptions
        @Flag var all = false
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let alerts = try await context.withStore { store in
                    try await context.engine(store).alerts(states: all ? nil : [.open])
                }.sorted { ($0.severity, $1.raisedAt) > ($1.severity, $0.raisedAt) }
                switch format {
                case .json: print(try JSONOutput.encode(alerts.map(AlertView.init)))
                case .table:
                    print(TableRenderer(
                        headers: ["ID", "SEVERITY", "STATE", "ALERT", "CONCERNS", "FIX"],
                        rows: alerts.map { [$0.id, $0.severity.rawValue, $0.state.rawValue, $0.title, $0.items.joined(separator: "; "), $0.fix?.summary ?? "—"] }
                    ).render())
                }
            }
        }
    }

    struct Evaluate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Evaluate the alert rules now (the service does after each sync and reconcile, and on a timer).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let pool = context.makePool()
                let problem = await pool.unreachableReason()
                await pool.close()
                let evaluation = try await context.withStore { store in
                    try await context.engine(store).evaluateAlerts(directoryProblem: problem, source: .cli)
                }
                for alert in evaluation.raised { print("raised [\(alert.severity.rawValue)] \(alert.id): \(alert.title)") }
                for alert in evaluation.resolved { print("resolved \(alert.id): \(alert.title)") }
                print("\(evaluation.openByKind.values.reduce(0, +)) open")
            }
        }
    }

    struct Fix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run an alert's fix action.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let alert = try await context.withStore { store in
                    try await context.engine(store).fixAlert(id, by: context.operatorActor, source: .cli)
                }
                print("Fixed: \(alert.fix?.summary ?? "—") for \(alert.id); it resolves at the next evaluation")
            }
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dismiss an open alert with a reason; it stays quiet until its condition clears.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: String
        @Option var reason: String

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let alert = try await context.withStore { store in
                    try await context.engine(store).dismissAlert(id, reason: reason, by: context.operatorActor, source: .cli)
                }
                print("Dismissed \(alert.id)")
            }
        }
    }
}
