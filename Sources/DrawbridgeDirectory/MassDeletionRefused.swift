/// A full sync would mark an implausible share of the directory deleted, as happens when the bind account
/// loses read access or a base DN or filter is wrong. The sync is rolled back: nothing changed.
public struct MassDeletionRefused: Error, Sendable, CustomStringConvertible {
    public let kind: String
    public let deleted: Int
    public let live: Int
    public let limitPercent: Int

    /// Up to this many deletions are always allowed, so that small directories are not held to a percentage.
    static let alwaysAllowed = 10

    static func check(kind: String, deleted: Int, live: Int, limitPercent: Int) throws(MassDeletionRefused) {
        guard deleted > alwaysAllowed, deleted * 100 > live * limitPercent else { return }
        throw MassDeletionRefused(kind: kind, deleted: deleted, live: live, limitPercent: limitPercent)
    }

    public var description: String {
        "the full sync would mark \(deleted) of \(live) \(kind) deleted, more than directory.sync.maxDeletionPercent (\(limitPercent)%); "
            + "nothing was changed. Check that the bind account can still read them and that the base DNs and filters are right, "
            + "then run `drawbridge sync --full --allow-mass-deletion` if the deletions are real"
    }
}
