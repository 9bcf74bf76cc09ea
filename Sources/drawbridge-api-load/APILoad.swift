import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

// API load client, run by Scripts/benchmark-api against `drawbridge serve`: one connection per token, each
// looping activate → deactivate of one role for a fixed time; prints requests/s, latency p50/p99/max and errors.

struct LoadOptions {
    var url = ""
    var tokensFile = ""
    var scope = ""
    var role = ""
    var seconds = 60

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        while let name = iterator.next() {
            guard let value = iterator.next() else { throw LoadFailure("\(name) needs a value") }
            switch name {
            case "--url": url = value
            case "--tokens": tokensFile = value
            case "--scope": scope = value
            case "--role": role = value
            case "--seconds": seconds = Int(value) ?? seconds
            default: throw LoadFailure("unknown option \(name)")
            }
        }
        guard !url.isEmpty, !tokensFile.isEmpty, !scope.isEmpty, !role.isEmpty else {
            throw LoadFailure("usage: drawbridge-api-load --url URL --tokens FILE --scope PATH --role NAME [--seconds N]")
        }
    }
}

struct LoadFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Latencies in milliseconds and error counts, per kind of request.
final class Recorder: Sendable {
    private let state = Mutex<(latencies: [String: [Double]], errors: [String: [String: Int]])>(([:], [:]))

    func record(_ kind: String, milliseconds: Double) {
        state.withLock { $0.latencies[kind, default: []].append(milliseconds) }
    }

    func error(_ kind: String, _ reason: String) {
        state.withLock { $0.errors[kind, default: [:]][reason, default: 0] += 1 }
    }

    var snapshot: (latencies: [String: [Double]], errors: [String: [String: Int]]) { state.withLock { $0 } }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

@main
enum APILoad {
    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("drawbridge-api-load: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let options = try LoadOptions(CommandLine.arguments)
        let tokens = try String(contentsOfFile: options.tokensFile, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: tokens.count)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let recorder = Recorder()
        let deadline = ContinuousClock.now + .seconds(options.seconds)
        let started = ContinuousClock.now
        let body = try JSONSerialization.data(withJSONObject: [
            "items": [["scope": options.scope, "role": options.role]], "duration": "1h", "justification": "load test",
        ])
        await withTaskGroup(of: Void.self) { group in
            for token in tokens {
                group.addTask {
                    while ContinuousClock.now < deadline {
                        guard let id = await send(client, options.url + "/api/v1/activations", token, body, kind: "activate", recorder) else { continue }
                        _ = await send(client, options.url + "/api/v1/activations/\(id)/deactivate", token, nil, kind: "deactivate", recorder)
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        try await client.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let snapshot = recorder.snapshot
        print("| request | requests | requests/s | p50 ms | p99 ms | max ms | errors |")
        print("|---|---|---|---|---|---|---|")
        for kind in ["activate", "deactivate"] {
            let sorted = (snapshot.latencies[kind] ?? []).sorted()
            let errors = snapshot.errors[kind]?.values.reduce(0, +) ?? 0
            print(String(
                format: "| %@ | %d | %.0f | %.1f | %.1f | %.1f | %d |", kind, sorted.count, Double(sorted.count) / seconds, percentile(sorted, 0.5),
                percentile(sorted, 0.99), sorted.last ?? .nan, errors))
        }
        for (kind, reasons) in snapshot.errors {
            for (reason, count) in reasons { FileHandle.standardError.write(Data("\(kind) error \(reason): \(count)\n".utf8)) }
        }
        print(String(format: "\n%d connections for %.0f s", tokens.count, seconds))
    }

    /// One request; the activation id from an activate, nil after a failure (recorded).
    static func send(_ client: HTTPClient, _ url: String, _ token: String, _ body: Data?, kind: String, _ recorder: Recorder) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let data = try await response.body.collect(upTo: 1 << 20)
            let elapsed = ContinuousClock.now - started
            recorder.record(kind, milliseconds: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            guard (200..<300).contains(response.status.code) else {
                recorder.error(kind, "HTTP \(response.status.code)")
                return nil
            }
            guard kind == "activate" else { return "" }
            let json = try JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any]
            let outcome = (json?["outcomes"] as? [[String: Any]])?.first
            return (outcome?["activation"] as? [String: Any])?["id"] as? String
        } catch {
            recorder.error(kind, "\(type(of: error))")
            return nil
        }
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self.init(buffer.readableBytesView)
    }
}
