import DrawbridgeCore
import SQLKit
import SQLiteKit

extension SQLiteSyncTransaction {
    func replaceRoleBindings(_ bindings: [RoleBinding]) async throws -> RoleBindingChanges {
        try ensureOpen("replace role bindings")
        var incoming: [BindingSlot: RoleBinding] = [:]
        for binding in bindings {
            guard incoming.updateValue(binding, forKey: BindingSlot(binding)) == nil else {
                throw SQLiteStoreError(operation: "replace role bindings", table: "role_bindings", reason: "two bindings share a scope and role")
            }
        }
        let existing = Dictionary(try await reads.roleBindings().map { (BindingSlot($0), $0) }, uniquingKeysWith: { first, _ in first })

        let byScopeAndRole: (RoleBinding, RoleBinding) -> Bool = { ($0.scope, $0.role) < ($1.scope, $1.role) }
        let changes = RoleBindingChanges(
            added: incoming.filter { existing[$0.key] == nil }.map(\.value).sorted(by: byScopeAndRole),
            removed: existing.filter { incoming[$0.key] == nil }.map(\.value).sorted(by: byScopeAndRole),
            changed: incoming.filter { slot, binding in existing[slot].map { $0.groupID != binding.groupID } ?? false }
                .map(\.value).sorted(by: byScopeAndRole)
        )

        try await storeStep("delete role bindings", "role_bindings") { try await db.delete(from: "role_bindings").run() }
        try await storeStep("delete scopes", "scopes") { try await db.delete(from: "scopes").run() }
        // Parents first, so each row's parent exists when it is inserted.
        let scopes = Set(bindings.flatMap(\.scope.selfAndAncestors)).sorted { ($0.segments.count, $0) < ($1.segments.count, $1) }
        try insertRows(
            into: "scopes", columns: ["path", "parent"], rows: scopes.map { [.text($0.description), SQLiteData($0.parent?.description)] },
            operation: "insert scopes")
        try insertRows(
            into: "role_bindings", columns: ["scope", "role", "group_id", "rule"],
            rows: incoming.values.sorted(by: byScopeAndRole).map { binding in
                [.text(binding.scope.description), .text(binding.role.rawValue), .text(binding.groupID.rawValue), .text(binding.rule)]
            },
            operation: "insert role bindings")
        return changes
    }

    func roleBindingCount() async throws -> Int {
        try ensureOpen("count role bindings")
        return try await storeStep("count role bindings", "role_bindings") {
            try await db.raw("SELECT count(*) AS n FROM role_bindings").first(decodingColumn: "n", as: Int.self) ?? 0
        }
    }
}

/// The primary key of `role_bindings`.
private struct BindingSlot: Hashable {
    var scope: ScopePath
    var role: RoleName

    init(_ binding: RoleBinding) {
        scope = binding.scope
        role = binding.role
    }
}
