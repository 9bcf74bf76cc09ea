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
}
