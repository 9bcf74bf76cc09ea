import CoreMetrics
import DrawbridgeConfig
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP
import Logging

/// Mirrors users and groups from the directory into the store and re-derives role bindings.
///
/// A sync runs in one store transaction: if the directory fails half-way, the previous snapshot stays.
public struct DirectorySynchronizer: Sendable {
    public enum Mode: Sendable {
        case full
        case incremental
        /// Incremental, or full when there is no watermark yet or the full-sync interval has passed.
        case automatic
    }

    let configuration: DirectoryConfiguration
    let pool: LDAPConnectionPool
    let store: any DrawbridgeStore
    let mapper: ScopeMapper
    let clock: any WallClock
    let logger: Logger
    private let decoder: DirectoryEntryDecoder

    public init(
        configuration: DirectoryConfiguration, pool: LDAPConnectionPool, store: any DrawbridgeStore, mapper: ScopeMapper,
        clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "drawbridge.sync")
    ) {
        self.configuration = configuration
        self.pool = pool
        self.store = store
        self.mapper = mapper
        self.clock = clock
        self.logger = logger
        decoder = DirectoryEntryDecoder(configuration: configuration)
    }

    /// - Parameter allowMassDeletion: lets a full sync mark more than `maxDeletionPercent` of the entries deleted.
    public func sync(_ mode: Mode, dryRun: Bool = false, allowMassDeletion: Bool = false) async throws -> SyncReport {
        let started = clock.now()
        let timer = ContinuousClock.now
        let state = try await store.syncState()
        let kind: SyncReport.Kind
        switch mode {
        case .full:
            kind = .full
        case .incremental, .automatic:
            let fullDue = state.lastFullSyncAt.map { started.timeIntervalSince($0) >= Double(configuration.fullSyncInterval.components.seconds) } ?? true
            kind = state.watermark == nil || (mode == .automatic && fullDue) ? .full : .incremental
        }
        var report: SyncReport
        do {
            let attempt = {
                try await store.withSyncTransaction(commit: !dryRun) { transaction in
                    try await run(kind, dryRun: dryRun, allowMassDeletion: allowMassDeletion, started: started, state: state, transaction)
                }
            }
            do {
                report = try await attempt()
            } catch let error as LDAPError where error.isConnectionLost {
                // The failed attempt's writes are rolled back, so the new one compares with the stored snapshot
                // again; the pool has dropped the dead connections meanwhile.
                logger.info("LDAP connection lost during the sync; starting it again", metadata: ["error": "\(error)"])
                report = try await attempt()
            }
        } catch {
            Counter(label: "drawbridge_syncs_total", dimensions: [("kind", kind.rawValue), ("outcome", "failed")]).increment()
            throw error
        }
        report.duration = ContinuousClock.now - timer
        if !dryRun { Self.recordMetrics(report) }
        logger.info("directory sync finished", metadata: [
            "kind": "\(report.kind.rawValue)", "dryRun": "\(dryRun)", "users": "\(report.users.inserted + report.users.updated + report.users.unchanged)",
            "groups": "\(report.groups.inserted + report.groups.updated + report.groups.unchanged)", "warnings": "\(report.warningCount)",
            "duration": "\(report.duration)",
        ])
        return report
    }

    private static func recordMetrics(_ report: SyncReport) {
        let kind = report.kind.rawValue
        Counter(label: "drawbridge_syncs_total", dimensions: [("kind", kind), ("outcome", "succeeded")]).increment()
        Timer(label: "drawbridge_sync_duration_seconds", dimensions: [("kind", kind)])
            .recordNanoseconds(report.duration.components.seconds * 1_000_000_000 + report.duration.components.attoseconds / 1_000_000_000)
        for (entries, result) in [("users", report.users), ("groups", report.groups)] {
            Counter(label: "drawbridge_sync_entries_total", dimensions: [("entries", entries), ("change", "inserted")]).increment(by: result.inserted)
            Counter(label: "drawbridge_sync_entries_total", dimensions: [("entries", entries), ("change", "updated")]).increment(by: result.updated)
            Counter(label: "drawbridge_sync_entries_total", dimensions: [("entries", entries), ("change", "unchanged")]).increment(by: result.unchanged)
        }
        Counter(label: "drawbridge_sync_entries_total", dimensions: [("entries", "users"), ("change", "deleted")]).increment(by: report.deletedUsers)
        Counter(label: "drawbridge_sync_entries_total", dimensions: [("entries", "groups"), ("change", "deleted")]).increment(by: report.deletedGroups)
    }

    private func run(
        _ kind: SyncReport.Kind, dryRun: Bool, allowMassDeletion: Bool, started: Date, state: SyncState,
        _ transaction: any DirectorySyncTransaction
    ) async throws -> SyncReport {
        let timer = ContinuousClock.now
        let (position, fetched, kind) = try await pool.withConnection(retryingStaleConnection: false) { connection in
            let position = await serverPosition(connection)
            // A counter from another server (another domain controller) means nothing here: read everything.
            let kind = kind == .incremental && position?.server != state.watermarkServer ? .full : kind
            let since = kind == .incremental ? state.watermark : nil
            return (position, try await fetch(connection, since: since, started: started, transaction), kind)
        }
        var report = SyncReport(kind: kind, dryRun: dryRun, startedAt: started)
        report.users = fetched.users
        report.groups = fetched.groups
        for warning in fetched.warnings { report.warn(warning) }
        let watermarks = ChangeWatermark(ordering: configuration.changeOrdering, margin: configuration.changeMargin)
        let watermark = watermarks.holding(
            watermarks.next(
                previous: kind == .incremental ? state.watermark : nil, newestSeen: fetched.newestMarker, start: position,
                elapsed: ContinuousClock.now - timer),
            at: fetched.oldestUnusable)
        report.watermark = watermark

        switch kind {
        case .full:
            let deleted = try await transaction.markNotSeen(since: started, deletedAt: started)
            if !allowMassDeletion {
                // Entries live before this sync: the ones it saw again, and the ones it did not.
                let users = fetched.users, groups = fetched.groups
                let limit = configuration.maxDeletionPercent
                try MassDeletionRefused.check(kind: "users", deleted: deleted.users, live: users.updated + users.unchanged + deleted.users, limitPercent: limit)
                try MassDeletionRefused.check(kind: "groups", deleted: deleted.groups, live: groups.updated + groups.unchanged + deleted.groups, limitPercent: limit)
            }
            report.deletedUsers = deleted.users
            report.deletedGroups = deleted.groups
        case .incremental:
            report.deletedUsers = try await removeVanished(fetched.groups.droppedMembers, at: started, transaction)
        }

        let groups = report.groups
        let groupsChanged = groups.inserted + groups.updated + groups.restored + report.deletedGroups > 0
        // Read inside the transaction: a sync with other rules (a CLI beside the server) may have committed since `state`.
        let derived = try await transaction.syncState()
        var mappingWarnings = derived.mappingWarnings
        if kind == .full || groupsChanged || derived.mappingSignature != mapper.signature {
            let mapping = try mapper.map(try await transaction.liveGroups().map(\.reference))
            mappingWarnings = mapping.warnings.map(\.description)
            report.bindingChanges = try await transaction.replaceRoleBindings(mapping.bindings)
            report.bindingCount = mapping.bindings.count
        } else {
            // Bindings follow only from the live groups' names and DNs and from the rules; neither changed, and
            // neither did what the rules found wrong with them.
            report.bindingCount = try await transaction.roleBindingCount()
        }
        for warning in mappingWarnings { report.warn(warning) }
        try await transaction.setSyncState(SyncState(
            watermark: watermark, watermarkServer: position?.server, lastFullSyncAt: kind == .full ? started : state.lastFullSyncAt,
            lastSyncAt: started, mappingSignature: mapper.signature, mappingWarnings: mappingWarnings))
        for warning in report.warnings { logger.warning("\(warning)") }
        return report
    }

    /// Where the directory stands as the sync begins, where the server publishes it: AD's update counter, or
    /// the server's clock (AD's root DSE, OpenLDAP's back-monitor, 389-ds's cn=monitor) for time markers, named by
    /// the address that answered. Another server of a replicated directory (a failover, a DNS name over several)
    /// may not have received what this one had, so its clock is no bound for what was read here.
    private func serverPosition(_ connection: LDAPConnection) async -> ChangeWatermark.ServerPosition? {
        func read(_ base: String, _ attributes: [String]) async -> LDAPEntry? {
            // A server that does not publish it, or hides it from this account, is answered by the fallback.
            try? await connection.searchAll(LDAPSearchRequest(base: base, scope: .base, attributes: attributes, pageSize: nil)).first
        }
        switch configuration.changeOrdering {
        case .number:
            guard let entry = await read("", ["highestCommittedUSN", "dsServiceName"]), let counter = entry.string("highestCommittedUSN") else { return nil }
            return ChangeWatermark.ServerPosition(counter: counter, server: entry.string("dsServiceName"))
        case .time:
            let clocks = [("", "currentTime"), ("cn=Current,cn=Time,cn=Monitor", "monitorTimestamp"), ("cn=monitor", "currentTime")]
            for (base, attribute) in clocks {
                if let now = await read(base, [attribute])?.string(attribute) {
                    return ChangeWatermark.ServerPosition(counter: now, server: await connection.serverAddress())
                }
            }
            return nil
        }
    }

    private struct Fetched: Sendable {
        var users = UpsertResult()
        var groups = UpsertResult()
        var warnings: [String] = []
        var newestMarker: String?
        /// The earliest marker of an entry that was skipped with a warning: its change must be read again.
        var oldestUnusable: String?

        mutating func see(_ marker: String?, _ ordering: ChangeOrdering) {
            guard let marker else { return }
            if newestMarker.map({ ordering.isAfter(marker, $0) }) ?? true { newestMarker = marker }
        }

        mutating func skip(_ marker: String?, _ ordering: ChangeOrdering) {
            guard let marker else { return }
            if oldestUnusable.map({ ordering.isAfter($0, marker) }) ?? true { oldestUnusable = marker }
        }
    }

    private func fetch(
        _ connection: LDAPConnection, since watermark: String?, started: Date, _ transaction: any DirectorySyncTransaction
    ) async throws -> Fetched {
        var fetched = Fetched()
        var parsed = DistinguishedNameCache()
        let users = configuration.users
        let userResult = try await syncPages(
            try request(base: users.baseDN, users.filter, decoder.userAttributes, since: watermark), .user, connection, transaction,
            started: started, fetched: &fetched, parsed: &parsed,
            decode: { entry, fingerprint, parsed in
                switch decoder.user(entry, fingerprint: fingerprint, &parsed) {
                case .success(let record): (record, [])
                case .failure(let warning): (nil, [warning])
                }
            },
            upsert: { records in try await transaction.upsertUsers(records, seenAt: started) })
        // Before the groups are compared, so that groups the directory rewrote for a rename compare unchanged.
        try await transaction.applyRenames(seenAt: started)
        let groups = configuration.groups
        let groupResult = try await syncPages(
            try request(base: groups.baseDN, groups.filter, decoder.groupAttributes, since: watermark), .group, connection, transaction,
            started: started, fetched: &fetched, parsed: &parsed,
            decode: { entry, fingerprint, parsed in decoder.group(entry, fingerprint: fingerprint, &parsed) },
            upsert: { records in try await transaction.upsertGroups(records, seenAt: started) })
        try await transaction.applyRenames(seenAt: started)
        fetched.users = userResult
        fetched.groups = groupResult
        return fetched
    }

    /// Reads the pages of one search and writes them: entries whose fingerprint is unchanged are only marked
    /// as seen; the others are decoded and upserted. Each page is written while the next is decoded.
    private func syncPages<Record: Sendable>(
        _ request: LDAPSearchRequest, _ kind: DirectoryEntryKind, _ connection: LDAPConnection,
        _ transaction: any DirectorySyncTransaction, started: Date, fetched: inout Fetched, parsed: inout DistinguishedNameCache,
        decode: (LDAPEntry, String, inout DistinguishedNameCache) -> (Record?, [DecodingWarning]),
        upsert: @escaping @Sendable ([Record]) async throws -> UpsertResult
    ) async throws -> UpsertResult {
        var total = UpsertResult()
        var writes = OrderedWriter<UpsertResult>()
        do {
            for try await page in connection.search(request) {
                let known = try await transaction.fingerprints(of: kind, ids: page.compactMap { decoder.id(of: kind, $0) })
                var records: [Record] = []
                var unchanged: [DirectoryEntryID] = []
                records.reserveCapacity(page.count)
                for entry in page {
                    fetched.see(decoder.changeMarker(entry), configuration.changeOrdering)
                    let fingerprint = decoder.fingerprint(entry)
                    if let id = decoder.id(of: kind, entry), known[id] == fingerprint {
                        unchanged.append(id)
                        continue
                    }
                    let (record, warnings) = decode(entry, fingerprint, &parsed)
                    fetched.warnings += warnings.map(\.description)
                    if let record { records.append(record) } else { fetched.skip(decoder.changeMarker(entry), configuration.changeOrdering) }
                }
                let (batch, seen) = (records, unchanged)
                let write: @Sendable () async throws -> UpsertResult = {
                    try await transaction.markSeen(kind, ids: seen, at: started)
                    var result = try await upsert(batch)
                    result.unchanged += seen.count
                    return result
                }
                if let written = try await writes.submit(write) { total = total + written }
            }
            if let written = try await writes.finish() { total = total + written }
        } catch {
            await writes.abandon()
            throw error
        }
        return total
    }

    private func request(base: DistinguishedName, _ filter: LDAPFilter, _ attributes: [String], since watermark: String?) throws -> LDAPSearchRequest {
        var effective = filter
        if let watermark {
            effective = .and([filter, try .greaterOrEqual(configuration.changeAttribute, watermark)])
        }
        return LDAPSearchRequest(base: base.description, scope: .subtree, filter: effective.description, attributes: attributes, pageSize: configuration.pageSize)
    }

    /// An incremental sync cannot see deletions, but a group losing a member is a hint: check those
    /// users in the directory and mark the ones that no longer exist. The periodic full sync catches the rest.
    private func removeVanished(_ dns: Set<DistinguishedName>, at time: Date, _ transaction: any DirectorySyncTransaction) async throws -> Int {
        guard !dns.isEmpty else { return 0 }
        let candidates = try await transaction.liveUsers(withDNs: Array(dns))
        guard !candidates.isEmpty else { return 0 }
        let users = configuration.users
        let gone: [DirectoryEntryID] = try await pool.withConnection { connection in
            var gone: [DirectoryEntryID] = []
            for candidate in candidates {
                let filter = LDAPFilter.and([users.filter, try decoder.filter(matching: candidate.record.id, .user)])
                let request = LDAPSearchRequest(base: users.baseDN.description, scope: .subtree, filter: filter.description, attributes: ["1.1"], pageSize: nil)
                if try await connection.searchAll(request).isEmpty { gone.append(candidate.record.id) }
            }
            return gone
        }
        return try await transaction.markUsersDeleted(gone, at: time)
    }
}
