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
    /// Members of an eligible group whom an access review took it away from; they are not eligible through it.
    public var excludedUserIDs: Set<DirectoryEntryID> = []

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

    /// Whether it makes `userID`, who belongs to `groups`, eligible (ignoring time and scope).
    public func applies(to userID: DirectoryEntryID, groups: Set<DirectoryEntryID>) -> Bool {
        switch principal {
        case .user(let id): id == userID
        case .group(let id): groups.contains(id) && !excludedUserIDs.contains(userID)
        }
    }
}

extension Eligibility {
    private enum CodingKeys: String, CodingKey {
        case id, principal, scope, role, startAt, endAt, source, createdBy, createdAt, justification, excludedUserIDs
    }

    // Records written before access reviews have no exclusions.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(EligibilityID.self, forKey: .id)
        principal = try container.decode(Principal.self, forKey: .principal)
        scope = try container.decode(ScopePath.self, forKey: .scope)
        role = try container.decode(RoleName.self, forKey: .role)
        startAt = try container.decode(Date.self, forKey: .startAt)
        endAt = try container.decodeIfPresent(Date.self, forKey: .endAt)
        source = try container.decode(Source.self, forKey: .source)
        createdBy = try container.decode(Actor.self, forKey: .createdBy)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        justification = try container.decodeIfPresent(String.self, forKey: .justification)
        excludedUserIDs = try container.decodeIfPresent(Set<DirectoryEntryID>.self, forKey: .excludedUserIDs) ?? []
    }
}
