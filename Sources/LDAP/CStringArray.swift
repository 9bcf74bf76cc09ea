import Foundation

/// Calls `body` with a NULL-terminated `char **` built from `strings`, or NULL when `strings` is empty.
func withCStringArray<R>(
    _ strings: [String],
    _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws -> R
) rethrows -> R {
    guard !strings.isEmpty else { return try body(nil) }
    let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
    for (index, string) in strings.enumerated() {
        array[index] = strdup(string)
    }
    array[strings.count] = nil
    defer {
        for index in 0..<strings.count { free(array[index]) }
        array.deallocate()
    }
    return try body(array)
}
