import Crypto
import DrawbridgeConfig
import DrawbridgeCore
import Foundation
import LDAP

/// Turns LDAP entries into user and group records according to the configured schema. Entries that
/// cannot be used (no id, no login, an unparsable DN) are skipped with a warning rather than failing the sync.
struct DirectoryEntryDecoder: Sendable {
    let configuration: DirectoryConfiguration
    /// Everything besides the entry that decides what a record holds; part of every fingerprint.
    let settingsSignature: String
    /// `settingsSignature` as the fingerprint's hashed bytes begin.
    private let signatureBytes: [UInt8]

    init(configuration: DirectoryConfiguration) {
        self.configuration = configuration
        let users = configuration.users
        let groups = configuration.groups
        let members = groups.memberAttributes.map { "\($0.attribute):\($0.references.rawValue)" }
        // The version changes whenever decoding itself changes, so stored fingerprints from older code do not match.
        settingsSignature = (["decoder-2", users.idAttribute, users.loginAttribute, users.displayNameAttribute, users.mailAttribute, "\(users.disabled)",
                              groups.idAttribute, groups.nameAttribute, groups.descriptionAttribute, groups.ownerAttribute] + members).joined(separator: "\u{0}")
        var bytes: [UInt8] = []
        Self.append(settingsSignature.utf8, to: &bytes)
        signatureBytes = bytes
    }

    var userAttributes: [String] {
        let users = configuration.users
        return [users.idAttribute, users.loginAttribute, users.displayNameAttribute, users.mailAttribute, users.disabled.attribute,
                configuration.changeAttribute]
    }

    var groupAttributes: [String] {
        let groups = configuration.groups
        return [groups.idAttribute, groups.nameAttribute, groups.descriptionAttribute, groups.ownerAttribute, configuration.changeAttribute]
            + groups.memberAttributes.map(\.attribute)
    }

    func user(_ entry: LDAPEntry, fingerprint: String?, _ parsed: inout DistinguishedNameCache) -> Result<DirectoryUserRecord, DecodingWarning> {
        let users = configuration.users
        let dn: DistinguishedName
        do {
            dn = try parsed.parse(entry.dn)
        } catch {
            return .failure(DecodingWarning(dn: entry.dn, problem: "the DN does not parse: \(error)"))
        }
        guard let id = identifier(entry, users.idAttribute) else {
            return .failure(DecodingWarning(dn: entry.dn, problem: "no \(users.idAttribute); is it readable by the bind account?"))
        }
        guard let login = entry.string(users.loginAttribute), !login.isEmpty else {
            return .failure(DecodingWarning(dn: entry.dn, problem: "no \(users.loginAttribute)"))
        }
        return .success(DirectoryUserRecord(
            id: id, dn: dn, login: login,
            displayName: entry.string(users.displayNameAttribute),
            mail: entry.string(users.mailAttribute),
            enabled: !users.disabled.isDisabled(entry.strings(users.disabled.attribute)),
            fingerprint: fingerprint))
    }

    func group(_ entry: LDAPEntry, fingerprint: String?, _ parsed: inout DistinguishedNameCache) -> (DirectoryGroupRecord?, [DecodingWarning]) {
        let groups = configuration.groups
        let dn: DistinguishedName
        do {
            dn = try parsed.parse(entry.dn)
        } catch {
            return (nil, [DecodingWarning(dn: entry.dn, problem: "the DN does not parse: \(error)")])
        }
        guard let id = identifier(entry, groups.idAttribute) else {
            return (nil, [DecodingWarning(dn: entry.dn, problem: "no \(groups.idAttribute); is it readable by the bind account?")])
        }
        var warnings: [DecodingWarning] = []
        var members: [MemberReference] = []
        var seen = Set<MemberReference>()
        for memberAttribute in groups.memberAttributes {
            for value in entry.strings(memberAttribute.attribute) {
                let reference: MemberReference
                switch memberAttribute.references {
                case .login:
                    reference = .login(value)
                case .dn:
                    do {
                        reference = .dn(try parsed.parse(Self.stripOptionalUID(value)))
                    } catch {
                        warnings.append(DecodingWarning(dn: entry.dn, problem: "\(memberAttribute.attribute) value is not a DN: \(error)"))
                        continue
                    }
                }
                if seen.insert(reference).inserted { members.append(reference) }
            }
        }
        var owners: [DistinguishedName] = []
        for value in entry.strings(groups.ownerAttribute) {
            do {
                owners.append(try parsed.parse(value))
            } catch {
                warnings.append(DecodingWarning(dn: entry.dn, problem: "\(groups.ownerAttribute) value is not a DN: \(error)"))
            }
        }
        let name = entry.string(groups.nameAttribute) ?? dn.firstValue ?? entry.dn
        let record = DirectoryGroupRecord(
            id: id, dn: dn, name: name, description: entry.string(groups.descriptionAttribute), members: members, owners: owners,
            fingerprint: fingerprint)
        return (record, warnings)
    }

