/// An LDAP search filter (RFC 4515) that is structurally valid by construction: values are always escaped
/// when rendered and attribute descriptions are validated, so untrusted input cannot widen a search.
public struct LDAPFilter: Sendable, Hashable, CustomStringConvertible {
    /// The filter's structure. Assertion values are octet strings, as on the wire: a parsed filter may carry
    /// escaped bytes that are not UTF-8, such as an objectGUID.
    public indirect enum Kind: Sendable, Hashable {
        case and([LDAPFilter])
        case or([LDAPFilter])
        case not(LDAPFilter)
        case equal(attribute: String, value: [UInt8])
        case approximate(attribute: String, value: [UInt8])
        case greaterOrEqual(attribute: String, value: [UInt8])
        case lessOrEqual(attribute: String, value: [UInt8])
        case present(attribute: String)
        case substrings(attribute: String, initial: [UInt8]?, any: [[UInt8]], final: [UInt8]?)
        case extensible(attribute: String?, dnAttributes: Bool, matchingRule: String?, value: [UInt8])
    }

    public let kind: Kind

    fileprivate init(_ kind: Kind) {
        self.kind = kind
    }

    /// Parses and validates an RFC 4515 filter string. Rendering it again may spell escapes differently.
    public init(validating filter: String) throws(LDAPFilterError) {
        var parser = LDAPFilterParser(filter)
        self = try parser.parse()
    }

    /// A filter written out by hand, e.g. from configuration; throws unless it is a valid RFC 4515 filter.
    public static func raw(_ filter: String) throws(LDAPFilterError) -> LDAPFilter {
        try LDAPFilter(validating: filter)
    }

    public static func equal(_ attribute: String, _ value: String) throws(LDAPFilterError) -> LDAPFilter {
        LDAPFilter(.equal(attribute: try validated(attribute), value: Array(value.utf8)))
    }

    /// Equality with a binary value, such as Active Directory's 16-byte objectGUID.
    public static func equal(_ attribute: String, bytes: [UInt8]) throws(LDAPFilterError) -> LDAPFilter {
        LDAPFilter(.equal(attribute: try validated(attribute), value: bytes))
    }

    public static func present(_ attribute: String) throws(LDAPFilterError) -> LDAPFilter {
        LDAPFilter(.present(attribute: try validated(attribute)))
    }

    public static func greaterOrEqual(_ attribute: String, _ value: String) throws(LDAPFilterError) -> LDAPFilter {
        LDAPFilter(.greaterOrEqual(attribute: try validated(attribute), value: Array(value.utf8)))
    }

    public static func lessOrEqual(_ attribute: String, _ value: String) throws(LDAPFilterError) -> LDAPFilter {
        LDAPFilter(.lessOrEqual(attribute: try validated(attribute), value: Array(value.utf8)))
    }

    /// An empty list is RFC 4526's absolute true.
    public static func and(_ filters: [LDAPFilter]) -> LDAPFilter { LDAPFilter(.and(filters)) }

    /// An empty list is RFC 4526's absolute false.
    public static func or(_ filters: [LDAPFilter]) -> LDAPFilter { LDAPFilter(.or(filters)) }

    public static func not(_ filter: LDAPFilter) -> LDAPFilter { LDAPFilter(.not(filter)) }

    /// Only RFC 4512 attribute descriptions: an option such as `range=0-*` would turn the rendered item into
    /// a different (substring) filter when the server parses it.
    private static func validated(_ attribute: String) throws(LDAPFilterError) -> String {
        guard LDAPSyntax.isAttributeDescription(attribute.utf8) else {
            throw LDAPFilterError(input: attribute, position: nil, problem: .invalidAttributeDescription(attribute))
        }
        return attribute
    }

