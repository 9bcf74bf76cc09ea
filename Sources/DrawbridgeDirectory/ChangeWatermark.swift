import DrawbridgeConfig
import Foundation

/// Where the next incremental sync starts reading. A change made during a sync to an entry the sync had
/// already read carries a marker after the sync's start but possibly before markers read later, so the
/// watermark must not pass the server's position at the start of the sync.
struct ChangeWatermark {
    let ordering: ChangeOrdering
    /// How far before the server's clock the next read starts; at least the markers' one-second resolution.
    var margin: Duration = .seconds(1)

    /// A server's own position when a sync starts, where it publishes one (AD's highestCommittedUSN, a clock),
    /// and which server it is: another server's position means nothing here.
    struct ServerPosition: Sendable, Equatable {
        var counter: String
        var server: String?
    }

    /// `previous` was sound when it was set, and sound bounds only grow, so the result is the later of the two.
    func next(previous: String?, newestSeen: String?, start: ServerPosition?, elapsed: Duration) -> String? {
        let candidate: String?
        switch ordering {
        case .number:
            // Without the server's counter there is no sound bound; the newest marker seen is the best left.
            candidate = start?.counter ?? newestSeen
        case .time:
            if let clock = start.flatMap({ Self.parseGeneralizedTime($0.counter) }) {
                // The server's clock as the sync began, less the margin: the second covers a fraction the clock may
                // drop; more covers changes replicated in later with the time they were made elsewhere.
                candidate = Self.formatGeneralizedTime(clock.addingTimeInterval(-Self.seconds(max(margin, .seconds(1)))))
            } else {
                // Markers and the sync's duration are both on the server's timeline, so clock skew does not
                // enter; the margin and one more second cover the markers' one-second resolution.
                let seconds = Self.seconds(elapsed) + Self.seconds(max(margin, .seconds(1))) + 1
                candidate = newestSeen.flatMap(Self.parseGeneralizedTime).map {
                    Self.formatGeneralizedTime($0.addingTimeInterval(-seconds))
                }
            }
        }
        guard let candidate else { return previous }
        guard let previous else { return candidate }
        return ordering.isAfter(candidate, previous) ? candidate : previous
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Keeps the watermark at or before `marker`, so an entry that could not be used is read again next time.
    func holding(_ watermark: String?, at marker: String?) -> String? {
        guard let marker else { return watermark }
        guard let watermark else { return nil }
        return ordering.isAfter(watermark, marker) ? marker : watermark
    }

    /// `YYYYMMDDHHMMSS[.fraction]Z`; the fraction is dropped, which only moves the bound earlier.
    static func parseGeneralizedTime(_ text: String) -> Date? {
        let digits = Array(text.utf8.prefix(14))
        guard digits.count == 14, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.hasSuffix("Z") else { return nil }
        func number(_ range: Range<Int>) -> Int { Int(String(decoding: digits[range], as: UTF8.self)) ?? 0 }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        components.year = number(0..<4)
        components.month = number(4..<6)
        components.day = number(6..<8)
        components.hour = number(8..<10)
        components.minute = number(10..<12)
        components.second = number(12..<14)
        return components.date
    }

    static func formatGeneralizedTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02d%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}
