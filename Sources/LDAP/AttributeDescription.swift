/// One chunk of an Active Directory ranged retrieval such as `member;range=0-1499`.
///
/// AD returns at most MaxValRange values of a multi-valued attribute per request and names the chunk
/// it sent in the attribute description; the last chunk ends in `*`.
public struct AttributeRange: Sendable, Equatable {
    /// The attribute description without the range option, other options kept (`member`, `member;binary`).
    public let attribute: String
    public let start: Int
    /// Nil for `*`: this chunk is the last one.
    public let end: Int?

    public init?(attributeDescription: String) {
        // Every attribute of every entry of a search passes here; nearly all have no options at all.
        guard attributeDescription.utf8.contains(UInt8(ascii: ";")) else { return nil }
        let parts = attributeDescription.split(separator: ";", omittingEmptySubsequences: false)
        guard let type = parts.first, !type.isEmpty else { return nil }
        var kept = [type]
        var bounds: (start: Int, end: Int?)?
        for option in parts.dropFirst() {
            guard option.lowercased().hasPrefix("range=") else {
                kept.append(option)
                continue
            }
            guard bounds == nil, let parsed = Self.parseBounds(option.dropFirst("range=".count)) else { return nil }
            bounds = parsed
        }
        guard let bounds else { return nil }
        attribute = kept.joined(separator: ";")
        start = bounds.start
        end = bounds.end
    }

    /// The description that asks for the chunk starting at `start`, e.g. `member;range=1500-*`.
    public static func request(_ attribute: String, from start: Int) -> String {
        precondition(start >= 0, "a range starts at a non-negative index")
        return "\(attribute);range=\(start)-*"
    }

    private static func parseBounds(_ text: Substring) -> (start: Int, end: Int?)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = decimal(parts[0]) else { return nil }
        if parts[1] == "*" { return (start, nil) }
        guard let end = decimal(parts[1]), end >= start else { return nil }
        return (start, end)
    }

    private static func decimal(_ text: Substring) -> Int? {
        // Int(_:) would also accept a sign.
        guard !text.isEmpty, text.utf8.allSatisfy(LDAPSyntax.isDigit) else { return nil }
        return Int(text)
    }
}

/// Lexical rules shared by DNs (RFC 4514), filters (RFC 4515) and attribute descriptions (RFC 4512).
enum LDAPSyntax {
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    static func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }

    /// keychar = ALPHA / DIGIT / HYPHEN
    static func isKeychar(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "-") }

    /// descr = ALPHA *keychar
    static func isDescriptor(_ text: some Collection<UInt8>) -> Bool {
        guard let first = text.first, isAlpha(first) else { return false }
        return text.allSatisfy(isKeychar)
    }

    /// numericoid = number 1*( DOT number ), where a number has no leading zero.
    static func isNumericOID(_ text: some Collection<UInt8>) -> Bool {
        let arcs = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return arcs.count >= 2 && arcs.allSatisfy { arc in
            !arc.isEmpty && arc.allSatisfy(isDigit) && (arc.count == 1 || arc.first != UInt8(ascii: "0"))
        }
    }

    /// oid = descr / numericoid
    static func isOID(_ text: some Collection<UInt8>) -> Bool { isDescriptor(text) || isNumericOID(text) }

    /// attributedescription = attributetype *( SEMI option ), option = 1*keychar
    static func isAttributeDescription(_ text: some Collection<UInt8>) -> Bool {
        let parts = text.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        guard let type = parts.first, isOID(type) else { return false }
        return parts.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy(isKeychar) }
    }

    /// The attribute type of a DN component, without the `oid.` prefix that RFC 2253-era DNs may carry.
    static func distinguishedNameAttributeType(_ text: some Collection<UInt8>) -> String? {
        if isOID(text) { return String(decoding: text, as: UTF8.self) }
        let prefix = text.prefix(4).map { isAlpha($0) ? $0 | 0x20 : $0 }
        guard prefix == Array("oid.".utf8), isNumericOID(text.dropFirst(4)) else { return nil }
        return String(decoding: text.dropFirst(4), as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// `\` followed by two lowercase hex digits, the escape both RFC 4514 and RFC 4515 accept.
    static func hexEscape(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return [UInt8(ascii: "\\"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
    }

    /// Error positions are counted in characters, which is what a person reading the input sees.
    static func characterOffset(_ bytes: [UInt8], _ byteOffset: Int) -> Int {
        String(decoding: bytes[..<byteOffset], as: UTF8.self).count
    }

    /// The input as shown in an error message: control characters hex-escaped so a hostile value cannot forge log lines.
    static func printable(_ text: String) -> String {
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F {
                bytes += hexEscape(byte)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
