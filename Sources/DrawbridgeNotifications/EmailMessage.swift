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
            "Subject: \(Self.encodedWords(Self.clean(subject)))",
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

    /// RFC 2047 limits an encoded word to 75 characters and a line holding one to 76. 39 bytes make a 64-character
    /// word (52 of base64 between "=?UTF-8?B?" and "?="), so even the first line, after "Subject: ", stays within 76.
    static let encodedWordBytes = 39

    /// Text as itself when ASCII, else as encoded words folded onto continuation lines, each holding whole characters.
    static func encodedWords(_ text: String) -> String {
        guard !text.allSatisfy({ $0.isASCII && !$0.isNewline }) else { return text }
        var words: [[UInt8]] = [[]]
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if words[words.count - 1].count + bytes.count > encodedWordBytes { words.append([]) }
            words[words.count - 1] += bytes
        }
        return words.map { "=?UTF-8?B?\(Data($0).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter
    }()
}
