import DrawbridgeConfig
import DrawbridgeCore
import Foundation
import LDAP
import Testing

@Suite struct ConfigurationTests {
    private let minimal = """
        directory:
          urls: ["ldap://127.0.0.1:3890"]
          startTLS: true
          bind:
            dn: cn=drawbridge,ou=services,dc=example,dc=org
            passwordEnv: TEST_LDAP_PASSWORD
          baseDN: dc=example,dc=org
        """

    private func parse(_ text: String, environment: [String: String] = ["TEST_LDAP_PASSWORD": "s3cret-Pa55"]) throws -> DrawbridgeConfiguration {
        try ConfigurationLoader(environment: environment).parse(text, file: "test.yaml", relativeTo: "/etc/drawbridge")
    }

    private func problem(_ text: String, environment: [String: String] = ["TEST_LDAP_PASSWORD": "s3cret-Pa55"]) throws -> ConfigurationError {
        let error = #expect(throws: ConfigurationError.self) { try parse(text, environment: environment) }
        return try #require(error)
    }

    @Test func presetsFillDefaults() throws {
        let configuration = try parse(minimal)
        let directory = configuration.directory
        #expect(directory.flavor == .openldap)
        #expect(directory.users.idAttribute == "entryUUID")
        #expect(directory.users.loginAttribute == "uid")
        #expect(directory.users.baseDN == (try DistinguishedName("dc=example,dc=org")))
        #expect(directory.groups.memberAttributes.map(\.attribute) == ["member", "uniqueMember", "memberUid"])
        #expect(directory.groups.memberAttributes.last?.references == .login)
        #expect(directory.connection.tls.verification == .require)
        #expect(directory.changeAttribute == "modifyTimestamp")
        #expect(directory.maxDeletionPercent == 20)
        #expect(directory.changeMargin == .seconds(1))
        #expect(configuration.store.sqlitePath == "/etc/drawbridge/drawbridge.sqlite")
    }

    @Test func activeDirectoryPresetAndOverrides() throws {
        let configuration = try parse("""
            directory:
              flavor: activedirectory
              urls: ["ldaps://dc1.corp.example:636"]
              tls: { caFile: certs/ca.pem }
              bind: { dn: "CN=svc-drawbridge,OU=Service Accounts,DC=corp,DC=example", passwordEnv: TEST_LDAP_PASSWORD }
              baseDN: DC=corp,DC=example
              users:
                loginAttribute: userPrincipalName
            """)
        let directory = configuration.directory
        #expect(directory.users.loginAttribute == "userPrincipalName")
        #expect(directory.users.idAttribute == "objectGUID")
        #expect(directory.users.disabled == DisabledRule(attribute: "userAccountControl", test: .bitmask(2)))
        #expect(directory.changeAttribute == "uSNChanged")
        #expect(directory.changeOrdering == .number)
        #expect(directory.connection.tls.caFile == "/etc/drawbridge/certs/ca.pem")
    }

    @Test func disabledRules() {
        #expect(DisabledRule(attribute: "userAccountControl", test: .bitmask(2)).isDisabled(["514"]))
        #expect(!DisabledRule(attribute: "userAccountControl", test: .bitmask(2)).isDisabled(["512"]))
        #expect(DisabledRule(attribute: "nsAccountLock", test: .equals("TRUE")).isDisabled(["true"]))
        #expect(!DisabledRule(attribute: "nsAccountLock", test: .equals("TRUE")).isDisabled(["FALSE"]))
        #expect(DisabledRule(attribute: "pwdAccountLockedTime", test: .present).isDisabled(["000001010000Z"]))
        #expect(!DisabledRule(attribute: "pwdAccountLockedTime", test: .present).isDisabled([]))
    }

    @Test func inlinePasswordIsRefusedWithoutEchoingIt() throws {
        let error = try problem(minimal.replacingOccurrences(of: "passwordEnv: TEST_LDAP_PASSWORD", with: "password: hunter2-inline"))
        #expect(error.keyPath == "directory.bind.password")
        #expect(!error.description.contains("hunter2-inline"))
    }

    @Test func emptyPasswordIsRefused() throws {
        let error = try problem(minimal, environment: ["TEST_LDAP_PASSWORD": "  "])
        #expect(error.description.contains("empty"))
    }

    @Test func missingEnvironmentVariableIsNamed() throws {
        let error = try problem(minimal, environment: [:])
        #expect(error.description.contains("TEST_LDAP_PASSWORD"))
    }

