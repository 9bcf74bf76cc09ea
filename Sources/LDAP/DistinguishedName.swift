import Foundation

/// An LDAP distinguished name (RFC 4514), most specific RDN first.
///
/// Equality and hashing use `normalized`, which follows the server's matching rules closely enough that
/// two spellings of one entry's DN compare equal: `CN=Alice,DC=Example` == `cn=alice, dc=example`.
public struct DistinguishedName: Hashable, Sendable, CustomStringConvertible, Codable {
    /// One `type=value` pair.
    public struct AttributeTypeAndValue: Hashable, Sendable, CustomStringConvertible {
        /// As written (without an `oid.` prefix), e.g. `CN` or `2.5.4.3`.
        public let type: String
        /// The unescaped value; for the `#hex` BER form, the literal `#…` text in lowercase hex.
        public let value: String
        /// The value is RFC 4514's `#` followed by the hex of a BER encoding, not a string.
        public let isHexEncoded: Bool
        /// `type=value` in canonical form; equality and hashing use it.
        public let normalized: String
        let normalizedType: String
        let normalizedValue: String

        /// A string-valued pair; throws if `type` is neither a name like `cn` nor a numeric OID.
        public init(type: String, value: String) throws(DistinguishedNameError) {
            guard let validType = LDAPSyntax.distinguishedNameAttributeType(type.utf8) else {
                throw DistinguishedNameError(input: type, position: 0, problem: .invalidAttributeType(type))
            }
            self.init(validatedType: validType, value: value, isHexEncoded: false)
        }

        init(validatedType type: String, value: String, isHexEncoded: Bool) {
            self.type = type
            self.value = value
            self.isHexEncoded = isHexEncoded
            normalizedType = DistinguishedName.normalizeType(type)
            normalizedValue = isHexEncoded ? value : DistinguishedName.escape(DistinguishedName.normalizeValue(value))
            normalized = normalizedType + "=" + normalizedValue
        }

        public var description: String { type + "=" + (isHexEncoded ? value : DistinguishedName.escape(value)) }

        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.normalized == rhs.normalized }

