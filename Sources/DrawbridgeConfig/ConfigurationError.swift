/// A problem with the configuration: where it is (file and key path) and what to do.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let file: String?
    public let keyPath: String
    public let problem: String

    public init(file: String?, keyPath: String, problem: String) {
        self.file = file
        self.keyPath = keyPath
        self.problem = problem
    }

    public var description: String {
        let location = [file, keyPath.isEmpty ? nil : keyPath].compactMap { $0 }.joined(separator: " at ")
        return location.isEmpty ? problem : "\(location): \(problem)"
    }
}
