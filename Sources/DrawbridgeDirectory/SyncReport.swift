import DrawbridgeCore
import DrawbridgeStore
import Foundation

/// What one sync did (or, in a dry run, would have done).
public struct SyncReport: Sendable {
    public enum Kind: String, Sendable {
        case full
        case incremental
    }

    public var kind: Kind
    public var dryRun: Bool
    public var startedAt: Date
    public var duration: Duration = .zero
    public var users = UpsertResult()
    public var groups = UpsertResult()
    public var deletedUsers = 0
    public var deletedGroups = 0
    public var bindingChanges = RoleBindingChanges(added: [], removed: [], changed: [])
    public var bindingCount = 0
    public var warningCount = 0
    /// The first warnings, for display; all of them are logged.
    public var warnings: [String] = []
    public var watermark: String?

    static let shownWarnings = 20

    /// Whether the store's picture of the directory changed: an entry added, changed, restored or deleted, or a binding.
    public var changedDirectory: Bool {
        users.inserted + users.updated + users.restored + groups.inserted + groups.updated + groups.restored + deletedUsers + deletedGroups > 0
            || !(bindingChanges.added.isEmpty && bindingChanges.removed.isEmpty && bindingChanges.changed.isEmpty)
    }

    mutating func warn(_ message: String) {
        warningCount += 1
        if warnings.count < Self.shownWarnings { warnings.append(message) }
    }
}
