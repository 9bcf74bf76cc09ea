import Foundation
import LDAP

/// A config rule that turns directory groups into role bindings: `pim-prod-web-owner` → owner at
/// `/subscriptions/prod/resourceGroups/web`. Templates use `{capture}` for the regex's named captures.
public struct MappingRule: Sendable {
    public enum Matcher: Sendable {
        /// A regex over the group's name, with named captures.
        case namePattern(String)
        /// A regex over the group's DN string, with named captures.
        case dnPattern(String)
        /// Exactly this group.
        case dn(DistinguishedName)
    }

    public let name: String
    public let matcher: Matcher
    public let scopeTemplate: String
    public let roleTemplate: String
    private let regex: NSRegularExpression?
    private let captureNames: [String]

    public init(name: String, matcher: Matcher, scope scopeTemplate: String, role roleTemplate: String) throws(MappingRuleError) {
        self.name = name
        self.matcher = matcher
        self.scopeTemplate = scopeTemplate
        self.roleTemplate = roleTemplate
        let placeholders = Self.placeholders(in: scopeTemplate) + Self.placeholders(in: roleTemplate)
        switch matcher {
        case .namePattern(let pattern), .dnPattern(let pattern):
            do {
                regex = try NSRegularExpression(pattern: pattern)
            } catch {
                throw MappingRuleError(rule: name, problem: "pattern '\(pattern)' is not a valid regular expression")
            }
            captureNames = Self.namedCaptures(in: pattern)
            if let missing = placeholders.first(where: { !captureNames.contains($0) }) {
                throw MappingRuleError(rule: name, problem: "uses {\(missing)} but the pattern has no named capture (?<\(missing)>…)")
            }
        case .dn:
            regex = nil
            captureNames = []
            if let placeholder = placeholders.first {
                throw MappingRuleError(rule: name, problem: "uses {\(placeholder)} but matches one DN, which has no captures")
            }
            do {
                _ = try ScopePath(scopeTemplate)
            } catch {
                throw MappingRuleError(rule: name, problem: error.description)
            }
            guard RoleName(rawValue: roleTemplate) != nil else {
                throw MappingRuleError(rule: name, problem: "role '\(roleTemplate)' may only contain letters, digits, '.', '_' and '-'")
            }
        }
        if !scopeTemplate.hasPrefix("/") {
            throw MappingRuleError(rule: name, problem: "scope '\(scopeTemplate)' must start with /")
        }
    }

    /// Everything that decides what the rule yields.
    var signature: String {
        let matched =
            switch matcher {
            case .namePattern(let pattern): "name\u{0}" + pattern
            case .dnPattern(let pattern): "dnPattern\u{0}" + pattern
            case .dn(let dn): "dn\u{0}" + dn.normalized
            }
        return [name, matched, scopeTemplate, roleTemplate].joined(separator: "\u{0}")
    }

    /// The (scope, role) this rule gives `group`, nil when the rule does not match, or a problem when it
    /// matches but the captured text does not make a valid scope or role.
    public func evaluate(name groupName: String, dn: DistinguishedName) -> Result<(ScopePath, RoleName), MappingWarning>? {
        var captures: [String: String] = [:]
        switch matcher {
        case .dn(let expected):
            guard dn == expected else { return nil }
        case .namePattern, .dnPattern:
            guard let regex else { return nil }
            let subject: String
            if case .namePattern = matcher { subject = groupName } else { subject = dn.description }
            let range = NSRange(subject.startIndex..., in: subject)
            guard let match = regex.firstMatch(in: subject, range: range) else { return nil }
            for captureName in captureNames {
                let captured = match.range(withName: captureName)
                if captured.location != NSNotFound, let swiftRange = Range(captured, in: subject) {
                    captures[captureName] = String(subject[swiftRange])
                }
            }
        }
        let scopeText = Self.fill(scopeTemplate, captures)
        let roleText = Self.fill(roleTemplate, captures)
        let scope: ScopePath
        do {
            scope = try ScopePath(scopeText)
        } catch {
            return .failure(MappingWarning(rule: name, group: dn, problem: error.description))
        }
        guard let role = RoleName(rawValue: roleText) else {
            return .failure(MappingWarning(rule: name, group: dn, problem: "role '\(roleText)' may only contain letters, digits, '.', '_' and '-'"))
        }
        return .success((scope, role))
    }

    private static func fill(_ template: String, _ captures: [String: String]) -> String {
        var result = template
        for (name, value) in captures {
            result = result.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return result
    }

    private static func placeholders(in template: String) -> [String] {
        matches(of: #"\{([A-Za-z][A-Za-z0-9]*)\}"#, in: template)
    }

    private static func namedCaptures(in pattern: String) -> [String] {
        matches(of: #"\(\?<([A-Za-z][A-Za-z0-9]*)>"#, in: pattern)
    }

    private static func matches(of pattern: String, in text: String) -> [String] {
        // The patterns above are constant and valid.
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}

public struct MappingRuleError: Error, Hashable, Sendable, CustomStringConvertible {
    public let rule: String
    public let problem: String

    public var description: String { "mapping rule '\(rule)' \(problem)" }
}

/// A group matched a rule, but the result was unusable; the group is left unbound.
public struct MappingWarning: Error, Hashable, Sendable, CustomStringConvertible {
    public let rule: String
    public let group: DistinguishedName
    public let problem: String

    public var description: String { "mapping rule '\(rule)' skipped group \(group): \(problem)" }
}
