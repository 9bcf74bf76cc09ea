/// A subscription-style scope such as `/subscriptions/prod/resourceGroups/web`. `/` is the root.
public struct ScopePath: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let segments: [String]

    public static let root = ScopePath(validatedSegments: [])

    private init(validatedSegments: [String]) {
        segments = validatedSegments
    }

    public init(_ path: String) throws(ScopePathError) {
        guard path.hasPrefix("/") else { throw ScopePathError(path: path, problem: "must start with /") }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts == [""] {
            self.init(validatedSegments: [])
            return
        }
        for part in parts {
            guard !part.isEmpty else { throw ScopePathError(path: path, problem: "has an empty segment") }
            guard part.unicodeScalars.allSatisfy(Self.isAllowed) else {
                throw ScopePathError(path: path, problem: "segment '\(part)' may only contain letters, digits, '.', '_' and '-'")
            }
        }
        self.init(validatedSegments: parts)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
    }

    public var description: String { "/" + segments.joined(separator: "/") }

    public var parent: ScopePath? {
        segments.isEmpty ? nil : ScopePath(validatedSegments: Array(segments.dropLast()))
    }

    /// This scope and every ancestor up to the root, nearest first.
    public var selfAndAncestors: [ScopePath] {
        (0...segments.count).reversed().map { ScopePath(validatedSegments: Array(segments.prefix($0))) }
    }

    public func contains(_ other: ScopePath) -> Bool {
        other.segments.count >= segments.count && Array(other.segments.prefix(segments.count)) == segments
    }

    public static func < (lhs: ScopePath, rhs: ScopePath) -> Bool {
        lhs.segments.lexicographicallyPrecedes(rhs.segments)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            // A DecodingError, so callers that validate input (the API) answer 400 instead of failing.
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

public struct ScopePathError: Error, Hashable, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "scope '\(path)' \(problem)" }
}
