import DrawbridgeCore
import Foundation
import LDAP

/// Turns the raw file into a validated configuration, one key path at a time so errors can name it.
struct ConfigurationBuilder {
    let file: String?
    let folder: String
    let environment: [String: String]

    func fail(_ keyPath: String, _ problem: String) -> ConfigurationError {
        ConfigurationError(file: file, keyPath: keyPath, problem: problem)
    }

    mutating func build(_ raw: RawConfiguration) throws(ConfigurationError) -> DrawbridgeConfiguration {
        guard let directory = raw.directory else { throw fail("directory", "missing; describe the LDAP directory to sync") }
        let mappingRules = try buildRules(raw.mapping?.rules ?? [], path: "mapping.rules")
        return DrawbridgeConfiguration(
            directory: try buildDirectory(directory),
            store: try buildStore(raw.store),
            mappingRules: mappingRules,
            access: try buildAccess(raw.access, mappingRules: raw.mapping?.rules ?? []),
            server: try buildServer(raw.server),
            notifications: try buildNotifications(raw.notifications))
    }

    private func buildNotifications(_ raw: RawNotifications?) throws(ConfigurationError) -> NotificationConfiguration {
        var result = NotificationConfiguration()
        guard let raw else { return result }
        result.expiringLeadTime = try duration(raw.expiringLeadTime, "notifications.expiringLeadTime", default: result.expiringLeadTime)
        result.maxRetryDelay = try duration(raw.maxRetryDelay, "notifications.maxRetryDelay", default: result.maxRetryDelay)
        if let attempts = raw.maxAttempts {
            guard attempts >= 1 else { throw fail("notifications.maxAttempts", "must be at least 1") }
            result.maxAttempts = attempts
        }
        for (index, address) in (raw.administratorEmails ?? []).enumerated() where !EmailAddress.isPlausible(address) {
            throw fail("notifications.administratorEmails[\(index)]", "'\(address)' is not an email address")
        }
        result.administratorEmails = raw.administratorEmails ?? []
        if let url = raw.publicURL {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw fail("notifications.publicURL", "'\(url)' is not an http(s) URL")
            }
            result.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let email = raw.email {
            guard let url = email.url, let parsed = URL(string: url), ["smtp", "smtps"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw fail("notifications.email.url", "give smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT")
            }
            guard let from = email.from, EmailAddress.isPlausible(from) else { throw fail("notifications.email.from", "give the sender's email address") }
            if email.password != nil {
                throw fail("notifications.email.password", "passwords are not accepted inline; use passwordFile or passwordEnv")
            }
            var password: SecretBytes?
            if email.passwordFile != nil || email.passwordEnv != nil {
                guard email.username != nil else { throw fail("notifications.email.username", "a password needs a username") }
                let text = try secret(file: email.passwordFile, env: email.passwordEnv, keyPath: "notifications.email", fileKey: "passwordFile", envKey: "passwordEnv")
                password = SecretBytes(Array(text.trimmingSuffix(while: { $0 == "\n" || $0 == "\r" }).utf8))
            }
            let startTLS = email.startTLS ?? true
            let cleartext = parsed.scheme?.lowercased() == "smtp" && !startTLS
            if cleartext && email.allowCleartext != true {
                throw fail("notifications.email.startTLS", "without STARTTLS mail (and any password) crosses the network in clear; set allowCleartext: true to accept that")
            }
            var verification = LDAPConnectionConfiguration.CertificateVerification.require
            switch email.tls?.verify ?? "require" {
            case "require": break
            case "never": verification = .never
            case let other: throw fail("notifications.email.tls.verify", "'\(other)' is not require or never")
            }
            result.email = .init(
                url: url, startTLS: startTLS, allowCleartext: email.allowCleartext ?? false, from: from, username: email.username, password: password,
                tls: .init(caFile: email.tls?.caFile.map(resolve), verification: verification))
        }
        var names = Set<String>()
        for (index, hook) in (raw.webhooks ?? []).enumerated() {
            let path = "notifications.webhooks[\(index)]"
            guard let name = hook.name, !name.isEmpty, names.insert(name).inserted else { throw fail("\(path).name", "give each webhook a unique name") }
            guard let url = hook.url, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw fail("\(path).url", "give an http(s) URL")
            }
            if hook.secret != nil { throw fail("\(path).secret", "secrets are not accepted inline; use secretFile or secretEnv") }
            let secret = try self.secret(file: hook.secretFile, env: hook.secretEnv, keyPath: path, fileKey: "secretFile", envKey: "secretEnv")
            let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.utf8.count >= 16 else { throw fail(path, "the signing secret must be at least 16 characters") }
            let level = hook.level ?? "all"
            guard ["all", "critical"].contains(level) else { throw fail("\(path).level", "'\(level)' is not all or critical") }
            result.webhooks.append(.init(name: name, url: url, secret: SecretBytes(Array(trimmed.utf8)), criticalOnly: level == "critical"))
        }
        return result
    }

    private func buildServer(_ raw: RawServer?) throws(ConfigurationError) -> ServerConfiguration {
        var server = ServerConfiguration()
        guard let raw else { return server }
        if let listen = raw.listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (1...65535).contains(port) else {
                throw fail("server.listen", "'\(listen)' is not HOST:PORT, e.g. 127.0.0.1:8080 or [::]:8443")
            }
            let host = listen[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard IPAddress(host) != nil || host == "localhost" else {
                throw fail("server.listen", "'\(host)' is not an IP address to listen on (or localhost)")
            }
            server.host = host
            server.port = port
        }
        if let tls = raw.tls {
            guard let certificate = tls.certificateFile, let key = tls.keyFile else {
                throw fail("server.tls", "give both certificateFile and keyFile (PEM)")
            }
            for (path, keyPath) in [(certificate, "server.tls.certificateFile"), (key, "server.tls.keyFile")] where !FileManager.default.isReadableFile(atPath: resolve(path)) {
                throw fail(keyPath, "cannot read \(resolve(path))")
            }
            server.tls = .init(certificateFile: resolve(certificate), keyFile: resolve(key))
        }
        server.secureCookies = raw.secureCookies ?? (server.tls != nil)
        for (index, text) in (raw.trustedProxies ?? []).enumerated() {
            guard let network = IPNetwork(text) else { throw fail("server.trustedProxies[\(index)]", "'\(text)' is not an IP address or CIDR block") }
            server.trustedProxies.append(network)
        }
        for (index, group) in (raw.administratorGroups ?? []).enumerated() where group.allSatisfy(\.isWhitespace) {
            throw fail("server.administratorGroups[\(index)]", "empty group name")
        }
        server.administratorGroups = raw.administratorGroups ?? []
        server.sessionIdleTimeout = try duration(raw.sessions?.idleTimeout, "server.sessions.idleTimeout", default: server.sessionIdleTimeout)
        server.sessionAbsoluteTimeout = try duration(raw.sessions?.absoluteTimeout, "server.sessions.absoluteTimeout", default: server.sessionAbsoluteTimeout)
        guard server.sessionIdleTimeout <= server.sessionAbsoluteTimeout else {
            throw fail("server.sessions.idleTimeout", "longer than absoluteTimeout")
        }
        if let limit = raw.signIn?.failureLimit {
            guard limit > 0 else { throw fail("server.signIn.failureLimit", "must be at least 1") }
            server.signInFailureLimit = limit
        }
        server.signInWindow = try duration(raw.signIn?.window, "server.signIn.window", default: server.signInWindow)
        if let mfa = raw.mfa {
            server.mfaStepUpMaxAge = try duration(mfa.stepUpMaxAge, "server.mfa.stepUpMaxAge", default: server.mfaStepUpMaxAge)
            guard server.mfaStepUpMaxAge <= .seconds(Int64(AccessRules.maximumMFAAge)) else {
                throw fail("server.mfa.stepUpMaxAge", "at most 15m: an older verification does not count for an activation")
            }
            if let issuer = mfa.issuer {
                guard !issuer.isEmpty, !issuer.contains(":") else { throw fail("server.mfa.issuer", "must be non-empty and without ':'") }
                server.mfaIssuer = issuer
            }
            if mfa.keyFile != nil || mfa.keyEnv != nil {
                let text = try secret(file: mfa.keyFile, env: mfa.keyEnv, keyPath: "server.mfa")
                guard let key = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32 else {
                    throw fail("server.mfa", "the key must be 32 random bytes in base64, e.g. from `openssl rand -base64 32`")
                }
                server.secretKey = SecretBytes(Array(key))
            }
        }
        return server
    }

    private func buildAccess(_ raw: RawAccess?, mappingRules: [RawRule]) throws(ConfigurationError) -> AccessConfiguration {
        var settings: [String: BindingSettings] = [:]
        for (index, rule) in mappingRules.enumerated() {
            let path = "mapping.rules[\(index)]"
            let drift: DriftPolicy
            if let text = rule.drift {
                guard let parsed = DriftPolicy(rawValue: text) else {
                    throw fail("\(path).drift", "'\(text)' is not one of \(DriftPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                drift = parsed
            } else {
                drift = .report
            }
            settings[rule.name ?? "rule \(index + 1)"] = BindingSettings(drift: drift, protected: rule.protected ?? false)
        }
        let eligibilityRules = raw?.eligibilityRules ?? []
        for (index, rule) in eligibilityRules.enumerated() where rule.drift != nil || rule.protected != nil {
            throw fail("access.eligibilityRules[\(index)]", "drift and protected belong to mapping rules, not eligibility rules")
        }
        return AccessConfiguration(
            syncInterval: try duration(raw?.syncInterval, "access.syncInterval", default: .seconds(300)),
            reconcileInterval: try duration(raw?.reconcileInterval, "access.reconcileInterval", default: .seconds(300)),
            placeholderMember: try raw?.placeholderMember.map { (text) throws(ConfigurationError) in try dn(text, "access.placeholderMember") },
            maxRetryDelay: try duration(raw?.maxRetryDelay, "access.maxRetryDelay", default: .seconds(5)),
            eligibilityRules: try buildRules(eligibilityRules, path: "access.eligibilityRules"),
            bindingSettings: settings,
            governanceInterval: try duration(raw?.governanceInterval, "access.governanceInterval", default: .seconds(60)),
            alertThresholds: try buildAlerts(raw?.alerts))
    }

    private func buildAlerts(_ raw: RawAlerts?) throws(ConfigurationError) -> AlertThresholds {
        let defaults = AlertThresholds()
        var roles: [RoleName] = []
        for (index, text) in (raw?.designatedRoles ?? []).enumerated() {
            guard let role = RoleName(rawValue: text) else { throw fail("access.alerts.designatedRoles[\(index)]", "'\(text)' is not a role name") }
            roles.append(role)
        }
        if let count = raw?.maxPermanentMembers, count < 0 { throw fail("access.alerts.maxPermanentMembers", "must not be negative") }
        if let percent = raw?.maxPermanentPercent, !(0...100).contains(percent) { throw fail("access.alerts.maxPermanentPercent", "must be between 0 and 100") }
        if let count = raw?.frequentActivations, count < 2 { throw fail("access.alerts.frequentActivations", "must be at least 2") }
        func seconds(_ text: String?, _ key: String, _ fallback: TimeInterval) throws(ConfigurationError) -> TimeInterval {
            let value = try duration(text, "access.alerts.\(key)", default: .milliseconds(Int64(fallback * 1000)))
            return Double(value.components.seconds) + Double(value.components.attoseconds) / 1e18
        }
        return AlertThresholds(
            designatedRoles: roles, maxPermanentMembers: raw?.maxPermanentMembers ?? defaults.maxPermanentMembers,
            maxPermanentPercent: raw?.maxPermanentPercent ?? defaults.maxPermanentPercent,
            unusedAfter: try seconds(raw?.unusedAfter, "unusedAfter", defaults.unusedAfter),
            frequentActivations: raw?.frequentActivations ?? defaults.frequentActivations,
            frequentWindow: try seconds(raw?.frequentWindow, "frequentWindow", defaults.frequentWindow),
            backlogAge: try seconds(raw?.backlogAge, "backlogAge", defaults.backlogAge))
    }

    private func buildDirectory(_ raw: RawDirectory) throws(ConfigurationError) -> DirectoryConfiguration {
        let flavorName = raw.flavor ?? DirectoryFlavor.openldap.rawValue
        guard let flavor = DirectoryFlavor(rawValue: flavorName.lowercased()) else {
            throw fail("directory.flavor", "'\(flavorName)' is not one of \(DirectoryFlavor.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let urls = raw.urls, !urls.isEmpty else {
            throw fail("directory.urls", "missing; give at least one ldap:// or ldaps:// URL")
        }
        let verification: LDAPConnectionConfiguration.CertificateVerification
        switch raw.tls?.verify ?? "require" {
        case "require": verification = .require
        case "never": verification = .never
        case let other: throw fail("directory.tls.verify", "'\(other)' is not require or never")
        }
        let tls = LDAPConnectionConfiguration.TLS(caFile: raw.tls?.caFile.map(resolve), verification: verification)
        let connection = LDAPConnectionConfiguration(
            urls: urls,
            startTLS: raw.startTLS ?? false,
            tls: tls,
            credentials: try buildCredentials(raw.bind),
            networkTimeout: try duration(raw.timeouts?.connect, "directory.timeouts.connect", default: .seconds(5)),
            operationTimeout: try duration(raw.timeouts?.operation, "directory.timeouts.operation", default: .seconds(60)))
        do {
            try connection.validate()
        } catch {
            throw fail("directory", error.description)
        }
        if case .simple = connection.credentials, !connection.startTLS, raw.tls?.allowCleartext != true,
            let cleartext = urls.first(where: { $0.lowercased().hasPrefix("ldap://") }) {
            throw fail("directory.urls", "\(cleartext) would send the bind password unencrypted; use ldaps://, set startTLS: true, or set tls.allowCleartext: true if the network is trusted")
        }
        let pageSize = raw.pageSize ?? 500
        guard (1...100_000).contains(pageSize) else { throw fail("directory.pageSize", "must be between 1 and 100000") }
        let poolSize = raw.poolSize ?? 4
        guard (1...64).contains(poolSize) else { throw fail("directory.poolSize", "must be between 1 and 64") }

        let baseDN = try raw.baseDN.map { (text) throws(ConfigurationError) in try dn(text, "directory.baseDN") }
        let users = try buildUsers(raw.users, flavor: flavor, baseDN: baseDN)
        let groups = try buildGroups(raw.groups, flavor: flavor, baseDN: baseDN)
        let maxDeletionPercent = raw.sync?.maxDeletionPercent ?? 20
        guard (0...100).contains(maxDeletionPercent) else { throw fail("directory.sync.maxDeletionPercent", "must be between 0 and 100") }
        let changeAttribute = try attribute(raw.sync?.changeAttribute ?? flavor.changeAttribute, "directory.sync.changeAttribute")
        let ordering: ChangeOrdering
        if let text = raw.sync?.changeOrdering {
            guard let parsed = ChangeOrdering(rawValue: text) else { throw fail("directory.sync.changeOrdering", "'\(text)' is not time or number") }
            ordering = parsed
        } else {
            ordering = flavor.changeOrdering
        }
        let changeMargin = try duration(raw.sync?.changeMargin, "directory.sync.changeMargin", default: .seconds(1))
        guard changeMargin >= .seconds(1), changeMargin <= .seconds(24 * 3600) else {
            throw fail("directory.sync.changeMargin", "must be between 1s and 24h")
        }
        return DirectoryConfiguration(
            flavor: flavor, connection: connection, pageSize: pageSize, poolSize: poolSize, users: users, groups: groups,
            changeAttribute: changeAttribute, changeOrdering: ordering,
            fullSyncInterval: try duration(raw.sync?.fullSyncInterval, "directory.sync.fullSyncInterval", default: .seconds(24 * 3600)),
            changeMargin: changeMargin, maxDeletionPercent: maxDeletionPercent)
    }

    private func buildCredentials(_ raw: RawBind?) throws(ConfigurationError) -> LDAPCredentials {
        guard let raw else { throw fail("directory.bind", "missing; give dn with passwordFile or passwordEnv, or anonymous: true") }
        if raw.password != nil {
            throw fail("directory.bind.password", "passwords are not accepted inline; put it in a file (passwordFile) or an environment variable (passwordEnv)")
        }
        if raw.anonymous == true {
            guard raw.dn == nil, raw.passwordFile == nil, raw.passwordEnv == nil else {
                throw fail("directory.bind.anonymous", "anonymous: true cannot be combined with dn or a password")
            }
            return .anonymous
        }
        guard let bindDN = raw.dn else { throw fail("directory.bind.dn", "missing; or set anonymous: true to bind anonymously") }
        _ = try dn(bindDN, "directory.bind.dn")
        guard raw.passwordFile != nil || raw.passwordEnv != nil else {
            throw fail("directory.bind", "give passwordFile or passwordEnv for \(bindDN)")
        }
        let secret = try secret(file: raw.passwordFile, env: raw.passwordEnv, keyPath: "directory.bind", fileKey: "passwordFile", envKey: "passwordEnv")
        // A trailing newline from `echo secret > file` is not part of the password.
        let password = LDAPPassword(String(secret.trimmingSuffix(while: { $0 == "\n" || $0 == "\r" })))
        guard !password.isBlank else {
            throw fail(raw.passwordFile != nil ? "directory.bind.passwordFile" : "directory.bind.passwordEnv",
                       "the password is empty; an empty password would bind anonymously")
        }
        return .simple(dn: bindDN, password: password)
    }

    private func buildUsers(_ raw: RawUsers?, flavor: DirectoryFlavor, baseDN: DistinguishedName?) throws(ConfigurationError) -> UserSchema {
        let base = try raw?.baseDN.map { (text) throws(ConfigurationError) in try dn(text, "directory.users.baseDN") } ?? baseDN
        guard let base else { throw fail("directory.users.baseDN", "missing; set directory.baseDN or directory.users.baseDN") }
        let disabled: DisabledRule
        if let rule = raw?.disabled {
            disabled = try buildDisabledRule(rule)
        } else {
            disabled = flavor.disabledRule
        }
        return UserSchema(
            baseDN: base,
            filter: try filter(raw?.filter ?? flavor.userFilter, "directory.users.filter"),
            idAttribute: try attribute(raw?.idAttribute ?? flavor.idAttribute, "directory.users.idAttribute"),
            loginAttribute: try attribute(raw?.loginAttribute ?? flavor.loginAttribute, "directory.users.loginAttribute"),
            displayNameAttribute: try attribute(raw?.displayNameAttribute ?? "displayName", "directory.users.displayNameAttribute"),
            mailAttribute: try attribute(raw?.mailAttribute ?? "mail", "directory.users.mailAttribute"),
            disabled: disabled)
    }

    private func buildDisabledRule(_ raw: RawDisabledRule) throws(ConfigurationError) -> DisabledRule {
        let path = "directory.users.disabled"
        guard let name = raw.attribute else { throw fail("\(path).attribute", "missing") }
        let attributeName = try attribute(name, "\(path).attribute")
        switch (raw.present, raw.equals, raw.bitmask) {
        case (true?, nil, nil): return DisabledRule(attribute: attributeName, test: .present)
        case (nil, let value?, nil): return DisabledRule(attribute: attributeName, test: .equals(value))
        case (nil, nil, let mask?) where mask > 0: return DisabledRule(attribute: attributeName, test: .bitmask(mask))
        default: throw fail(path, "give exactly one of present: true, equals: VALUE or bitmask: N (N > 0)")
        }
    }

    private func buildGroups(_ raw: RawGroups?, flavor: DirectoryFlavor, baseDN: DistinguishedName?) throws(ConfigurationError) -> GroupSchema {
        let base = try raw?.baseDN.map { (text) throws(ConfigurationError) in try dn(text, "directory.groups.baseDN") } ?? baseDN
        guard let base else { throw fail("directory.groups.baseDN", "missing; set directory.baseDN or directory.groups.baseDN") }
        var members = flavor.memberAttributes
        if let rawMembers = raw?.memberAttributes {
            guard !rawMembers.isEmpty else { throw fail("directory.groups.memberAttributes", "must list at least one attribute") }
            members = []
            for (index, item) in rawMembers.enumerated() {
                let path = "directory.groups.memberAttributes[\(index)]"
                guard let name = item.attribute else { throw fail("\(path).attribute", "missing") }
                let kindText = item.references ?? "dn"
                guard let kind = MemberAttribute.References(rawValue: kindText) else {
                    throw fail("\(path).references", "'\(kindText)' is not dn or login")
                }
                members.append(MemberAttribute(attribute: try attribute(name, "\(path).attribute"), references: kind))
            }
        }
        return GroupSchema(
            baseDN: base,
            filter: try filter(raw?.filter ?? flavor.groupFilter, "directory.groups.filter"),
            idAttribute: try attribute(raw?.idAttribute ?? flavor.idAttribute, "directory.groups.idAttribute"),
            nameAttribute: try attribute(raw?.nameAttribute ?? "cn", "directory.groups.nameAttribute"),
            descriptionAttribute: try attribute(raw?.descriptionAttribute ?? "description", "directory.groups.descriptionAttribute"),
            memberAttributes: members,
            ownerAttribute: try attribute(raw?.ownerAttribute ?? flavor.ownerAttribute, "directory.groups.ownerAttribute"))
    }

    private func buildStore(_ raw: RawStore?) throws(ConfigurationError) -> StoreConfiguration {
        let path = raw?.sqlite?.path ?? "drawbridge.sqlite"
        guard !path.allSatisfy(\.isWhitespace) else { throw fail("store.sqlite.path", "is empty") }
        return StoreConfiguration(sqlitePath: resolve(path))
    }

    private func buildRules(_ raw: [RawRule], path rulesPath: String) throws(ConfigurationError) -> [MappingRule] {
        var rules: [MappingRule] = []
        var names = Set<String>()
        for (index, item) in raw.enumerated() {
            let path = "\(rulesPath)[\(index)]"
            let name = item.name ?? "rule \(index + 1)"
            guard names.insert(name).inserted else { throw fail("\(path).name", "'\(name)' is used by another rule") }
            let matcher: MappingRule.Matcher
            switch (item.groupName, item.groupDNPattern, item.groupDN) {
            case (let pattern?, nil, nil): matcher = .namePattern(pattern)
            case (nil, let pattern?, nil): matcher = .dnPattern(pattern)
            case (nil, nil, let text?): matcher = .dn(try dn(text, "\(path).groupDN"))
            default: throw fail(path, "give exactly one of groupName (regex), groupDNPattern (regex) or groupDN")
            }
            guard let scope = item.scope else { throw fail("\(path).scope", "missing, e.g. /subscriptions/{sub}/resourceGroups/{rg}") }
            guard let role = item.role else { throw fail("\(path).role", "missing, e.g. owner or {role}") }
            do {
                rules.append(try MappingRule(name: name, matcher: matcher, scope: scope, role: role))
            } catch {
                throw fail(path, error.description)
            }
        }
        return rules
    }

    // MARK: - Values

    /// A secret from a file or an environment variable (exactly one), never inline in the configuration.
    private func secret(file: String?, env: String?, keyPath: String, fileKey: String = "keyFile", envKey: String = "keyEnv") throws(ConfigurationError) -> String {
        switch (file, env) {
        case (let path?, nil):
            let resolved = resolve(path)
            do {
                return try String(contentsOfFile: resolved, encoding: .utf8)
            } catch {
                throw fail("\(keyPath).\(fileKey)", "cannot read \(resolved) (\(ConfigurationLoader.reason(error)))")
            }
        case (nil, let variable?):
            guard let value = environment[variable] else { throw fail("\(keyPath).\(envKey)", "the environment variable \(variable) is not set") }
            return value
        case (nil, nil):
            throw fail(keyPath, "give \(fileKey) or \(envKey)")
        case (_?, _?):
            throw fail(keyPath, "give \(fileKey) or \(envKey), not both")
        }
    }

    private func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }

    private func dn(_ text: String, _ keyPath: String) throws(ConfigurationError) -> DistinguishedName {
        do {
            return try DistinguishedName(text)
        } catch {
            throw fail(keyPath, "'\(text)' is not a valid DN: \(error)")
        }
    }

    private func filter(_ text: String, _ keyPath: String) throws(ConfigurationError) -> LDAPFilter {
        do {
            return try LDAPFilter(validating: text)
        } catch {
            throw fail(keyPath, "'\(text)' is not a valid LDAP filter: \(error)")
        }
    }

    private func attribute(_ name: String, _ keyPath: String) throws(ConfigurationError) -> String {
        let isDescriptor = name.first?.isLetter == true && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
        let isOID = !name.isEmpty && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
        guard isDescriptor || isOID else { throw fail(keyPath, "'\(name)' is not an attribute name") }
        return name
    }

    private func duration(_ text: String?, _ keyPath: String, default fallback: Duration) throws(ConfigurationError) -> Duration {
        guard let text else { return fallback }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (unit, milliseconds) in units where text.hasSuffix(unit) {
            let number = text.dropLast(unit.count)
            if let value = Int64(number), value > 0 {
                return .milliseconds(value * milliseconds)
            }
        }
        throw fail(keyPath, "'\(text)' is not a duration like 500ms, 30s, 5m, 2h or 1d")
    }
}

extension String {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self[...]
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}
