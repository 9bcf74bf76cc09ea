import Foundation

/// A plain-text email as RFC 5322 text: UTF-8 body in base64, non-ASCII headers as RFC 2047 encoded words, and
/// every header value stripped of line breaks so nothing a user typed can add a header.
struct EmailMessage: Sendable {
    var from: String
    var to: String
    var subject: String
    var body: String
    /// Stable per outbox entry and recipient, so a resend after a crash is recognisable as the same message.
    var messageID: String
    var date: Date

    func rendered() -> String {
        let headers = [
            "Date: \(Self.dateFormatter.string(from: date))",
            "From: Drawbridge <\(Self.clean(from))>",
            "To: <\(Self.clean(to))>",
            "Subject: \(Self.encodedWord(Self.clean(subject)))",
            "Message-ID: <\(Self.clean(messageID))>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Auto-Submitted: auto-generated",
        ]
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + encoded + "\r\n"
    }

    static func clean(_ value: String) -> String {
        String(value.map { $0.isNewline ? " " : $0 })
    }

    static func encodedWord(_ text: String) -> String {
        guard !text.allSatisfy({ $0.isASCII && !$0.isNewline }) else { return text }
        return "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter
    }()
}
