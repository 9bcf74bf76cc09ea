import DrawbridgeConfig
import DrawbridgeCore
import Foundation
import LDAP
import Testing

@testable import DrawbridgeDirectory

@Suite struct DirectoryEntryDecoderTests {
    private func decoder(flavor: String) throws -> DirectoryEntryDecoder {
        let yaml = """
            directory:
              flavor: \(flavor)
              urls: ["ldaps://dc1.corp.example"]
              bind: { anonymous: true }
              baseDN: DC=corp,DC=example
            """
        return DirectoryEntryDecoder(configuration: try ConfigurationLoader(environment: [:]).parse(yaml, relativeTo: "/tmp").directory)
    }

    @Test func objectGUIDIsMatchedByItsBinaryBytes() throws {
        let bytes: [UInt8] = [0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01]
        let text = DirectoryEntryDecoder.formatGUID(Data(bytes))
        #expect(text == "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        #expect(DirectoryEntryDecoder.parseGUID(text) == bytes)
        let filter = try decoder(flavor: "activedirectory").filter(matching: DirectoryEntryID(rawValue: text), .user)
        #expect(filter.kind == .equal(attribute: "objectGUID", value: bytes))
        #expect(DirectoryEntryDecoder.parseGUID("not-a-guid") == nil)
    }

    @Test func textIdsAreMatchedAsText() throws {
        let filter = try decoder(flavor: "openldap").filter(matching: DirectoryEntryID(rawValue: "2e212004-7aee-1041-9060-31a41fdcf6f0"), .user)
        #expect(filter.kind == .equal(attribute: "entryUUID", value: Array("2e212004-7aee-1041-9060-31a41fdcf6f0".utf8)))
    }
}
