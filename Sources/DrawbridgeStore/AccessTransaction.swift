import DrawbridgeCore
import Foundation
import LDAP

/// Reads and writes of the access engine, all inside one store transaction: a decision and its audit
/// record are committed together or not at all.
public protocol AccessTransaction: Sendable {
    // Directory, as last synced.
    func user(login: String) async throws -> StoredUser?
    func user(id: DirectoryEntryID) async throws -> StoredUser?
    func users(ids: [DirectoryEntryID]) async throws -> [StoredUser]
    /// A live user with this DN, compared in normalized form.
    func userLive(dn: DistinguishedName) async throws -> StoredUser?
    func group(id: DirectoryEntryID) async throws -> StoredGroup?
    /// The DN of the group with this id, unless it is gone; without `group(id:)`'s member count.
    func liveGroupDN(id: DirectoryEntryID) async throws -> DistinguishedName?
    func liveGroups() async throws -> [StoredGroup]
    /// Groups the user belongs to, directly or through nested groups.
    func groupIDs(ofUser id: DirectoryEntryID) async throws -> Set<DirectoryEntryID>
    func roleBindings() async throws -> [RoleBinding]
    func roleBinding(scope: ScopePath, role: RoleName) async throws -> RoleBinding?
    /// The bindings whose target is one of `groupIDs`.
    func roleBindings(groupIDs: Set<DirectoryEntryID>) async throws -> [RoleBinding]

    func eligibilities(role: RoleName?) async throws -> [Eligibility]
    /// The eligibilities for `role` whose principal is one of `principals` (a user and the user's groups).
    func eligibilities(role: RoleName, principals: Set<DirectoryEntryID>) async throws -> [Eligibility]
    func eligibility(id: EligibilityID) async throws -> Eligibility?
    func save(_ eligibility: Eligibility) async throws
    func delete(_ eligibility: EligibilityID) async throws
    /// Eligibilities whose end is at or before `time`.
    func eligibilities(endingBy time: Date) async throws -> [Eligibility]

    func assignments(userID: DirectoryEntryID?, liveOnly: Bool) async throws -> [Assignment]
    func assignment(id: AssignmentID) async throws -> Assignment?
    func save(_ assignment: Assignment) async throws
    func assignments(dueBy time: Date) async throws -> [Assignment]

    func activations(_ query: ActivationQuery) async throws -> [Activation]
    func activation(id: ActivationID) async throws -> Activation?
    func save(_ activation: Activation) async throws
    /// Saves many activations in a few statements.
    func save(_ activations: [Activation]) async throws
    func activations(dueBy time: Date) async throws -> [Activation]
    /// Active activations ending after `now` and by `time` whose holder has not been told yet that they end then
    /// (an extension in place moves the end, so it calls for a new notice).
    func activationsEndingUnnoticed(after now: Date, by time: Date) async throws -> [Activation]
    /// Records that the holders were told about the activations' current ends.
    func markExpiryNoticed(_ ids: [ActivationID], at time: Date) async throws

    /// Every grant that holds a membership now (active activations and assignments), or only these users',
    /// without decoding records.
    func activeGrants(userIDs: [DirectoryEntryID]?) async throws -> [ActiveGrant]
    /// Active activations whose end is at or before `time`, without decoding records.
    func expiringActivations(by time: Date) async throws -> [ExpiringActivation]
    /// Marks these activations ended (expired) at `time`, in place.
    func markExpired(_ ids: [ActivationID], at time: Date) async throws

    func policyOverrides(role: RoleName) async throws -> [ScopePath: PolicyOverride]
    /// Stores the override for (scope, role); an empty one deletes it.
    func setPolicyOverride(_ override: PolicyOverride, scope: ScopePath, role: RoleName) async throws

    /// Adds an intent; a pending intent for the same user and group is superseded, so the latest wins.
    @discardableResult
    func enqueue(_ operation: MembershipOperation) async throws -> MembershipOperation
    /// Adds many intents in a few statements, with the same superseding rule; returns them with their ids.
    func enqueue(_ operations: [MembershipOperation]) async throws -> [MembershipOperation]
    func operations(states: [MembershipOperation.State], limit: Int?) async throws -> [MembershipOperation]
    func pendingOperations(readyBy time: Date) async throws -> [MembershipOperation]
    /// Intents created after the one numbered `id`, in any state.
    func operations(after id: Int64) async throws -> [MembershipOperation]
    /// Which of `ids` are still pending (not superseded since they were read).
    func stillPending(_ ids: [Int64]) async throws -> Set<Int64>
    func update(_ operation: MembershipOperation) async throws
    func update(_ operations: [MembershipOperation]) async throws

    func bindingStates() async throws -> [DirectoryEntryID: BindingState]
    func setBindingState(_ state: BindingState) async throws
    func driftFindings(openOnly: Bool) async throws -> [DriftFinding]
    func save(_ finding: DriftFinding) async throws

