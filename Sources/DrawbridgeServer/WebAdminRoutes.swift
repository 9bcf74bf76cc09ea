import DrawbridgeAccess
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import Hummingbird

/// Administrator pages: the scope tree with its role bindings, eligibilities and assignments; policies; drift; audit.
struct WebAdminRoutes {
    let web: WebRoutes
    var services: ServerServices { web.services }

    func register(on group: RouterGroup<DrawbridgeRequestContext>) {
        group.get("admin", use: adminPage)
        group.post("admin/eligibilities", use: addEligibility)
        group.post("admin/eligibilities/{id}/remove") { request, context in
            try await web.act(request, context, back: "/admin") { identity, form in
                _ = try await services.engine.removeEligibility(
                    EligibilityID(rawValue: try context.parameters.require("id")), reason: form["reason"].nonBlank, by: identity.administratorActor, source: .api)
                return "Eligibility removed; activations that relied on it are revoked."
            }
        }
        group.post("admin/assignments", use: addAssignment)
        group.post("admin/assignments/{id}/remove") { request, context in
            try await web.act(request, context, back: "/admin") { identity, form in
                _ = try await services.engine.removeAssignment(
                    AssignmentID(rawValue: try context.parameters.require("id")), reason: form["reason"].nonBlank, by: identity.administratorActor, source: .api)
                return "Assignment removed; the membership is being removed."
            }
        }
        group.post("admin/activations/{id}/revoke") { request, context in
            try await web.act(request, context, back: "/admin") { identity, form in
                guard let reason = form["reason"].nonBlank else { throw APIProblem.badRequest("a revocation needs a reason") }
                _ = try await services.engine.revoke(try activationID(context), by: identity.administratorActor, source: .api, reason: reason)
                return "Activation revoked."
            }
        }
        group.get("admin/policy", use: policyPage)
        group.post("admin/policy", use: setPolicy)
        group.get("audit", use: auditPage)
    }

