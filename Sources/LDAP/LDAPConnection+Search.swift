import CLDAP
import Foundation

extension LDAPConnection {
    /// One page of results and the cookie for the next page (nil when the search is complete).
    struct SearchPage: Sendable {
        var entries: [LDAPEntry]
        var cookie: Data?
    }

    /// Streams the results of `request` page by page; at most two pages are held in memory (see `LDAPSearchResults`).
    public func search(_ request: LDAPSearchRequest) -> LDAPSearchResults {
        LDAPSearchResults(connection: self, request: request)
    }

    /// Collects every entry of `request`; for small result sets.
    public func searchAll(_ request: LDAPSearchRequest) async throws -> [LDAPEntry] {
        var entries: [LDAPEntry] = []
        for try await page in search(request) {
            entries.append(contentsOf: page)
        }
        return entries
    }

    func fetchPage(_ request: LDAPSearchRequest, cookie: Data?) async throws -> SearchPage {
        try await withHandle(operation: "search") { handle in
            var page = try Self.searchPage(handle, request, cookie: cookie)
            page.entries = try page.entries.map { entry in
                try Self.collectRangedAttributes(of: entry) { attributeRequest in
                    let follow = LDAPSearchRequest(base: entry.dn, scope: .base, attributes: [attributeRequest], pageSize: nil)
                    return try Self.searchPage(handle, follow, cookie: nil).entries.first
                }
            }
            return page
        }
    }

    /// Follows AD-style ranged values (`member;range=0-1499`) until the server reports the last range (`*`).
    static func collectRangedAttributes(of entry: LDAPEntry, fetch: (String) throws -> LDAPEntry?) throws -> LDAPEntry {
        var result = entry
        for description in entry.attributes.keys {
            guard var range = AttributeRange(attributeDescription: description) else { continue }
            var values = entry.values(description)
            result.removeAttribute(description)
            while let end = range.end {
                let (start, overflow) = end.addingReportingOverflow(1)
                // Each reply must continue where the last ended, or a confused server could keep the loop going forever.
                guard !overflow, let next = try fetch(AttributeRange.request(range.attribute, from: start)),
                    let (nextDescription, nextRange) = next.attributes.keys.lazy
                        .compactMap({ key in AttributeRange(attributeDescription: key).map { (key, $0) } })
                        .first(where: { $0.1.attribute.lowercased() == range.attribute.lowercased() }),
                    nextRange.start == start, nextRange.end.map({ $0 >= start }) ?? true
                else {
                    throw LDAPError.invalidResponse("the server stopped returning ranged values of \(range.attribute) for \(entry.dn)")
                }
                values.append(contentsOf: next.values(nextDescription))
                range = nextRange
            }
            result.setValues(result.values(range.attribute) + values, for: range.attribute)
        }
        return result
    }

