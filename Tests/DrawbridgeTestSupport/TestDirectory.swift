import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from `TestDirectory`; its description says what went wrong, with
/// the sandbox script's or the LDAP tool's stderr where there is one.
public struct TestDirectoryError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// A throwaway OpenLDAP directory for one test, run by `Scripts/slapd-sandbox`.
///
/// Call `shutdown()` when the test is done (also when it fails): the directory
/// is started with `--keep` so that `restart()` can reuse it, which means only
/// `shutdown()` deletes it.
public final class TestDirectory: Sendable {
    public let url: String
    public let ldapsURL: String
    public let baseDN: String
    public let adminDN: String
    public let adminPassword: String
    public let serviceDN: String
    public let servicePassword: String
    public let caFile: String
    public let wrongCAFile: String
    public let directory: String

    private let script: String
    private let state: Mutex<State>

    private struct State {
        var run: ScriptRun?
        // Kept only so the Process object lives as long as the script runs.
        var process: Process?
        var isShutDown = false
    }

    /// What is known about a running sandbox script.
    private struct ScriptRun: Sendable {
        let pid: pid_t
        let slapdPID: pid_t
        let exited: OneShot<Int32>
        let stderr: OutputCollector
    }

    private init(values: [String: String], script: String, run: ScriptRun, process: Process) {
        url = values["LDAP_URL"]!
        ldapsURL = values["LDAPS_URL"]!
        baseDN = values["LDAP_BASE_DN"]!
        adminDN = values["LDAP_ADMIN_DN"]!
        adminPassword = values["LDAP_ADMIN_PASSWORD"]!
        serviceDN = values["LDAP_SERVICE_DN"]!
        servicePassword = values["LDAP_SERVICE_PASSWORD"]!
        caFile = values["LDAP_CA_FILE"]!
        wrongCAFile = values["LDAP_WRONG_CA_FILE"]!
        directory = values["SLAPD_DIR"]!
        self.script = script
        state = Mutex(State(run: run, process: process))
    }

    deinit {
        // Last resort only; tests must call shutdown(). The script also stops
        // by itself when the test process dies.
        if let run = state.withLock({ $0.run }), !run.exited.isFulfilled {
            kill(run.pid, SIGTERM)
        }
    }

    // MARK: - Public API

    /// Starts a new sandbox. `ldif` contents are added with ldapadd once slapd
    /// runs (overlays such as memberOf apply); `bulkLDIF` contents are loaded
    /// with slapadd before it starts (fast, no overlays).
    public static func start(
        ldif: [String] = [],
        bulkLDIF: [String] = [],
        timeout: Duration = .seconds(30)
    ) async throws -> TestDirectory {
        _ = disableLDAPConfigFiles
        try checkTools()
        let script = try scriptPath()

        let fileManager = FileManager.default
        let inputDir = fileManager.temporaryDirectory
            .appendingPathComponent("drawbridge-testdirectory-\(UUID().uuidString)")
        try fileManager.createDirectory(at: inputDir, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: inputDir) }

        var arguments = ["--keep"]
        for (index, content) in ldif.enumerated() {
            let file = inputDir.appendingPathComponent("ldif-\(index).ldif")
            try Data(content.utf8).write(to: file)
            arguments += ["--ldif", file.path]
        }
        for (index, content) in bulkLDIF.enumerated() {
            let file = inputDir.appendingPathComponent("bulk-\(index).ldif")
            try Data(content.utf8).write(to: file)
            arguments += ["--bulk", file.path]
        }

