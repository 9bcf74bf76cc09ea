import ArgumentParser
import Foundation
import Logging

@main
struct Drawbridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drawbridge",
        abstract: "Just-in-time privileged access for LDAP directories.",
        subcommands: [
            ConfigCommand.self, SyncCommand.self, DirectoryCommand.self, ScopesCommand.self, EligibilityCommand.self, AssignCommand.self,
            ActivateCommand.self, DeactivateCommand.self, ExtendCommand.self, RequestsCommand.self, PolicyCommand.self, ReconcileCommand.self,
            RunCommand.self, ServeCommand.self, StatusCommand.self, AuditCommand.self, MFACommand.self, TokenCommand.self, ReviewCommand.self,
            AlertsCommand.self,
        ])
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: $DRAWBRIDGE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func configPath() throws -> String {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DRAWBRIDGE_CONFIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        throw CommandFailure("no configuration file given; pass --config FILE or set DRAWBRIDGE_CONFIG (see Config/drawbridge.example.yaml)")
    }

    func bootstrapLogging() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// An error already phrased for the person at the terminal.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Prints any error as one line on standard error and exits non-zero, instead of a stack of wrappers.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("drawbridge: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
