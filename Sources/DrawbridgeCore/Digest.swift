import Crypto
import Foundation

/// Lowercase hex SHA-256 of a text: how secrets (session ids, tokens) are stored and how stable,
/// non-revealing identifiers are derived from addresses.
public func sha256Hex(_ text: String) -> String {
    lowercaseHex(SHA256.hash(data: Data(text.utf8)))
}

public func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
    AuditRecord.hex(bytes)
}
