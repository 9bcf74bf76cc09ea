import CLDAP
import Foundation

extension LDAPConnection {
    /// Applies all `modifications` to `dn` atomically, in one modify operation.
    public func modify(_ dn: String, _ modifications: [LDAPModification]) async throws {
        try await withHandle(operation: "modify") { handle in
            try Self.modify(handle, dn, modifications)
        }
    }

    /// Adds values; values already present count as success (result 20, attributeOrValueExists).
    public func addValues(_ values: [String], to attribute: String, of dn: String) async throws {
        try await changeValues(.add, values, attribute, dn)
    }

    /// Deletes values; values already gone count as success (result 16, noSuchAttribute).
    /// Removing the last `member` of a `groupOfNames` fails with result 65 (`isObjectClassViolation`).
    public func deleteValues(_ values: [String], from attribute: String, of dn: String) async throws {
        try await changeValues(.delete, values, attribute, dn)
    }

    private func changeValues(_ operation: LDAPModification.Operation, _ values: [String], _ attribute: String, _ dn: String) async throws {
        guard !values.isEmpty else { return }
        try await withHandle(operation: "modify") { handle in
            do {
                try Self.modify(handle, dn, [LDAPModification(operation, attribute, values)])
            } catch let error as LDAPError where Self.isAlreadyApplied(error, operation) {
                // One value in the batch was already applied, which fails the whole operation: redo value by value.
                guard values.count > 1 else { return }
                for value in values {
                    do {
                        try Self.modify(handle, dn, [LDAPModification(operation, attribute, [value])])
                    } catch let error as LDAPError where Self.isAlreadyApplied(error, operation) {
                        continue
                    }
                }
            }
        }
    }

    /// Whether a failed add or delete of values means they were already there or already gone: result 20 or 16,
    /// or Active Directory's answers for linked attributes such as `member` (68 with ERROR_MEMBER_IN_GROUP,
    /// 0x562, and 53 with ERROR_MEMBER_NOT_IN_GROUP, 0x561, at the start of the diagnostic).
    static func isAlreadyApplied(_ error: LDAPError, _ operation: LDAPModification.Operation) -> Bool {
        let diagnostic = error.diagnosticMessage ?? ""
        switch operation {
        case .add:
            return error.resultCode == .attributeOrValueExists
                || (error.resultCode == .entryAlreadyExists && diagnostic.hasPrefix("00000562"))
        case .delete:
            return error.resultCode == .noSuchAttribute
                || (error.resultCode == .unwillingToPerform && diagnostic.hasPrefix("00000561"))
        case .replace:
            return false
        }
    }

    private static func modify(_ handle: OpaquePointer, _ dn: String, _ modifications: [LDAPModification]) throws {
        let count = modifications.count
        let mods = UnsafeMutablePointer<LDAPMod>.allocate(capacity: count)
        let modPointers = UnsafeMutablePointer<UnsafeMutablePointer<LDAPMod>?>.allocate(capacity: count + 1)
        var allocatedValues: [UnsafeMutablePointer<UnsafeMutablePointer<berval>?>] = []
        defer {
            for index in 0..<count { free(mods[index].mod_type) }
            for values in allocatedValues {
                var index = 0
                while let value = values[index] {
                    free(value.pointee.bv_val)
                    value.deallocate()
                    index += 1
                }
                values.deallocate()
            }
            mods.deallocate()
            modPointers.deallocate()
        }
        for (index, modification) in modifications.enumerated() {
            mods.advanced(by: index).initialize(to: LDAPMod())
            mods[index].mod_op = modification.operation.rawValue | LDAP_MOD_BVALUES
            mods[index].mod_type = strdup(modification.attribute)
            let values = UnsafeMutablePointer<UnsafeMutablePointer<berval>?>.allocate(capacity: modification.values.count + 1)
            for (valueIndex, data) in modification.values.enumerated() {
                let bytes = malloc(max(data.count, 1))!.assumingMemoryBound(to: CChar.self)
                data.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { memcpy(bytes, base, data.count) }
                }
                let value = UnsafeMutablePointer<berval>.allocate(capacity: 1)
                value.initialize(to: berval(bv_len: ber_len_t(data.count), bv_val: bytes))
                values[valueIndex] = value
            }
            values[modification.values.count] = nil
            allocatedValues.append(values)
            // A delete without values removes the whole attribute.
            cldap_mod_set_bvalues(&mods[index], modification.values.isEmpty ? nil : values)
            modPointers[index] = mods.advanced(by: index)
        }
        modPointers[count] = nil
        let summary = modifications.map { "\($0.operation) \($0.attribute) (\($0.values.count) value\($0.values.count == 1 ? "" : "s"))" }
        try check(ldap_modify_ext_s(handle, dn, modPointers, nil, nil), handle, operation: "modify \(dn): \(summary.joined(separator: ", "))")
    }
}
