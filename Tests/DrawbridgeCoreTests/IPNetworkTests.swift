import DrawbridgeCore
import Testing

@Suite struct IPNetworkTests {
    @Test func containment() throws {
        let v4 = try #require(IPNetwork("192.168.8.0/21"))
        #expect(v4.contains(try #require(IPAddress("192.168.15.255"))))
        #expect(!v4.contains(try #require(IPAddress("192.168.16.0"))))
        #expect(v4.contains(try #require(IPAddress("::ffff:192.168.9.1"))), "IPv4-mapped addresses are their IPv4 address")
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db9::1"))))
        #expect(!v6.contains(try #require(IPAddress("10.0.0.1"))))
        #expect(try #require(IPNetwork("0.0.0.0/0")).contains(try #require(IPAddress("8.8.8.8"))))
        #expect(try #require(IPNetwork("10.1.2.3")).prefixLength == 32)
    }

    @Test func malformedInputIsRefused() {
        for text in ["", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/-1", "host.example", "::1/129", " 10.0.0.1", "10.0.0.1/8/9"] {
            #expect(IPNetwork(text) == nil, "\(text)")
        }
    }
}
