import Foundation

public struct LDAPModification: Sendable, Hashable {
    public enum Operation: Int32, Sendable {
        case add = 0
        case delete = 1
        case replace = 2
    }

    public var operation: Operation
    public var attribute: String
    public var values: [Data]

    public init(_ operation: Operation, _ attribute: String, values: [Data]) {
        self.operation = operation
        self.attribute = attribute
        self.values = values
    }

    public init(_ operation: Operation, _ attribute: String, _ values: [String]) {
        self.init(operation, attribute, values: values.map { Data($0.utf8) })
    }
}
