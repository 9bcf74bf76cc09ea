import LDAP

/// Applies mapping rules to the directory's groups. Every rule is applied to every group; one
/// (scope, role) must end up with exactly one group.
public struct ScopeMapper: Sendable {
    public let rules: [MappingRule]
    /// Changes whenever the rules do: bindings derived with another signature must be derived again.
    public let signature: String

    public init(rules: [MappingRule]) {
        self.rules = rules
        signature = sha256Hex((["mapping-1"] + rules.map(\.signature)).joined(separator: "\u{1}"))
    }

    public struct Result: Sendable {
        public var bindings: [RoleBinding]
        public var warnings: [MappingWarning]
    }

    public func map(_ groups: [GroupReference]) throws(MappingConflict) -> Result {
        var byKey: [BindingKey: RoleBinding] = [:]
        var warnings: [MappingWarning] = []
        for rule in rules {
            for group in groups {
                guard let outcome = rule.evaluate(name: group.name, dn: group.dn) else { continue }
                switch outcome {
                case .failure(let warning):
                    warnings.append(warning)
                case .success(let (scope, role)):
                    let binding = RoleBinding(scope: scope, role: role, groupID: group.id, groupDN: group.dn, groupName: group.name, rule: rule.name)
                    let key = BindingKey(scope: scope, role: role)
                    if let existing = byKey[key] {
                        guard existing.groupID == binding.groupID else {
                            throw MappingConflict(scope: scope, role: role, first: existing, second: binding)
                        }
                        continue
                    }
                    byKey[key] = binding
                }
            }
        }
        let bindings = byKey.values.sorted { ($0.scope, $0.role) < ($1.scope, $1.role) }
        return Result(bindings: bindings, warnings: warnings)
    }

    private struct BindingKey: Hashable {
        var scope: ScopePath
        var role: RoleName
    }
}

/// Two groups claim the same (scope, role): a configuration error that names both rules.
public struct MappingConflict: Error, Hashable, Sendable, CustomStringConvertible {
    public let scope: ScopePath
    public let role: RoleName
    public let first: RoleBinding
    public let second: RoleBinding

    public var description: String {
        let rules = first.rule == second.rule ? "rule '\(first.rule)' maps" : "rules '\(first.rule)' and '\(second.rule)' map"
        return "\(rules) role '\(role)' at \(scope) to two groups: \(first.groupDN) and \(second.groupDN); change the rules so each (scope, role) has one group"
    }
}
