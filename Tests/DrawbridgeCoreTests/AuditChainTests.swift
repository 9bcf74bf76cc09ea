import DrawbridgeCore
import Foundation
import Testing

@Suite struct PolicySetTests {
    let root = ScopePath.root
    let prod = try! ScopePath("/subscriptions/prod")
    let web = try! ScopePath("/subscriptions/prod/resourceGroups/web")
    let dev = try! ScopePath("/subscriptions/dev")

    private func override(_ configure: (inout PolicyOverride) -> Void) -> PolicyOverride {
        var result = PolicyOverride()
        configure(&result)
        return result
    }

    private var inherited: PolicySet {
        PolicySet(overrides: [
            root: override { $0.maxActivationDuration = 4 * 3600 },
            prod: override { $0.requireApproval = true },
        ])
    }

    @Test func withoutOverridesTheDefaultsApply() {
        let policy = PolicySet().effective(at: web)
        #expect(policy == RolePolicy.defaults)
        #expect(policy.maxActivationDuration == 8 * 3600)
        #expect(policy.requireJustification)
        #expect(policy.requireMFA)
        #expect(!policy.requireApproval)
        #expect(policy.approvalsRequired == 1)
    }

    @Test func rootOverrideAppliesEverywhere() {
        for scope in [root, prod, web, dev] {
            #expect(inherited.effective(at: scope).maxActivationDuration == 4 * 3600)
        }
    }

    @Test func descendantScopeInheritsEveryAncestorsOverride() {
        var expected = RolePolicy.defaults
        expected.maxActivationDuration = 4 * 3600
        expected.requireApproval = true
        #expect(inherited.effective(at: web) == expected)
        #expect(inherited.effective(at: prod) == expected)
    }

    @Test func siblingScopeDoesNotInheritAnotherBranchsOverride() {
        var expected = RolePolicy.defaults
        expected.maxActivationDuration = 4 * 3600
        #expect(inherited.effective(at: dev) == expected)
        #expect(inherited.effective(at: root) == expected)
    }

    @Test func childOverrideWinsOverTheRoot() throws {
        let set = PolicySet(overrides: [
            root: override { $0.maxActivationDuration = 4 * 3600 },
            prod: override { $0.requireApproval = true },
            web: override { $0.maxActivationDuration = 3600 },
        ])
        #expect(set.effective(at: web).maxActivationDuration == 3600)
        #expect(set.effective(at: web).requireApproval)
        #expect(set.effective(at: prod).maxActivationDuration == 4 * 3600)
        #expect(set.effective(at: try ScopePath("/subscriptions/prod/resourceGroups/web/vm1")).maxActivationDuration == 3600)
    }

    @Test func originIsTheNearestScopeWithAnOverride() throws {
        #expect(inherited.origin(at: web) == prod)
        #expect(inherited.origin(at: prod) == prod)
        #expect(inherited.origin(at: dev) == root)
        #expect(inherited.origin(at: root) == root)
        #expect(PolicySet().origin(at: web) == nil)
        #expect(PolicySet(overrides: [prod: override { $0.requireTicket = true }]).origin(at: dev) == nil)
    }

