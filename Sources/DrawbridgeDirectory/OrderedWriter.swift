/// Runs writes one after another in the background, so the caller can prepare the next batch meanwhile.
/// A write starts only when the previous one finished; `abandon` waits for the one in flight, so that after
/// a failure no write can land once the surrounding transaction has ended.
struct OrderedWriter<Output: Sendable> {
    private var pending: Task<Output, any Error>?

    /// Waits for the previous write, returns its result, and starts `write`.
    mutating func submit(_ write: @escaping @Sendable () async throws -> Output) async throws -> Output? {
        let previous = try await pending?.value
        pending = Task(operation: write)
        return previous
    }

    /// Waits for the last write.
    mutating func finish() async throws -> Output? {
        defer { pending = nil }
        return try await pending?.value
    }

    mutating func abandon() async {
        _ = try? await pending?.value
        pending = nil
    }
}
