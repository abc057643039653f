import Foundation
import GRDB
import ParcCore

extension InventoryTransaction {
    /// Names the computed groups use: a group of one's own cannot take them.
    static let reservedPrefixes = ["commune_", "sivos_", "epci_", "school_", "room_", "cart_", "kind_", "status_"]

    func userGroupID(_ name: String) throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM userGroup WHERE name = ?", arguments: [name]) else {
            throw InventoryError.notFound(entity: "group", key: name, hint: "list your groups with `parc group list`, create one with `parc group add NAME`")
        }
        return id
    }

    /// Creates a group of one's own.
    public func addUserGroup(_ name: String) throws {
        guard let first = name.first, first.isLetter, name.allSatisfy({ ($0.isLetter && $0.isASCII && $0.isLowercase) || $0.isNumber || $0 == "_" }) else {
            throw InventoryError.invalid(InvalidValue(field: "group", value: name, problem: "a group name is lower-case letters, digits and _, starting with a letter (e.g. salle_info_2)"))
        }
        if ["all", "ungrouped", "localhost"].contains(name) || Self.reservedPrefixes.contains(where: name.hasPrefix) {
            throw InventoryError.invalid(InvalidValue(field: "group", value: name,
                                                      problem: "names starting with \(Self.reservedPrefixes.joined(separator: ", ")) (and all, ungrouped, localhost) are parc's own groups; choose another"))
        }
        if try Int64.fetchOne(db, sql: "SELECT id FROM userGroup WHERE name = ?", arguments: [name]) != nil {
            throw InventoryError.invalid(InvalidValue(field: "group", value: name, problem: "this group already exists"))
        }
        try db.execute(sql: "INSERT INTO userGroup (name) VALUES (?)", arguments: [name])
        try log(entity: "group", id: db.lastInsertedRowID, key: name, action: .create, changes: [FieldChange(field: "name", old: nil, new: name)])
    }

    /// Removes a group of one's own (its devices stay).
    public func removeUserGroup(_ name: String) throws {
        let id = try userGroupID(name)
        try db.execute(sql: "DELETE FROM userGroup WHERE id = ?", arguments: [id])
        try log(entity: "group", id: id, key: name, action: .delete, changes: [FieldChange(field: "name", old: name, new: nil)])
    }

    /// Puts devices in a group, or takes them out.
    public func setUserGroupMembers(_ name: String, devices refs: [String], member: Bool) throws {
        let id = try userGroupID(name)
        for ref in refs {
            let d = try device(ref)
            guard let deviceID = d.id else { continue }
            let present = try Bool.fetchOne(db, sql: "SELECT 1 FROM userGroupDevice WHERE groupId = ? AND deviceId = ?", arguments: [id, deviceID]) ?? false
            if present == member { continue }
            if member {
                try db.execute(sql: "INSERT INTO userGroupDevice (groupId, deviceId) VALUES (?, ?)", arguments: [id, deviceID])
            } else {
                try db.execute(sql: "DELETE FROM userGroupDevice WHERE groupId = ? AND deviceId = ?", arguments: [id, deviceID])
            }
            try log(entity: "group", id: id, key: name, action: .update,
                    changes: [FieldChange(field: "device", old: member ? nil : d.serial, new: member ? d.serial : nil)])
        }
    }

    /// Sets (or, with nil, removes) a group's variables.
    public func setUserGroupVars(_ name: String, _ changes: [String: String?]) throws {
        let id = try userGroupID(name)
        let text = try String.fetchOne(db, sql: "SELECT vars FROM userGroup WHERE id = ?", arguments: [id]) ?? "{}"
        var vars = (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        var logged: [FieldChange] = []
        for (k, v) in changes.sorted(by: { $0.key < $1.key }) {
            guard let first = k.first, first.isLetter || first == "_", k.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw InventoryError.invalid(InvalidValue(field: "variable", value: k, problem: "a variable name is letters, digits and _"))
            }
            if vars[k] == v { continue }
            logged.append(FieldChange(field: "var \(k)", old: vars[k], new: v))
            vars[k] = v
        }
        guard !logged.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try db.execute(sql: "UPDATE userGroup SET vars = ? WHERE id = ?", arguments: [String(decoding: try encoder.encode(vars), as: UTF8.self), id])
        try log(entity: "group", id: id, key: name, action: .update, changes: logged)
    }
}