        public func hash(into hasher: inout Hasher) { hasher.combine(normalized) }
    }

    /// One or more pairs joined with `+`.
    public struct RelativeDistinguishedName: Hashable, Sendable, CustomStringConvertible {
        /// In the order written.
        public let attributes: [AttributeTypeAndValue]
        /// The pairs in canonical form, sorted because an RDN is a set; equality and hashing use it.
        public let normalized: String

        public init(_ attribute: AttributeTypeAndValue, _ more: AttributeTypeAndValue...) {
            self.init(attributes: [attribute] + more)
        }

        init(attributes: [AttributeTypeAndValue]) {
            self.attributes = attributes
            normalized = attributes.count == 1 ? attributes[0].normalized : attributes
                .sorted { ($0.normalizedType, $0.normalizedValue) < ($1.normalizedType, $1.normalizedValue) }
                .map(\.normalized)
                .joined(separator: "+")
        }

        public var description: String { attributes.map(\.description).joined(separator: "+") }

        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.normalized == rhs.normalized }

        public func hash(into hasher: inout Hasher) { hasher.combine(normalized) }
    }

    public let rdns: [RelativeDistinguishedName]
    /// A canonical DN string: short lowercase types, case-folded NFKC values with insignificant spaces removed,
    /// multi-valued RDNs sorted. It is itself a valid DN.
    public let normalized: String

    /// The text this DN was parsed from. A client writes back exactly what the server sent (slapd, for one,
    /// hex-escapes as `\2C` where RFC 4514 prefers `\,`), so the text is kept unless it holds control
    /// characters, which are re-escaped to keep them out of logs.
    private let text: String?

    public init(_ string: String) throws(DistinguishedNameError) {
        var parser = DistinguishedNameParser(string)
        self.init(rdns: try parser.parse(), text: string)
    }

    public init(rdns: [RelativeDistinguishedName]) {
        self.init(rdns: rdns, text: nil)
    }

    private init(rdns: [RelativeDistinguishedName], text: String?) {
        self.rdns = rdns
        normalized = rdns.map(\.normalized).joined(separator: ",")
        self.text = rdns.isEmpty ? nil : text.flatMap { Self.hasControlCharacters($0) ? nil : $0 }
    }

    /// `text`, already parsed into its first RDN and the DN of its parent.
    init(first: RelativeDistinguishedName, parent: DistinguishedName, text: String) {
        rdns = [first] + parent.rdns
        normalized = parent.isEmpty ? first.normalized : first.normalized + "," + parent.normalized
        self.text = Self.hasControlCharacters(text) ? nil : text
    }

    /// C0 controls and DEL are single bytes; C1 controls (U+0080–U+009F) are encoded as C2 80–C2 9F.
    private static func hasControlCharacters(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) { return true }
            previous = byte
        }
        return false
    }

    /// True for the root DSE's DN, "".
    public var isEmpty: Bool { rdns.isEmpty }

    public var description: String { text ?? rdns.map(\.description).joined(separator: ",") }

    /// The DN without its first RDN; the parent of a one-RDN DN is the empty DN, and the empty DN has none.
    public var parent: DistinguishedName? {
        isEmpty ? nil : DistinguishedName(rdns: Array(rdns.dropFirst()))
    }

    /// Whether this DN lies strictly below `other`; every non-empty DN is below the empty DN.
    public func isDescendant(of other: DistinguishedName) -> Bool {
        rdns.count > other.rdns.count && Array(rdns.suffix(other.rdns.count)) == other.rdns
    }

    /// The DN of an entry directly below this one.
    public func child(_ rdn: RelativeDistinguishedName) -> DistinguishedName {
        DistinguishedName(rdns: [rdn] + rdns)
    }

    /// The DN of the entry `type=value` directly below this one; `value` is taken literally, never parsed.
    public func child(type: String, value: String) throws(DistinguishedNameError) -> DistinguishedName {
        child(RelativeDistinguishedName(try AttributeTypeAndValue(type: type, value: value)))
    }

    /// The value of the first pair of the first RDN, such as a group's cn.
    public var firstValue: String? { rdns.first?.attributes.first?.value }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.normalized == rhs.normalized }

    public func hash(into hasher: inout Hasher) { hasher.combine(normalized) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Escapes an attribute value for use in a DN string (RFC 4514 §2.4). Control characters are
    /// hex-escaped as well, which the RFC allows, so a DN never carries a raw line break into a log.
    public static func escape(_ value: String) -> String {
        let count = value.utf8.count
        // Most values (jdoe, example) need nothing, and a sync escapes hundreds of thousands of them.
        guard value.utf8.enumerated().contains(where: { escaping($1, at: $0, of: count) != .none }) else { return value }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(count + 8)
        for (index, byte) in value.utf8.enumerated() {
            switch escaping(byte, at: index, of: count) {
            case .none: escaped.append(byte)
            case .backslash: escaped += [UInt8(ascii: "\\"), byte]
            case .hex: escaped += LDAPSyntax.hexEscape(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private enum Escaping { case none, backslash, hex }

    private static func escaping(_ byte: UInt8, at index: Int, of count: Int) -> Escaping {
        switch byte {
        case UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "\""),
            UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ";"), UInt8(ascii: "="):
            .backslash
        case UInt8(ascii: " ") where index == 0 || index == count - 1, UInt8(ascii: "#") where index == 0:
            .backslash
        case 0x00..<0x20, 0x7F:
            .hex
        default:
            .none
        }
    }

    private static let typeAliases: [String: String] = [
        "commonname": "cn", "2.5.4.3": "cn",
        "userid": "uid", "0.9.2342.19200300.100.1.1": "uid",
        "organizationalunitname": "ou", "2.5.4.11": "ou",
        "organizationname": "o", "2.5.4.10": "o",
        "domaincomponent": "dc", "0.9.2342.19200300.100.1.25": "dc",
        "countryname": "c", "2.5.4.6": "c",
        "localityname": "l", "2.5.4.7": "l",
        "stateorprovincename": "st", "2.5.4.8": "st",
        "surname": "sn", "2.5.4.4": "sn",
        "streetaddress": "street", "2.5.4.9": "street",
    ]

    private static func normalizeType(_ type: String) -> String {
        let lowercased = type.lowercased()
        return typeAliases[lowercased] ?? lowercased
    }

    /// caseIgnoreMatch as RFC 4518 prepares strings: case folding, NFKC, and insignificant spaces dropped.
    private static func normalizeValue(_ value: String) -> String {
        // ASCII is already NFKC and folds by lowercasing: most DNs take this path, which a full sync runs
        // hundreds of thousands of times (Foundation's Unicode path made DN parsing most of a sync's CPU time).
        if value.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(value.utf8.count)
            for byte in value.utf8 {
                if byte == 0x20 {
                    if !bytes.isEmpty && bytes.last != 0x20 { bytes.append(byte) }
                } else {
                    bytes.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
                }
            }
            if bytes.last == 0x20 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        // NFKC again after folding because folding can produce decomposed or compatibility characters.
        let folded = value.precomposedStringWithCompatibilityMapping
            .folding(options: .caseInsensitive, locale: nil)
            .precomposedStringWithCompatibilityMapping
        return folded.split(separator: " ").joined(separator: " ")
    }
}

/// Why a string is not a distinguished name, and where.
public struct DistinguishedNameError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        case emptyRDN
        case missingAttributeType
        case invalidAttributeType(String)
        case missingEquals
        case danglingEscape
        case invalidEscape
        case unescapedCharacter(Character)
        case invalidHexString
        case invalidUTF8
    }

    public let input: String
    /// Offset in characters from the start of `input`.
    public let position: Int
    public let problem: Problem

    public var description: String {
        let reason =
            switch problem {
            case .emptyRDN: "empty RDN component"
            case .missingAttributeType: "missing attribute type before '='"
            case .invalidAttributeType(let type):
                "invalid attribute type \"\(LDAPSyntax.printable(type))\" (expected a name such as cn or a numeric OID such as 2.5.4.3)"
            case .missingEquals: "expected '=' after the attribute type"
            case .danglingEscape: "'\\' at the end of the input"
            case .invalidEscape: "'\\' must be followed by one of \\ \" + , ; < > space # = or by two hex digits"
            case .unescapedCharacter(let character):
                "\(LDAPSyntax.printable("'\(character)'")) must be escaped in an attribute value"
            case .invalidHexString: "'#' must be followed by an even, non-zero number of hex digits and nothing else"
            case .invalidUTF8: "escaped bytes of the value are not valid UTF-8"
            }
        return "invalid distinguished name \"\(LDAPSyntax.printable(input))\" at position \(position): \(reason)"
    }
}

