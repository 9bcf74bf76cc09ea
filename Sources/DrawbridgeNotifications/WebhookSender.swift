import AsyncHTTPClient
import Crypto
import DrawbridgeConfig
import Foundation
import NIOCore

/// Posts events as JSON with a Slack-compatible `text`, signed so receivers can tell Drawbridge sent them:
/// `X-Drawbridge-Signature: sha256=HEX(HMAC-SHA256(secret, TIMESTAMP + "." + BODY))` with `X-Drawbridge-Timestamp`.
/// `X-Drawbridge-Delivery` is the same on every retry of one notification, for receivers that deduplicate.
struct WebhookSender: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let message: String
        let transient: Bool
        var description: String { "webhook failed: \(message)" }
    }

    let client: HTTPClient

    func send(_ body: Data, delivery: String, to webhook: NotificationConfiguration.Webhook, at time: Date) async throws {
        let timestamp = String(Int64(time.timeIntervalSince1970))
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Drawbridge")
        request.headers.add(name: "X-Drawbridge-Delivery", value: delivery)
        request.headers.add(name: "X-Drawbridge-Timestamp", value: timestamp)
        request.headers.add(name: "X-Drawbridge-Signature", value: "sha256=" + Self.signature(body, timestamp: timestamp, secret: webhook.secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(15))
        } catch {
            throw Failure(message: "\(webhook.name): \(type(of: error))", transient: true)
        }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else {
            // 4xx other than 408/429 will not improve by retrying; 5xx and throttling might.
            let transient = response.status.code >= 500 || [408, 429].contains(response.status.code)
            throw Failure(message: "\(webhook.name) answered \(response.status.code)", transient: transient)
        }
    }

    static func signature(_ body: Data, timestamp: String, secret: SecretBytes) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret.bytes))
        mac.update(data: Data((timestamp + ".").utf8))
        mac.update(data: body)
        return mac.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
