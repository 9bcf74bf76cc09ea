import ArgumentParser
import DrawbridgeCore
import DrawbridgeDirectory

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration file.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration, connect and bind, and print what the mapping rules yield.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let context = try CommandContext(options)
                let directory = context.configuration.directory
                print("Configuration: \(try options.configPath()) is valid")
                let tls = directory.connection.startTLS ? "StartTLS" : (directory.connection.usesTLS ? "TLS" : "no TLS")
                let verification = directory.connection.usesTLS ? ", certificate verification: \(directory.connection.tls.verification.rawValue)" : ""
                print("Directory:     \(directory.connection.urls.joined(separator: " ")) (\(directory.flavor.rawValue), \(tls)\(verification))")
                let pool = context.makePool()
                let probe = DirectoryProbe(configuration: directory, pool: pool, mapper: ScopeMapper(rules: context.configuration.mappingRules))
                let result = try await probe.run()
                await pool.close()
                print("Bound as:      \(result.identity.isEmpty ? "anonymous" : result.identity)")
                print("Users:         \(result.userCount) under \(directory.users.baseDN) matching \(directory.users.filter)")
                print("Groups:        \(result.groupCount) under \(directory.groups.baseDN) matching \(directory.groups.filter)")
                print("Store:         \(context.configuration.store.sqlitePath)")
                print("Mapping:       \(result.mapping.bindings.count) role binding(s) from \(context.configuration.mappingRules.count) rule(s)")
                let rows = result.mapping.bindings.map { [$0.scope.description, $0.role.rawValue, $0.groupDN.description, $0.rule] }
                if !rows.isEmpty {
                    print(TableRenderer(headers: ["SCOPE", "ROLE", "GROUP", "RULE"], rows: rows).render().split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
                }
                if !result.warnings.isEmpty {
                    print("Warnings:      \(result.warnings.count)")
                    for warning in result.warnings.prefix(20) { print("  ! \(warning)") }
                }
            }
        }
    }
}
