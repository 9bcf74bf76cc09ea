import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a file beside the database, held while a queue is worked on: two processes applying
/// the same intents (`drawbridge run` and a `reconcile`) could otherwise send an older intent after a newer one,
/// and two delivering the same notifications could send one twice.
public struct ApplyLock: Sendable {
    let path: String

    public init(path: String) {
        self.path = path
    }

    public func withLock<T>(_ body: () async throws -> T) async throws -> T {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WakeSocketError("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // Polled rather than blocking, so no thread of the cooperative pool waits inside flock.
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw WakeSocketError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        defer { flock(descriptor, LOCK_UN) }
        return try await body()
    }
}
