import Foundation

/// A random identifier for one kind of record, so an activation id cannot be passed where an eligibility id is expected.
public struct EntityID<Entity>: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// A new identifier: a lowercase UUID.
    public static func make() -> EntityID { EntityID(rawValue: UUID().uuidString.lowercased()) }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

public typealias EligibilityID = EntityID<Eligibility>
public typealias AssignmentID = EntityID<Assignment>
public typealias ActivationID = EntityID<Activation>
/// Shared by the items of one (bulk) activation request.
public typealias RequestID = EntityID<ActivationRequest>
