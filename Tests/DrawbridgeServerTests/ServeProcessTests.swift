import AsyncHTTPClient
import DrawbridgeTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// `drawbridge serve` as its own process, set up through the CLI as an operator would, on the real clock.
@Suite("drawbridge serve as a process: HTTPS and graceful shutdown")
struct ServeProcessTests {
    static let web = "/subscriptions/prod/resourceGroups/web"

    @Test("serves HTTPS with the configured certificate; SIGTERM lets a request waiting on the directory and the directory change in progress finish")
    func httpsAndGracefulShutdown() async throws {
        try await TestDirectory.with(ldif: ServerHarness.ldif) { directory in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drawbridge-serve-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let port = try Self.freeLoopbackPort()
            let tls = directory.directory + "/tls"
            let configFile = folder.appendingPathComponent("drawbridge.yaml").path
            try """
                \(directory.directoryYAML(passwordEnv: "SERVE_TEST_PASSWORD", extra: "  timeouts: { connect: 2s, operation: 30s }"))
                store:
                  sqlite: { path: store.sqlite }
                \(AccessHarness.mappingRules)
                access: { syncInterval: 10m, reconcileInterval: 10m }
                server:
                  listen: 127.0.0.1:\(port)
                  tls: { certificateFile: "\(tls)/server.pem", keyFile: "\(tls)/server.key" }
                  administratorGroups: [drawbridge-admins]
                  mfa: { keyEnv: SERVE_TEST_MFA_KEY }
                """.write(toFile: configFile, atomically: true, encoding: .utf8)
            let environment = ["SERVE_TEST_PASSWORD": directory.servicePassword, "SERVE_TEST_MFA_KEY": ServerHarness.mfaKey]
            func drawbridge(_ arguments: [String]) async throws -> String {
                let process = try Self.process(arguments + ["--config", configFile], environment: environment)
                let (status, output) = try await runToCompletion(process)
                try #require(status == 0, "drawbridge \(arguments.joined(separator: " ")) failed: \(output)")
                return output
            }
            _ = try await drawbridge(["sync", "--full"])
            _ = try await drawbridge(["eligibility", "add", "--user", "alice", "--scope", "/subscriptions/prod", "--role", "owner", "--for", "30d", "--justification", "on call"])
            _ = try await drawbridge(["policy", "set", "--scope", "/subscriptions/prod", "--role", "owner", "--require-mfa", "false", "--require-justification", "false"])
            let token = try await drawbridge(["token", "create", "--user", "alice", "--name", "shutdown test", "--for", "1h"])
                .trimmingCharacters(in: .whitespacesAndNewlines)

            try await Self.withClients(trusting: directory.caFile) { client, untrusting in
                var started: [Process] = []
                defer {
                    try? directory.resume()
                    for process in started where process.isRunning { process.terminate() }
                }
                let base = "https://127.0.0.1:\(port)"
                let serve = ["serve", "--config", configFile]

                // A request waiting on the directory when SIGTERM comes is answered before the server exits.
                var server = try ServedProcess(try Self.process(serve, environment: environment))
                started.append(server.process)
                try await server.waitUntilServing(client, base + "/healthz")
                // The client retries until its deadline and then reports the last failure.
                let refused = await #expect(throws: (any Error).self) {
                    _ = try await untrusting.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(2))
                }
                #expect(String(reflecting: refused).contains("CERTIFICATE_VERIFY_FAILED"), "a client that does not trust the sandbox CA refuses the certificate")
                let signIn = try await Self.send(client, base + "/api/v1/session", method: .POST, json: Self.credentials("dana"))
                #expect(signIn.status == .ok)
                let cookie = try #require(signIn.headers["set-cookie"].first { $0.hasPrefix("drawbridge_session=") })
                #expect(cookie.contains("; Secure"), "\(cookie)")
                #expect(cookie.contains("; HttpOnly"), "\(cookie)")
                try directory.suspend()
                let unread = try directory.unreadRequests()
                let waitingSignIn = Task { try await Self.send(client, base + "/api/v1/session", method: .POST, json: Self.credentials("bob")) }
                try await directory.waitForUnreadRequests(moreThan: unread)
                try await server.terminateWhileDirectoryHangs(directory)
                let answered = try await waitingSignIn.value
                #expect(answered.status == .ok, "the sign-in in flight at SIGTERM finishes: \(answered.body)")
                var exit = await server.exit.value
                #expect(exit.status == 0, "\(exit.output)")

                // A grant inside its LDAP modify when SIGTERM comes reaches the directory and is recorded as done.
                server = try ServedProcess(try Self.process(serve, environment: environment))
                started.append(server.process)
                try await server.waitUntilServing(client, base + "/healthz")
                try directory.suspend()
                let unreadBeforeActivation = try directory.unreadRequests()
                let activate = #"{"items":[{"scope":"\#(Self.web)","role":"owner"}],"duration":"1h"}"#
                let activated = try await Self.send(client, base + "/api/v1/activations", method: .POST, json: activate, token: token)
                #expect(activated.status == .created, "recorded while the directory hangs: \(activated.body)")
                try await directory.waitForUnreadRequests(moreThan: unreadBeforeActivation)
                try await server.terminateWhileDirectoryHangs(directory)
                exit = await server.exit.value
                #expect(exit.status == 0, "\(exit.output)")
                #expect(!exit.output.contains("CancellationError"), "\(exit.output)")
                let members = try await directory.search(base: Fixtures.groupDN("pim-prod-web-owner"), filter: "(objectClass=*)", attributes: ["member"])
                #expect(members.contains("member: \(Fixtures.userDN("alice"))"), "\(members)")
                let status = try await drawbridge(["status"])
                #expect(status.contains("Directory changes pending: 0"), "\(status)")
            }
        }
    }

    /// One HTTPS client that trusts the sandbox CA and one that trusts only the system's, shut down however `body` ends.
    static func withClients(trusting caFile: String, _ body: (HTTPClient, HTTPClient) async throws -> Void) async throws {
        var trusted = TLSConfiguration.makeClientConfiguration()
        trusted.trustRoots = .file(caFile)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: trusted))
        let untrusting = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: .makeClientConfiguration()))
        do {
            try await body(client, untrusting)
        } catch {
            try? await client.shutdown()
            try? await untrusting.shutdown()
            throw error
        }
        try await client.shutdown()
        try await untrusting.shutdown()
    }

    static func credentials(_ login: String) -> String { #"{"login":"\#(login)","password":"\#(ServerHarness.password(login))"}"# }

    /// A running `drawbridge serve`; its output is collected until it exits.
    struct ServedProcess {
        let process: Process
        let exit: Task<(status: Int32, output: String), Never>

        init(_ process: Process) throws {
            let log = Pipe()
            process.standardOutput = log
            process.standardError = log
            try process.run()
            self.process = process
            exit = Task.detached {
                let output = log.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: output, as: UTF8.self))
            }
        }

        func waitUntilServing(_ client: HTTPClient, _ url: String) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Connection", value: "close")
                if let response = try? await client.execute(request, timeout: .seconds(5)), response.status == .ok { return }
                guard process.isRunning, ContinuousClock.now < deadline else {
                    if process.isRunning { process.terminate() }
                    throw TestDirectoryError("drawbridge serve did not answer \(url) within 30 s: \(await exit.value.output)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// SIGTERM while slapd is frozen: the server must still be running a second later, waiting for the work in
        /// flight; then slapd goes on.
        func terminateWhileDirectoryHangs(_ directory: TestDirectory) async throws {
            kill(process.processIdentifier, SIGTERM)
            try await Task.sleep(for: .seconds(1))
            #expect(process.isRunning, "drawbridge serve exited while work in flight waited on the directory")
            try directory.resume()
        }
    }

    struct Answer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: String
    }

    static func send(_ client: HTTPClient, _ url: String, method: HTTPMethod, json: String, token: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        // No idle connection is left for the server to close at shutdown.
        request.headers.add(name: "Connection", value: "close")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: response.status, headers: response.headers, body: String(buffer: body))
    }

    static func process(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try drawbridgeExecutable())
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["LDAPNOINIT": "1"]) { $1 }) { $1 }
        return process
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    static func freeLoopbackPort() throws -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw TestDirectoryError("cannot find a free loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