    private static func searchPage(_ handle: OpaquePointer, _ request: LDAPSearchRequest, cookie: Data?) throws -> SearchPage {
        let operation = "search \(request.filter) under \(request.base.isEmpty ? "the root DSE" : request.base)"
        var pageControl: UnsafeMutablePointer<LDAPControl>?
        if let pageSize = request.pageSize {
            var cookieBytes = [UInt8](cookie ?? Data())
            let code = cookieBytes.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    var value = berval(bv_len: ber_len_t(chars.count), bv_val: chars.baseAddress)
                    guard cookie != nil else {
                        return ldap_create_page_control(handle, ber_int_t(pageSize), nil, 0, &pageControl)
                    }
                    return ldap_create_page_control(handle, ber_int_t(pageSize), &value, 0, &pageControl)
                }
            }
            try check(code, handle, operation: operation)
        }
        defer { if let pageControl { ldap_control_free(pageControl) } }

        var message: OpaquePointer?
        // ldap_search_ext_s can hand back a message together with an error; it must be freed either way.
        defer { if let message { ldap_msgfree(message) } }
        let searchCode: Int32 = withCStringArray(request.attributes) { attributes in
            var serverControls: [UnsafeMutablePointer<LDAPControl>?] = [pageControl, nil]
            // A nil timeout means the handle's LDAP_OPT_TIMEOUT.
            return serverControls.withUnsafeMutableBufferPointer { controls in
                ldap_search_ext_s(
                    handle, request.base, request.scope.rawValue, request.filter, attributes, 0,
                    pageControl == nil ? nil : controls.baseAddress, nil, nil, 0, &message)
            }
        }
        guard let message else {
            try check(searchCode, handle, operation: operation)
            throw LDAPError.invalidResponse("\(operation) returned no result")
        }

        var resultCode: Int32 = 0
        var diagnostic: UnsafeMutablePointer<CChar>?
        var returnedControls: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        let parseCode = ldap_parse_result(handle, message, &resultCode, nil, &diagnostic, nil, &returnedControls, 0)
        defer {
            if let diagnostic { ldap_memfree(diagnostic) }
            if let returnedControls { ldap_controls_free(returnedControls) }
        }
        try check(parseCode, handle, operation: operation)
        guard resultCode == LDAP_SUCCESS else {
            throw LDAPError.server(LDAPResultCode(rawValue: resultCode), diagnostic: diagnostic.map { String(cString: $0) } ?? "", operation: operation)
        }

        var entries: [LDAPEntry] = []
        var current = ldap_first_entry(handle, message)
        while let entry = current {
            entries.append(try decodeEntry(handle, entry))
            current = ldap_next_entry(handle, entry)
        }

        var nextCookie: Data?
        if pageControl != nil, let response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returnedControls, nil) {
            var estimate: ber_int_t = 0
            var value = berval(bv_len: 0, bv_val: nil)
            try check(ldap_parse_pageresponse_control(handle, response, &estimate, &value), handle, operation: operation)
            if let bytes = value.bv_val {
                if value.bv_len > 0 { nextCookie = Data(bytes: bytes, count: Int(value.bv_len)) }
                ber_memfree(bytes)
            }
        }
        return SearchPage(entries: entries, cookie: nextCookie)
    }

    private static func decodeEntry(_ handle: OpaquePointer, _ entry: OpaquePointer) throws -> LDAPEntry {
        guard let dnPointer = ldap_get_dn(handle, entry) else {
            throw LDAPError.invalidResponse("an entry without a DN")
        }
        let dn = String(cString: dnPointer)
        ldap_memfree(dnPointer)
        var attributes: [String: [Data]] = [:]
        var ber: OpaquePointer?
        var attribute = ldap_first_attribute(handle, entry, &ber)
        while let name = attribute {
            var values: [Data] = []
            if let berValues = ldap_get_values_len(handle, entry, name) {
                var index = 0
                while let value = berValues[index] {
                    values.append(value.pointee.bv_val.map { Data(bytes: $0, count: Int(value.pointee.bv_len)) } ?? Data())
                    index += 1
                }
                ldap_value_free_len(berValues)
            }
            attributes[LDAPEntry.key(String(cString: name)), default: []].append(contentsOf: values)
            ldap_memfree(name)
            attribute = ldap_next_attribute(handle, entry, ber)
        }
        if let ber { ber_free(ber, 0) }
        return LDAPEntry(dn: dn, keyedAttributes: attributes)
    }
}

/// The pages of a search. While the consumer works on one page, the connection already fetches the next
/// (slapd and libldap work in parallel with the consumer), so at most two pages are held in memory.
public struct LDAPSearchResults: AsyncSequence, Sendable {
    public typealias Element = [LDAPEntry]

    let connection: LDAPConnection
    let request: LDAPSearchRequest

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: LDAPConnection
        let request: LDAPSearchRequest
        var started = false
        var next: Task<LDAPConnection.SearchPage, any Error>?

        public mutating func next() async throws -> [LDAPEntry]? {
            let page: LDAPConnection.SearchPage
            if let next {
                page = try await next.value
            } else if !started {
                page = try await connection.fetchPage(request, cookie: nil)
            } else {
                return nil
            }
            started = true
            next = nil
            if let cookie = page.cookie {
                let connection = connection
                let request = request
                next = Task { try await connection.fetchPage(request, cookie: cookie) }
            }
            return page.entries
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(connection: connection, request: request)
    }
}
