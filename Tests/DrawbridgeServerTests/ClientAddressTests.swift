@testable import DrawbridgeServer
import DrawbridgeCore
import Testing

@Suite struct ClientAddressTests {
    let proxies = [IPNetwork("10.0.0.0/8")!]

    func client(peer: String, forwarded: [String]) -> String? {
        ClientAddressMiddleware.clientAddress(peer: IPAddress(peer), forwardedFor: forwarded, trustedProxies: proxies)?.description
    }

    @Test func forwardedAddressIsBelievedOnlyFromTrustedProxies() {
        #expect(client(peer: "203.0.113.9", forwarded: ["198.51.100.1"]) == "203.0.113.9", "an untrusted peer cannot claim another address")
        #expect(client(peer: "10.0.0.2", forwarded: ["198.51.100.1"]) == "198.51.100.1")
        #expect(client(peer: "10.0.0.2", forwarded: ["6.6.6.6, 198.51.100.1, 10.0.0.7"]) == "198.51.100.1", "the nearest untrusted hop, not a spoofed first entry")
        #expect(client(peer: "10.0.0.2", forwarded: ["not-an-address"]) == nil, "a trusted proxy's own address never counts as the client's")
        #expect(client(peer: "10.0.0.2", forwarded: []) == nil)
        #expect(client(peer: "10.0.0.2", forwarded: ["10.0.0.9"]) == nil, "every hop a trusted proxy: the client is unknown")
    }
}