    @Sendable func adminPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let bindings = try await services.store.roleBindings()
        let (eligibilities, assignments, drift) = try await services.read { transaction in
            var names = NameCache(transaction: transaction)
            var views: [EligibilityView] = []
            for eligibility in try await transaction.eligibilities(role: nil) { views.append(try await names.view(eligibility)) }
            return (views, try await transaction.assignments(userID: nil, liveOnly: true), try await transaction.driftFindings(openOnly: true))
        }
        var paths = Set(bindings.map(\.scope)).union(eligibilities.map(\.scope)).union(assignments.map(\.scope))
        for path in paths { paths.formUnion(path.selfAndAncestors) }
        let scopes = paths.sorted().map { path in
            AdminPage.Scope(
                path: path.description, depth: path.selfAndAncestors.count - 1,
                bindings: bindings.filter { $0.scope == path }.sorted { $0.role < $1.role }.map {
                    AdminPage.Binding(role: $0.role.rawValue, group: $0.groupDN.description, rule: $0.rule)
                },
                eligibilities: eligibilities.filter { $0.scope == path }.map {
                    AdminPage.Eligibility(
                        id: $0.id, principal: ($0.principal.kind == "group" ? "group " : "") + $0.principal.name, role: $0.role.rawValue,
                        window: "\(WebFormat.time($0.startAt)) – \($0.endAt.map(WebFormat.time) ?? "permanent")", source: $0.source,
                        removable: $0.source == "manual")
                },
                assignments: assignments.filter { $0.scope == path }.map {
                    AdminPage.Assignment(
                        id: $0.id.rawValue, user: $0.userLogin, role: $0.role.rawValue,
                        window: "\(WebFormat.time($0.startAt)) – \($0.endAt.map(WebFormat.time) ?? "permanent")", kind: $0.kind.rawValue)
                })
        }
        return try web.pages.render("admin", AdminPage(
            frame: web.frame(context, title: "Administration", section: "admin"), scopes: scopes,
            drift: drift.map { AdminPage.Drift(group: $0.groupDN.description, member: $0.userLogin ?? $0.memberDN.description, effect: $0.effect, since: WebFormat.time($0.detectedAt)) },
            roles: Array(Set(bindings.map(\.role.rawValue))).sorted(), scopePaths: paths.sorted().map(\.description)))
    }

    @Sendable func addEligibility(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try await web.act(request, context, back: "/admin") { identity, form in
            let (scope, role) = try scopeAndRole(form)
            let principalText = form["principal"]?.trimmingCharacters(in: .whitespaces) ?? ""
            let principal = try await services.principal(named: principalText)
            _ = try await services.engine.addEligibility(
                principal, scope: scope, role: role, start: nil, end: try endDate(form), justification: form["justification"].nonBlank,
                by: identity.administratorActor, source: .api)
            return "\(principalText) is eligible for \(role) at \(scope)."
        }
    }

    @Sendable func addAssignment(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        try await web.act(request, context, back: "/admin") { identity, form in
            let (scope, role) = try scopeAndRole(form)
            let login = form["user"]?.trimmingCharacters(in: .whitespaces) ?? ""
            _ = try await services.engine.assign(
                userLogin: login, scope: scope, role: role, start: nil, end: try endDate(form), justification: form["justification"].nonBlank,
                ticket: form["ticket"].nonBlank, by: identity.administratorActor, source: .api)
            return "\(login) is assigned \(role) at \(scope)."
        }
    }

    @Sendable func policyPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let scope = try? ScopePath(String(parameters["scope"] ?? "/")), let role = RoleName(rawValue: String(parameters["role"] ?? "")) else {
            throw APIProblem.badRequest("give ?scope=/path&role=NAME")
        }
        let found = try await services.engine.policy(scope: scope, role: role)
        let policy = found.policy
        let own = found.override ?? PolicyOverride()
        func bool(_ name: String, _ label: String, _ value: Bool, _ overridden: Bool) -> PolicyPage.Setting {
            PolicyPage.Setting(name: name, label: label, value: "\(value)", overridden: overridden, isBool: true)
        }
        func span(_ name: String, _ label: String, _ value: TimeInterval, _ overridden: Bool) -> PolicyPage.Setting {
            PolicyPage.Setting(name: name, label: label, value: AccessRules.format(value), overridden: overridden, isBool: false)
        }
        let settings = [
            span("maxActivation", "Longest activation", policy.maxActivationDuration, own.maxActivationDuration != nil),
            bool("requireJustification", "Justification required", policy.requireJustification, own.requireJustification != nil),
            bool("requireTicket", "Ticket required", policy.requireTicket, own.requireTicket != nil),
            bool("requireMFA", "MFA required", policy.requireMFA, own.requireMFA != nil),
            bool("requireApproval", "Approval required", policy.requireApproval, own.requireApproval != nil),
            PolicyPage.Setting(name: "approvalsRequired", label: "Approvals required", value: "\(policy.approvalsRequired)", overridden: own.approvalsRequired != nil, isBool: false),
            span("approvalTimeout", "Approval deadline", policy.approvalTimeout, own.approvalTimeout != nil),
            bool("extensionRequiresApproval", "Extensions need approval", policy.extensionRequiresApproval, own.extensionRequiresApproval != nil),
            bool("allowPermanentEligibility", "Permanent eligibility allowed", policy.allowPermanentEligibility, own.allowPermanentEligibility != nil),
            span("maxEligibility", "Longest eligibility", policy.maxEligibilityDuration, own.maxEligibilityDuration != nil),
            bool("allowPermanentAssignment", "Permanent assignment allowed", policy.allowPermanentAssignment, own.allowPermanentAssignment != nil),
            span("maxAssignment", "Longest assignment", policy.maxAssignmentDuration, own.maxAssignmentDuration != nil),
            bool("notifyRequester", "Notify the person concerned", policy.notifyRequester, own.notifyRequester != nil),
            bool("notifyApprovers", "Notify approvers of requests", policy.notifyApprovers, own.notifyApprovers != nil),
            bool("notifyAdministrators", "Notify administrators", policy.notifyAdministrators, own.notifyAdministrators != nil),
            bool("notifyCriticalOnly", "Critical events only", policy.notifyCriticalOnly, own.notifyCriticalOnly != nil),
        ]
        let approvers = try await services.read { transaction in
            var names = NameCache(transaction: transaction)
            var texts: [String] = []
            for principal in policy.approvers {
                let name = try await names.name(of: principal)
                if case .group = principal { texts.append("group:" + name) } else { texts.append("user:" + name) }
            }
            return texts
        }
        return try web.pages.render("policy", PolicyPage(
            frame: web.frame(context, title: "Policy for \(role) at \(scope)", section: "admin"), scope: scope.description, role: role.rawValue,
            origin: found.inheritedFrom.map { "nearest override at \($0)" } ?? "built-in defaults", settings: settings,
            approvers: approvers.joined(separator: ", "), allowedNetworks: policy.allowedNetworks.map(\.description).joined(separator: ", ")))
    }

    /// Only the fields the form changed from the effective policy become this scope's override.
    @Sendable func setPolicy(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let form = try await FormFields.of(request, context)
        let back = "/admin/policy?scope=\(form["scope"]?.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "/")&role=\(form["role"]?.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "")"
        return try await web.act(request, context, back: back) { identity, form in
            let (scope, role) = try scopeAndRole(form)
            var override = try await services.read { try await $0.policyOverrides(role: role)[scope] } ?? PolicyOverride()
            func seconds(_ name: String) throws -> TimeInterval? { try form[name].nonBlank.map { try durationField($0, name) } }
            func flag(_ name: String) -> Bool? { form[name].flatMap { $0 == "true" ? true : $0 == "false" ? false : nil } }
            var given = PolicyOverride()
            given.maxActivationDuration = try seconds("maxActivation")
            given.requireJustification = flag("requireJustification")
            given.requireTicket = flag("requireTicket")
            given.requireMFA = flag("requireMFA")
            given.requireApproval = flag("requireApproval")
            given.approvalsRequired = form["approvalsRequired"].nonBlank.flatMap { Int($0) }
            given.approvalTimeout = try seconds("approvalTimeout")
            given.extensionRequiresApproval = flag("extensionRequiresApproval")
            given.allowPermanentEligibility = flag("allowPermanentEligibility")
            given.maxEligibilityDuration = try seconds("maxEligibility")
            given.allowPermanentAssignment = flag("allowPermanentAssignment")
            given.maxAssignmentDuration = try seconds("maxAssignment")
            given.notifyRequester = flag("notifyRequester")
            given.notifyApprovers = flag("notifyApprovers")
            given.notifyAdministrators = flag("notifyAdministrators")
            given.notifyCriticalOnly = flag("notifyCriticalOnly")
            if let text = form["approvers"] {
                given.approvers = try await principals(text)
            }
            if let text = form["allowedNetworks"] {
                given.allowedNetworks = try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { entry in
                    guard let network = IPNetwork(entry) else { throw APIProblem.badRequest("'\(entry)' is not a CIDR block such as 10.0.0.0/8") }
                    return network
                }
            }
            override = override.merged(with: given)
            _ = try await services.engine.setPolicy(override, scope: scope, role: role, by: identity.administratorActor, source: .api)
            return "Policy for \(role) at \(scope) saved."
        }
    }

    @Sendable func auditPage(_ request: Request, context: DrawbridgeRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        let field = { (name: String) in parameters[Substring(name)].map(String.init) ?? "" }
        var query = AuditQuery()
        var problems: [String] = []
        for (name, apply) in [("since", { (date: Date) in query.since = date }), ("until", { (date: Date) in query.until = date })] where !field(name).isEmpty {
            if let date = try? Date(field(name) + (field(name).count == 16 ? ":00Z" : ""), strategy: .iso8601) { apply(date) } else { problems.append("\(name) is not a date and time") }
        }
        if !field("user").isEmpty { query.userLogin = field("user") }
        if !field("scope").isEmpty {
            if let scope = try? ScopePath(field("scope")) { query.scope = scope } else { problems.append("scope is not a scope path") }
        }
        let records = try await services.store.auditRecords(query)
        let shown = 500
        let rows = records.suffix(shown).reversed().map(AuditRow.init).map { row in
            AuditPage.Row(
                sequence: "\(row.sequence)", at: WebFormat.time(row.at), action: row.action, outcome: row.outcome, actor: row.actor, user: row.user ?? "",
                scope: row.scope ?? "", role: row.role ?? "", reason: row.reason ?? row.justification ?? "")
        }
        var csv = URLComponents()
        csv.path = "/api/v1/admin/audit"
        csv.queryItems = [URLQueryItem(name: "format", value: "csv")] + ["since", "until", "user", "scope"].compactMap { name in
            field(name).isEmpty ? nil : URLQueryItem(name: name, value: name == "since" || name == "until" ? field(name) + (field(name).count == 16 ? ":00Z" : "") : field(name))
        }
        var frame = web.frame(context, title: "Audit log", section: "audit")
        frame.errors += problems
        return try web.pages.render("audit", AuditPage(
            frame: frame, since: field("since"), until: field("until"), user: field("user"), scope: field("scope"), rows: Array(rows),
            csvLink: csv.string ?? "/api/v1/admin/audit?format=csv", truncated: records.count > shown))
    }

    private func scopeAndRole(_ form: FormFields) throws -> (ScopePath, RoleName) {
        guard let scope = try? ScopePath(form["scope"] ?? "") else { throw APIProblem.badRequest("'\(form["scope"] ?? "")' is not a scope path") }
        guard let role = RoleName(rawValue: form["role"]?.trimmingCharacters(in: .whitespaces) ?? "") else {
            throw APIProblem.badRequest("'\(form["role"] ?? "")' is not a role name")
        }
        return (scope, role)
    }

    /// `end` as a date (the end of that day, UTC) or empty for permanent.
    private func endDate(_ form: FormFields) throws -> Date? {
        guard let text = form["end"].nonBlank else { return nil }
        guard let day = try? Date(text + "T23:59:59Z", strategy: .iso8601) else { throw APIProblem.badRequest("the end '\(text)' is not a date") }
        return day
    }

    private func principals(_ text: String) async throws -> [Principal] {
        var result: [Principal] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).filter({ !$0.isEmpty }) {
            result.append(try await services.principal(named: entry))
        }
        return result
    }
}