    /// The RFC 4515 string, every value escaped.
    public var string: String {
        switch kind {
        case .and(let filters): "(&" + filters.map(\.string).joined() + ")"
        case .or(let filters): "(|" + filters.map(\.string).joined() + ")"
        case .not(let filter): "(!" + filter.string + ")"
        case .equal(let attribute, let value): "(" + attribute + "=" + Self.escape(bytes: value) + ")"
        case .approximate(let attribute, let value): "(" + attribute + "~=" + Self.escape(bytes: value) + ")"
        case .greaterOrEqual(let attribute, let value): "(" + attribute + ">=" + Self.escape(bytes: value) + ")"
        case .lessOrEqual(let attribute, let value): "(" + attribute + "<=" + Self.escape(bytes: value) + ")"
        case .present(let attribute): "(" + attribute + "=*)"
        case .substrings(let attribute, let initial, let any, let final):
            "(" + attribute + "=" + Self.escape(bytes: initial ?? []) + "*"
                + any.map { Self.escape(bytes: $0) + "*" }.joined() + Self.escape(bytes: final ?? []) + ")"
        case .extensible(let attribute, let dnAttributes, let matchingRule, let value):
            "(" + (attribute ?? "") + (dnAttributes ? ":dn" : "") + (matchingRule.map { ":" + $0 } ?? "")
                + ":=" + Self.escape(bytes: value) + ")"
        }
    }

    public var description: String { string }

    /// Escapes a value for an assertion in a filter string: `*` `(` `)` `\` and NUL become `\2a` `\28` `\29` `\5c` `\00`.
    public static func escape(_ value: String) -> String {
        escape(bytes: Array(value.utf8))
    }

    private static func escape(bytes: [UInt8]) -> String {
        // Bytes that are not UTF-8 are hex-escaped too, so the filter string carries them losslessly.
        let isUTF8 = String(validating: bytes, as: UTF8.self) != nil
        var escaped: [UInt8] = []
        escaped.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0:
                escaped += LDAPSyntax.hexEscape(byte)
            case 0x80... where !isUTF8:
                escaped += LDAPSyntax.hexEscape(byte)
            default:
                escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}

/// Why a string is not a valid filter, and where.
public struct LDAPFilterError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        case expectedOpeningParenthesis
        case expectedClosingParenthesis
        case unbalancedParentheses
        case trailingCharacters
        case missingAttributeDescription
        case invalidAttributeDescription(String)
        case expectedFilterType
        case unescapedCharacter(Character)
        case invalidEscape
        case unexpectedWildcard
        case invalidMatchingRule(String)
        case missingMatchingRule
        case expectedExtensibleAssignment
        case nestingTooDeep(limit: Int)
    }

    public let input: String
    /// Offset in characters from the start of `input`; nil when a builder rejected an attribute description.
    public let position: Int?
    public let problem: Problem

    public var description: String {
        let reason =
            switch problem {
            case .expectedOpeningParenthesis: "expected '(' to start a filter"
            case .expectedClosingParenthesis: "expected ')'"
            case .unbalancedParentheses: "unbalanced parentheses: the input ends before the closing ')'"
            case .trailingCharacters: "unexpected characters after the end of the filter"
            case .missingAttributeDescription: "expected '&', '|', '!' or an attribute description"
            case .invalidAttributeDescription(let attribute):
                "invalid attribute description \"\(LDAPSyntax.printable(attribute))\" (expected a name or numeric OID, optionally with ;options)"
            case .expectedFilterType: "expected '=', '~=', '>=', '<=' or ':' after the attribute description"
            case .unescapedCharacter(let character):
                "\(LDAPSyntax.printable("'\(character)'")) must be escaped as \(String(decoding: character.utf8.flatMap(LDAPSyntax.hexEscape), as: UTF8.self)) in a value"
            case .invalidEscape: "'\\' must be followed by two hex digits"
            case .unexpectedWildcard: "'*' is only allowed in equality, presence and substring filters; escape it as \\2a"
            case .invalidMatchingRule(let rule): "invalid matching rule \"\(LDAPSyntax.printable(rule))\" (expected a name or numeric OID)"
            case .missingMatchingRule: "an extensible match without an attribute description needs a matching rule"
            case .expectedExtensibleAssignment: "expected ':=' in the extensible match"
            case .nestingTooDeep(let limit): "filters are nested more than \(limit) levels deep"
            }
        guard let position else { return "invalid LDAP filter: \(reason)" }
        return "invalid LDAP filter \"\(LDAPSyntax.printable(input))\" at position \(position): \(reason)"
    }
}

