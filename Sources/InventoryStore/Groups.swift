import Foundation
import GRDB
import ParcCore

extension InventoryReader {
    /// The groups of the inventory, by name, with the serials of their devices:
    /// `all`, `commune_<slug>` (or `sivos_…`, `epci_…`), `school_<uai>`, `room_<uai>_<room>`,
    /// `cart_<tag>`, `kind_<kind>`, `status_<status>`.
    public func groups() throws -> [String: [String]] {
        var groups: [String: [String]] = ["all": []]
        let rows = try Row.fetchAll(db, sql: """
            SELECT d.serial, d.kind, d.status, m.kind AS memberKind, COALESCE(m.slug, om.slug, com.slug) AS memberSlug,
                   s.uai, r.name AS roomName, COALESCE(c.assetTag, c.serial) AS cartRef
            FROM device d
            LEFT JOIN device c ON c.id = d.cartId
            LEFT JOIN room r ON r.id = COALESCE(d.roomId, c.roomId)
            LEFT JOIN school s ON s.id = r.schoolId
            LEFT JOIN purchaseOrder o ON o.id = d.orderId
            LEFT JOIN purchaseOrder co ON co.id = c.orderId
            LEFT JOIN member om ON om.id = o.memberId
            LEFT JOIN member com ON com.id = co.memberId
            LEFT JOIN member m ON m.id = COALESCE(s.memberId, om.id, com.id)
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
        return groups
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
