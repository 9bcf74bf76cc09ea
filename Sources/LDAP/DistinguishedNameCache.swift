/// Parses DNs, each distinct text once and each distinct parent once. In a directory's listing most DNs share
/// their parents (`ou=people,dc=example,dc=org`) and member values repeat the entries' own DNs, so a sync
/// parses little more than one RDN per entry.
public struct DistinguishedNameCache {
    private var byText: [String: DistinguishedName] = [:]

    public init() {}

    public mutating func parse(_ text: String) throws(DistinguishedNameError) -> DistinguishedName {
        if let known = byText[text] { return known }
        var parser = DistinguishedNameParser(text)
        let dn: DistinguishedName
        switch try parser.parseFirst() {
        case nil:
            dn = try DistinguishedName(text)
        case (let first, let parentText)?:
            if let parentText {
                // A parent that does not parse, or is empty after a trailing ',', fails on the whole text
                // instead, so that the error reports positions in it.
                guard let parent = try? parse(parentText), !parent.isEmpty else { return try DistinguishedName(text) }
                dn = DistinguishedName(first: first, parent: parent, text: text)
            } else {
                dn = DistinguishedName(first: first, parent: DistinguishedName(rdns: []), text: text)
            }
        }
        byText[text] = dn
        return dn
    }
}
