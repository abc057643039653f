import Foundation
import GRDB
import ParcCore

// Members, schools and rooms.
extension InventoryTransaction {
    // MARK: Members

    @discardableResult
    public func addMember(_ member: Member) throws -> Member {
        try addRecord(member, check: checkUnique)
    }

    /// Applies `edit` to the member `ref`, checks the result and logs what changed.
    @discardableResult
    public func updateMember(_ ref: String, _ edit: (inout Member) throws -> Void) throws -> Member {
        try editRecord(try member(ref), edit, check: checkUnique)
    }

    /// Removes a member that has no schools and no orders left.
    public func removeMember(_ ref: String) throws {
        let m = try member(ref)
        let schools = try Int.fetchOne(db, sql: "SELECT count(*) FROM school WHERE memberId = ?", arguments: [m.id!]) ?? 0
        let orders = try Int.fetchOne(db, sql: "SELECT count(*) FROM purchaseOrder WHERE memberId = ?", arguments: [m.id!]) ?? 0
        guard schools == 0 && orders == 0 else {
            throw InventoryError.inUse(entity: "member", key: m.slug, reason: "it still has \(schools) school(s) and \(orders) order(s)",
                                       hint: "remove or reassign them first (`parc school list --member \(m.slug)`, `parc order list --member \(m.slug)`)")
        }
        try auditedDelete(m)
    }

    private func checkUnique(_ m: Member) throws {
        let holder: (Row) -> String = { "member \($0["slug"] as String? ?? "?") (\($0["name"] as String? ?? ""))" }
        try ensureUnique("member", entity: "member", field: "slug", value: m.slug, excluding: m.id, holder: holder)
        try ensureUnique("member", entity: "member", field: "siren", value: m.siren, excluding: m.id, holder: holder)
        try ensureUnique("member", entity: "member", field: "insee", value: m.insee, excluding: m.id, holder: holder)
    }

    // MARK: Schools

    /// Adds the school `uai` to the member `memberRef`.
    @discardableResult
    public func addSchool(uai: String, name: String, member memberRef: String, city: String? = nil) throws -> School {
        try addRecord(School(uai: uai, name: name, memberId: try member(memberRef).id!, city: city), check: checkUnique)
    }

    @discardableResult
    public func updateSchool(_ uai: String, _ edit: (inout School) throws -> Void) throws -> School {
        try editRecord(try school(uai), edit, check: checkUnique)
    }

    /// Removes a school with no device left in it, and its rooms.
    public func removeSchool(_ uai: String) throws {
        let s = try school(uai)
        let count = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM device d LEFT JOIN device c ON c.id = d.cartId
            WHERE COALESCE(d.roomId, c.roomId) IN (SELECT id FROM room WHERE schoolId = ?)
            """, arguments: [s.id!]) ?? 0
        guard count == 0 else {
            throw InventoryError.inUse(entity: "school", key: s.uai, reason: "\(count) device(s) are still in it",
                                       hint: "move or remove them first (`parc device list --school \(s.uai)`)")
        }
        for r in try rooms(schoolId: s.id!) { try auditedDelete(r) }
        try auditedDelete(s)
    }

    private func checkUnique(_ s: School) throws {
        try ensureUnique("school", entity: "school", field: "uai", value: s.uai, excluding: s.id) {
            "school \($0["uai"] as String? ?? "?") (\($0["name"] as String? ?? ""))"
        }
    }

    // MARK: Rooms

    @discardableResult
    public func addRoom(school uai: String, name: String) throws -> Room {
        try addRecord(Room(schoolId: try school(uai).id!, name: name), check: checkUnique)
    }

    @discardableResult
    public func updateRoom(school uai: String, name: String, _ edit: (inout Room) throws -> Void) throws -> Room {
        try editRecord(try room(school: uai, name: name), edit, check: checkUnique)
    }

    /// Removes an empty room.
    public func removeRoom(school uai: String, name: String) throws {
        let r = try room(school: uai, name: name)
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM device WHERE roomId = ?", arguments: [r.id!]) ?? 0
        guard count == 0 else {
            let label = try roomLabel(r)
            throw InventoryError.inUse(entity: "room", key: label, reason: "\(count) device(s) are still in it",
                                       hint: "move them first (`parc device list --school \(try schoolLabel(r.schoolId)) --room '\(r.name)'`)")
        }
        try auditedDelete(r)
    }

    private func checkUnique(_ r: Room) throws {
        if let other = try Room.fetchOne(db, sql: "SELECT * FROM room WHERE schoolId = ? AND name = ? AND id IS NOT ?",
                                         arguments: [r.schoolId, r.name, r.id]) {
            throw InventoryError.duplicate(entity: "room", field: "room", value: r.name, holder: "room \(try roomLabel(other))")
        }
    }
}
