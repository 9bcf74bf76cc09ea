import Foundation

/// A principal may activate `role` at `scope` and at every scope below it, between `startAt` and `endAt`.
public struct Eligibility: Hashable, Sendable, Codable, Identifiable {
    public enum Source: Hashable, Sendable, Codable {
        /// Created by an administrator.
        case manual
        /// Derived from the directory by an eligibility rule at each sync; read-only.
        case rule(String)
    }

    public var id: EligibilityID
    public var principal: Principal
    public var scope: ScopePath
    public var role: RoleName
    public var startAt: Date
    /// nil: permanent.
    public var endAt: Date?
    public var source: Source
    public var createdBy: Actor
    public var createdAt: Date
    public var justification: String?

    public init(
        id: EligibilityID = .make(), principal: Principal, scope: ScopePath, role: RoleName, startAt: Date, endAt: Date?,
        source: Source, createdBy: Actor, createdAt: Date, justification: String?
    ) {
        self.id = id
        self.principal = principal
        self.scope = scope
        self.role = role
        self.startAt = startAt
        self.endAt = endAt
        self.source = source
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.justification = justification
    }

    /// Whether it lets someone hold `role` at `scope`, ignoring time.
    public func covers(scope target: ScopePath, role targetRole: RoleName) -> Bool {
        role == targetRole && scope.contains(target)
    }

    public func isValid(at time: Date) -> Bool {
        startAt <= time && endAt.map { time < $0 } ?? true
    }
}
