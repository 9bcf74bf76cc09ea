import CQRencode

/// A QR code drawn by libqrencode, rendered as SVG: one path of dark modules, with the quiet zone the standard asks for.
enum QRCode {
    struct EncodingFailed: Error, CustomStringConvertible {
        var description: String { "the text could not be encoded as a QR code" }
    }

    static func svg(_ text: String, moduleSize: Int = 6) throws -> String {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { throw EncodingFailed() }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let quiet = 4
        let size = (width + 2 * quiet) * moduleSize
        var path = ""
        for y in 0..<width {
            for x in 0..<width where code.pointee.data[y * width + x] & 1 == 1 {
                path += "M\((x + quiet) * moduleSize) \((y + quiet) * moduleSize)h\(moduleSize)v\(moduleSize)h-\(moduleSize)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(size) \(size)" width="\(size)" height="\(size)" role="img" aria-label="QR code for the authenticator app">\
            <rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }
}
