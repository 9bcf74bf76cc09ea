import DrawbridgeCore
import LDAP
import Testing

@Suite struct ScopeMapperTests {
    private func group(_ name: String, id: String? = nil) throws -> GroupReference {
        GroupReference(id: DirectoryEntryID(rawValue: id ?? name), dn: try DistinguishedName("cn=\(name),ou=groups,dc=example,dc=org"), name: name)
    }

    private let resourceGroups = try! MappingRule(
        name: "resource-groups",
        matcher: .namePattern(#"^pim-(?<sub>[a-z0-9]+)-(?<rg>[a-z0-9]+)-(?<role>owner|reader)$"#),
        scope: "/subscriptions/{sub}/resourceGroups/{rg}", role: "{role}")

    @Test func namedCapturesFillTheTemplates() throws {
        let result = try ScopeMapper(rules: [resourceGroups]).map([try group("pim-prod-web-owner"), try group("team-0001")])
        #expect(result.bindings.count == 1)
        let binding = try #require(result.bindings.first)
        #expect(binding.scope.description == "/subscriptions/prod/resourceGroups/web")
        #expect(binding.role.rawValue == "owner")
        #expect(binding.groupName == "pim-prod-web-owner")
        #expect(binding.rule == "resource-groups")
    }

    @Test func explicitDNRuleMatchesByNormalizedDN() throws {
        let rule = try MappingRule(
            name: "sudoers", matcher: .dn(try DistinguishedName("CN=Sudo-Prod, OU=Groups, DC=Example, DC=org")),
            scope: "/subscriptions/prod", role: "sudoer")
        let result = try ScopeMapper(rules: [rule]).map([try group("sudo-prod"), try group("sudo-dev")])
        #expect(result.bindings.map(\.groupName) == ["sudo-prod"])
        #expect(result.bindings.first?.scope == (try ScopePath("/subscriptions/prod")))
    }

    @Test func dnPatternMatchesTheDNString() throws {
        let rule = try MappingRule(
            name: "by-ou", matcher: .dnPattern(#"^cn=(?<team>[a-z]+)-admins,ou=groups,"#),
            scope: "/subscriptions/{team}", role: "admin")
        let result = try ScopeMapper(rules: [rule]).map([try group("web-admins"), try group("web-users")])
        #expect(result.bindings.map(\.scope.description) == ["/subscriptions/web"])
    }

    @Test func twoRulesGivingOneScopeAndRoleTwoGroupsNameBothRules() throws {
        let other = try MappingRule(
            name: "legacy", matcher: .namePattern(#"^legacy-(?<sub>[a-z]+)-(?<rg>[a-z]+)-owner$"#),
            scope: "/subscriptions/{sub}/resourceGroups/{rg}", role: "owner")
        let mapper = ScopeMapper(rules: [resourceGroups, other])
        let error = #expect(throws: MappingConflict.self) {
            try mapper.map([try group("pim-prod-web-owner"), try group("legacy-prod-web-owner")])
        }
        let text = try #require(error).description
        #expect(text.contains("'resource-groups'"))
        #expect(text.contains("'legacy'"))
        #expect(text.contains("cn=pim-prod-web-owner,ou=groups,dc=example,dc=org"))
        #expect(text.contains("cn=legacy-prod-web-owner,ou=groups,dc=example,dc=org"))
        #expect(text.contains("/subscriptions/prod/resourceGroups/web"))
    }

    @Test func twoRulesBindingTheSameGroupAreNotAConflict() throws {
        let explicit = try MappingRule(
            name: "explicit", matcher: .dn(try DistinguishedName("cn=pim-prod-web-owner,ou=groups,dc=example,dc=org")),
            scope: "/subscriptions/prod/resourceGroups/web", role: "owner")
        let result = try ScopeMapper(rules: [resourceGroups, explicit]).map([try group("pim-prod-web-owner")])
        #expect(result.bindings.count == 1)
        #expect(result.bindings.first?.rule == "resource-groups")
    }

    @Test func capturesThatMakeAnInvalidScopeBecomeWarnings() throws {
        let loose = try MappingRule(name: "loose", matcher: .namePattern(#"^x-(?<sub>.+)$"#), scope: "/subscriptions/{sub}", role: "owner")
        let result = try ScopeMapper(rules: [loose]).map([try group("x-a b/c"), try group("x-fine")])
        #expect(result.bindings.map(\.scope.description) == ["/subscriptions/fine"])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.description.contains("x-a b/c") == true)
    }

    @Test func placeholdersMustBeNamedCaptures() {
        #expect(throws: MappingRuleError.self) {
            try MappingRule(name: "bad", matcher: .namePattern("^pim-(?<sub>[a-z]+)$"), scope: "/subscriptions/{sub}/resourceGroups/{rg}", role: "owner")
        }
        #expect(throws: MappingRuleError.self) {
            try MappingRule(name: "bad", matcher: .namePattern("^pim-([a-z]+"), scope: "/subscriptions/x", role: "owner")
        }
        #expect(throws: MappingRuleError.self) {
            try MappingRule(name: "bad", matcher: .dn(try DistinguishedName("cn=x,dc=y")), scope: "/subscriptions/{sub}", role: "owner")
        }
    }
}

@Suite struct ScopePathTests {
    @Test func parsesAndNavigates() throws {
        let path = try ScopePath("/subscriptions/prod/resourceGroups/web")
        #expect(path.segments == ["subscriptions", "prod", "resourceGroups", "web"])
        #expect(path.parent?.description == "/subscriptions/prod/resourceGroups")
        #expect(path.selfAndAncestors.map(\.description) == [
            "/subscriptions/prod/resourceGroups/web", "/subscriptions/prod/resourceGroups", "/subscriptions/prod", "/subscriptions", "/",
        ])
        #expect(try ScopePath("/subscriptions/prod").contains(path))
        #expect(!path.contains(try ScopePath("/subscriptions/prod")))
        #expect(try ScopePath("/") == ScopePath.root)
    }

    @Test(arguments: ["", "subscriptions", "/a//b", "/a/b/", "/a b", "/é", "/a/*"])
    func rejects(_ text: String) {
        #expect(throws: ScopePathError.self) { try ScopePath(text) }
    }
}