extension InventoryReader {
    /// The groups of the inventory, by name, with the serials of their devices:
    /// `all`, `commune_<slug>` (or `sivos_…`, `epci_…`), `school_<uai>`, `room_<uai>_<room>`,
    /// `cart_<tag>`, `kind_<kind>`, `status_<status>`.
    public func groups() throws -> [String: [String]] {
        var groups: [String: [String]] = ["all": []]
        let rows = try Row.fetchAll(db, sql: """
            SELECT d.serial, d.kind, d.status, m.kind AS memberKind, m.slug AS memberSlug,
                   s.uai, r.name AS roomName, COALESCE(c.assetTag, c.serial) AS cartRef
            FROM device d
            LEFT JOIN device c ON c.id = d.cartId
            LEFT JOIN room r ON r.id = COALESCE(d.roomId, c.roomId)
            LEFT JOIN school s ON s.id = r.schoolId
            LEFT JOIN purchaseOrder o ON o.id = d.orderId
            LEFT JOIN purchaseOrder co ON co.id = c.orderId
            LEFT JOIN member om ON om.id = o.memberId
            LEFT JOIN member com ON com.id = co.memberId
            LEFT JOIN member m ON m.id = CASE WHEN d.simulated THEN NULL ELSE COALESCE(s.memberId, om.id, com.id) END
            ORDER BY d.serial
            """)
        for row in rows {
            let serial: String = row["serial"]
            groups["all", default: []].append(serial)
            if let slug: String = row["memberSlug"] {
                let kind: String = row["memberKind"] ?? "commune"
                groups["\(kind)_\(GroupName.part(slug))", default: []].append(serial)
            }
            if let uai: String = row["uai"] {
                groups["school_\(uai.lowercased())", default: []].append(serial)
                if let room: String = row["roomName"] {
                    groups["room_\(uai.lowercased())_\(GroupName.part(room))", default: []].append(serial)
                }
            }
            if let cart: String = row["cartRef"] { groups["cart_\(GroupName.part(cart))", default: []].append(serial) }
            groups["kind_\(row["kind"] as String)", default: []].append(serial)
            groups["status_\(row["status"] as String)", default: []].append(serial)
        }
        // The technician's own groups (parc group add), empty ones too: a pattern may name them.
        for g in try userGroups() { groups[g.name, default: []] += g.serials }
        return groups
    }

    /// The groups a technician made (`parc group add`), with their devices and variables.
    public func userGroups() throws -> [UserGroup] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT g.name, g.vars, d.serial FROM userGroup g
            LEFT JOIN userGroupDevice gd ON gd.groupId = g.id LEFT JOIN device d ON d.id = gd.deviceId
            ORDER BY g.name, d.serial
            """)
        var out: [UserGroup] = []
        for row in rows {
            let name: String = row["name"]
            if out.last?.name != name {
                let vars = (try? JSONDecoder().decode([String: String].self, from: Data((row["vars"] as String).utf8))) ?? [:]
                out.append(UserGroup(name: name, serials: [], vars: vars))
            }
            if let serial: String = row["serial"] { out[out.count - 1].serials.append(serial) }
        }
        return out
    }

    /// The devices a host pattern selects (group names, host names, serials or asset tags; with
    /// wildcards), sorted by name. A term that names nothing is an error, so that a typo does not
    /// silently select fewer devices.
    public func select(_ pattern: HostPattern) throws -> [DeviceRow] {
        let groups = try groups()
        let devices = try devices()
        var byName: [String: Set<String>] = [:]
        for d in devices {
            for name in Set([d.serial, d.assetTag, d.hostname].compactMap { $0?.lowercased() }) {
                byName[name, default: []].insert(d.serial)
            }
        }
        let selected = try pattern.evaluate { (term: String) throws -> Set<String> in
            let key = term.lowercased()
            if key.contains("*") || key.contains("?") {
                var out = Set<String>()
                for (name, members) in groups where GroupName.matches(key, name) { out.formUnion(members) }
                for (name, serials) in byName where GroupName.matches(key, name) { out.formUnion(serials) }
                return out
            }
            if let members = groups[key] ?? groups.first(where: { $0.key.lowercased() == key })?.value { return Set(members) }
            if let serials = byName[key] { return serials }
            let close = groups.keys.filter { $0.hasPrefix(String(key.prefix(4))) }.sorted().prefix(5)
            throw InventoryError.notFound(entity: "group or device", key: term,
                                          hint: close.isEmpty ? "list groups with `parc groups`" : "groups with a similar name: \(close.joined(separator: ", "))")
        }
        return devices.filter { selected.contains($0.serial) }.sorted { $0.inventoryName < $1.inventoryName }
    }
}
