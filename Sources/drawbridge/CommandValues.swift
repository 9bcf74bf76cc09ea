import ArgumentParser
import DrawbridgeCore
import Foundation

/// `30s`, `5m`, `2h`, `7d` as a command-line value.
struct DurationArgument: ExpressibleByArgument, Sendable {
    let seconds: TimeInterval

    init?(argument: String) {
        guard let seconds = DurationText.seconds(argument) else { return nil }
        self.seconds = seconds
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// An ISO 8601 time such as `2026-11-23T09:00:00Z`.
struct TimeArgument: ExpressibleByArgument, Sendable {
    let date: Date

    init?(argument: String) {
        guard let date = try? Date(argument, strategy: .iso8601) else { return nil }
        self.date = date
    }
}

extension ScopePath: ExpressibleByArgument {
    public init?(argument: String) {
        try? self.init(argument)
    }
}

extension RoleName: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument)
    }
}

/// The end of a time window from `--end`, `--for` or `--permanent`; exactly one.
struct WindowOptions: ParsableArguments {
    @Option(help: "When it starts (ISO 8601; default: now).") var start: TimeArgument?
    @Option(help: "When it ends (ISO 8601).") var end: TimeArgument?
    @Option(name: .customLong("for"), help: "How long it lasts from its start: 30m, 8h, 90d.") var duration: DurationArgument?
    @Flag(help: "No end (only where the policy allows it).") var permanent = false

    func window(now: Date) throws -> (start: Date?, end: Date?) {
        let choices = [end != nil, duration != nil, permanent].filter { $0 }.count
        guard choices == 1 else { throw ValidationError("give exactly one of --end, --for or --permanent") }
        if permanent { return (start?.date, nil) }
        if let end { return (start?.date, end.date) }
        return (start?.date, (start?.date ?? now).addingTimeInterval(duration?.seconds ?? 0))
    }
}

extension ActionRefused {
    /// One line per reason, for the terminal.
    var lines: String { refusals.map { "  - \($0.message) [\($0.code.rawValue)]" }.joined(separator: "\n") }
}

func formatTime(_ date: Date?) -> String {
    date?.iso8601 ?? "—"
}