        let (process, run, values) = try await launch(script: script, arguments: arguments, timeout: timeout)
        return TestDirectory(values: values, script: script, run: run, process: process)
    }

    /// Starts a sandbox, runs `body` with it, and shuts it down whether `body` returns or throws.
    public static func with<T>(
        ldif: [String] = [],
        bulkLDIF: [String] = [],
        _ body: (TestDirectory) async throws -> T
    ) async throws -> T {
        let directory = try await start(ldif: ldif, bulkLDIF: bulkLDIF)
        do {
            let result = try await body(directory)
            await directory.shutdown()
            return result
        } catch {
            await directory.shutdown()
            throw error
        }
    }

    /// Sends SIGTERM to the sandbox script and waits until it and slapd are gone.
    /// Throws if the script did not exit cleanly (e.g. slapd had died on its own).
    public func stop() async throws {
        let run = state.withLock { state -> ScriptRun? in
            let run = state.run
            state.run = nil
            return run
        }
        guard let run else { return }
        defer { state.withLock { $0.process = nil } }

        if !run.exited.isFulfilled {
            // A suspended slapd could not act on the script's SIGTERM.
            kill(run.slapdPID, SIGCONT)
            kill(run.pid, SIGTERM)
        }
        // The script gives slapd up to 30 s before it uses SIGKILL.
        guard let status = await run.exited.value(timeout: .seconds(45)) else {
            kill(run.pid, SIGKILL)
            kill(run.slapdPID, SIGKILL)
            throw TestDirectoryError(
                "slapd-sandbox (pid \(run.pid)) did not exit within 45 s of SIGTERM; stderr:\n\(shown(run.stderr.text))")
        }
        let deadline = ContinuousClock.now + .seconds(15)
        while !Self.processIsGone(run.slapdPID) {
            if ContinuousClock.now > deadline {
                throw TestDirectoryError("slapd (pid \(run.slapdPID)) is still running 15 s after its sandbox script exited")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        if status != 0 {
            let stderr = await run.stderr.textAfterEOF(timeout: .seconds(2))
            throw TestDirectoryError("slapd-sandbox exited with status \(status); stderr:\n\(shown(stderr))")
        }
    }

    /// Freezes slapd (SIGSTOP): connections stay open and requests wait for an answer, as with a hung server.
    /// Returns once the kernel shows slapd stopped: the signal is delivered asynchronously, and a loaded machine
    /// may let slapd answer a request sent right after `kill` returned.
    public func suspend() throws {
        try signalSlapd(SIGSTOP, "suspend")
        guard let pid = state.withLock({ $0.run?.slapdPID }) else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            // /proc/PID/stat: "pid (comm) state …"; T is stopped by a signal.
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "T" { return }
            usleep(1_000)
        }
        throw TestDirectoryError("slapd (pid \(pid)) did not stop within 10 s of SIGSTOP")
    }

    /// Lets a suspended slapd go on (SIGCONT); the requests it held are answered.
    public func resume() throws { try signalSlapd(SIGCONT, "resume") }

    /// Waits until more of slapd's connections than `count` hold request bytes slapd has not read (see
    /// `unreadRequests`): with slapd suspended, until another request waits on it.
    public func waitForUnreadRequests(moreThan count: Int, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try unreadRequests() <= count {
            guard ContinuousClock.now < deadline else {
                throw TestDirectoryError("no new request reached slapd at \(url) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// slapd's connections on its LDAP port whose receive queue holds bytes, from the kernel's table of IPv4
    /// TCP sockets (`/proc/net/tcp`).
    public func unreadRequests() throws -> Int {
        guard let port = URLComponents(string: url)?.port else { throw TestDirectoryError("no port in \(url)") }
        let local = String(format: "0100007F:%04X", port)
        let established = "01"
        // Read to the end: a single read of a /proc file returns one page of it.
        guard let file = FileHandle(forReadingAtPath: "/proc/net/tcp") else { throw TestDirectoryError("cannot open /proc/net/tcp") }
        defer { try? file.close() }
        let table = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        return table.split(separator: "\n").dropFirst().filter { line in
            // sl local_address rem_address st tx_queue:rx_queue …
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[1] == local, fields[3] == established else { return false }
            return fields[4].split(separator: ":").last.flatMap { Int($0, radix: 16) }.map { $0 > 0 } ?? false
        }.count
    }

    private func signalSlapd(_ signal: Int32, _ action: String) throws {
        guard let run = state.withLock({ $0.run }) else { throw TestDirectoryError("cannot \(action) slapd: it is not running") }
        guard kill(run.slapdPID, signal) == 0 else { throw TestDirectoryError("cannot \(action) slapd (pid \(run.slapdPID)): errno \(errno)") }
    }

    /// Stops slapd and starts it again on the same directory and ports.
    public func restart() async throws {
        try await stop()
        if state.withLock({ $0.isShutDown }) {
            throw TestDirectoryError("restart() after shutdown(): the directory \(directory) was deleted")
        }
        let arguments = [
            "--dir", directory,
            "--port", Self.port(of: url),
            "--ldaps-port", Self.port(of: ldapsURL),
            "--keep",
        ]
        var attempt = 1
        while true {
            do {
                let (process, run, values) = try await Self.launch(
                    script: script, arguments: arguments, timeout: .seconds(30))
                guard values["LDAP_URL"] == url, values["LDAPS_URL"] == ldapsURL else {
                    throw TestDirectoryError(
                        "restarted sandbox reports \(values["LDAP_URL"] ?? "?") and \(values["LDAPS_URL"] ?? "?"), expected \(url) and \(ldapsURL)")
                }
                state.withLock {
                    $0.run = run
                    $0.process = process
                }
                return
            } catch let error as TestDirectoryError where error.description.contains("already in use") && attempt < 5 {
                // A client socket of a parallel test can hold the port briefly.
                attempt += 1
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Runs `ldapmodify` as the root DN with `ldif` on stdin, to change the
    /// directory behind Drawbridge's back. Throws with ldapmodify's stderr.
    /// The `directory:` section of a configuration that reaches this server over StartTLS as the service account,
    /// with the password in the environment variable `passwordEnv`; `extra` adds keys at the same depth.
    public func directoryYAML(passwordEnv: String, extra: String = "") -> String {
        """
        directory:
          urls: ["\(url)"]
          startTLS: true
          tls: { caFile: "\(caFile)" }
          bind: { dn: "\(serviceDN)", passwordEnv: \(passwordEnv) }
          baseDN: dc=example,dc=org
        \(extra)
        """
    }

    public func modify(ldif: String) async throws {
        let tool = try Self.requireTool("ldapmodify")
        let result = try await Self.runTool(
            tool, ["-x", "-H", url, "-D", adminDN, "-w", adminPassword], input: Data(ldif.utf8))
        guard result.status == 0 else {
            throw TestDirectoryError(
                "ldapmodify failed with status \(result.status): \(result.stderr)\(result.stdout.isEmpty ? "" : "\nstdout: \(result.stdout)")")
        }
    }

    /// Runs `ldapsearch -LLL` (subtree, as the root DN, lines not wrapped) and returns its output.
    public func search(base: String, filter: String, attributes: [String]) async throws -> String {
        let tool = try Self.requireTool("ldapsearch")
        let result = try await Self.runTool(
            tool,
            ["-LLL", "-o", "ldif-wrap=no", "-x", "-H", url, "-D", adminDN, "-w", adminPassword,
             "-b", base, "-s", "sub", filter] + attributes,
            input: nil)
        guard result.status == 0 else {
            throw TestDirectoryError("ldapsearch failed with status \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Stops slapd if it runs and deletes the directory. Safe to call more than once.
    public func shutdown() async {
        do {
            try await stop()
        } catch {
            // Not thrown (tests call this from cleanup paths) but never silent.
            FileHandle.standardError.write(Data("TestDirectory.shutdown: \(error)\n".utf8))
        }
        state.withLock { $0.isShutDown = true }
        if FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.removeItem(atPath: directory)
            } catch {
                FileHandle.standardError.write(Data("TestDirectory.shutdown: cannot delete \(directory): \(error)\n".utf8))
            }
        }
    }

    // MARK: - Launching the script

    private static let readyKeys = [
        "LDAP_URL", "LDAPS_URL", "LDAP_BASE_DN", "LDAP_ADMIN_DN", "LDAP_ADMIN_PASSWORD",
        "LDAP_SERVICE_DN", "LDAP_SERVICE_PASSWORD", "LDAP_CA_FILE", "LDAP_WRONG_CA_FILE",
        "SLAPD_PID", "SLAPD_DIR",
    ]

    private enum Outcome: Sendable {
        case ready([String: String])
        case badOutput(String)
        case exited(Int32)
        case timedOut
    }

    private static func launch(
        script: String, arguments: [String], timeout: Duration
    ) async throws -> (Process, ScriptRun, [String: String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", script] + arguments
        process.environment = childEnvironment()
        process.standardInput = FileHandle.nullDevice
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe

        let outcome = OneShot<Outcome>()
        let exited = OneShot<Int32>()
        process.terminationHandler = { process in
            let status = process.terminationStatus
            exited.fulfill(status)
            outcome.fulfill(.exited(status))
        }
        let stderr = OutputCollector(stderrPipe.fileHandleForReading, keepLast: 256 * 1024)
        let stdout = OutputCollector(stdoutPipe.fileHandleForReading, keepLast: 64 * 1024) { data in
            if let parsed = parseReady(data) {
                outcome.fulfill(parsed)
            }
        }

        do {
            try process.run()
        } catch {
            throw TestDirectoryError("cannot run \(script) with bash: \(error)")
        }
        // (Process.run() closes our copies of the pipes' child ends, so EOF arrives.)
        stdout.start()
        stderr.start()

        let timer = Task {
            try await Task.sleep(for: timeout)
            outcome.fulfill(.timedOut)
        }
        let result = await outcome.value
        timer.cancel()

        let pid = process.processIdentifier
        switch result {
        case .ready(let values):
            let run = ScriptRun(pid: pid, slapdPID: pid_t(values["SLAPD_PID"]!)!, exited: exited, stderr: stderr)
            return (process, run, values)
        case .exited(let status):
            let text = await stderr.textAfterEOF(timeout: .seconds(2))
            throw TestDirectoryError("slapd-sandbox exited with status \(status) before READY; stderr:\n\(shown(text))")
        case .timedOut, .badOutput:
            kill(pid, SIGTERM)
            _ = await exited.value(timeout: .seconds(45))
            let text = await stderr.textAfterEOF(timeout: .seconds(2))
            if case .badOutput(let output) = result {
                throw TestDirectoryError("slapd-sandbox printed READY without all values:\n\(output)\nstderr:\n\(shown(text))")
            }
            throw TestDirectoryError("slapd-sandbox did not print READY within \(timeout); stderr:\n\(shown(text))")
        }
    }

    /// Parses the KEY=VALUE lines once the READY line has arrived.
    private static func parseReady(_ data: Data) -> Outcome? {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let readyIndex = lines.firstIndex(of: "READY"), readyIndex < lines.count - 1 else {
            return nil
        }
        var values: [String: String] = [:]
        for line in lines[..<readyIndex] {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard readyKeys.allSatisfy({ values[$0] != nil }), pid_t(values["SLAPD_PID"]!) != nil else {
            return .badOutput(text)
        }
        return .ready(values)
    }

    // MARK: - Running ldap-utils

    private struct ToolResult: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    private static func runTool(_ tool: String, _ arguments: [String], input: Data?) async throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = childEnvironment()
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let stdinPipe = input.map { _ in Pipe() }
        process.standardInput = stdinPipe ?? FileHandle.nullDevice

        let exited = OneShot<Int32>()
        process.terminationHandler = { process in
            exited.fulfill(process.terminationStatus)
        }
        let stdout = OutputCollector(stdoutPipe.fileHandleForReading, keepLast: Int.max)
        let stderr = OutputCollector(stderrPipe.fileHandleForReading, keepLast: 256 * 1024)
        try process.run()
        stdout.start()
        stderr.start()
        if let stdinPipe, let input {
            let writer = stdinPipe.fileHandleForWriting
            // On its own thread: a large input must not block while the tool's output fills up.
            Thread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }.start()
        }

        guard let status = await exited.value(timeout: .seconds(120)) else {
            kill(process.processIdentifier, SIGKILL)
            throw TestDirectoryError("\(tool) \(arguments.first ?? "") did not finish within 120 s")
        }
        return ToolResult(
            status: status,
            stdout: await stdout.textAfterEOF(timeout: .seconds(5)),
            stderr: await stderr.textAfterEOF(timeout: .seconds(5)).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: - Environment and tools

    /// libldap in this process reads no ldap.conf / ~/.ldaprc (and no LDAPTLS_* variables either).
    private static let disableLDAPConfigFiles: Void = {
        setenv("LDAPNOINIT", "1", 1)
    }()

    private static let extraToolDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"]

    private static func childEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LDAPNOINIT"] = "1"
        let path = environment["PATH"].map { $0 + ":" } ?? ""
        environment["PATH"] = path + extraToolDirectories.joined(separator: ":")
        return environment
    }

    private static func findTool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + extraToolDirectories
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    private static func requireTool(_ name: String) throws -> String {
        guard let tool = findTool(name) else {
            throw TestDirectoryError(
                "\(name) is not installed (not on PATH, /usr/sbin or /sbin); install with: apt-get install slapd ldap-utils openssl")
        }
        return tool
    }

    private static func checkTools() throws {
        let missing = ["slapd", "ldapadd"].filter { findTool($0) == nil }
        guard missing.isEmpty else {
            throw TestDirectoryError(
                "\(missing.joined(separator: " and ")) not found (searched PATH, /usr/sbin and /sbin); "
                    + "install with: apt-get install slapd ldap-utils openssl")
        }
    }

    /// `Scripts/slapd-sandbox` in the repository that holds this file.
    private static func scriptPath() throws -> String {
        let repoRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // DrawbridgeTestSupport
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repository root
        let script = repoRoot.appendingPathComponent("Scripts/slapd-sandbox").path
        guard FileManager.default.fileExists(atPath: script) else {
            throw TestDirectoryError("sandbox script not found at \(script)")
        }
        return script
    }

    private static func port(of url: String) -> String {
        String(url[url.index(after: url.lastIndex(of: ":")!)...])
    }

    /// True once `pid` no longer runs; a zombie (dead, not yet reaped by init) counts as gone.
    private static func processIsGone(_ pid: pid_t) -> Bool {
        #if os(Linux)
        // /proc files report size 0, so read them to EOF instead of by size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/stat") else { return true }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd(), let stat = String(data: data, encoding: .utf8),
            let paren = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: paren)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
        #else
        return kill(pid, 0) != 0 && errno == ESRCH
        #endif
    }
}

// MARK: - Small helpers

private func shown(_ output: String) -> String {
    output.isEmpty ? "(empty)" : output
}

/// A value set once; any number of tasks can wait for it, with or without a timeout.
private final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
    }
    private let state = Mutex(State())

    var isFulfilled: Bool { state.withLock { $0.value != nil } }

    /// Sets the value unless it is already set; returns whether this call set it.
    @discardableResult
    func fulfill(_ value: Value) -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>]? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: value) }
        return true
    }

    var value: Value {
        get async { await wait(timeout: nil)! }
    }

    /// The value, or nil if it was not set within `timeout`.
    func value(timeout: Duration) async -> Value? {
        await wait(timeout: timeout)
    }

    private func wait(timeout: Duration?) async -> Value? {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let timer = timeout.map { timeout in
            Task {
                try await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
        defer { timer?.cancel() }
        return await withCheckedContinuation { continuation in
            let value = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.waiters[id] = continuation
                return nil
            }
            if let value { continuation.resume(returning: value) }
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume(returning: nil)
    }
}

/// Drains a pipe on its own thread (blocking reads stay off the Swift
/// concurrency pool) and keeps the last `keepLast` bytes.
private final class OutputCollector: Sendable {
    private struct State {
        var data = Data()
    }
    private let handle: FileHandle
    private let keepLast: Int
    private let onData: (@Sendable (Data) -> Void)?
    private let state = Mutex(State())
    private let eof = OneShot<Void>()

    init(_ handle: FileHandle, keepLast: Int, onData: (@Sendable (Data) -> Void)? = nil) {
        self.handle = handle
        self.keepLast = keepLast
        self.onData = onData
    }

    func start() {
        Thread { [self] in
            // Plain read(2): FileHandle.read(upToCount:) waits for the full count on a pipe.
            let fd = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let snapshot = state.withLock { state -> Data in
                    state.data.append(contentsOf: buffer[0..<count])
                    if state.data.count > keepLast {
                        state.data.removeFirst(state.data.count - keepLast)
                    }
                    return state.data
                }
                onData?(snapshot)
            }
            try? handle.close()
            eof.fulfill(())
        }.start()
    }

    var text: String {
        String(decoding: state.withLock { $0.data }, as: UTF8.self)
    }

    /// The output once the pipe reached EOF, or what has arrived after `timeout`
    /// (a grandchild that inherited the pipe can keep it open).
    func textAfterEOF(timeout: Duration) async -> String {
        _ = await eof.value(timeout: timeout)
        return text
    }
}