    func changeMarker(_ entry: LDAPEntry) -> String? {
        entry.string(configuration.changeAttribute)
    }

    /// `uniqueMember` is nameAndOptionalUID: `cn=x,dc=y#'0101'B`. The suffix is not part of the DN.
    static func stripOptionalUID(_ value: String) -> String {
        guard value.hasSuffix("'B"), let hash = value.range(of: "#'", options: .backwards) else { return value }
        let bits = value[hash.upperBound..<value.index(value.endIndex, offsetBy: -2)]
        guard bits.allSatisfy({ $0 == "0" || $0 == "1" }) else { return value }
        // An escaped '#' (\#) belongs to the value.
        let before = value[..<hash.lowerBound]
        let backslashes = before.reversed().prefix { $0 == "\\" }.count
        return backslashes % 2 == 0 ? String(before) : value
    }

    func id(of kind: DirectoryEntryKind, _ entry: LDAPEntry) -> DirectoryEntryID? {
        identifier(entry, kind == .user ? configuration.users.idAttribute : configuration.groups.idAttribute)
    }

    /// SHA-256 over how entries are decoded, the DN and every attribute value as received, each
    /// length-prefixed. Cryptographic, because whoever can edit a group must not be able to craft a change
    /// that looks unchanged; it covers the decoding settings, so that changing them re-reads every entry.
    func fingerprint(_ entry: LDAPEntry) -> String {
        // Gathered into one buffer and hashed at once: a hasher update per length prefix and value cost more
        // than the hashing itself.
        var bytes = signatureBytes
        bytes.reserveCapacity(signatureBytes.count + 512)
        Self.append(entry.dn.utf8, to: &bytes)
        for name in entry.attributes.keys.sorted() {
            let values = entry.attributes[name] ?? []
            Self.append(name.utf8, to: &bytes)
            withUnsafeBytes(of: UInt64(values.count).littleEndian) { bytes.append(contentsOf: $0) }
            for value in values { Self.append(value, to: &bytes) }
        }
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 64) { hex in
            for (index, byte) in SHA256.hash(data: bytes).enumerated() {
                hex[2 * index] = digits[Int(byte >> 4)]
                hex[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return 64
        }
    }

    /// Length-prefixed, so that no two different entries give the same bytes.
    private static func append(_ value: some Collection<UInt8>, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt64(value.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value)
    }

    private func identifier(_ entry: LDAPEntry, _ attribute: String) -> DirectoryEntryID? {
        guard let raw = entry.values(attribute).first, !raw.isEmpty else { return nil }
        // objectGUID is 16 binary bytes; text ids (entryUUID, nsUniqueId, ipaUniqueID) are kept as they are.
        if attribute.lowercased() == "objectguid", raw.count == 16 {
            return DirectoryEntryID(rawValue: Self.formatGUID(raw))
        }
        guard let text = String(data: raw, encoding: .utf8) else { return nil }
        return DirectoryEntryID(rawValue: text.lowercased())
    }

    /// A filter matching the entry with this id. objectGUID is matched as its 16 binary bytes: AD does not
    /// match the text form, and a text filter would find nothing and make a live user look deleted.
    func filter(matching id: DirectoryEntryID, _ kind: DirectoryEntryKind) throws -> LDAPFilter {
        let attribute = kind == .user ? configuration.users.idAttribute : configuration.groups.idAttribute
        if attribute.lowercased() == "objectguid" {
            guard let bytes = Self.parseGUID(id.rawValue) else {
                throw DecodingWarning(dn: id.rawValue, problem: "the stored id is not a GUID; run a full sync")
            }
            return try .equal(attribute, bytes: bytes)
        }
        return try .equal(attribute, id.rawValue)
    }

    /// The byte order of AD's GUID text form: the first three fields are little-endian.
    private static let guidByteOrder = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]

    static func formatGUID(_ bytes: Data) -> String {
        let b = [UInt8](bytes)
        let hex = guidByteOrder.map { String(format: "%02x", b[$0]) }
        return "\(hex[0..<4].joined())-\(hex[4..<6].joined())-\(hex[6..<8].joined())-\(hex[8..<10].joined())-\(hex[10..<16].joined())"
    }

    /// The inverse of `formatGUID`.
    static func parseGUID(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: "-") })
        guard digits.count == 32, text.count == 36 else { return nil }
        var textOrder: [UInt8] = []
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            textOrder.append(byte)
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for (position, source) in guidByteOrder.enumerated() { bytes[source] = textOrder[position] }
        return bytes
    }
}

public struct DecodingWarning: Error, Sendable, Hashable, CustomStringConvertible {
    public let dn: String
    public let problem: String

    public var description: String { "skipped \(dn): \(problem)" }
}
