import ArgumentParser
import DrawbridgeServer
import Foundation

struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfa",
        abstract: "TOTP enrollment by the operator: bootstrap an administrator, or reset a lost authenticator.",
        subcommands: [Enroll.self, Reset.self])

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enroll a user in TOTP now and print the secret, otpauth URI and recovery codes (shown once).")

        @OptionGroup var options: GlobalOptions
        @Option(help: "The user's login.") var user: String

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let enrollment = try await context.withStore { store in
                    try await ServerServices(configuration: context.configuration, store: store, pool: context.makePool(), logger: context.logger)
                        .enrollTOTP(login: user, by: context.operatorActor)
                }
                print("secret: \(enrollment.secret)")
                print("uri: \(enrollment.uri)")
                print("recovery codes: \(enrollment.recoveryCodes.joined(separator: " "))")
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user's TOTP enrollment; they enroll again after signing in.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "The user's login.") var user: String

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                try await context.withStore { store in
                    try await ServerServices(configuration: context.configuration, store: store, pool: context.makePool(), logger: context.logger)
                        .resetTOTP(login: user, by: context.operatorActor)
                }
                print("TOTP enrollment of \(user) removed")
            }
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Personal access tokens created by the operator, e.g. for automation accounts.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for a user and print its secret (shown once).")

        @OptionGroup var options: GlobalOptions
        @Option(help: "The user's login.") var user: String
        @Option(help: "What the token is for.") var name: String
        @Option(name: .customLong("for"), help: "How long it lives: 12h, 30d, … (at most 366d).") var lifetime: DurationArgument

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let created = try await context.withStore { store in
                    try await ServerServices(configuration: context.configuration, store: store, pool: context.makePool(), logger: context.logger)
                        .createToken(login: user, name: name, lifetime: lifetime.seconds, by: context.operatorActor)
                }
                print(created.secret)
            }
        }
    }
}
