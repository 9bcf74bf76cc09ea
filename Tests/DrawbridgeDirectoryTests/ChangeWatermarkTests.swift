import DrawbridgeConfig
import Testing

@testable import DrawbridgeDirectory

@Suite struct ChangeWatermarkTests {
    private let time = ChangeWatermark(ordering: .time)
    private let number = ChangeWatermark(ordering: .number)

    @Test func timeWatermarkStaysBeforeTheSyncStarted() {
        // The newest marker was read at the end of a 10.5 s sync: the server's start lies 10.5 s earlier.
        #expect(time.next(previous: nil, newestSeen: "20261122190014Z", start: nil, elapsed: .milliseconds(10_500)) == "20261122190001Z")
        #expect(time.next(previous: nil, newestSeen: "20261122190014.0Z", start: nil, elapsed: .zero) == "20261122190012Z")
        // Across midnight and month ends.
        #expect(time.next(previous: nil, newestSeen: "20261201000001Z", start: nil, elapsed: .seconds(3)) == "20261130235956Z")
    }

    @Test func timeWatermarkUsesTheServersClockWhereItIsPublished() {
        let clock = ChangeWatermark.ServerPosition(counter: "20261122185500Z", server: nil)
        // Markers seen later than the start do not matter: the next sync begins where this one began.
        #expect(time.next(previous: nil, newestSeen: "20261122190014Z", start: clock, elapsed: .seconds(30)) == "20261122185459Z")
        #expect(time.next(previous: "20261122185000Z", newestSeen: nil, start: clock, elapsed: .zero) == "20261122185459Z")
    }

    @Test func aWiderMarginReadsFurtherBack() {
        // Five minutes of replication delay: a change made elsewhere at 18:50:30 may reach this server after 18:55.
        let replicated = ChangeWatermark(ordering: .time, margin: .seconds(300))
        let clock = ChangeWatermark.ServerPosition(counter: "20261122185500Z", server: "192.0.2.10:389")
        #expect(replicated.next(previous: nil, newestSeen: nil, start: clock, elapsed: .zero) == "20261122185000Z")
        #expect(replicated.next(previous: nil, newestSeen: "20261122190014Z", start: nil, elapsed: .zero) == "20261122185513Z")
    }

    @Test func watermarkNeverMovesBack() {
        #expect(time.next(previous: "20261122190013Z", newestSeen: "20261122190014Z", start: nil, elapsed: .seconds(5)) == "20261122190013Z")
        #expect(time.next(previous: "20261122190013Z", newestSeen: nil, start: nil, elapsed: .seconds(5)) == "20261122190013Z")
        #expect(time.next(previous: "20261122190013Z", newestSeen: "not a time", start: nil, elapsed: .zero) == "20261122190013Z")
    }

    @Test func counterWatermarkIsTheServersPositionAtTheStart() {
        // uSNChanged 1010 was read after bob's change to 1005: the position at the start (1000) keeps bob's change.
        let start = ChangeWatermark.ServerPosition(counter: "1000", server: "CN=NTDS Settings,CN=DC1")
        #expect(number.next(previous: "900", newestSeen: "1010", start: start, elapsed: .seconds(1)) == "1000")
        #expect(number.next(previous: "900", newestSeen: "1010", start: nil, elapsed: .seconds(1)) == "1010")
        // Counters compare as numbers, not text.
        #expect(number.next(previous: "999", newestSeen: "1000", start: nil, elapsed: .zero) == "1000")
    }

    @Test func anEntryThatCouldNotBeUsedHoldsTheWatermark() {
        #expect(time.holding("20261122190013Z", at: "20261122180000Z") == "20261122180000Z")
        #expect(time.holding("20261122170000Z", at: "20261122180000Z") == "20261122170000Z")
        #expect(time.holding("20261122170000Z", at: nil) == "20261122170000Z")
        #expect(number.holding("1000", at: "999") == "999")
    }
}