    @Test func passwordFileTrailingNewlineIsIgnoredAndSecretNeverDescribed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "file-secret-42\n".write(to: folder.appendingPathComponent("pw"), atomically: true, encoding: .utf8)
        let text = minimal.replacingOccurrences(of: "passwordEnv: TEST_LDAP_PASSWORD", with: "passwordFile: pw")
        let configuration = try ConfigurationLoader(environment: [:]).parse(text, relativeTo: folder.path)
        guard case .simple(_, let password) = configuration.directory.connection.credentials else {
            Issue.record("expected a simple bind")
            return
        }
        #expect(!password.isBlank)
        for rendering in ["\(configuration)", String(reflecting: configuration), "\(configuration.directory.connection)", "\(password)"] {
            #expect(!rendering.contains("file-secret-42"))
        }
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("file-secret-42"))
    }

    @Test func unknownKeysAreReportedWithTheirPath() throws {
        let error = try problem(minimal + "\n  pagesize: 100")
        #expect(error.keyPath == "directory.pagesize")
        let nested = try problem(minimal + "\nmapping:\n  rules:\n    - name: a\n      groupName: '^x$'\n      scope: /s\n      role: r\n      scop: /typo")
        #expect(nested.keyPath == "mapping.rules[0].scop")
    }

    @Test func typeErrorsNameTheKey() throws {
        let error = try problem(minimal + "\n  pageSize: lots")
        #expect(error.keyPath == "directory.pageSize")
    }

    @Test func invalidValuesAreExplained() throws {
        #expect(try problem(minimal.replacingOccurrences(of: "ldap://", with: "http://")).description.contains("ldap://"))
        #expect(try problem(minimal + "\n  tls: { verify: sometimes }").keyPath == "directory.tls.verify")
        #expect(try problem(minimal + "\n  users: { filter: '(uid=x' }").keyPath == "directory.users.filter")
        #expect(try problem(minimal + "\n  flavor: novell").keyPath == "directory.flavor")
        #expect(try problem(minimal + "\n  timeouts: { connect: soon }").keyPath == "directory.timeouts.connect")
        #expect(try problem(minimal + "\n  sync: { maxDeletionPercent: 101 }").keyPath == "directory.sync.maxDeletionPercent")
        #expect(try problem(minimal + "\n  sync: { changeMargin: 0s }").keyPath == "directory.sync.changeMargin")
        #expect(try problem(minimal + "\n  sync: { changeMargin: 2d }").keyPath == "directory.sync.changeMargin")
        #expect(try problem(minimal.replacingOccurrences(of: "baseDN: dc=example,dc=org", with: "baseDN: 'dc=example,,dc=org'")).keyPath == "directory.baseDN")
        #expect(try problem(minimal.replacingOccurrences(of: "ldap://", with: "ldaps://")).description.contains("StartTLS"))
    }

    @Test func mappingRulesAreCompiledAndChecked() throws {
        let rules = """

            mapping:
              rules:
                - name: rg
                  groupName: '^pim-(?<sub>[a-z]+)-(?<role>owner)$'
                  scope: /subscriptions/{sub}
                  role: '{role}'
                - name: one
                  groupDN: cn=sudo,ou=groups,dc=example,dc=org
                  scope: /subscriptions/prod
                  role: sudoer
            """
        let configuration = try parse(minimal + rules)
        #expect(configuration.mappingRules.map(\.name) == ["rg", "one"])
        let duplicate = try problem(minimal + rules.replacingOccurrences(of: "name: one", with: "name: rg"))
        #expect(duplicate.keyPath == "mapping.rules[1].name")
        let missingCapture = try problem(minimal + rules.replacingOccurrences(of: "/subscriptions/{sub}", with: "/subscriptions/{subscription}"))
        #expect(missingCapture.keyPath == "mapping.rules[0]")
        #expect(missingCapture.description.contains("{subscription}"))
    }

    @Test func passwordsAreNotSentInCleartextUnlessAllowed() throws {
        let cleartext = minimal.replacingOccurrences(of: "  startTLS: true\n", with: "")
        let error = try problem(cleartext)
        #expect(error.keyPath == "directory.urls")
        #expect(error.description.contains("unencrypted"))
        #expect(try parse(cleartext + "\n  tls: { allowCleartext: true }").directory.connection.startTLS == false)
        // Anonymous binds carry no password.
        #expect(throws: Never.self) {
            try parse("directory:\n  urls: [\"ldap://127.0.0.1:3890\"]\n  bind: { anonymous: true }\n  baseDN: dc=example,dc=org")
        }
    }

    @Test func anonymousBindMustBeExplicitAndAlone() throws {
        let anonymous = try parse("""
            directory:
              urls: ["ldap://127.0.0.1:3890"]
              bind: { anonymous: true }
              baseDN: dc=example,dc=org
            """)
        guard case .anonymous = anonymous.directory.connection.credentials else {
            Issue.record("expected an anonymous bind")
            return
        }
        #expect(try problem(minimal.replacingOccurrences(of: "passwordEnv: TEST_LDAP_PASSWORD", with: "")).keyPath == "directory.bind")
    }

    @Test func serverSectionIsValidatedAndTheKeyNeverDescribed() throws {
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let server = """
            server:
              listen: "[::1]:8443"
              trustedProxies: [10.0.0.0/8, "::1"]
              administratorGroups: [drawbridge-admins]
              sessions: { idleTimeout: 10m, absoluteTimeout: 8h }
              mfa: { keyEnv: MFA_KEY, stepUpMaxAge: 5m }
            """
        let environment = ["TEST_LDAP_PASSWORD": "s3cret-Pa55", "MFA_KEY": key]
        let configuration = try parse(minimal + "\n" + server, environment: environment).server
        #expect(configuration.host == "::1")
        #expect(configuration.port == 8443)
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8", "::1/128"])
        #expect(configuration.sessionIdleTimeout == .seconds(600))
        #expect(configuration.secretKey?.bytes.count == 32)
        #expect(!"\(configuration)".contains(key))
        #expect(!String(reflecting: configuration).contains("bytes: ["))

        #expect(try problem(minimal + "\nserver: { listen: 8080 }").keyPath == "server.listen")
        #expect(try problem(minimal + "\nserver: { trustedProxies: [10.0.0.0/33] }").keyPath == "server.trustedProxies[0]")
        #expect(try problem(minimal + "\nserver: { sessions: { idleTimeout: 2h, absoluteTimeout: 1h } }").keyPath == "server.sessions.idleTimeout")
        let short = try problem(minimal + "\nserver: { mfa: { keyEnv: MFA_KEY } }", environment: ["TEST_LDAP_PASSWORD": "x", "MFA_KEY": "c2hvcnQ="])
        #expect(short.keyPath == "server.mfa")
        #expect(!short.description.contains("c2hvcnQ="))
    }

    @Test func notificationsAreValidatedAndSecretsNeverDescribed() throws {
        let environment = ["TEST_LDAP_PASSWORD": "s3cret-Pa55", "SMTP_PASSWORD": "smtp-s3cret", "HOOK_SECRET": "a-long-webhook-secret"]
        let valid = """
            notifications:
              publicURL: https://drawbridge.example.org/
              email: { url: "smtp://mail.example.org:587", from: drawbridge@example.org, username: db, passwordEnv: SMTP_PASSWORD }
              webhooks: [{ name: chat, url: "https://hooks.example.org/x", secretEnv: HOOK_SECRET, level: critical }]
            """
        let notifications = try parse(minimal + "\n" + valid, environment: environment).notifications
        #expect(notifications.publicURL == "https://drawbridge.example.org")
        #expect(notifications.email?.startTLS == true)
        #expect(notifications.webhooks.first?.criticalOnly == true)
        #expect(!"\(notifications)".contains("smtp-s3cret") && !"\(notifications)".contains("a-long-webhook-secret"))

        let cleartext = try problem(minimal + "\nnotifications: { email: { url: \"smtp://mail.example.org:25\", from: a@example.org, startTLS: false } }")
        #expect(cleartext.keyPath == "notifications.email.startTLS")
        let inline = try problem(minimal + "\nnotifications: { webhooks: [{ name: x, url: \"https://h.example.org\", secret: hunter2hunter2hunter2 }] }")
        #expect(inline.keyPath == "notifications.webhooks[0].secret")
        #expect(!inline.description.contains("hunter2"))
        let short = try problem(minimal + "\nnotifications: { webhooks: [{ name: x, url: \"https://h.example.org\", secretEnv: SHORT }] }", environment: ["TEST_LDAP_PASSWORD": "x", "SHORT": "tiny"])
        #expect(short.keyPath == "notifications.webhooks[0]")
        #expect(try problem(minimal + "\nnotifications: { administratorEmails: [\"not an address\"] }").keyPath == "notifications.administratorEmails[0]")
    }
}
