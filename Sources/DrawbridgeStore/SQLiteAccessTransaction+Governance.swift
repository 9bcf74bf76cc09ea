import DrawbridgeCore
import Foundation
import LDAP
import SQLKit

extension SQLiteAccessTransaction {
    func activationsStarted(requestedSince time: Date) async throws -> [Activation] {
        try await bodies("select started activations", "activations", """
            SELECT body FROM activations WHERE state IN ('active', 'ended') AND requested_at >= \(bind: time.timeIntervalSince1970) ORDER BY requested_at, id
            """)
    }

    func owners(ofGroups ids: [DirectoryEntryID]) async throws -> [DirectoryEntryID: [DistinguishedName]] {
        var owners: [DirectoryEntryID: [DistinguishedName]] = [:]
        let unique = Array(Set(ids.map(\.rawValue))).sorted()
        for start in stride(from: 0, to: unique.count, by: SQLiteStoreReader.batchSize) {
            let batch = Array(unique[start..<min(start + SQLiteStoreReader.batchSize, unique.count)])
            let rows = try await storeStep("select group owners", "directory_groups") {
                try await db.raw("SELECT id, owners FROM directory_groups WHERE id IN (\(binds: batch))").all()
            }
            for row in rows {
                try rowStep("decode group owners", "directory_groups") {
                    let texts = try AccessCoding.decode([String].self, try row.decode(column: "owners", as: String.self))
                    owners[DirectoryEntryID(rawValue: try row.decode(column: "id", as: String.self))] = texts.compactMap { try? DistinguishedName($0) }
                }
            }
        }
        return owners
    }

    func memberIDs(ofGroup id: DirectoryEntryID, includeInactive: Bool) async throws -> [DirectoryEntryID] {
        try await SQLiteStoreReader(db: db).members(ofGroup: id, transitive: true, includeDeleted: includeInactive)
            .filter { includeInactive || $0.record.enabled }.map(\.record.id)
    }

    func allUsers() async throws -> [StoredUser] { try await SQLiteStoreReader(db: db).users(includeDeleted: true) }

    func inactiveMemberships() async throws -> [DirectoryEntryID: Set<DirectoryEntryID>] {
        // CROSS JOIN keeps SQLite's join order: from the few inactive accounts to their member rows by index.
        let rows = try await storeStep("select memberships of inactive accounts", "directory_group_members") {
            try await db.raw("""
                WITH RECURSIVE inactive(id, dn_norm, login) AS (
                SELECT id, dn_norm, login FROM directory_users WHERE deleted_at IS NOT NULL OR enabled = 0
                ),
                containing(user_id, group_id) AS (
                SELECT i.id, m.group_id FROM inactive i CROSS JOIN directory_group_members m ON m.kind = 'dn' AND m.member = i.dn_norm
                UNION
                SELECT i.id, m.group_id FROM inactive i CROSS JOIN directory_group_members m ON m.kind = 'login' AND m.member = i.login
                UNION
                SELECT c.user_id, m.group_id FROM containing c
                CROSS JOIN directory_groups g ON g.id = c.group_id AND g.deleted_at IS NULL
                CROSS JOIN directory_group_members m ON m.kind = 'dn' AND m.member = g.dn_norm
                )
                SELECT c.user_id, c.group_id FROM containing c
                CROSS JOIN directory_groups g ON g.id = c.group_id AND g.deleted_at IS NULL
                """).all()
        }
        var memberships: [DirectoryEntryID: Set<DirectoryEntryID>] = [:]
        for row in rows {
            _ = try rowStep("decode memberships", "directory_group_members") {
                memberships[DirectoryEntryID(rawValue: try row.decode(column: "user_id", as: String.self)), default: []]
                    .insert(DirectoryEntryID(rawValue: try row.decode(column: "group_id", as: String.self)))
            }
        }
        return memberships
    }

    func memberReferences(ofGroup id: DirectoryEntryID) async throws -> [MemberReference] {
        try await SQLiteStoreReader(db: db).memberReferences(ofGroup: id)
    }

    // MARK: Reviews

    func reviewCampaigns() async throws -> [ReviewCampaign] {
        try await bodies("select review campaigns", "review_campaigns", "SELECT body FROM review_campaigns ORDER BY created_at DESC, id")
    }

