import ArgumentParser
import AsyncHTTPClient
import DrawbridgeCore
import Foundation
import NIOCore
import NIOHTTP1

/// `--server URL` with a personal access token: the user commands then act through a Drawbridge server, as the
/// token's owner, instead of on a local store.
struct RemoteOptions: ParsableArguments {
    @Option(help: "A Drawbridge server (default: $DRAWBRIDGE_SERVER); user commands then act through its API as the token's owner.")
    var server: String?

    @Option(help: "A file holding a personal access token (default: the token in $DRAWBRIDGE_TOKEN).")
    var tokenFile: String?

    /// The client when a server is named; nil for local mode.
    func client() throws -> RemoteClient? {
        let environment = ProcessInfo.processInfo.environment
        guard let server = server ?? environment["DRAWBRIDGE_SERVER"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw CommandFailure("--server '\(server)' is not an http(s) URL")
        }
        let token: String
        if let tokenFile {
            do {
                token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw CommandFailure("cannot read the token file \(tokenFile)")
            }
        } else if let fromEnvironment = environment["DRAWBRIDGE_TOKEN"], !fromEnvironment.isEmpty {
            token = fromEnvironment
        } else {
            throw CommandFailure("--server needs a personal access token: --token-file FILE or DRAWBRIDGE_TOKEN (create one on the server's Tokens page)")
        }
        guard !token.isEmpty else { throw CommandFailure("the personal access token is empty") }
        return RemoteClient(base: server.hasSuffix("/") ? String(server.dropLast()) : server, token: token)
    }
}

struct RemoteClient: Sendable {
    let base: String
    let token: String

    private struct Problem: Decodable {
        var title: String
        var detail: String?
        var refusals: [Refusal]?
    }

    /// Sends a request and decodes the answer; a problem response becomes a one-line error (refusals listed).
    func send<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil, as: Answer.Type) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw CommandFailure("cannot reach \(base): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard (200..<300).contains(response.status.code) else {
            guard let problem = try? decoder.decode(Problem.self, from: data) else {
                throw CommandFailure("\(base) answered \(response.status.code)")
            }
            if let refusals = problem.refusals, !refusals.isEmpty {
                throw CommandFailure("\(problem.title):\n" + ActionRefused(refusals).lines)
            }
            throw CommandFailure("\(problem.title): \(problem.detail ?? "(no detail)")")
        }
        do {
            return try decoder.decode(Answer.self, from: data)
        } catch {
            throw CommandFailure("\(base) sent an answer this drawbridge does not understand (a different version?)")
        }
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self.init(buffer.readableBytesView)
    }
}