    @Test func problemsFlagTooShortMaximumAndZeroApprovals() {
        #expect(override { $0.maxActivationDuration = 5 * 60 - 1 }.problems() == ["maxActivationDuration must be at least 5m"])
        #expect(override { $0.approvalsRequired = 0 }.problems() == ["approvalsRequired must be at least 1"])
        #expect(
            override {
                $0.maxActivationDuration = 60
                $0.approvalsRequired = 0
            }.problems() == ["maxActivationDuration must be at least 5m", "approvalsRequired must be at least 1"])
    }

    @Test func validOverrideHasNoProblems() {
        #expect(PolicyOverride().problems() == [])
        #expect(
            override {
                $0.maxActivationDuration = 5 * 60
                $0.approvalsRequired = 1
                $0.approvalTimeout = 60
                $0.maxEligibilityDuration = 3600
                $0.maxAssignmentDuration = 5 * 60
            }.problems() == [])
    }

    @Test func mergedKeepsFieldsTheNewerOverrideDoesNotSet() {
        let base = override {
            $0.maxActivationDuration = 4 * 3600
            $0.requireTicket = true
            $0.approvers = [.group(DirectoryEntryID(rawValue: "g-admins"))]
        }
        let newer = override {
            $0.requireTicket = false
            $0.requireApproval = true
        }
        let expected = override {
            $0.maxActivationDuration = 4 * 3600
            $0.requireTicket = false
            $0.requireApproval = true
            $0.approvers = [.group(DirectoryEntryID(rawValue: "g-admins"))]
        }
        #expect(base.merged(with: newer) == expected)
        #expect(base.merged(with: PolicyOverride()) == base)
        #expect(PolicyOverride().merged(with: newer) == newer)
    }

    @Test func emptyOverrideIsEmpty() {
        #expect(PolicyOverride().isEmpty)
        #expect(!override { $0.requireMFA = false }.isEmpty)
    }
}

@Suite struct AuditChainTests {
    static let start = Date(timeIntervalSince1970: 1_750_000_000)

    static func event(_ index: Int) -> AuditEvent {
        AuditEvent(
            action: "activation.requested", actor: Actor(kind: .user, name: "alice", userID: DirectoryEntryID(rawValue: "u-alice")),
            source: .api, requestID: RequestID(rawValue: "req-\(index)"), subjectID: "act-\(index)", userLogin: "alice",
            scope: try! ScopePath("/subscriptions/prod"), role: RoleName(rawValue: "owner"), justification: "incident \(index)",
            details: ["start": "2025-06-15T15:06:40Z", "approvals": "0 of 1", "index": "\(index)"])
    }

    static func chain(_ count: Int = 5) -> [AuditRecord] {
        var records: [AuditRecord] = []
        for index in 1...count {
            records.append(
                AuditRecord(
                    sequence: Int64(index), at: start.addingTimeInterval(Double(index) * 60), event: event(index),
                    previousHash: records.last?.hash ?? AuditRecord.genesisHash))
        }
        return records
    }

    @Test func intactChainVerifies() {
        let records = Self.chain()
        #expect(records.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(records[0].previousHash == AuditRecord.genesisHash)
        #expect(zip(records.dropFirst(), records).allSatisfy { $0.previousHash == $1.hash })
        #expect(AuditChain.verify(records) == nil)
    }

    @Test func emptyChainVerifies() {
        #expect(AuditChain.verify([AuditRecord]()) == nil)
    }