    /// Activations that actually started (active or ended) and were requested at or after `time`.
    func activationsStarted(requestedSince time: Date) async throws -> [Activation]
    /// The owners (`owner`, `managedBy`) of each of these groups, as last synced.
    func owners(ofGroups ids: [DirectoryEntryID]) async throws -> [DirectoryEntryID: [DistinguishedName]]
    /// Live users in the group, through nested groups, deleted and disabled ones included when `includeInactive`.
    func memberIDs(ofGroup id: DirectoryEntryID, includeInactive: Bool) async throws -> [DirectoryEntryID]
    /// Users by id, deleted ones included.
    func allUsers() async throws -> [StoredUser]
    /// The groups (live, through nesting) that each disabled or deleted account still belongs to, in one query
    /// driven by those accounts: cheap however many groups there are.
    func inactiveMemberships() async throws -> [DirectoryEntryID: Set<DirectoryEntryID>]
    /// The group's member values as last synced, nested groups not expanded.
    func memberReferences(ofGroup id: DirectoryEntryID) async throws -> [MemberReference]

    func reviewCampaigns() async throws -> [ReviewCampaign]
    func reviewCampaign(id: ReviewCampaignID) async throws -> ReviewCampaign?
    func save(_ campaign: ReviewCampaign) async throws
    /// A campaign's reviews (or every review), newest first.
    func reviewInstances(campaignID: ReviewCampaignID?) async throws -> [ReviewInstance]
    func reviewInstances(statuses: Set<ReviewInstance.Status>) async throws -> [ReviewInstance]
    func reviewInstance(id: ReviewInstanceID) async throws -> ReviewInstance?
    func save(_ instance: ReviewInstance) async throws
    func reviewItems(instanceID: ReviewInstanceID) async throws -> [ReviewItem]
    func reviewItem(id: ReviewItemID) async throws -> ReviewItem?
    func save(_ items: [ReviewItem]) async throws

    func securityAlerts(states: Set<SecurityAlert.State>?) async throws -> [SecurityAlert]
    func securityAlert(id: String) async throws -> SecurityAlert?
    func save(_ alert: SecurityAlert) async throws

    /// The earliest time anything above falls due: a start, end, deadline or retry.
    func nextDueTime() async throws -> Date?

    @discardableResult
    func appendAudit(_ event: AuditEvent, at time: Date) async throws -> AuditRecord
    /// Appends many events, chained in order, in a few statements.
    func appendAudit(_ events: [AuditEvent], at time: Date) async throws
}

public struct ActivationQuery: Sendable, Hashable {
    public var userID: DirectoryEntryID?
    public var states: Set<ActivationState>?
    public var requestID: RequestID?
    public var scope: ScopePath?
    public var role: RoleName?

    public init(userID: DirectoryEntryID? = nil, states: Set<ActivationState>? = nil, requestID: RequestID? = nil, scope: ScopePath? = nil, role: RoleName? = nil) {
        self.userID = userID
        self.states = states
        self.requestID = requestID
        self.scope = scope
        self.role = role
    }

    public static let live = ActivationQuery(states: Set(ActivationState.allCases.filter(\.isLive)))
}

/// An active activation or assignment, by the columns that say which membership it holds.
public struct ActiveGrant: Hashable, Sendable {
    /// `activation:ID` or `assignment:ID`.
    public var cause: String
    public var userID: DirectoryEntryID
    public var scope: ScopePath
    public var role: RoleName
    public var grantedGroup: GrantedGroup?

    public init(cause: String, userID: DirectoryEntryID, scope: ScopePath, role: RoleName, grantedGroup: GrantedGroup?) {
        self.cause = cause
        self.userID = userID
        self.scope = scope
        self.role = role
        self.grantedGroup = grantedGroup
    }
}

/// An active activation whose time is up, by its columns.
public struct ExpiringActivation: Hashable, Sendable {
    public var id: ActivationID
    public var requestID: RequestID
    public var grant: ActiveGrant
    public var endAt: Date

    public init(id: ActivationID, requestID: RequestID, grant: ActiveGrant, endAt: Date) {
        self.id = id
        self.requestID = requestID
        self.grant = grant
        self.endAt = endAt
    }
}

/// What the reconciler remembers about a managed group.
public struct BindingState: Hashable, Sendable, Codable {
    public var groupID: DirectoryEntryID
    /// When an administrator let the drift policy act on members found before; until then they are only reported.
    public var enforcedAt: Date?
    public var lastReconciledAt: Date?

    public init(groupID: DirectoryEntryID, enforcedAt: Date?, lastReconciledAt: Date?) {
        self.groupID = groupID
        self.enforcedAt = enforcedAt
        self.lastReconciledAt = lastReconciledAt
    }
}
