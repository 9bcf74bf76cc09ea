import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Wakes the scheduler when new work is written: directly within the process, and through a Unix datagram
/// socket beside the database for other processes (a CLI `activate` while `drawbridge run` sleeps).
public final class WorkSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
        var canceledGeneration = -1
    }

    private let state = Mutex(State())
    /// Where other processes' notifications arrive; nil for an in-process signal only.
    public let socketPath: String?

    public init(socketPath: String? = nil) {
        self.socketPath = socketPath
    }

    /// The socket path for a store file, or nil when it would exceed the system's limit for socket paths.
    public static func socketPath(forDatabase path: String) -> String? {
        let candidate = path + ".wake"
        return candidate.utf8.count < 100 ? candidate : nil
    }

    /// Wakes a waiter in this process, and one listening on the socket in another.
    public func notify() {
        wakeLocal()
        if let socketPath { Self.send(to: socketPath) }
    }

    func wakeLocal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at `deadline`, at a notification (or one that came since the last wait), or when the task is canceled.
    public func wait(until deadline: ContinuousClock.Instant?) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.nextNotification() }
            if let deadline {
                group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func nextNotification() async {
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || state.canceledGeneration == generation {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.canceledGeneration = generation
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    // MARK: Other processes

    /// Listens on `socketPath` until the returned listener is closed, waking local waiters on every datagram.
    public func listen() throws -> WakeListener {
        guard let socketPath else { throw WakeSocketError("no socket path") }
        return try WakeListener(path: socketPath) { [weak self] in self?.wakeLocal() }
    }

    static func send(to path: String) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        var address = unixAddress(path)
        let byte: UInt8 = 1
        // Nobody listening (ECONNREFUSED, ENOENT) is normal: no scheduler runs, the next one reads the queue anyway.
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { addressPointer in
                withUnsafePointer(to: byte) { sendto(descriptor, $0, 1, 0, addressPointer, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
    }

    static func unixAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        return address
    }
}

/// A bound datagram socket whose reads run on their own thread (a blocking `recv`), so no task is held.
public final class WakeListener: Sendable {
    private let descriptor: Int32
    private let path: String
    private let closed = ClosedFlag()

    init(path: String, onWake: @escaping @Sendable () -> Void) throws {
        // A socket file left by a process that was killed would make bind fail.
        unlink(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw WakeSocketError("socket() failed: \(String(cString: strerror(errno)))") }
        var address = WorkSignal.unixAddress(path)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw WakeSocketError("cannot listen on \(path): \(reason)")
        }
        self.descriptor = descriptor
        self.path = path
        let thread = Thread { [closed] in
            var buffer = [UInt8](repeating: 0, count: 16)
            while true {
                let received = recv(descriptor, &buffer, buffer.count, 0)
                if received < 0 && errno == EINTR { continue }
                if received < 0 || closed.value.load(ordering: .acquiring) { return }
                onWake()
            }
        }
        thread.start()
    }

    /// Stops the reading thread: it wakes on one last datagram, sees the flag and returns.
    public func close() {
        guard !closed.value.exchange(true, ordering: .acquiringAndReleasing) else { return }
        WorkSignal.send(to: path)
        unlink(path)
    }

    deinit {
        Glibc.close(descriptor)
    }
}

private final class ClosedFlag: Sendable {
    let value = Atomic(false)
}

public struct WakeSocketError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
