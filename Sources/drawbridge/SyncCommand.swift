import ArgumentParser
import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeDirectory
import Foundation

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Mirror users and groups from the directory and re-derive role bindings.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Read everything and mark what vanished as deleted (default: incremental, or full when the full-sync interval has passed).")
    var full = false

    @Flag(help: "Report what would change without changing the store.")
    var dryRun = false

    @Flag(help: "Let a full sync mark more than directory.sync.maxDeletionPercent of the users or groups deleted.")
    var allowMassDeletion = false

    func run() async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            let pool = context.makePool()
            let report = try await context.withStore { store in
                let synchronizer = DirectorySynchronizer(
                    configuration: context.configuration.directory, pool: pool, store: store,
                    mapper: ScopeMapper(rules: context.configuration.mappingRules), logger: context.logger)
                let report = try await synchronizer.sync(full ? .full : .automatic, dryRun: dryRun, allowMassDeletion: allowMassDeletion)
                if !dryRun {
                    let followUp = try await context.engine(store).followUpSync(directoryChanged: report.changedDirectory)
                    if followUp != SyncFollowUpReport() {
                        print("Access: \(followUp.eligibilitiesAdded) rule eligibilities added, \(followUp.eligibilitiesRemoved) removed, \(followUp.revoked) grants revoked")
                    }
                }
                return report
            }
            await pool.close()
            print(Self.render(report))
        }
    }

    static func render(_ report: SyncReport) -> String {
        var lines: [String] = []
        let seconds = Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) / 1e18
        lines.append("\(report.kind.rawValue.capitalized) sync\(report.dryRun ? " (dry run: nothing was changed)" : "") in \(String(format: "%.2f", seconds)) s")
        let users = report.users
        lines.append("  users:    \(users.inserted) new, \(users.updated) changed, \(users.unchanged) unchanged, \(users.restored) returned, \(report.deletedUsers) deleted, \(users.newlyDisabled.count) newly disabled")
        let groups = report.groups
        lines.append("  groups:   \(groups.inserted) new, \(groups.updated) changed, \(groups.unchanged) unchanged, \(groups.restored) returned, \(report.deletedGroups) deleted")
        let changes = report.bindingChanges
        lines.append("  bindings: \(report.bindingCount) in all; \(changes.added.count) added, \(changes.removed.count) removed, \(changes.changed.count) moved to another group")
        for binding in changes.added { lines.append("    + \(binding.scope) \(binding.role) → \(binding.groupDN)") }
        for binding in changes.removed { lines.append("    - \(binding.scope) \(binding.role) → \(binding.groupDN)") }
        for binding in changes.changed { lines.append("    ~ \(binding.scope) \(binding.role) → \(binding.groupDN)") }
        if let watermark = report.watermark { lines.append("  watermark: \(watermark)") }
        if report.warningCount > 0 {
            lines.append("  warnings: \(report.warningCount)\(report.warningCount > report.warnings.count ? " (first \(report.warnings.count) shown; all are logged)" : "")")
            for warning in report.warnings { lines.append("    ! \(warning)") }
        }
        return lines.joined(separator: "\n")
    }
}
