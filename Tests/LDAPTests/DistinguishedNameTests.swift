import Foundation
import LDAP
import Testing

private typealias DN = DistinguishedName

/// Types and values of every RDN, for comparing structure rather than normalized equality.
private func pairs(_ dn: DN) -> [[String]] {
    dn.rdns.map { rdn in rdn.attributes.map { "\($0.type)=\($0.value)" } }
}

@Suite struct DistinguishedNameParsingTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let input: String
        let pairs: [[String]]
        let description: String
        let normalized: String
        var testDescription: String { input }
    }

    static let rfc4514Examples: [Example] = [
        Example(
            input: "UID=jsmith,DC=example,DC=net",
            pairs: [["UID=jsmith"], ["DC=example"], ["DC=net"]],
            description: "UID=jsmith,DC=example,DC=net",
            normalized: "uid=jsmith,dc=example,dc=net"),
        Example(
            input: "OU=Sales+CN=J.  Smith,DC=example,DC=net",
            pairs: [["OU=Sales", "CN=J.  Smith"], ["DC=example"], ["DC=net"]],
            description: "OU=Sales+CN=J.  Smith,DC=example,DC=net",
            normalized: "cn=j. smith+ou=sales,dc=example,dc=net"),
        Example(
            input: #"CN=James \"Jim\" Smith\, III,DC=example,DC=net"#,
            pairs: [[#"CN=James "Jim" Smith, III"#], ["DC=example"], ["DC=net"]],
            description: #"CN=James \"Jim\" Smith\, III,DC=example,DC=net"#,
            normalized: #"cn=james \"jim\" smith\, iii,dc=example,dc=net"#),
        Example(
            input: #"CN=Before\0dAfter,DC=example,DC=net"#,
            pairs: [["CN=Before\rAfter"], ["DC=example"], ["DC=net"]],
            description: #"CN=Before\0dAfter,DC=example,DC=net"#,
            normalized: #"cn=before\0dafter,dc=example,dc=net"#),
        Example(
            input: "1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com",
            pairs: [["1.3.6.1.4.1.1466.0=#04024869"], ["DC=example"], ["DC=com"]],
            description: "1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com",
            normalized: "1.3.6.1.4.1.1466.0=#04024869,dc=example,dc=com"),
        Example(
            input: #"CN=Lu\C4\8Di\C4\87"#,
            pairs: [["CN=Lučić"]],
            description: "CN=Lučić",
            normalized: "cn=lučić"),
    ]

    @Test(arguments: rfc4514Examples)
    func rfc4514Example(_ example: Example) throws {
        let dn = try DN(example.input)
        #expect(pairs(dn) == example.pairs)
        // The text a DN was parsed from is kept; built from its parts, it gets RFC 4514's preferred escaping.
        #expect(dn.description == example.input)
        #expect(DN(rdns: dn.rdns).description == example.description)
        #expect(dn.normalized == example.normalized)
    }

    @Test func hexValueIsKeptAsLowercaseHexText() throws {
        let dn = try DN("1.3.6.1.4.1.1466.0=#04AB4869 , DC=example")
        let ava = try #require(dn.rdns.first?.attributes.first)
        #expect(ava.value == "#04ab4869")
        #expect(ava.isHexEncoded)
        #expect(dn.description == "1.3.6.1.4.1.1466.0=#04AB4869 , DC=example")
        #expect(DN(rdns: dn.rdns).description == "1.3.6.1.4.1.1466.0=#04ab4869,DC=example")
        #expect(try DN(##"cn=\#04ab"##).rdns[0].attributes[0].isHexEncoded == false)
        #expect(try DN("cn=#04ab") != DN(##"cn=\#04ab"##))
    }

    @Test func spacesAroundSeparatorsAreNotPartOfValues() throws {
        let dn = try DN("  cn = Alice Smith , ou=People +uid= a1 ,dc=example  ")
        #expect(pairs(dn) == [["cn=Alice Smith"], ["ou=People", "uid=a1"], ["dc=example"]])
        #expect(try DN(#"cn=\ padded\ ,dc=x"#).firstValue == " padded ")
        #expect(try DN(#"cn=a\  ,dc=x"#).firstValue == "a ")
    }

    @Test func escapedCharactersAndHexPairsDecode() throws {
        #expect(try DN(##"cn=a\+b\,c\;d\<e\>f\=g\\h\#i"##).firstValue == #"a+b,c;d<e>f=g\h#i"#)
        #expect(try DN(#"cn=\C3\A9t\C3\A9"#).firstValue == "été")
        #expect(try DN(#"cn=\41\62c"#).firstValue == "Abc")
        #expect(try DN("cn=a=b").firstValue == "a=b")
        #expect(try DN("cn=Jürgen 🙂").firstValue == "Jürgen 🙂")
        #expect(try DN("cn=").firstValue == "")
    }

    @Test func oidPrefixIsStripped() throws {
        let dn = try DN("OID.2.5.4.3=x,oid.0.9.2342.19200300.100.1.25=org")
        #expect(pairs(dn) == [["2.5.4.3=x"], ["0.9.2342.19200300.100.1.25=org"]])
        #expect(dn.normalized == "cn=x,dc=org")
        #expect(try DN.AttributeTypeAndValue(type: "OID.2.5.4.3", value: "x").type == "2.5.4.3")
    }

    @Test func emptyDNIsTheRootDSE() throws {
        for text in ["", "   "] {
            let dn = try DN(text)
            #expect(dn.isEmpty)
            #expect(dn.description == "")
            #expect(dn.normalized == "")
            #expect(dn.parent == nil)
            #expect(dn.firstValue == nil)
        }
        #expect(try DN("dc=org").isEmpty == false)
    }
}

@Suite struct DistinguishedNameEscapingTests {
    @Test(arguments: [
        (" leading", #"\ leading"#),
        ("trailing ", #"trailing\ "#),
        (" ", #"\ "#),
        ("  ", #"\ \ "#),
        ("in side", "in side"),
        ("#hash", ##"\#hash"##),
        ("a#b", "a#b"),
        ("a+b", #"a\+b"#),
        ("a,b", #"a\,b"#),
        (#"back\slash"#, #"back\\slash"#),
        (#"say "hi""#, #"say \"hi\""#),
        ("<a;b>", #"\<a\;b\>"#),
        ("k=v", #"k\=v"#),
        ("*()", "*()"),
        ("nul\u{0}byte", #"nul\00byte"#),
        ("line\nbreak", #"line\0abreak"#),
        ("é 🙂 👨‍👩‍👧", "é 🙂 👨‍👩‍👧"),
        ("", ""),
    ])
    func escape(_ value: String, _ escaped: String) throws {
        #expect(DN.escape(value) == escaped)
        let dn = try DN("dc=example").child(type: "cn", value: value)
        #expect(dn.description == "cn=\(escaped),dc=example")
        let reparsed = try DN(dn.description)
        #expect(reparsed.firstValue == value)
        #expect(reparsed == dn)
    }

    @Test func childTakesValuesLiterally() throws {
        let parent = try DN("ou=People,dc=example,dc=org")
        let child = try parent.child(type: "cn", value: "Smith, John+uid=root")
        #expect(child.description == #"cn=Smith\, John\+uid\=root,ou=People,dc=example,dc=org"#)
        #expect(child.rdns.count == 4)
        #expect(child.rdns[0].attributes.count == 1)
        #expect(child.firstValue == "Smith, John+uid=root")
        #expect(child.parent == parent)
    }

    @Test func childWithMultiValuedRDN() throws {
        let rdn = DN.RelativeDistinguishedName(
            try DN.AttributeTypeAndValue(type: "cn", value: "a"), try DN.AttributeTypeAndValue(type: "uid", value: "b"))
        let dn = try DN("dc=example").child(rdn)
        #expect(dn.description == "cn=a+uid=b,dc=example")
        #expect(dn == (try DN("uid=b+cn=a,dc=example")))
    }

    @Test(arguments: ["", "c n", "1cn", "cn;binary", "cn\u{0}", "01.2.3"])
    func childRejectsInvalidAttributeTypes(_ type: String) throws {
        let error = #expect(throws: DistinguishedNameError.self) {
            try DN("dc=example").child(type: type, value: "x")
        }
        #expect(error?.problem == .invalidAttributeType(type))
        #expect(error?.description.contains("invalid attribute type") == true)
    }
}

@Suite struct DistinguishedNameEqualityTests {
    @Test(arguments: [
        (#"CN=Alice\, Smith,OU=People,DC=Example,DC=org"#, #"cn=alice\2c smith, ou=people,dc=example,dc=org"#),
        ("cn=a+uid=b,dc=x", "uid=b+cn=a,dc=x"),
        ("cn=a + uid=b,dc=x", "UID=B+CN=A , DC=X"),
        ("commonName=x", "cn=x"),
        ("2.5.4.3=x", "cn=x"),
        ("OID.2.5.4.3=x", "CN=X"),
        ("userid=j", "UID=J"),
        ("0.9.2342.19200300.100.1.1=j", "uid=j"),
        ("organizationalUnitName=a,organizationName=b,countryName=c", "ou=a,o=b,c=c"),
        ("localityName=a,stateOrProvinceName=b,surname=c,2.5.4.9=d", "l=a,st=b,sn=c,street=d"),
        ("domainComponent=example,0.9.2342.19200300.100.1.25=org", "dc=example,dc=org"),
        ("cn=  John   Smith  ", "cn=john smith"),
        (#"cn=\ John  Smith\ "#, "cn=john smith"),
        ("cn=ﬁle", "cn=FILE"),
        ("cn=Straße", "cn=STRASSE"),
        (#"cn=e\CC\81"#, #"cn=\C3\89"#),
        ("cn=ＡＢＣ", "cn=abc"),
        ("cn=#04024869", "CN=#04024869"),
    ])
    func equal(_ lhs: String, _ rhs: String) throws {
        let left = try DN(lhs)
        let right = try DN(rhs)
        #expect(left == right)
        #expect(left.normalized == right.normalized)
        #expect(left.hashValue == right.hashValue)
        #expect(Set([left, right]).count == 1)
    }

    @Test(arguments: [
        ("cn=a,dc=x", "cn=b,dc=x"),
        ("cn=a+uid=b", "cn=a,uid=b"),
        ("cn=x", "sn=x"),
        ("cn=a b", "cn=ab"),
        (#"cn=a\,b"#, "cn=a,cn=b"),
        (##"cn=\#04"##, "cn=#04"),
        ("cn=a,dc=x", "cn=a,dc=x,dc=y"),
        ("cn=a\\00", "cn=a"),
    ])
    func notEqual(_ lhs: String, _ rhs: String) throws {
        let left = try DN(lhs)
        let right = try DN(rhs)
        #expect(left != right)
        #expect(left.normalized != right.normalized)
    }

    @Test func normalizedIsAValidIdempotentDN() throws {
        let dn = try DN(#"OU=Sales + CN=J.  Smith\, Jr.,DC=Example,  DC=NET"#)
        #expect(dn.normalized == #"cn=j. smith\, jr.+ou=sales,dc=example,dc=net"#)
        let reparsed = try DN(dn.normalized)
        #expect(reparsed.normalized == dn.normalized)
        #expect(reparsed.description == dn.normalized)
    }

    @Test func relativeDistinguishedNamesCompareAsSets() throws {
        let cn = try DN.AttributeTypeAndValue(type: "CN", value: "A")
        let uid = try DN.AttributeTypeAndValue(type: "uid", value: "b")
        let forward = DN.RelativeDistinguishedName(cn, uid)
        let backward = DN.RelativeDistinguishedName(uid, cn)
        #expect(forward == backward)
        #expect(forward.hashValue == backward.hashValue)
        #expect(forward.description == "CN=A+uid=b")
        #expect(backward.description == "uid=b+CN=A")
        #expect(forward.normalized == "cn=a+uid=b")
    }
}

@Suite struct DistinguishedNameHierarchyTests {
    @Test func parentChain() throws {
        let dn = try DN("cn=Alice,ou=People,dc=example,dc=org")
        let parent = try #require(dn.parent)
        #expect(parent.description == "ou=People,dc=example,dc=org")
        let root = try #require(parent.parent?.parent?.parent)
        #expect(root.isEmpty)
        #expect(root.parent == nil)
        #expect(try DN("dc=org").parent == DN(""))
    }

    @Test func isDescendant() throws {
        let alice = try DN("cn=Alice,ou=People,dc=example,dc=org")
        #expect(alice.isDescendant(of: try DN("DC=Example, DC=Org")))
        #expect(alice.isDescendant(of: try DN("ou=people,dc=example,dc=org")))
        #expect(alice.isDescendant(of: try DN("")))
        #expect(!alice.isDescendant(of: alice))
        #expect(!alice.isDescendant(of: try DN("CN=alice,OU=people,DC=example,DC=org")))
        #expect(!alice.isDescendant(of: try DN("ou=Groups,dc=example,dc=org")))
        #expect(!(try DN("ou=People,dc=example,dc=org")).isDescendant(of: alice))
        #expect(!(try DN("cn=a,dc=badexample,dc=org")).isDescendant(of: try DN("dc=example,dc=org")))
        #expect(!(try DN("cn=a,dc=org")).isDescendant(of: try DN("dc=rg")))
        #expect(!(try DN("")).isDescendant(of: try DN("")))
    }

    @Test func firstValue() throws {
        #expect(try DN("cn=Admins+uid=x,ou=Groups,dc=example").firstValue == "Admins")
        #expect(try DN(#"cn=Ops\, EU,dc=example"#).firstValue == "Ops, EU")
    }
}

@Suite struct DistinguishedNameRoundTripTests {
    static let awkward: [String] = [
        "UID=jsmith,DC=example,DC=net",
        "OU=Sales+CN=J.  Smith,DC=example,DC=net",
        #"CN=James \"Jim\" Smith\, III,DC=example,DC=net"#,
        #"CN=Before\0dAfter,DC=example,DC=net"#,
        "1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com",
        #"CN=Lu\C4\8Di\C4\87"#,
        #"cn=\ ,dc=x"#,
        #"cn=\ \ ,dc=x"#,
        ##"cn=\#not hex,dc=x"##,
        #"cn=trailing\ "#,
        #"cn=\ lead and trail\ "#,
        #"cn=a\+b+sn=c\,d,dc=x"#,
        #"cn=*()\\,dc=x"#,
        #"cn=nul\00,dc=x"#,
        #"cn=\3c\3e\3b\22\3d"#,
        "cn=🙂👨‍👩‍👧 é,dc=x",
        "cn=,dc=x",
        "cn=a=b",
        "cn  =  spaced  value  ,  dc = x",
        "OID.2.5.4.3=x,commonName=y",
        "",
    ]

    @Test(arguments: awkward)
    func roundTrip(_ text: String) throws {
        let dn = try DN(text)
        let reparsed = try DN(dn.description)
        #expect(reparsed == dn)
        #expect(reparsed.description == dn.description)
        #expect(pairs(reparsed) == pairs(dn))
        #expect(try DN(dn.normalized) == dn)
    }

    @Test func randomValuesRoundTrip() throws {
        var random = SeededGenerator(seed: 4514)
        let types = ["cn", "OID.2.5.4.3", "uid", "1.3.6.1.4.1.1466.0", "x-Custom"]
        for _ in 0..<500 {
            var dn = try DN("")
            for _ in 0...random.int(through: 2) {
                let first = try DN.AttributeTypeAndValue(type: types.randomElement(using: &random)!, value: random.awkwardString())
                let second = try DN.AttributeTypeAndValue(type: types.randomElement(using: &random)!, value: random.awkwardString())
                dn = dn.child(random.int(through: 1) == 0 ? DN.RelativeDistinguishedName(first) : DN.RelativeDistinguishedName(first, second))
            }
            let reparsed = try DN(dn.description)
            #expect(pairs(reparsed) == pairs(dn), "\(dn.description)")
            #expect(reparsed.description == dn.description)
            #expect(reparsed == dn)
            #expect(try DN(dn.normalized).normalized == dn.normalized, "\(dn.normalized)")
        }
    }

    @Test func codableUsesTheString() throws {
        let dn = try DN(#"cn=Smith\, John,dc=example"#)
        let data = try JSONEncoder().encode([dn])
        #expect(String(decoding: data, as: UTF8.self) == #"["cn=Smith\\, John,dc=example"]"#)
        #expect(try JSONDecoder().decode([DN].self, from: data) == [dn])
        #expect(throws: DistinguishedNameError.self) {
            try JSONDecoder().decode([DN].self, from: Data(#"["cn=a,,dc=b"]"#.utf8))
        }
    }
}

@Suite struct DistinguishedNameRejectionTests {
    static let invalid: [(String, DistinguishedNameError.Problem, Int)] = [
        ("cn=a,,dc=b", .emptyRDN, 5),
        (",cn=a", .emptyRDN, 0),
        ("cn=a,", .emptyRDN, 5),
        ("cn=a, ", .emptyRDN, 6),
        ("cn=a+,dc=b", .emptyRDN, 5),
        ("cn", .missingEquals, 2),
        ("cn a", .missingEquals, 3),
        ("cn=a,dc", .missingEquals, 7),
        ("=a", .missingAttributeType, 0),
        ("c_n=a", .invalidAttributeType("c_n"), 0),
        ("cn=a,1cn=b", .invalidAttributeType("1cn"), 5),
        ("01.2=a", .invalidAttributeType("01.2"), 0),
        ("oid.cn=a", .invalidAttributeType("oid.cn"), 0),
        (#"cn=a\"#, .danglingEscape, 4),
        (#"cn=\a"#, .invalidEscape, 3),
        (#"cn=a\g"#, .invalidEscape, 4),
        (#"cn=\4"#, .invalidEscape, 3),
        (#"cn=\4x"#, .invalidEscape, 3),
        (#"cn=a"b"#, .unescapedCharacter("\""), 4),
        ("cn=a;b", .unescapedCharacter(";"), 4),
        ("cn=a<b", .unescapedCharacter("<"), 4),
        ("cn=a>b", .unescapedCharacter(">"), 4),
        ("cn=a\u{0}b", .unescapedCharacter("\u{0}"), 4),
        ("cn=#", .invalidHexString, 3),
        ("cn=#abc", .invalidHexString, 3),
        ("cn=#abzz", .invalidHexString, 6),
        ("cn=#ab cd", .invalidHexString, 7),
        (#"cn=\C3"#, .invalidUTF8, 3),
        (#"cn=ok,dc=\FF\FE"#, .invalidUTF8, 9),
        ("cn=é,,dc=x", .emptyRDN, 5),
    ]

    @Test(arguments: invalid)
    func rejects(_ input: String, _ problem: DistinguishedNameError.Problem, _ position: Int) {
        let error = #expect(throws: DistinguishedNameError.self) { try DN(input) }
        #expect(error?.problem == problem)
        #expect(error?.position == position)
        #expect(error?.input == input)
        #expect(error?.description.contains("at position \(position):") == true)
    }

    @Test(arguments: [
        ("cn=a,,dc=b", #"invalid distinguished name "cn=a,,dc=b" at position 5: empty RDN component"#),
        ("cn", #"invalid distinguished name "cn" at position 2: expected '=' after the attribute type"#),
        (#"cn=\a"#, #"invalid distinguished name "cn=\a" at position 3: '\' must be followed by one of \ " + , ; < > space # = or by two hex digits"#),
        (#"cn=a"b"#, #"invalid distinguished name "cn=a"b" at position 4: '"' must be escaped in an attribute value"#),
        ("cn=a\u{0}\n", #"invalid distinguished name "cn=a\00\0a" at position 4: '\00' must be escaped in an attribute value"#),
        (#"cn=\C3"#, #"invalid distinguished name "cn=\C3" at position 3: escaped bytes of the value are not valid UTF-8"#),
    ])
    func messageNamesPositionAndProblem(_ input: String, _ message: String) {
        let error = #expect(throws: DistinguishedNameError.self) { try DN(input) }
        #expect(error?.description == message)
    }
}

@Suite struct DistinguishedNameCacheTests {
    /// Parses `texts` one after another with one cache, so later DNs reuse parents parsed for earlier ones.
    @Test func parsesAsTheParserDoes() throws {
        var cache = DistinguishedNameCache()
        let texts = DistinguishedNameRoundTripTests.awkward + DistinguishedNameParsingTests.rfc4514Examples.map(\.input) + [
            "uid=a,ou=people,dc=x", "uid=b,ou=people,dc=x", "uid=b,ou=people,dc=x", " uid=c , ou=people,dc=x", "ou=people,dc=x",
            #"uid=d\,e,ou=people,dc=x"#, "cn=f+uid=g,ou=people,dc=x", "uid=h,OU=People,DC=X",
        ]
        for text in texts {
            let expected = try DN(text)
            let parsed = try cache.parse(text)
            #expect(parsed == expected, "\(text)")
            #expect(parsed.normalized == expected.normalized, "\(text)")
            #expect(parsed.description == expected.description, "\(text)")
            #expect(pairs(parsed) == pairs(expected), "\(text)")
            #expect(parsed.parent.map(pairs) == expected.parent.map(pairs), "\(text)")
        }
    }

    /// Past a few levels the rest is parsed whole; the result is the same.
    @Test func deepDNsParseAsTheParserDoes() throws {
        var cache = DistinguishedNameCache()
        let deep = Array(repeating: "cn=x", count: 2_000).joined(separator: ",") + ",dc=example"
        #expect(try cache.parse(deep) == DN(deep))
        #expect(try cache.parse(deep).rdns.count == 2_001)
        #expect(try cache.parse("cn=y," + deep).description == "cn=y," + deep)
        let invalid = Array(repeating: "cn=x", count: 50).joined(separator: ",") + ",,dc=example"
        let expected = #expect(throws: DistinguishedNameError.self) { try DN(invalid) }
        let error = #expect(throws: DistinguishedNameError.self) { try cache.parse(invalid) }
        #expect(error?.position == expected?.position)
        #expect(error?.problem == .emptyRDN)
    }

    @Test func rejectsAsTheParserDoesWithTheSamePosition() throws {
        var cache = DistinguishedNameCache()
        // Parents of some of the invalid DNs, parsed first, so that the failing part is the first RDN.
        for parent in ["dc=b", "dc=x", "dc=y"] { _ = try cache.parse(parent) }
        for (input, problem, position) in DistinguishedNameRejectionTests.invalid {
            let error = #expect(throws: DistinguishedNameError.self, "\(input)") { try cache.parse(input) }
            #expect(error?.problem == problem, "\(input)")
            #expect(error?.position == position, "\(input)")
            #expect(error?.input == input)
        }
    }
}

/// SplitMix64, so a failing random case reproduces on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Up to seven pieces, mostly ones that DN or filter syntax treats specially.
    mutating func awkwardString() -> String {
        let pieces = [
            " ", "  ", "#", "\\", ",", "+", "\"", "<", ">", ";", "=", "\u{0}", "\r", "\n", "*", "(", ")", "&", "|", "!",
            "a", "Z", "0", "é", "e\u{301}", "🙂", "👨‍👩‍👧", "ß", "İ", "\u{7F}", "\u{85}", "\u{A0}", "ﬁ", "\\2a",
        ]
        return (0..<int(through: 8)).map { _ in pieces.randomElement(using: &self)! }.joined()
    }

    /// Uniform in 0...bound.
    mutating func int(through bound: Int) -> Int {
        Int(next(upperBound: UInt64(bound) + 1))
    }
}
