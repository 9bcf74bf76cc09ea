import LDAP
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct LDAPFilterEscapingTests {
    @Test(arguments: [
        ("*", #"\2a"#),
        ("(", #"\28"#),
        (")", #"\29"#),
        (#"\"#, #"\5c"#),
        ("\u{0}", #"\00"#),
        (#"a*b(c)d\e"#, #"a\2ab\28c\29d\5ce"#),
        ("uid=x&|!~<>", "uid=x&|!~<>"),
        ("é 🙂", "é 🙂"),
        ("", ""),
    ])
    func escape(_ value: String, _ escaped: String) {
        #expect(LDAPFilter.escape(value) == escaped)
    }

    static let hostileValues = [
        "*)(uid=*",
        #"\"#,
        "\u{0}",
        ")(|(objectClass=*)",
        "*",
        "admin)(&",
        #"\2a"#,
        "a*b*c",
        "é 🙂",
        "",
    ]

    @Test(arguments: hostileValues)
    func hostileValueStaysOneEqualityItem(_ value: String) throws {
        let filter = try LDAPFilter.equal("uid", value)
        let parsed = try LDAPFilter(validating: filter.string)
        #expect(parsed.kind == .equal(attribute: "uid", value: bytes(value)))
        #expect(parsed == filter)
    }

    @Test(arguments: hostileValues)
    func hostileValueCannotEscapeAnAnd(_ value: String) throws {
        let filter = try LDAPFilter.and([.equal("objectClass", "person"), .equal("uid", value)])
        let parsed = try LDAPFilter(validating: filter.string)
        guard case .and(let items) = parsed.kind else {
            Issue.record("expected an and filter, got \(parsed)")
            return
        }
        #expect(items.map(\.kind) == [.equal(attribute: "objectClass", value: bytes("person")), .equal(attribute: "uid", value: bytes(value))])
    }

    @Test func randomValuesStayOneEqualityItem() throws {
        var random = SeededGenerator(seed: 4515)
        for _ in 0..<500 {
            let value = random.awkwardString()
            let parsed = try LDAPFilter(validating: try LDAPFilter.equal("uid", value).string)
            #expect(parsed.kind == .equal(attribute: "uid", value: bytes(value)), "\(value.debugDescription)")
        }
    }

    @Test func injectionRendersEscaped() throws {
        #expect(try LDAPFilter.equal("uid", "*)(uid=*").string == #"(uid=\2a\29\28uid=\2a)"#)
        #expect(try LDAPFilter.equal("cn", ")(|(objectClass=*)").string == #"(cn=\29\28|\28objectClass=\2a\29)"#)
        #expect(try LDAPFilter.equal("cn", "a\u{0}b").string == #"(cn=a\00b)"#)
    }
}

@Suite struct LDAPFilterBuilderTests {
    @Test func composesFilters() throws {
        let filter = try LDAPFilter.and([
            .equal("objectClass", "person"),
            .or([.equal("uid", "alice"), .equal("mail", "alice@example.org")]),
            .not(.present("nsAccountLock")),
            .greaterOrEqual("modifyTimestamp", "20240101000000Z"),
            .lessOrEqual("2.5.4.3", "m"),
        ])
        #expect(
            filter.string
                == "(&(objectClass=person)(|(uid=alice)(mail=alice@example.org))(!(nsAccountLock=*))(modifyTimestamp>=20240101000000Z)(2.5.4.3<=m))"
        )
        #expect(filter.description == filter.string)
        #expect(try LDAPFilter(validating: filter.string) == filter)
    }

    @Test func emptyAndOrAreAbsoluteTrueAndFalse() {
        #expect(LDAPFilter.and([]).string == "(&)")
        #expect(LDAPFilter.or([]).string == "(|)")
    }

    @Test(arguments: ["objectClass", "cn;lang-en", "userCertificate;binary", "2.5.4.3", "x-custom-attr"])
    func acceptsAttributeDescriptions(_ attribute: String) throws {
        #expect(try LDAPFilter.equal(attribute, "v").string == "(\(attribute)=v)")
        #expect(try LDAPFilter.present(attribute).kind == .present(attribute: attribute))
    }

    @Test(arguments: ["", "uid)(x", "u id", "1uid", "uid;", ";x", "member;range=0-*", "uid=", "cn*", "cn\u{0}", "01.2", "é"])
    func rejectsInvalidAttributeDescriptions(_ attribute: String) {
        let builders: [(String) throws -> LDAPFilter] = [
            { try .equal($0, "v") },
            { try .present($0) },
            { try .greaterOrEqual($0, "v") },
            { try .lessOrEqual($0, "v") },
        ]
        for build in builders {
            let error = #expect(throws: LDAPFilterError.self) { try build(attribute) }
            #expect(error?.problem == .invalidAttributeDescription(attribute))
            #expect(error?.position == nil)
        }
    }

    @Test func invalidAttributeMessage() {
        let error = #expect(throws: LDAPFilterError.self) { try LDAPFilter.equal("uid)(x", "v") }
        #expect(
            error?.description
                == #"invalid LDAP filter: invalid attribute description "uid)(x" (expected a name or numeric OID, optionally with ;options)"#)
    }
}

@Suite struct LDAPFilterParsingTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let input: String
        let kind: LDAPFilter.Kind
        /// How the parsed filter renders, when it differs from the input.
        var rendered: String?
        var testDescription: String { input }
    }

    static let valid: [Valid] = [
        Valid(input: "(objectClass=*)", kind: .present(attribute: "objectClass")),
        Valid(input: "(cn=Babs Jensen)", kind: .equal(attribute: "cn", value: bytes("Babs Jensen"))),
        Valid(input: "(o=univ*of*mich*)", kind: .substrings(attribute: "o", initial: bytes("univ"), any: [bytes("of"), bytes("mich")], final: nil)),
        Valid(input: "(cn=*end)", kind: .substrings(attribute: "cn", initial: nil, any: [], final: bytes("end"))),
        Valid(input: "(cn=start*)", kind: .substrings(attribute: "cn", initial: bytes("start"), any: [], final: nil)),
        Valid(input: "(cn=a**b)", kind: .substrings(attribute: "cn", initial: bytes("a"), any: [[]], final: bytes("b"))),
        Valid(input: "(seeAlso=)", kind: .equal(attribute: "seeAlso", value: [])),
        Valid(input: "(cn~=Jensen)", kind: .approximate(attribute: "cn", value: bytes("Jensen"))),
        Valid(input: "(uidNumber>=1000)", kind: .greaterOrEqual(attribute: "uidNumber", value: bytes("1000"))),
        Valid(input: "(uidNumber<=65533)", kind: .lessOrEqual(attribute: "uidNumber", value: bytes("65533"))),
        Valid(
            input: "(cn:caseExactMatch:=Fred Flintstone)",
            kind: .extensible(attribute: "cn", dnAttributes: false, matchingRule: "caseExactMatch", value: bytes("Fred Flintstone"))),
        Valid(input: "(cn:=Betty Rubble)", kind: .extensible(attribute: "cn", dnAttributes: false, matchingRule: nil, value: bytes("Betty Rubble"))),
        Valid(
            input: "(sn:dn:2.4.6.8.10:=Barney Rubble)",
            kind: .extensible(attribute: "sn", dnAttributes: true, matchingRule: "2.4.6.8.10", value: bytes("Barney Rubble"))),
        Valid(input: "(o:dn:=Ace Industry)", kind: .extensible(attribute: "o", dnAttributes: true, matchingRule: nil, value: bytes("Ace Industry"))),
        Valid(
            input: "(:1.2.3:=Wilma Flintstone)",
            kind: .extensible(attribute: nil, dnAttributes: false, matchingRule: "1.2.3", value: bytes("Wilma Flintstone"))),
        Valid(
            input: "(:DN:2.4.6.8.10:=Dino)", kind: .extensible(attribute: nil, dnAttributes: true, matchingRule: "2.4.6.8.10", value: bytes("Dino")),
            rendered: "(:dn:2.4.6.8.10:=Dino)"),
        Valid(
            input: "(member:1.2.840.113556.1.4.1941:=cn=Admins,dc=example)",
            kind: .extensible(attribute: "member", dnAttributes: false, matchingRule: "1.2.840.113556.1.4.1941", value: bytes("cn=Admins,dc=example"))),
        Valid(
            input: #"(o=Parens R Us \28for all your parenthetical needs\29)"#,
            kind: .equal(attribute: "o", value: bytes("Parens R Us (for all your parenthetical needs)"))),
        Valid(input: #"(cn=*\2A*)"#, kind: .substrings(attribute: "cn", initial: nil, any: [bytes("*")], final: nil), rendered: #"(cn=*\2a*)"#),
        Valid(input: #"(filename=C:\5cMyFile)"#, kind: .equal(attribute: "filename", value: bytes(#"C:\MyFile"#))),
        Valid(input: #"(bin=\00\00\00\04)"#, kind: .equal(attribute: "bin", value: [0, 0, 0, 4]), rendered: "(bin=\\00\\00\\00\u{4})"),
        Valid(input: #"(sn=Lu\c4\8di\c4\87)"#, kind: .equal(attribute: "sn", value: bytes("Lučić")), rendered: "(sn=Lučić)"),
        Valid(input: #"(1.3.6.1.4.1.1466.0=\04\02\48\69)"#, kind: .equal(attribute: "1.3.6.1.4.1.1466.0", value: [4, 2, 0x48, 0x69]), rendered: "(1.3.6.1.4.1.1466.0=\u{4}\u{2}Hi)"),
        Valid(input: #"(objectGUID=\a1\b2\00\ff)"#, kind: .equal(attribute: "objectGUID", value: [0xA1, 0xB2, 0, 0xFF])),
        Valid(input: "(cn;lang-en=Ø é 🙂)", kind: .equal(attribute: "cn;lang-en", value: bytes("Ø é 🙂"))),
        Valid(input: "(cn=a=b~c<d>e&f|g!h)", kind: .equal(attribute: "cn", value: bytes("a=b~c<d>e&f|g!h"))),
        Valid(input: "(&)", kind: .and([])),
        Valid(input: "(|)", kind: .or([])),
        Valid(input: "(!(&))", kind: .not(.and([]))),
    ]

    @Test(arguments: valid)
    func parsesValidFilter(_ example: Valid) throws {
        let filter = try LDAPFilter(validating: example.input)
        #expect(filter.kind == example.kind)
        #expect(filter.string == (example.rendered ?? example.input))
        #expect(try LDAPFilter(validating: filter.string) == filter)
        #expect(try LDAPFilter.raw(example.input) == filter)
    }

    @Test func parsesNestedBooleanFilters() throws {
        let filter = try LDAPFilter(validating: "(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))")
        guard case .and(let items) = filter.kind, items.count == 2, case .or(let alternatives) = items[1].kind else {
            Issue.record("unexpected structure \(filter.kind)")
            return
        }
        #expect(items[0].kind == .equal(attribute: "objectClass", value: bytes("Person")))
        #expect(
            alternatives.map(\.kind) == [
                .equal(attribute: "sn", value: bytes("Jensen")),
                .substrings(attribute: "cn", initial: bytes("Babs J"), any: [], final: nil),
            ])
        #expect(try LDAPFilter(validating: "(!(cn=Tim Howes))") == .not(.equal("cn", "Tim Howes")))
    }

    @Test func deepButBoundedNestingIsAccepted() throws {
        let text = String(repeating: "(!", count: 99) + "(a=b)" + String(repeating: ")", count: 99)
        #expect(try LDAPFilter(validating: text).string == text)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        let input: String
        let problem: LDAPFilterError.Problem
        let position: Int
        var testDescription: String { input }
    }

    static let invalid: [Invalid] = [
        Invalid(input: "", problem: .expectedOpeningParenthesis, position: 0),
        Invalid(input: "objectClass=person", problem: .expectedOpeningParenthesis, position: 0),
        Invalid(input: " (a=b)", problem: .expectedOpeningParenthesis, position: 0),
        Invalid(input: "(objectClass=person", problem: .unbalancedParentheses, position: 19),
        Invalid(input: "(&(a=b)(c=d)", problem: .unbalancedParentheses, position: 12),
        Invalid(input: "(!", problem: .unbalancedParentheses, position: 2),
        Invalid(input: "(objectClass=person))", problem: .trailingCharacters, position: 20),
        Invalid(input: "(a=b)(c=d)", problem: .trailingCharacters, position: 5),
        Invalid(input: "(a=b) ", problem: .trailingCharacters, position: 5),
        Invalid(input: "(a=b)c)", problem: .trailingCharacters, position: 5),
        Invalid(input: "(a=b(c)", problem: .unescapedCharacter("("), position: 4),
        Invalid(input: "(cn=a\u{0})", problem: .unescapedCharacter("\u{0}"), position: 5),
        Invalid(input: "(cn=é(x)", problem: .unescapedCharacter("("), position: 5),
        Invalid(input: "()", problem: .missingAttributeDescription, position: 1),
        Invalid(input: "(=x)", problem: .missingAttributeDescription, position: 1),
        Invalid(input: "((a=b))", problem: .missingAttributeDescription, position: 1),
        Invalid(input: "(&(a=b)x)", problem: .expectedClosingParenthesis, position: 7),
        Invalid(input: "(& (a=b))", problem: .expectedClosingParenthesis, position: 2),
        Invalid(input: "(!(a=b)(c=d))", problem: .expectedClosingParenthesis, position: 7),
        Invalid(input: "(!)", problem: .expectedOpeningParenthesis, position: 2),
        Invalid(input: "(c n=x)", problem: .invalidAttributeDescription("c n"), position: 1),
        Invalid(input: "( cn=x)", problem: .invalidAttributeDescription(" cn"), position: 1),
        Invalid(input: "(1cn=x)", problem: .invalidAttributeDescription("1cn"), position: 1),
        Invalid(input: "(cn;=x)", problem: .invalidAttributeDescription("cn;"), position: 1),
        Invalid(input: "(cn=\\zz)", problem: .invalidEscape, position: 4),
        Invalid(input: "(cn=\\2)", problem: .invalidEscape, position: 4),
        Invalid(input: "(cn=a\\)", problem: .invalidEscape, position: 5),
        Invalid(input: "(cn~x)", problem: .expectedFilterType, position: 3),
        Invalid(input: "(cn)", problem: .expectedFilterType, position: 3),
        Invalid(input: "(cn>=a*)", problem: .unexpectedWildcard, position: 6),
        Invalid(input: "(cn~=*)", problem: .unexpectedWildcard, position: 5),
        Invalid(input: "(cn:=a*)", problem: .unexpectedWildcard, position: 6),
        Invalid(input: "(:dn:=x)", problem: .missingMatchingRule, position: 1),
        Invalid(input: "(:=x)", problem: .missingMatchingRule, position: 1),
        Invalid(input: "(cn:1..2:=x)", problem: .invalidMatchingRule("1..2"), position: 4),
        Invalid(input: "(cn:dn)", problem: .expectedExtensibleAssignment, position: 6),
        Invalid(input: "(cn:dn:x=y)", problem: .expectedExtensibleAssignment, position: 8),
        Invalid(
            input: String(repeating: "(!", count: 200) + "(a=b)" + String(repeating: ")", count: 200),
            problem: .nestingTooDeep(limit: 100), position: 200),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidFilter(_ example: Invalid) {
        let error = #expect(throws: LDAPFilterError.self) { try LDAPFilter(validating: example.input) }
        #expect(error?.problem == example.problem)
        #expect(error?.position == example.position)
        #expect(error?.description.contains("at position \(example.position):") == true)
        #expect(throws: LDAPFilterError.self) { try LDAPFilter.raw(example.input) }
    }

    @Test(arguments: [
        ("(&(a=b)", #"invalid LDAP filter "(&(a=b)" at position 7: unbalanced parentheses: the input ends before the closing ')'"#),
        ("uid=x", #"invalid LDAP filter "uid=x" at position 0: expected '(' to start a filter"#),
        ("(a=b))", #"invalid LDAP filter "(a=b))" at position 5: unexpected characters after the end of the filter"#),
        ("(cn=a(b)", #"invalid LDAP filter "(cn=a(b)" at position 5: '(' must be escaped as \28 in a value"#),
        ("(cn=a\u{0}\n)", #"invalid LDAP filter "(cn=a\00\0a)" at position 5: '\00' must be escaped as \00 in a value"#),
        ("(cn=\\x1)", #"invalid LDAP filter "(cn=\x1)" at position 4: '\' must be followed by two hex digits"#),
    ])
    func messageNamesPositionAndProblem(_ input: String, _ message: String) {
        let error = #expect(throws: LDAPFilterError.self) { try LDAPFilter(validating: input) }
        #expect(error?.description == message)
    }
}

@Suite struct AttributeRangeTests {
    @Test(arguments: [
        ("member;range=0-1499", "member", 0, 1499 as Int?),
        ("member;Range=1500-*", "member", 1500, nil),
        ("member;RANGE=0-*", "member", 0, nil),
        ("member;range=5-5", "member", 5, 5),
        ("member;binary;range=0-10", "member;binary", 0, 10),
        ("member;range=0-10;binary", "member;binary", 0, 10),
    ])
    func parses(_ description: String, _ attribute: String, _ start: Int, _ end: Int?) throws {
        let range = try #require(AttributeRange(attributeDescription: description))
        #expect(range.attribute == attribute)
        #expect(range.start == start)
        #expect(range.end == end)
    }

    @Test(arguments: [
        "member", "member;binary", "member;range=", "member;range=a-5", "member;range=5-1", "member;range=-1-5",
        "member;range=+1-5", "member;range=0", "member;range=0-5-6", "member;range= 0-5", ";range=0-5",
        "member;range=0-5;range=6-*", "member;range=99999999999999999999-*", "member;ranged=0-5",
    ])
    func rejects(_ description: String) {
        #expect(AttributeRange(attributeDescription: description) == nil)
    }

    @Test func requestsTheRestOfTheValues() throws {
        let request = AttributeRange.request("member", from: 1500)
        #expect(request == "member;range=1500-*")
        #expect(AttributeRange(attributeDescription: request) == AttributeRange(attributeDescription: "member;RANGE=1500-*"))
        let parsed = try #require(AttributeRange(attributeDescription: request))
        #expect(parsed.attribute == "member")
        #expect(parsed.start == 1500)
        #expect(parsed.end == nil)
    }
}
