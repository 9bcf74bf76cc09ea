import ArgumentParser
import DrawbridgeCore
import DrawbridgeStore
import Foundation
import LDAP

struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Show the users and groups mirrored from the directory (run `drawbridge sync` first).",
        subcommands: [Users.self, Groups.self, Show.self])

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "table or json") var format: OutputFormat = .table
        @Flag(help: "Also list users deleted from the directory.") var includeDeleted = false

        func run() async throws {
            try await reportingErrors {
                let users = try await CommandContext(options).withStore { try await $0.users(includeDeleted: includeDeleted) }
                switch format {
                case .json:
                    print(try JSONOutput.encode(users.map(UserView.init)))
                case .table:
                    let rows = users.map { user in
                        [user.record.login, user.record.displayName ?? "", user.record.mail ?? "", user.status, user.record.dn.description]
                    }
                    print(TableRenderer(headers: ["LOGIN", "NAME", "MAIL", "STATUS", "DN"], rows: rows).render())
                }
            }
        }
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "table or json") var format: OutputFormat = .table
        @Flag(help: "Also list groups deleted from the directory.") var includeDeleted = false

        func run() async throws {
            try await reportingErrors {
                let groups = try await CommandContext(options).withStore { try await $0.groups(includeDeleted: includeDeleted) }
                switch format {
                case .json:
                    print(try JSONOutput.encode(groups.map(GroupView.init)))
                case .table:
                    let rows = groups.map { group in
                        [group.name, String(group.directMemberCount), group.deletedAt == nil ? "" : "deleted", group.dn.description]
                    }
                    print(TableRenderer(headers: ["NAME", "MEMBERS", "STATUS", "DN"], rows: rows).render())
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user or group, by DN, login or group name.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "A DN, a user's login or a group's name.") var identifier: String
        @Option(help: "table or json") var format: OutputFormat = .table

        func run() async throws {
            try await reportingErrors {
                let output = try await CommandContext(options).withStore { store in try await describe(store) }
                print(output)
            }
        }

        private func describe(_ store: SQLiteStore) async throws -> String {
            let dn = identifier.contains("=") ? try? DistinguishedName(identifier) : nil
            var user: StoredUser?
            var group: StoredGroup?
            if let dn {
                user = try await store.user(dn: dn)
                if user == nil { group = try await store.group(dn: dn) }
            } else {
                user = try await store.user(login: identifier)
                if user == nil { group = try await store.groups(includeDeleted: false).first { $0.name == identifier } }
            }
            if let user {
                let direct = try await store.groups(ofUser: user.record.id, transitive: false)
                let effective = try await store.groups(ofUser: user.record.id, transitive: true)
                let bindings = try await store.roleBindings().filter { binding in effective.contains { $0.id == binding.groupID } }
                return try render(user: user, direct: direct, effective: effective, bindings: bindings)
            }
            if let group {
                var references: [String] = []
                for reference in try await store.memberReferences(ofGroup: group.id) {
                    references.append(try await displayName(of: reference, in: store))
                }
                let members = try await store.members(ofGroup: group.id, transitive: true)
                let bindings = try await store.roleBindings().filter { $0.groupID == group.id }
                return try render(group: group, references: references, members: members, bindings: bindings)
            }
            throw CommandFailure("no user or group '\(identifier)' in the store; check the spelling or run `drawbridge sync`")
        }

        private func render(user: StoredUser, direct: [StoredGroup], effective: [StoredGroup], bindings: [RoleBinding]) throws -> String {
            if format == .json {
                return try JSONOutput.encode(UserDetailView(
                    user: UserView(user), groups: direct.map(\.dn.description),
                    effectiveGroups: effective.map(\.dn.description), roleBindings: bindings.map(BindingView.init)))
            }
            let directIDs = Set(direct.map(\.id))
            var lines = [
                "User \(user.record.login)",
                "  dn:           \(user.record.dn)",
                "  id:           \(user.record.id)",
                "  display name: \(user.record.displayName ?? "")",
                "  mail:         \(user.record.mail ?? "")",
                "  status:       \(user.status)",
                "  groups:       \(direct.count) direct, \(effective.count) with nesting",
            ]
            lines += effective.map { "    \(directIDs.contains($0.id) ? "" : "(nested) ")\($0.dn)" }
            lines.append("  grants roles (through groups): \(bindings.count)")
            lines += bindings.map { "    \($0.role) at \($0.scope) via \($0.groupName)" }
            return lines.joined(separator: "\n")
        }

        private func render(group: StoredGroup, references: [String], members: [StoredUser], bindings: [RoleBinding]) throws -> String {
            if format == .json {
                return try JSONOutput.encode(GroupDetailView(
                    group: GroupView(group), members: references, effectiveMembers: members.map(\.record.login),
                    roleBindings: bindings.map(BindingView.init)))
            }
            var lines = [
                "Group \(group.name)",
                "  dn:          \(group.dn)",
                "  id:          \(group.id)",
                "  description: \(group.description ?? "")",
                "  status:      \(group.deletedAt == nil ? "live" : "deleted")",
                "  members:     \(references.count) direct entries, \(members.count) users with nesting",
            ]
            lines += references.map { "    \($0)" }
            lines.append("  effective users:")
            lines += members.map { "    \($0.record.login) (\($0.record.dn))" }
            lines.append("  role bindings: \(bindings.count)")
            lines += bindings.map { "    \($0.role) at \($0.scope) (rule \($0.rule))" }
            return lines.joined(separator: "\n")
        }
    }
}

extension StoredUser {
    var status: String {
        if deletedAt != nil { return "deleted" }
        return record.enabled ? "enabled" : "disabled"
    }
}

extension DirectoryCommand.Show {
    /// Members are stored in normalized form for matching; show the entry's own DN where it is known.
    private func displayName(of reference: MemberReference, in store: SQLiteStore) async throws -> String {
        switch reference {
        case .login(let login):
            return "memberUid: \(login)"
        case .dn(let dn):
            if let user = try await store.user(dn: dn) { return user.record.dn.description }
            if let group = try await store.group(dn: dn) { return group.dn.description }
            return "\(dn) (not a synced user or group)"
        }
    }
}
