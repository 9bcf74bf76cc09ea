import Crypto
import DrawbridgeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `Scripts/smtp-sink`: a real SMTP server (aiosmtpd) on loopback with STARTTLS and one account.
final class SMTPSink: Sendable {
    let port: Int
    let folder: URL
    private let process: Process
    private let input: Pipe

    static let user = "mailer"
    static let password = "mail-secret-✓"

    private init(port: Int, folder: URL, process: Process, input: Pipe) {
        self.port = port
        self.folder = folder
        self.process = process
        self.input = input
    }

    /// Starts the sink with the sandbox directory's server certificate (issued for 127.0.0.1 by `caFile`), waiting
    /// for it on a dispatch thread rather than a Swift concurrency thread.
    /// `busy` addresses are answered 452 (mailbox full) at RCPT TO.
    static func start(caFile: String, busy: [String] = []) async throws -> SMTPSink {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try launch(caFile: caFile, busy: busy) }) }
        }
    }

    private static func launch(caFile: String, busy: [String]) throws -> SMTPSink {
        let tls = URL(fileURLWithPath: caFile).deletingLastPathComponent()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/smtp-sink").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script, "--out", folder.path, "--cert", tls.appendingPathComponent("server.pem").path, "--key",
            tls.appendingPathComponent("server.key").path, "--user", user, "--password", password,
        ] + busy.flatMap { ["--busy", $0] }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = input
        try process.run()
        var text = ""
        while !text.contains("READY") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw TestDirectoryError("Scripts/smtp-sink did not start (it needs aiosmtpd: run Scripts/install-dependencies, or pip install aiosmtpd): \(problem)")
            }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT=") }), let port = Int(line.dropFirst(5)) else {
            throw TestDirectoryError("Scripts/smtp-sink printed no port: \(text)")
        }
        return SMTPSink(port: port, folder: folder, process: process, input: input)
    }

    struct Message: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        var data: String
        var tls: Bool
        var auth: Bool

        /// The decoded text of the base64 body.
        var body: String {
            guard let range = data.range(of: "\r\n\r\n") ?? data.range(of: "\n\n") else { return "" }
            let encoded = data[range.upperBound...].filter { !$0.isWhitespace }
            return Data(base64Encoded: String(encoded)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    func messages() throws -> [Message] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { try JSONDecoder().decode(Message.self, from: Data(contentsOf: $0)) }
    }

    /// Closing its standard input is the sink's signal to stop (more dependable than SIGTERM from a test process).
    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// An HTTP receiver on loopback that records webhook posts whose signature checks out, and can be told to fail or
/// to answer slowly.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var delivery: String
        var body: String
        var signatureValid: Bool
    }

    private let state = Mutex<(received: [Received], failWith: Int?, answerAfter: Duration)>(([], nil, .zero))
    let secret: String

    init(secret: String) {
        self.secret = secret
    }

    var received: [Received] { state.withLock { $0.received } }

    func fail(with status: Int?) { state.withLock { $0.failWith = status } }

    /// Records each post at once but answers it only after `delay`.
    func answer(after delay: Duration) { state.withLock { $0.answerAfter = delay } }

    /// Runs the receiver for the duration of `body`, which gets its URL.
    func serve<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("hook") { request, context -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let text = String(buffer: bytes)
            let timestamp = request.headers[HTTPField.Name("X-Drawbridge-Timestamp")!] ?? ""
            var mac = HMAC<SHA256>(key: SymmetricKey(data: Data(self.secret.utf8)))
            mac.update(data: Data((timestamp + "." + text).utf8))
            let expected = "sha256=" + mac.finalize().map { String(format: "%02x", $0) }.joined()
            let valid = request.headers[HTTPField.Name("X-Drawbridge-Signature")!] == expected
            if let status = self.state.withLock({ $0.failWith }) { return Response(status: .init(code: status)) }
            let delay = self.state.withLock {
                $0.received.append(Received(delivery: request.headers[HTTPField.Name("X-Drawbridge-Delivery")!] ?? "", body: text, signatureValid: valid))
                return $0.answerAfter
            }
            try await Task.sleep(for: delay)
            return Response(status: .noContent)
        }
        let port = OneShotPort()
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await application.runService(gracefulShutdownSignals: [])
                return nil
            }
            let url = "http://127.0.0.1:\(await port.value)/hook"
            let result = try await body(url)
            group.cancelAll()
            return result
        }
    }
}

/// A mail server that hangs: a loopback port whose connections the kernel completes but nobody accepts or answers,
/// so a client waits for the greeting until its own timeout.
final class SilentServer: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(INADDR_LOOPBACK).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 64) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard descriptor >= 0, listening else {
            close(descriptor)
            throw TestDirectoryError("could not listen on a loopback port")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() {
        close(descriptor)
    }
}

/// The port a server reports once it listens.
final class OneShotPort: Sendable {
    private let stream: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    }

    func set(_ port: Int) { continuation.yield(port) }

    var value: Int {
        get async {
            for await port in stream { return port }
            return 0
        }
    }
}
