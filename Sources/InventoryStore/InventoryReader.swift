import Foundation
import GRDB
import ParcCore

/// Read access to the inventory inside one consistent snapshot: look-ups by the keys people use
/// (slug or code, UAI, serial or asset tag, order number) and the listings of the command line.
///
/// Only valid inside the closure given to ``Inventory/read(_:)`` or ``Inventory/write(_:)``.
public class InventoryReader {
    let db: Database

    init(db: Database) { self.db = db }

    // MARK: Members

    /// The member whose slug, SIREN, INSEE code or name (case-insensitive) is `ref`.
    public func member(_ ref: String) throws -> Member {
        let key = ref.trimmed
        let found = try Member.fetchAll(db, sql: """
            SELECT * FROM member WHERE slug = lower(?1) OR siren = ?1 OR insee = upper(?1) OR name = ?1 COLLATE NOCASE
            """, arguments: [key])
        if found.count == 1 { return found[0] }
        if found.isEmpty {
            throw InventoryError.notFound(entity: "member", key: key, hint: "give its slug, SIREN or INSEE code as `parc member list` shows them")
        }
        throw InventoryError.ambiguous(entity: "member", key: key, candidates: found.map(\.slug), hint: "give the slug instead")
    }

    public func members() throws -> [Member] {
        try Member.order(Column("name").collating(.nocase)).fetchAll(db)
    }

    public func member(id: Int64) throws -> Member? { try Member.fetchOne(db, key: id) }

    // MARK: Schools and rooms

    /// The school whose UAI is `uai` (any case).
    public func school(_ uai: String) throws -> School {
        let key = uai.trimmed.uppercased()
        guard let s = try School.filter(Column("uai") == key).fetchOne(db) else {
            throw InventoryError.notFound(entity: "school", key: uai.trimmed, hint: "check the UAI, or list schools with `parc school list`")
        }
        return s
    }

    public func schools(memberId: Int64? = nil) throws -> [School] {
        var request = School.all()
        if let memberId { request = request.filter(Column("memberId") == memberId) }
        return try request.order(Column("uai")).fetchAll(db)
    }

    /// The room `name` (case-insensitive) of the school `uai`.
    public func room(school uai: String, name: String) throws -> Room {
        let s = try school(uai)
        guard let r = try Room.filter(Column("schoolId") == s.id! && Column("name") == name.trimmed).fetchOne(db) else {
            let known = try rooms(schoolId: s.id!).map(\.name)
            let list = known.isEmpty ? "it has no rooms yet" : "its rooms are: \(known.joined(separator: ", "))"
            throw InventoryError.notFound(entity: "room", key: "\(s.uai) / \(name.trimmed)",
                                          hint: "\(list); add one with `parc room add \(s.uai) NAME`")
        }
        return r
    }

    public func rooms(schoolId: Int64? = nil) throws -> [Room] {
        var request = Room.all()
        if let schoolId { request = request.filter(Column("schoolId") == schoolId) }
        return try request.order(Column("schoolId"), Column("name")).fetchAll(db)
    }

    // MARK: Lots, orders, funding

    public func lot(_ number: String) throws -> Lot {
        guard let l = try Lot.filter(Column("number") == number.trimmed).fetchOne(db) else {
            throw InventoryError.notFound(entity: "lot", key: number.trimmed, hint: "list the grouping's lots with `parc lot list`")
        }
        return l
    }

    public func lots() throws -> [Lot] {
        try Lot.fetchAll(db, sql: "SELECT * FROM lot ORDER BY CAST(number AS INTEGER), number")
    }

    /// The order numbered `number`; `member` (a member reference) settles numbers used by several members.
    /// An order by its id.
    public func order(id: Int64) throws -> Order? { try Order.fetchOne(db, key: id) }

    public func order(_ number: String, member memberRef: String? = nil) throws -> Order {
        var request = Order.filter(Column("number") == number.trimmed)
        if let memberRef { request = request.filter(Column("memberId") == (try member(memberRef)).id!) }
        let found = try request.fetchAll(db)
        if found.count == 1 { return found[0] }
        if found.isEmpty {
            throw InventoryError.notFound(entity: "order", key: number.trimmed, hint: "list orders with `parc order list`")
        }
        let owners = try found.map { try self.member(id: $0.memberId)?.slug ?? "?" }
        throw InventoryError.ambiguous(entity: "order", key: number.trimmed, candidates: owners.map { "\(number.trimmed) of \($0)" },
                                       hint: "add --member to say whose order it is")
    }

    public func orders(memberId: Int64? = nil, lotId: Int64? = nil) throws -> [Order] {
        var request = Order.all()
        if let memberId { request = request.filter(Column("memberId") == memberId) }
        if let lotId { request = request.filter(Column("lotId") == lotId) }
        return try request.order(Column("orderedOn"), Column("number")).fetchAll(db)
    }