/// RFC 4515 §3, with RFC 4526's empty `(&)` and `(|)`. Whitespace is significant in values and not allowed elsewhere.
private struct LDAPFilterParser {
    // Each level costs a stack frame; a hostile filter of a million '(' must not crash the process.
    static let maximumDepth = 100

    let input: String
    let bytes: [UInt8]
    var index = 0

    init(_ input: String) {
        self.input = input
        bytes = Array(input.utf8)
    }

    mutating func parse() throws(LDAPFilterError) -> LDAPFilter {
        let filter = try parseFilter(depth: 1)
        guard index == bytes.count else { throw failure(.trailingCharacters) }
        return filter
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private var following: UInt8? { index + 1 < bytes.count ? bytes[index + 1] : nil }

    private func failure(_ problem: LDAPFilterError.Problem, at byteOffset: Int? = nil) -> LDAPFilterError {
        LDAPFilterError(input: input, position: LDAPSyntax.characterOffset(bytes, byteOffset ?? index), problem: problem)
    }

    private mutating func parseFilter(depth: Int) throws(LDAPFilterError) -> LDAPFilter {
        guard depth <= Self.maximumDepth else { throw failure(.nestingTooDeep(limit: Self.maximumDepth)) }
        guard current == UInt8(ascii: "(") else {
            throw failure(current == nil && depth > 1 ? .unbalancedParentheses : .expectedOpeningParenthesis)
        }
        index += 1
        let filter: LDAPFilter
        switch current {
        case UInt8(ascii: "&"):
            index += 1
            filter = .and(try parseList(depth: depth))
        case UInt8(ascii: "|"):
            index += 1
            filter = .or(try parseList(depth: depth))
        case UInt8(ascii: "!"):
            index += 1
            filter = .not(try parseFilter(depth: depth + 1))
        default:
            filter = try parseItem()
        }
        guard current == UInt8(ascii: ")") else {
            throw failure(current == nil ? .unbalancedParentheses : .expectedClosingParenthesis)
        }
        index += 1
        return filter
    }

    private mutating func parseList(depth: Int) throws(LDAPFilterError) -> [LDAPFilter] {
        var filters: [LDAPFilter] = []
        while current == UInt8(ascii: "(") {
            filters.append(try parseFilter(depth: depth + 1))
        }
        return filters
    }

    private mutating func parseItem() throws(LDAPFilterError) -> LDAPFilter {
        let start = index
        while let byte = current, !"=~<>:()".utf8.contains(byte) { index += 1 }
        let token = bytes[start..<index]
        if token.isEmpty, current == UInt8(ascii: ":") {
            return try parseExtensible(attribute: nil, itemStart: start)
        }
        guard !token.isEmpty else { throw failure(.missingAttributeDescription) }
        let attribute = String(decoding: token, as: UTF8.self)
        guard LDAPSyntax.isAttributeDescription(token) else {
            throw failure(.invalidAttributeDescription(attribute), at: start)
        }
        switch current {
        case UInt8(ascii: "="):
            index += 1
            return try parseEqualityPresenceOrSubstrings(attribute)
        case UInt8(ascii: ":"):
            return try parseExtensible(attribute: attribute, itemStart: start)
        case UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "<"):
            guard following == UInt8(ascii: "=") else { throw failure(.expectedFilterType) }
            let operation = current
            index += 2
            let value = try parseAssertionValue()
            return switch operation {
            case UInt8(ascii: "~"): LDAPFilter(.approximate(attribute: attribute, value: value))
            case UInt8(ascii: ">"): LDAPFilter(.greaterOrEqual(attribute: attribute, value: value))
            default: LDAPFilter(.lessOrEqual(attribute: attribute, value: value))
            }
        default:
            throw failure(.expectedFilterType)
        }
    }

