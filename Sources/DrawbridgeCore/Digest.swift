import Crypto
import Foundation

/// Lowercase hex SHA-256 of a text: how secrets (session ids, tokens, recovery codes) are stored and how
/// stable, non-revealing identifiers are derived from addresses.
public func sha256Hex(_ text: String) -> String {
    AuditRecord.hex(SHA256.hash(data: Data(text.utf8)))
}