    public func fundingLines(orderId: Int64) throws -> [FundingLine] {
        try FundingLine.filter(Column("orderId") == orderId).order(Column("id")).fetchAll(db)
    }

    public func fundingLine(id: Int64) throws -> FundingLine {
        guard let f = try FundingLine.fetchOne(db, key: id) else {
            throw InventoryError.notFound(entity: "funding line", key: String(id), hint: "list an order's funding with `parc funding list ORDER`")
        }
        return f
    }

    // MARK: Devices

    /// The device whose serial or asset tag (case-insensitive) is `ref`.
    public func device(_ ref: String) throws -> Device {
        let key = ref.trimmed
        let found = try Device.fetchAll(db.cachedStatement(sql: "SELECT * FROM device WHERE serial = ?1 UNION SELECT * FROM device WHERE assetTag = ?1"),
                                        arguments: [key])
        if found.count == 1 { return found[0] }
        if found.isEmpty {
            throw InventoryError.notFound(entity: "device", key: key, hint: "give its serial or asset tag; search with `parc find TEXT`")
        }
        throw InventoryError.ambiguous(entity: "device", key: key, candidates: found.map { "serial \($0.serial)" },
                                       hint: "one device has it as serial, another as asset tag: give the serial of the one you mean")
    }

    /// The cart (a device of kind `cart`) whose serial or asset tag is `ref`.
    public func cart(_ ref: String) throws -> Device {
        let d = try device(ref)
        guard d.kind == .cart else {
            throw InventoryError.invalid(InvalidValue(field: "cart", value: ref, problem: "\(d.serial) is a \(d.kind.rawValue), not a cart; list carts with `parc cart list`"))
        }
        return d
    }

    public func device(id: Int64) throws -> Device? {
        try Device.fetchOne(db.cachedStatement(sql: "SELECT * FROM device WHERE id = ?"), arguments: [id])
    }

    /// Whether `table` has a row with this id (a cached statement: bulk inserts call it per row).
    func exists(_ table: String, id: Int64) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE id = ?)"), arguments: [id]) ?? false
    }

    /// The MAC addresses of a device, sorted.
    public func macs(deviceId: Int64) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT mac FROM deviceMac WHERE deviceId = ? ORDER BY mac"), arguments: [deviceId])
    }

    /// The devices a cart holds.
    public func contents(ofCart cartId: Int64) throws -> [Device] {
        try Device.filter(Column("cartId") == cartId).order(Column("serial")).fetchAll(db)
    }

    // MARK: Audit log

    /// A device's story, oldest first: every event about it, found by serial or asset tag — also
    /// after the device was removed.
    public func history(_ ref: String) throws -> [AuditEvent] {
        let key = ref.trimmed
        let records: [EventRecord]
        if let d = try? device(key) {
            records = try EventRecord.fetchAll(db, sql: "SELECT * FROM event WHERE entity = 'device' AND entityId = ? ORDER BY id",
                                               arguments: [d.id!])
        } else {
            // A removed device: its events keep its serial as the key; its asset tag is in the changes.
            let ids = try Int64.fetchAll(db, sql: """
                SELECT DISTINCT entityId FROM event WHERE entity = 'device' AND (entityKey = ?1
                   OR (action = 'create' AND EXISTS (SELECT 1 FROM json_each(event.changes) c
                       WHERE json_extract(c.value, '$.field') = 'assetTag' AND json_extract(c.value, '$.new') = ?1 COLLATE NOCASE)))
                """, arguments: [key])
            guard !ids.isEmpty else {
                throw InventoryError.notFound(entity: "device", key: key, hint: "no device has ever had this serial or asset tag; search with `parc find TEXT`")
            }
            records = try EventRecord.fetchAll(db, sql: "SELECT * FROM event WHERE entity = 'device' AND entityId IN (\(ids.map(String.init).joined(separator: ","))) ORDER BY id")
        }
        return records.map(\.event)
    }

    /// Every event of one kind of record, newest first (e.g. `member`, `school`), at most `limit`.
    public func events(entity: String? = nil, key: String? = nil, limit: Int = 100) throws -> [AuditEvent] {
        var request = EventRecord.all()
        if let entity { request = request.filter(Column("entity") == entity) }
        if let key { request = request.filter(Column("entityKey").collating(.nocase) == key) }
        return try request.order(Column("id").desc).limit(limit).fetchAll(db).map(\.event)
    }
}

extension InventoryReader {
    /// One integer from raw SQL, for tests and benchmarks that check what is on disk.
    public func countForTests(_ sql: String) throws -> Int {
        try Int.fetchOne(db, sql: sql) ?? -1
    }
}