    private mutating func parseEqualityPresenceOrSubstrings(_ attribute: String) throws(LDAPFilterError) -> LDAPFilter {
        let segments = try parseValueSegments(allowingWildcards: true)
        if segments.count == 1 {
            return LDAPFilter(.equal(attribute: attribute, value: segments[0]))
        }
        if segments.count == 2, segments[0].isEmpty, segments[1].isEmpty {
            return LDAPFilter(.present(attribute: attribute))
        }
        let initial = segments[0]
        let final = segments[segments.count - 1]
        return LDAPFilter(
            .substrings(
                attribute: attribute,
                initial: initial.isEmpty ? nil : initial,
                any: Array(segments.dropFirst().dropLast()),
                final: final.isEmpty ? nil : final))
    }

    /// extensible = ( attr [":dn"] [":" oid] ":=" value ) / ( [":dn"] ":" oid ":=" value )
    private mutating func parseExtensible(attribute: String?, itemStart: Int) throws(LDAPFilterError) -> LDAPFilter {
        var dnAttributes = false
        if index + 3 < bytes.count, bytes[index + 1] | 0x20 == UInt8(ascii: "d"), bytes[index + 2] | 0x20 == UInt8(ascii: "n"),
            bytes[index + 3] == UInt8(ascii: ":")
        {
            dnAttributes = true
            index += 3
        }
        var matchingRule: String?
        if current == UInt8(ascii: ":"), following != UInt8(ascii: "=") {
            index += 1
            let start = index
            while let byte = current, !":=()".utf8.contains(byte) { index += 1 }
            let token = bytes[start..<index]
            guard LDAPSyntax.isOID(token) else {
                throw failure(.invalidMatchingRule(String(decoding: token, as: UTF8.self)), at: start)
            }
            matchingRule = String(decoding: token, as: UTF8.self)
        }
        guard current == UInt8(ascii: ":"), following == UInt8(ascii: "=") else { throw failure(.expectedExtensibleAssignment) }
        guard attribute != nil || matchingRule != nil else { throw failure(.missingMatchingRule, at: itemStart) }
        index += 2
        return LDAPFilter(
            .extensible(
                attribute: attribute, dnAttributes: dnAttributes, matchingRule: matchingRule, value: try parseAssertionValue()))
    }

    private mutating func parseAssertionValue() throws(LDAPFilterError) -> [UInt8] {
        try parseValueSegments(allowingWildcards: false)[0]
    }

    /// The value up to the closing ')', split at unescaped '*'.
    private mutating func parseValueSegments(allowingWildcards: Bool) throws(LDAPFilterError) -> [[UInt8]] {
        var segments: [[UInt8]] = [[]]
        while let byte = current {
            switch byte {
            case UInt8(ascii: ")"):
                return segments
            case UInt8(ascii: "("), 0:
                throw failure(.unescapedCharacter(Character(Unicode.Scalar(byte))))
            case UInt8(ascii: "*"):
                guard allowingWildcards else { throw failure(.unexpectedWildcard) }
                segments.append([])
                index += 1
            case UInt8(ascii: "\\"):
                guard index + 2 < bytes.count, let high = LDAPSyntax.hexValue(bytes[index + 1]),
                    let low = LDAPSyntax.hexValue(bytes[index + 2])
                else { throw failure(.invalidEscape) }
                segments[segments.count - 1].append(high << 4 | low)
                index += 3
            default:
                segments[segments.count - 1].append(byte)
                index += 1
            }
        }
        throw failure(.unbalancedParentheses)
    }
}
