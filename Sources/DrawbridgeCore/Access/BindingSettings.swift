/// What Drawbridge does with members of a managed group that it did not grant.
public enum DriftPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Leave them, raise a finding and audit it.
    case report
    /// Remove them and audit it.
    case revert
    /// Keep them as permanent assignments.
    case adopt
}

/// How Drawbridge manages the groups a mapping rule binds.
public struct BindingSettings: Hashable, Sendable {
    public var drift: DriftPolicy
    /// The group's last member is never removed, whatever asks.
    public var protected: Bool

    public init(drift: DriftPolicy = .report, protected: Bool = false) {
        self.drift = drift
        self.protected = protected
    }
}
