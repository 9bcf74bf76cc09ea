import ArgumentParser
import DrawbridgeCore

struct ScopesCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case tree
        case json
    }

    static let configuration = CommandConfiguration(
        commandName: "scopes",
        abstract: "Show the scope tree with each scope's roles and target groups.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "tree or json") var format: Format = .tree

    func run() async throws {
        try await reportingErrors {
            let bindings = try await CommandContext(options).withStore { try await $0.roleBindings() }
            switch format {
            case .json: print(try JSONOutput.encode(bindings.map(BindingView.init)))
            case .tree: print(ScopeTreeRenderer(bindings: bindings).render())
            }
        }
    }
}

/// Draws scopes as a tree of path segments, with each scope's roles as leaves.
struct ScopeTreeRenderer {
    let bindings: [RoleBinding]

    private final class Node {
        var children: [String: Node] = [:]
        var roles: [RoleBinding] = []
    }

    func render() -> String {
        guard !bindings.isEmpty else { return "No scopes: no group matched a mapping rule (check mapping.rules, then run `drawbridge sync`)." }
        let root = Node()
        for binding in bindings {
            var node = root
            for segment in binding.scope.segments {
                if let child = node.children[segment] {
                    node = child
                } else {
                    let child = Node()
                    node.children[segment] = child
                    node = child
                }
            }
            node.roles.append(binding)
        }
        var lines = ["/"]
        draw(root, prefix: "", into: &lines)
        return lines.joined(separator: "\n")
    }

    private func draw(_ node: Node, prefix: String, into lines: inout [String]) {
        let roles = node.roles.sorted { $0.role < $1.role }.map { "[\($0.role)] \($0.groupDN)" }
        let children = node.children.keys.sorted()
        let items = roles.map { (label: $0, child: nil as Node?) } + children.map { (label: $0, child: node.children[$0]) }
        for (index, item) in items.enumerated() {
            let last = index == items.count - 1
            lines.append(prefix + (last ? "└── " : "├── ") + item.label)
            if let child = item.child {
                draw(child, prefix: prefix + (last ? "    " : "│   "), into: &lines)
            }
        }
    }
}
