import DrawbridgeCore
import Foundation
import LDAP
import Yams

/// Reads and validates a configuration file. Relative paths in it are relative to the file's folder.
public struct ConfigurationLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func load(path: String) throws(ConfigurationError) -> DrawbridgeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, keyPath: "", problem: "cannot read the file (\(Self.reason(error))); pass an existing file with --config or DRAWBRIDGE_CONFIG")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, relativeTo: folder)
    }

    public func parse(_ text: String, file: String? = nil, relativeTo folder: String) throws(ConfigurationError) -> DrawbridgeConfiguration {
        let raw = try decode(text, file: file)
        var builder = ConfigurationBuilder(file: file, folder: folder, environment: environment)
        return try builder.build(raw)
    }

    private func decode(_ text: String, file: String?) throws(ConfigurationError) -> RawConfiguration {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw ConfigurationError(file: file, keyPath: "", problem: "the file is empty")
            }
            node = composed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(file: file, keyPath: "", problem: "not valid YAML: \(error)")
        }
        let raw: RawConfiguration
        do {
            raw = try YAMLDecoder().decode(RawConfiguration.self, from: node)
        } catch let DecodingError.typeMismatch(type, context) {
            throw ConfigurationError(file: file, keyPath: Self.path(context.codingPath), problem: "expected \(Self.describe(type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw ConfigurationError(file: file, keyPath: Self.path(context.codingPath), problem: "expected \(Self.describe(type)), found nothing")
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigurationError(file: file, keyPath: Self.path(context.codingPath), problem: context.debugDescription)
        } catch {
            throw ConfigurationError(file: file, keyPath: "", problem: "cannot decode the configuration: \(error)")
        }
        // Codable ignores keys it does not know; a misspelt key must not silently fall back to a default.
        let known = Self.knownKeyTree(of: raw)
        if let unknown = Self.firstUnknownKey(node, known: known, path: []) {
            throw ConfigurationError(file: file, keyPath: unknown, problem: "unknown key; check the spelling against the configuration reference in README.md")
        }
        return raw
    }

    private static func knownKeyTree(of raw: RawConfiguration) -> Any {
        // Every key that decoded into a field re-encodes, so the encoded tree lists the known keys present.
        guard let data = try? JSONEncoder().encode(raw), let tree = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        return tree
    }

    private static func firstUnknownKey(_ node: Node, known: Any, path: [String]) -> String? {
        switch node {
        case .mapping(let mapping):
            let knownMapping = known as? [String: Any] ?? [:]
            for (key, value) in mapping {
                let name = key.string ?? "\(key)"
                if value.null != nil { continue }
                guard let knownValue = knownMapping[name] else { return (path + [name]).joined(separator: ".") }
                if let nested = firstUnknownKey(value, known: knownValue, path: path + [name]) { return nested }
            }
        case .sequence(let sequence):
            let knownArray = known as? [Any] ?? []
            for (index, item) in sequence.enumerated() where index < knownArray.count {
                if let nested = firstUnknownKey(item, known: knownArray[index], path: path.dropLast() + ["\(path.last ?? "")[\(index)]"]) {
                    return nested
                }
            }
        default:
            break
        }
        return nil
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.reduce("") { result, key in
            if let index = key.intValue { return "\(result)[\(index)]" }
            return result.isEmpty ? key.stringValue : "\(result).\(key.stringValue)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is [String].Type: "a list of strings"
        default: "a \(type)"
        }
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
