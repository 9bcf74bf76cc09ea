import Foundation

/// One entry returned by a search. Attribute names are matched case-insensitively, as LDAP does.
public struct LDAPEntry: Sendable, Hashable {
    public let dn: String
    /// Values keyed by lowercased attribute description.
    public private(set) var attributes: [String: [Data]]

    public init(dn: String, attributes: [String: [Data]] = [:]) {
        self.dn = dn
        self.attributes = [:]
        for (name, values) in attributes {
            self.attributes[name.lowercased(), default: []].append(contentsOf: values)
        }
    }

    public func values(_ attribute: String) -> [Data] {
        attributes[attribute.lowercased()] ?? []
    }

    /// Values decoded as UTF-8; values that are not valid UTF-8 are skipped.
    public func strings(_ attribute: String) -> [String] {
        values(attribute).compactMap { String(data: $0, encoding: .utf8) }
    }

    public func string(_ attribute: String) -> String? {
        strings(attribute).first
    }

    mutating func setValues(_ values: [Data], for attribute: String) {
        attributes[attribute.lowercased()] = values
    }

    mutating func removeAttribute(_ attribute: String) {
        attributes[attribute.lowercased()] = nil
    }
}
