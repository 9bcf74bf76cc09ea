import CCurl
import DrawbridgeConfig
import Dispatch
import Foundation

/// Sends mail with libcurl's SMTP client (STARTTLS or SMTPS, AUTH, certificate checks), one message per call.
/// libcurl blocks, so each transfer runs on a dispatch queue rather than Swift's cooperative pool.
struct SMTPMailer: Sendable {
    struct Failure: Error, CustomStringConvertible {
        /// libcurl's message; it names the step that failed and never contains the password.
        let message: String
        /// Worth trying again later (connection, authentication or TLS trouble, 4xx), as opposed to a refusal of this message.
        let transient: Bool
        /// The server could not take any message (no connection, no answer, authentication or TLS), as opposed to
        /// an answer about this one (a full mailbox, greylisting): other recipients would fail the same way.
        let serverWide: Bool
        var description: String { "sending mail failed: \(message)" }
    }

    let configuration: NotificationConfiguration.Email

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    func send(_ message: EmailMessage) async throws {
        _ = Self.globalInit
        let text = message.rendered()
        let configuration = configuration
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.transfer(text, from: message.from, to: message.to, configuration) })
            }
        }
    }

    /// The payload libcurl reads from, with how much of it was handed over.
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0

        init(_ text: String) {
            bytes = Array(text.utf8)
        }
    }

    private static func transfer(_ text: String, from: String, to: String, _ configuration: NotificationConfiguration.Email) throws {
        guard let handle = curl_easy_init() else { throw Failure(message: "libcurl could not start a transfer", transient: true, serverWide: true) }
        defer { curl_easy_cleanup(handle) }
        let upload = Upload(text)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE))
        let recipients = curl_slist_append(nil, "<\(to)>")
        defer { curl_slist_free_all(recipients) }
        let code: CURLcode = withExtendedLifetime(upload) {
            errorBuffer.withUnsafeMutableBufferPointer { errors in
                drawbridge_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                drawbridge_curl_set_string(handle, CURLOPT_URL, configuration.url)
                drawbridge_curl_set_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
                drawbridge_curl_set_list(handle, CURLOPT_MAIL_RCPT, recipients)
                drawbridge_curl_set_long(handle, CURLOPT_UPLOAD, 1)
                drawbridge_curl_set_read_function(handle, readCallback)
                drawbridge_curl_set_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
                drawbridge_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
                drawbridge_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
                drawbridge_curl_set_long(handle, CURLOPT_TIMEOUT, 60)
                if configuration.startTLS || configuration.url.lowercased().hasPrefix("smtps://") {
                    drawbridge_curl_set_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
                }
                if let caFile = configuration.tls.caFile { drawbridge_curl_set_string(handle, CURLOPT_CAINFO, caFile) }
                let verify = configuration.tls.verification == .require ? 1 : 0
                drawbridge_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, verify)
                drawbridge_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, verify * 2)
                if let username = configuration.username { drawbridge_curl_set_string(handle, CURLOPT_USERNAME, username) }
                if let password = configuration.password { drawbridge_curl_set_string(handle, CURLOPT_PASSWORD, String(decoding: password.bytes, as: UTF8.self)) }
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            // Only a 5xx answer to this message (sender, recipient, content) is final. Authentication and TLS fail for
            // every message alike and are often temporary (libcurl reports a 454 as a denied login too), so they are
            // retried and end as failed, which the outbox backlog shows, instead of the mail being dropped.
            let setupFailure = [CURLE_LOGIN_DENIED, CURLE_USE_SSL_FAILED, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION].contains(code)
            let reply = drawbridge_curl_response_code(handle)
            let permanent = (500..<600).contains(reply) && !setupFailure
            throw Failure(message: message, transient: !permanent, serverWide: setupFailure || !(400..<600).contains(reply))
        }
    }

    private static let readCallback: drawbridge_curl_read_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
        let length = min(size * count, upload.bytes.count - upload.offset)
        upload.bytes.withUnsafeBufferPointer { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + upload.offset, byteCount: length)
        }
        upload.offset += length
        return length
    }
}
