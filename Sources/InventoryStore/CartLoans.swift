import Foundation
import GRDB
import ParcCore

extension InventoryTransaction {
    /// Lends the cart `ref` to a room until `until`: the cart moves there (its laptops follow, their
    /// histories say so) and the loan is recorded in the cart's history.
    @discardableResult
    public func lendCart(_ ref: String, to roomId: Int64, until: Day, today: Day) throws -> CartLoan {
        let c = try cart(ref)
        if let open = try Int64.fetchOne(db, sql: "SELECT id FROM cartLoan WHERE cartId = ? AND returnedOn IS NULL", arguments: [c.id!]) {
            throw InventoryError.invalid(InvalidValue(field: "cart", value: c.assetTag ?? c.serial,
                                                      problem: "it is already lent (loan #\(open)); return it first with parc cart return \(c.assetTag ?? c.serial)"))
        }
        guard until >= today else {
            throw InventoryError.invalid(InvalidValue(field: "until", value: until.description, problem: "a loan ends today or later"))
        }
        let to = try roomLabel(id: roomId)
        try db.execute(sql: "INSERT INTO cartLoan (cartId, roomId, homeRoomId, since, until) VALUES (?, ?, ?, ?, ?)",
                       arguments: [c.id!, roomId, c.roomId, today.description, until.description])
        let id = db.lastInsertedRowID
        try log(entity: Device.entity, id: c.id!, key: c.serial, action: .update,
                changes: [FieldChange(field: "loan", old: nil, new: "lent to \(to) until \(until.description)")])
        _ = try move(c.serial, to: .room(roomId))
        return try loans().first { $0.id == id }!
    }

    /// Brings a lent cart back where it came from (nowhere if it stood nowhere) and closes the loan.
    @discardableResult
    public func returnCart(_ ref: String, today: Day) throws -> CartLoan {
        let c = try cart(ref)
        guard let row = try Row.fetchOne(db, sql: "SELECT id, homeRoomId FROM cartLoan WHERE cartId = ? AND returnedOn IS NULL", arguments: [c.id!]) else {
            throw InventoryError.invalid(InvalidValue(field: "cart", value: c.assetTag ?? c.serial, problem: "it is not lent (see parc cart loans)"))
        }
        let id: Int64 = row["id"], home: Int64? = row["homeRoomId"]
        try db.execute(sql: "UPDATE cartLoan SET returnedOn = ? WHERE id = ?", arguments: [today.description, id])
        try log(entity: Device.entity, id: c.id!, key: c.serial, action: .update,
                changes: [FieldChange(field: "loan", old: "loan #\(id)", new: "returned \(try home.map { try roomLabel(id: $0) } ?? "to stock")")])
        _ = try move(c.serial, to: home.map(Place.room) ?? .nowhere)
        return try loans().first { $0.id == id }!
    }
}

extension InventoryReader {
    /// Every loan, latest first; `open`: only carts still lent.
    public func loans(open: Bool = false) throws -> [CartLoan] {
        try Row.fetchAll(db, sql: """
            SELECT l.id, COALESCE(c.assetTag, c.serial) AS cart, s.uai || ' / ' || r.name AS place,
                   hs.uai || ' / ' || hr.name AS home, l.since, l.until, l.returnedOn
            FROM cartLoan l JOIN device c ON c.id = l.cartId
            JOIN room r ON r.id = l.roomId JOIN school s ON s.id = r.schoolId
            LEFT JOIN room hr ON hr.id = l.homeRoomId LEFT JOIN school hs ON hs.id = hr.schoolId
            \(open ? "WHERE l.returnedOn IS NULL" : "") ORDER BY l.since DESC, l.id DESC
            """).map { row in
            CartLoan(id: row["id"], cart: row["cart"], to: row["place"], home: row["home"],
                     since: (try? Day(parsing: row["since"] as String)) ?? .distantPast, until: (try? Day(parsing: row["until"] as String)) ?? .distantPast,
                     returnedOn: (row["returnedOn"] as String?).flatMap { try? Day(parsing: $0) })
        }
    }
}
