import ArgumentParser
import DrawbridgeAccess
import DrawbridgeCore
import Foundation

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare managed groups in the directory with what Drawbridge granted, and apply drift policies.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Show what would change, without changing anything.") var dryRun = false
    @Flag(help: "Let drift policies act on groups never enforced before (until then, their members are only reported).")
    var enforce = false

    func run() async throws {
        try await reportingErrors {
            let context = try CommandContext(options)
            let pool = context.makePool()
            let results = try await context.withStore { store in
                let engine = context.engine(store)
                let results = try await Reconciler(engine: engine, pool: pool, memberAttribute: context.memberAttribute, logger: context.logger)
                    .reconcile(dryRun: dryRun, enforce: enforce, source: .cli)
                if !dryRun {
                    try await context.applier(store, pool: pool).applyReady()
                }
                return results
            }
            await pool.close()
            print(dryRun ? "Reconcile (dry run: nothing was changed)" : "Reconcile")
            print(TableRenderer(
                headers: ["GROUP", "POLICY", "ENFORCED", "MISSING", "DRIFT", "EFFECT"],
                rows: results.map {
                    [$0.groupDN.description, $0.policy.rawValue, $0.enforced ? "yes" : "no", $0.missing.joined(separator: ","),
                     $0.drift.joined(separator: ","), $0.effect]
                }).render())
        }
    }
}
