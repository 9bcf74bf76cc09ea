/// Parses DNs, each distinct text once and each distinct parent once. In a directory's listing most DNs share
/// their parents (`ou=people,dc=example,dc=org`) and member values repeat the entries' own DNs, so a sync
/// parses little more than one RDN per entry.
public struct DistinguishedNameCache {
    private var byText: [String: DistinguishedName] = [:]

    public init() {}

    /// Parents are looked up this many levels up at most; the rest of a deeper DN (a crafted member value
    /// `cn=x,cn=x,…`) is parsed in one go, so the work stays linear in its length.
    private static let cachedLevels = 8

    public mutating func parse(_ text: String) throws(DistinguishedNameError) -> DistinguishedName {
        try parse(text, level: 0)
    }

    private mutating func parse(_ text: String, level: Int) throws(DistinguishedNameError) -> DistinguishedName {
        if let known = byText[text] { return known }
        let dn: DistinguishedName
        var parser = DistinguishedNameParser(text)
        switch level < Self.cachedLevels ? try parser.parseFirst() : nil {
        case nil:
            dn = try DistinguishedName(text)
        case (let first, let parentText)?:
            if let parentText {
                // A parent that does not parse, or is empty after a trailing ',', fails on the whole text
                // instead, so that the error reports positions in it.
                guard let parent = try? parse(parentText, level: level + 1), !parent.isEmpty else { return try DistinguishedName(text) }
                dn = DistinguishedName(first: first, parent: parent, text: text)
            } else {
                dn = DistinguishedName(first: first, parent: DistinguishedName(rdns: []), text: text)
            }
        }
        byText[text] = dn
        return dn
    }
}
