import DrawbridgeCore
import Foundation

/// Counts failed sign-ins per login and per client address in a sliding window; once either reaches the
/// limit, further attempts are refused without asking the directory until old failures age out.
public actor SignInThrottle {
    private let limit: Int
    private let window: TimeInterval
    private let clock: any WallClock
    private var failures: [String: [Date]] = [:]

    /// What was guessed: each has its own count per login (a correct password must not reset the count of wrong
    /// codes), while an address's count covers both.
    public enum Secret: String, Sendable {
        case password
        case code
    }

    public init(limit: Int, window: Duration, clock: any WallClock) {
        self.limit = limit
        self.window = TimeInterval(window.components.seconds)
        self.clock = clock
    }

    /// When the attempt may proceed, nil; otherwise how long to wait.
    public func retryAfter(login: String, address: IPAddress?, guessing secret: Secret = .password) -> TimeInterval? {
        let now = clock.now()
        var wait: TimeInterval?
        for key in keys(login: login, address: address, secret) {
            let recent = prune(key, now: now)
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait ?? 0, oldest.addingTimeInterval(window).timeIntervalSince(now))
            }
        }
        return wait
    }

    public func recordFailure(login: String, address: IPAddress?, guessing secret: Secret = .password) {
        let now = clock.now()
        for key in keys(login: login, address: address, secret) {
            failures[key, default: []].append(now)
        }
    }

    /// A successful sign-in clears the login's failures, not the address's: one good password from an address
    /// must not reset guessing at other logins from it.
    public func recordSuccess(login: String) {
        failures[Self.loginKey(login, .password)] = nil
    }

    private func keys(login: String, address: IPAddress?, _ secret: Secret) -> [String] {
        [Self.loginKey(login, secret)] + (address.map { ["address:\($0)"] } ?? [])
    }

    private static func loginKey(_ login: String, _ secret: Secret) -> String { "login-\(secret.rawValue):" + login.lowercased() }

    private func prune(_ key: String, now: Date) -> [Date] {
        let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[key] = recent.isEmpty ? nil : recent
        return recent
    }
}
