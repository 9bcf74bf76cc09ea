/// Email addresses as configuration and policies give them.
public enum EmailAddress {
    /// Deliberately loose (one @, something on each side, a dot in the domain, nothing that could break a header):
    /// the mail server decides the rest.
    public static func isPlausible(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !text.contains(where: { $0.isWhitespace || $0.isNewline || "<>,;\"()".contains($0) })
    }
}