/// RFC 4514 §3, also accepting the spaces around `,` `+` `=` that RFC 2253-era servers emit.
struct DistinguishedNameParser {
    private static let escapable = Set("\\\"+,;<> #=".utf8)

    let input: String
    let bytes: [UInt8]
    var index = 0

    init(_ input: String) {
        self.input = input
        bytes = Array(input.utf8)
    }

    mutating func parse() throws(DistinguishedNameError) -> [DistinguishedName.RelativeDistinguishedName] {
        skipSpaces()
        guard index < bytes.count else { return [] }
        var rdns: [DistinguishedName.RelativeDistinguishedName] = []
        while true {
            rdns.append(try parseRDN())
            // parseRDN stops only at the end or at a ','.
            guard index < bytes.count else { return rdns }
            index += 1
            skipSpaces()
        }
    }

    /// The first RDN and the text of the parent DN after it (nil when the DN has one RDN), or nil for the empty DN.
    mutating func parseFirst() throws(DistinguishedNameError) -> (DistinguishedName.RelativeDistinguishedName, parent: String?)? {
        skipSpaces()
        guard index < bytes.count else { return nil }
        let first = try parseRDN()
        guard index < bytes.count else { return (first, nil) }
        index += 1
        return (first, String(decoding: bytes[index...], as: UTF8.self))
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpaces() {
        while current == UInt8(ascii: " ") { index += 1 }
    }

    private func failure(_ problem: DistinguishedNameError.Problem, at byteOffset: Int) -> DistinguishedNameError {
        DistinguishedNameError(input: input, position: LDAPSyntax.characterOffset(bytes, byteOffset), problem: problem)
    }

    private mutating func parseRDN() throws(DistinguishedNameError) -> DistinguishedName.RelativeDistinguishedName {
        var attributes = [try parseAttributeTypeAndValue()]
        while current == UInt8(ascii: "+") {
            index += 1
            skipSpaces()
            attributes.append(try parseAttributeTypeAndValue())
        }
        return DistinguishedName.RelativeDistinguishedName(attributes: attributes)
    }

    private mutating func parseAttributeTypeAndValue() throws(DistinguishedNameError) -> DistinguishedName.AttributeTypeAndValue {
        let typeStart = index
        while let byte = current, !" =,+".utf8.contains(byte) { index += 1 }
        let typeBytes = bytes[typeStart..<index]
        guard !typeBytes.isEmpty else {
            throw failure(current == UInt8(ascii: "=") ? .missingAttributeType : .emptyRDN, at: typeStart)
        }
        guard let type = LDAPSyntax.distinguishedNameAttributeType(typeBytes) else {
            throw failure(.invalidAttributeType(String(decoding: typeBytes, as: UTF8.self)), at: typeStart)
        }
        skipSpaces()
        guard current == UInt8(ascii: "=") else { throw failure(.missingEquals, at: index) }
        index += 1
        skipSpaces()
        if current == UInt8(ascii: "#") {
            return .init(validatedType: type, value: try parseHexString(), isHexEncoded: true)
        }
        return .init(validatedType: type, value: try parseString(), isHexEncoded: false)
    }

    private mutating func parseHexString() throws(DistinguishedNameError) -> String {
        let start = index
        index += 1
        while let byte = current, LDAPSyntax.hexValue(byte) != nil { index += 1 }
        let digits = bytes[(start + 1)..<index]
        guard !digits.isEmpty, digits.count.isMultiple(of: 2) else { throw failure(.invalidHexString, at: start) }
        skipSpaces()
        if let byte = current, byte != UInt8(ascii: ","), byte != UInt8(ascii: "+") {
            throw failure(.invalidHexString, at: index)
        }
        return "#" + String(decoding: digits, as: UTF8.self).lowercased()
    }

    private mutating func parseString() throws(DistinguishedNameError) -> String {
        let start = index
        var value: [UInt8] = []
        // Unescaped trailing spaces are not part of the value; this marks the end of what is.
        var significantCount = 0
        scan: while let byte = current {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "+"):
                break scan
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { throw failure(.danglingEscape, at: index) }
                let next = bytes[index + 1]
                if index + 2 < bytes.count, let high = LDAPSyntax.hexValue(next), let low = LDAPSyntax.hexValue(bytes[index + 2]) {
                    value.append(high << 4 | low)
                    index += 3
                } else if Self.escapable.contains(next) {
                    value.append(next)
                    index += 2
                } else {
                    throw failure(.invalidEscape, at: index)
                }
                significantCount = value.count
            case UInt8(ascii: "\""), UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: ">"), 0:
                throw failure(.unescapedCharacter(Character(Unicode.Scalar(byte))), at: index)
            case UInt8(ascii: " "):
                value.append(byte)
                index += 1
            default:
                value.append(byte)
                index += 1
                significantCount = value.count
            }
        }
        value.removeSubrange(significantCount...)
        guard let string = String(validating: value, as: UTF8.self) else { throw failure(.invalidUTF8, at: start) }
        return string
    }
}
