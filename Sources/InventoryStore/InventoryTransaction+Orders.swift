import Foundation
import GRDB
import ParcCore

// Lots, orders and their funding lines.
extension InventoryTransaction {
    // MARK: Lots

    @discardableResult
    public func addLot(_ lot: Lot) throws -> Lot {
        try addRecord(lot, check: checkUnique)
    }

    @discardableResult
    public func updateLot(_ number: String, _ edit: (inout Lot) throws -> Void) throws -> Lot {
        try editRecord(try lot(number), edit, check: checkUnique)
    }

    public func removeLot(_ number: String) throws {
        let l = try lot(number)
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM purchaseOrder WHERE lotId = ?", arguments: [l.id!]) ?? 0
        guard count == 0 else {
            throw InventoryError.inUse(entity: "lot", key: l.number, reason: "\(count) order(s) were placed under it",
                                       hint: "a lot with orders stays in the inventory; edit its title instead")
        }
        try auditedDelete(l)
    }

    private func checkUnique(_ l: Lot) throws {
        try ensureUnique("lot", entity: "lot", field: "number", value: l.number, excluding: l.id) {
            "lot \($0["number"] as String? ?? "?") (\($0["title"] as String? ?? ""))"
        }
    }

    // MARK: Orders

    @discardableResult
    public func addOrder(_ order: Order) throws -> Order {
        try addRecord(order, check: checkUnique)
    }

    @discardableResult
    public func updateOrder(_ number: String, member memberRef: String? = nil, _ edit: (inout Order) throws -> Void) throws -> Order {
        try editRecord(try order(number, member: memberRef), edit, check: checkUnique)
    }

    /// Removes an order no device refers to, with its funding lines.
    public func removeOrder(_ number: String, member memberRef: String? = nil) throws {
        let o = try order(number, member: memberRef)
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM device WHERE orderId = ?", arguments: [o.id!]) ?? 0
        guard count == 0 else {
            throw InventoryError.inUse(entity: "order", key: o.number, reason: "\(count) device(s) came from it",
                                       hint: "an order with devices stays in the inventory (`parc device list --order \(o.number)`)")
        }
        for line in try fundingLines(orderId: o.id!) { try auditedDelete(line) }
        try auditedDelete(o)
    }

    private func checkUnique(_ o: Order) throws {
        if let other = try Order.fetchOne(db, sql: "SELECT * FROM purchaseOrder WHERE memberId = ? AND number = ? AND id IS NOT ?",
                                          arguments: [o.memberId, o.number, o.id]) {
            throw InventoryError.duplicate(entity: "order", field: "number", value: o.number,
                                           holder: "an order of \(try memberLabel(other.memberId))")
        }
    }

    // MARK: Funding lines

    @discardableResult
    public func addFunding(_ line: FundingLine) throws -> FundingLine {
        try addRecord(line) { _ in }
    }

    @discardableResult
    public func updateFunding(id: Int64, _ edit: (inout FundingLine) throws -> Void) throws -> FundingLine {
        let old = try fundingLine(id: id)
        return try editRecord(old, { try edit(&$0); $0.orderId = old.orderId }, check: { _ in })
    }

    public func removeFunding(id: Int64) throws {
        try auditedDelete(try fundingLine(id: id))
    }
}
