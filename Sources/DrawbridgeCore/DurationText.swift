import Foundation

/// Durations as people type them: `30s`, `5m`, `2h`, `7d` (a decimal number and one unit).
public enum DurationText {
    public static func seconds(_ text: String) -> TimeInterval? {
        let units: [(String, TimeInterval)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        guard let (unit, size) = units.first(where: { text.hasSuffix($0.0) }),
            let number = Double(text.dropLast(unit.count)), number > 0, number.isFinite
        else { return nil }
        return number * size
    }

    /// The reverse: the largest unit that divides the duration whole, so `format(seconds("7d")!)` is `7d`.
    public static func format(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds.rounded())
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where whole >= size && whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }
}