    @Test func modifiedContentIsReportedAtThatRecord() throws {
        var records = Self.chain()
        let original = records[2].eventJSON
        records[2].eventJSON = original.replacingOccurrences(of: "incident 3", with: "incident 9")
        try #require(records[2].eventJSON != original)
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .modified)
        #expect(problem.sequence == 3)
    }

    @Test func modifiedTimestampIsReportedAsModified() throws {
        var records = Self.chain()
        records[3].timestampMilliseconds += 1
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .modified)
        #expect(problem.sequence == 4)
    }

    @Test func deletedMiddleRecordIsReportedAtTheFollowingRecord() throws {
        var records = Self.chain()
        records.remove(at: 2)
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .deleted)
        #expect(problem.sequence == 4)
        #expect(problem.detail == "records 3…3 are missing")
    }

    @Test func deletedFirstRecordsAreReported() throws {
        let records = Array(Self.chain().dropFirst(2))
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .deleted)
        #expect(problem.sequence == 3)
        #expect(problem.detail == "records 1…2 are missing")
    }

    @Test func copiedRecordAppendedAtTheEndIsReportedAsInserted() throws {
        var records = Self.chain()
        var copy = records[2]
        copy.sequence = 6
        records.append(copy)
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .inserted)
        #expect(problem.sequence == 6)
    }

    @Test func forgedRecordWithWrongLinkIsReportedAsInserted() throws {
        var records = Self.chain()
        let forged = AuditRecord(
            sequence: 3, at: Self.start.addingTimeInterval(150), event: Self.event(99), previousHash: String(repeating: "ab", count: 32))
        records.insert(forged, at: 2)
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .inserted)
        #expect(problem.sequence == 3)
    }

    @Test func duplicatedRecordIsReportedAsInserted() throws {
        var records = Self.chain()
        records.insert(records[2], at: 3)
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .inserted)
        #expect(problem.sequence == 3)
    }

    @Test func rehashedModifiedRecordIsCaughtAtTheNextRecord() throws {
        var records = Self.chain()
        records[2].eventJSON = records[2].eventJSON.replacingOccurrences(of: "incident 3", with: "incident 9")
        records[2].hash = records[2].computedHash()
        #expect(AuditChain.verify(records.prefix(3)) == nil)
        let problem = try #require(AuditChain.verify(records))
        #expect(problem.kind == .inserted)
        #expect(problem.sequence == 4)
    }

    @Test func computedHashIsDeterministic() {
        let record = Self.chain(1)[0]
        let again = AuditRecord(sequence: 1, at: Self.start.addingTimeInterval(60), event: Self.event(1), previousHash: AuditRecord.genesisHash)
        #expect(record.hash == record.computedHash())
        #expect(record.computedHash() == record.computedHash())
        #expect(again.hash == record.hash)
        #expect(record.hash.count == 64)
        #expect(record.hash.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func hashCoversLinkSequenceAndTime() {
        let record = Self.chain(1)[0]
        var relinked = record
        relinked.previousHash = String(repeating: "1", count: 64)
        var renumbered = record
        renumbered.sequence = 2
        var retimed = record
        retimed.timestampMilliseconds += 1
        let hashes = Set([record, relinked, renumbered, retimed].map { $0.computedHash() })
        #expect(hashes.count == 4)
    }

    @Test func canonicalJSONIsByteIdentical() throws {
        let event = Self.event(1)
        let first = AuditRecord.canonicalJSON(event)
        let second = AuditRecord.canonicalJSON(event)
        #expect(!first.isEmpty)
        #expect(first == second)
        var reordered = event
        reordered.details = [:]
        for key in ["index", "start", "approvals"] { reordered.details[key] = event.details[key] }
        #expect(AuditRecord.canonicalJSON(reordered) == first)
    }

    @Test func canonicalJSONSortsKeysAndKeepsSlashes() throws {
        let text = String(decoding: AuditRecord.canonicalJSON(Self.event(1)), as: UTF8.self)
        #expect(text.hasPrefix(#"{"action":"activation.requested","actor":{"kind":"user","name":"alice","userID":"u-alice"},"#))
        #expect(text.contains(#""details":{"approvals":"0 of 1","index":"1","start":"2025-06-15T15:06:40Z"}"#))
        #expect(text.contains(#""scope":"/subscriptions/prod""#))
    }

    @Test func recordDecodesBackToTheOriginalEvent() {
        let time = Self.start.addingTimeInterval(60)
        let record = AuditRecord(sequence: 1, at: time, event: Self.event(1), previousHash: AuditRecord.genesisHash)
        #expect(record.event == Self.event(1))
        #expect(record.timestampMilliseconds == 1_750_000_060_000)
        #expect(record.at == time)
        #expect(record.eventJSON == String(decoding: AuditRecord.canonicalJSON(Self.event(1)), as: UTF8.self))
    }

    @Test func corruptEventJSONDecodesToNil() {
        var record = Self.chain(1)[0]
        record.eventJSON = "{\"action\":"
        #expect(record.event == nil)
    }
}
