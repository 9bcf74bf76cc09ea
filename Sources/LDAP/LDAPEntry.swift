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
            self.attributes[Self.key(name), default: []].append(contentsOf: values)
        }
    }

    /// For keys that went through `key(_:)` already.
    init(dn: String, keyedAttributes: [String: [Data]]) {
        self.dn = dn
        attributes = keyedAttributes
    }

    /// The dictionary key of an attribute description: lowercased. Descriptions are ASCII (RFC 4512) and most
    /// arrive lowercase already; a sync looks up millions of them, so Unicode case mapping is the last resort.
    static func key(_ attribute: String) -> String {
        let utf8 = attribute.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return attribute.lowercased() }
        guard utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return attribute }
        return String(decoding: utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    public func values(_ attribute: String) -> [Data] {
        attributes[Self.key(attribute)] ?? []
    }

    /// Values decoded as UTF-8; values that are not valid UTF-8 are skipped.
    public func strings(_ attribute: String) -> [String] {
        values(attribute).compactMap(Self.text)
    }

    public func string(_ attribute: String) -> String? {
        values(attribute).lazy.compactMap(Self.text).first
    }

    /// A leading byte-order mark is dropped, as Foundation's UTF-8 decoding (which this replaced) does.
    private static func text(_ value: Data) -> String? {
        String(validating: value.starts(with: [0xEF, 0xBB, 0xBF]) ? value.dropFirst(3) : value, as: UTF8.self)
    }

    mutating func setValues(_ values: [Data], for attribute: String) {
        attributes[Self.key(attribute)] = values
    }

    mutating func removeAttribute(_ attribute: String) {
        attributes[Self.key(attribute)] = nil
    }
}