    func reviewCampaign(id: ReviewCampaignID) async throws -> ReviewCampaign? {
        let found: [ReviewCampaign] = try await bodies(
            "select review campaign", "review_campaigns", "SELECT body FROM review_campaigns WHERE id = \(bind: id.rawValue)")
        return found.first
    }

    func save(_ campaign: ReviewCampaign) async throws {
        try await run("save review campaign", "review_campaigns", """
            INSERT INTO review_campaigns (id, created_at, body) VALUES (\(bind: campaign.id.rawValue), \(bind: campaign.createdAt.timeIntervalSince1970),
            \(bind: try AccessCoding.encode(campaign))) ON CONFLICT (id) DO UPDATE SET body = excluded.body
            """)
    }

    func reviewInstances(campaignID: ReviewCampaignID?) async throws -> [ReviewInstance] {
        let filter: SQLQueryString = campaignID.map { "WHERE campaign_id = \(bind: $0.rawValue)" } ?? ""
        return try await bodies("select reviews", "review_instances", "SELECT body FROM review_instances \(filter) ORDER BY start_at DESC, id")
    }

    func reviewInstances(statuses: Set<ReviewInstance.Status>) async throws -> [ReviewInstance] {
        try await bodies("select reviews by status", "review_instances", """
            SELECT body FROM review_instances WHERE status IN (\(binds: statuses.map(\.rawValue).sorted())) ORDER BY start_at, id
            """)
    }

    func reviewInstance(id: ReviewInstanceID) async throws -> ReviewInstance? {
        let found: [ReviewInstance] = try await bodies(
            "select review", "review_instances", "SELECT body FROM review_instances WHERE id = \(bind: id.rawValue)")
        return found.first
    }

    func save(_ instance: ReviewInstance) async throws {
        try await run("save review", "review_instances", """
            INSERT INTO review_instances (id, campaign_id, run_index, status, start_at, body)
            VALUES (\(bind: instance.id.rawValue), \(bind: instance.campaignID.rawValue), \(bind: instance.index), \(bind: instance.status.rawValue),
            \(bind: instance.startAt.timeIntervalSince1970), \(bind: try AccessCoding.encode(instance)))
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body
            """)
    }

    func reviewItems(instanceID: ReviewInstanceID) async throws -> [ReviewItem] {
        let items: [ReviewItem] = try await bodies(
            "select review items", "review_items", "SELECT body FROM review_items WHERE instance_id = \(bind: instanceID.rawValue)")
        return items.sorted { ($0.scope, $0.role.rawValue, $0.holder, $0.id) < ($1.scope, $1.role.rawValue, $1.holder, $1.id) }
    }

    func reviewItem(id: ReviewItemID) async throws -> ReviewItem? {
        let found: [ReviewItem] = try await bodies("select review item", "review_items", "SELECT body FROM review_items WHERE id = \(bind: id.rawValue)")
        return found.first
    }

    func save(_ items: [ReviewItem]) async throws {
        for start in stride(from: 0, to: items.count, by: 250) {
            let rows: [SQLQueryString] = try items[start..<min(start + 250, items.count)].map { item in
                "(\(bind: item.id.rawValue), \(bind: item.instanceID.rawValue), \(bind: try AccessCoding.encode(item)))"
            }
            try await run("save review items", "review_items", """
                INSERT INTO review_items (id, instance_id, body) VALUES \(rows.joined(separator: ", ")) ON CONFLICT (id) DO UPDATE SET body = excluded.body
                """)
        }
    }

    // MARK: Alerts

    func securityAlerts(states: Set<SecurityAlert.State>?) async throws -> [SecurityAlert] {
        let filter: SQLQueryString = states.map { "WHERE state IN (\(binds: $0.map(\.rawValue).sorted()))" } ?? ""
        return try await bodies("select alerts", "security_alerts", "SELECT body FROM security_alerts \(filter) ORDER BY id")
    }

    func securityAlert(id: String) async throws -> SecurityAlert? {
        let found: [SecurityAlert] = try await bodies("select alert", "security_alerts", "SELECT body FROM security_alerts WHERE id = \(bind: id)")
        return found.first
    }

    func save(_ alert: SecurityAlert) async throws {
        try await run("save alert", "security_alerts", """
            INSERT INTO security_alerts (id, kind, state, body) VALUES (\(bind: alert.id), \(bind: alert.kind.rawValue), \(bind: alert.state.rawValue),
            \(bind: try AccessCoding.encode(alert))) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state, body = excluded.body
            """)
    }
}
