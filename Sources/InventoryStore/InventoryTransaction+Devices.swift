import Foundation
import GRDB
import ParcCore

/// Where a device is put.
public enum Place: Sendable, Equatable {
    /// In a room (by id, from ``InventoryReader/room(school:name:)``).
    case room(Int64)
    /// In a cart (by the cart device's id).
    case cart(Int64)
    /// Nowhere in particular (in stock at the supplier's or the town hall's).
    case nowhere
}

/// How an edit changes a device's MAC addresses.
public struct MacChange: Sendable, Equatable {
    public var add: [String]
    public var remove: [String]
    /// Replace all MACs with `add` (remove is then ignored).
    public var replaceAll: Bool

    public init(add: [String] = [], remove: [String] = [], replaceAll: Bool = false) {
        self.add = add
        self.remove = remove
        self.replaceAll = replaceAll
    }
}

extension InventoryTransaction {
    /// Adds a device with its MAC addresses. Its place (`roomId` or `cartId`) must exist.
    @discardableResult
    public func addDevice(_ device: Device, macs: [String] = []) throws -> Device {
        var d = device
        d.id = nil
        try d.validate()
        try checkDevice(d)
        d.status = try statusByPlace(d)
        let normalized = try normalizeMacs(macs)
        try checkMacs(normalized, owner: nil)
        try auditedInsert(&d) { d in
            for mac in normalized { try DeviceMac(mac: mac, deviceId: d.id!).insert(self.db) }
        }
        return d
    }

    /// Refuses to go on when the device `ref` is no longer at `version` (nil: no check): the edit
    /// was made from what someone read before another change.
    public func expect(version: Int64?, of ref: String) throws {
        guard let version else { return }
        let d = try device(ref)
        let current = try Int64.fetchOne(db, sql: "SELECT version FROM device WHERE id = ?", arguments: [d.id!]) ?? 0
        guard current == version else {
            throw InventoryError.stale(entity: d.kind == .cart ? "cart" : "device", key: d.assetTag ?? d.serial, expected: version, current: current,
                                       hint: "look at it again (parc device show \(d.assetTag ?? d.serial)) and redo your change from what it is now")
        }
    }

    /// Applies `edit` (and `macs`) to the device `ref`, checks the result and logs what changed.
    /// A change of place goes through ``move(_:to:)``, which also moves a cart's contents.
    @discardableResult
    public func updateDevice(_ ref: String, macs change: MacChange? = nil, _ edit: (inout Device) throws -> Void = { _ in }) throws -> Device {
        let old = try device(ref)
        var new = old
        try edit(&new)
        new.id = old.id
        try new.validate()
        if new.roomId != old.roomId || new.cartId != old.cartId {
            let place: Place = new.roomId.map(Place.room) ?? new.cartId.map(Place.cart) ?? .nowhere
            new.roomId = old.roomId
            new.cartId = old.cartId
            try checkDevice(new)
            let before = try old.auditFields(self)
            try new.update(db)
            try applyMacs(change, to: new)
            try logUpdate(new, before: before)
            return try move(new.serial, to: place)
        }
        try checkDevice(new)
        new.status = try statusByPlace(new)
        if old.kind == .cart && new.kind != .cart, try !contents(ofCart: old.id!).isEmpty {
            throw InventoryError.invalid(InvalidValue(field: "kind", value: new.kind.rawValue,
                                                      problem: "\(old.serial) is a cart that still holds devices; empty it first"))
        }
        let before = try old.auditFields(self)
        // Nothing to write (a form saved as it was): the row, and so its version, stay as they are.
        if new != old || change != nil { try new.update(db) }
        try applyMacs(change, to: new)
        try logUpdate(new, before: before)
        return new
    }

    /// Puts the device `ref` in a room, in a cart, or nowhere. Moving a cart moves what it holds:
    /// each held device gets a `moveWithCart` event in its history.
    @discardableResult
    public func move(_ ref: String, to place: Place) throws -> Device {
        let old = try device(ref)
        var new = old
        switch place {
        case .room(let id):
            guard try exists("room", id: id) else { throw InventoryError.notFound(entity: "room", key: "#\(id)", hint: "list rooms with `parc room list`") }
            new.roomId = id
            new.cartId = nil
        case .cart(let id):
            new.roomId = nil
            new.cartId = id
        case .nowhere:
            new.roomId = nil
            new.cartId = nil
        }
        try new.validate()
        try checkDevice(new)
        guard new.roomId != old.roomId || new.cartId != old.cartId else { return old }
        new.status = try statusByPlace(new)
        let held = old.kind == .cart ? try contents(ofCart: old.id!) : []
        let before = try old.auditFields(self)
        try new.update(db)
        try logUpdate(new, before: before)
        // Held devices keep `cartId`; where they are (and so their status) follows the cart. Tell their histories.
        let oldRoom = try old.roomId.map { try roomLabel(id: $0) }
        let newRoom = try new.roomId.map { try roomLabel(id: $0) }
        for var device in held {
            var changes = [FieldChange(field: "room", old: oldRoom, new: newRoom)]
            let status = try statusByPlace(device)
            if status != device.status {
                changes.append(FieldChange(field: "status", old: device.status.rawValue, new: status.rawValue))
                device.status = status
                try device.update(db)
            }
            try log(entity: Device.entity, id: device.id!, key: device.serial, action: .moveWithCart, changes: changes)
        }
        return new
    }

    /// Sets a device's status.
    @discardableResult
    public func setStatus(_ ref: String, _ status: DeviceStatus) throws -> Device {
        try updateDevice(ref) { $0.status = status }
    }

    /// Puts the devices `refs` in the cart `cartRef`; all of them or none.
    @discardableResult
    public func fillCart(_ cartRef: String, with refs: [String]) throws -> [Device] {
        let c = try cart(cartRef)
        return try refs.map { try move($0, to: .cart(c.id!)) }
    }

    /// Removes a device (and its MACs). A cart must be emptied first.
    public func removeDevice(_ ref: String) throws {
        let d = try device(ref)
        if d.kind == .cart {
            let held = try contents(ofCart: d.id!)
            guard held.isEmpty else {
                throw InventoryError.inUse(entity: "cart", key: d.assetTag ?? d.serial, reason: "it still holds \(held.count) device(s)",
                                           hint: "move them out first (`parc device list --cart \(d.assetTag ?? d.serial)`)")
            }
        }
        try auditedDelete(d)
    }

    // MARK: Rules that need the database

    /// One rule for a device's status wherever it changes place: in a room, directly or through
    /// a cart standing in one → deployed; nowhere (or in a cart standing nowhere) → in stock.
    /// In repair, lost and retired are kept until someone changes them.
    func statusByPlace(_ d: Device) throws -> DeviceStatus {
        guard d.status == .inStock || d.status == .deployed else { return d.status }
        if d.roomId != nil { return .deployed }
        if let cart = d.cartId, let roomId = try Int64?.fetchOne(db, sql: "SELECT roomId FROM device WHERE id = ?", arguments: [cart]), roomId != nil {
            return .deployed
        }
        return .inStock
    }

    private func checkDevice(_ d: Device) throws {
        try ensureUnique("device", entity: "device", field: "serial", value: d.serial, excluding: d.id) { row in
            "device \(row["serial"] as String? ?? "?") (\(row["kind"] as String? ?? ""))"
        }
        try ensureUnique("device", entity: "device", field: "assetTag", value: d.assetTag, excluding: d.id) { row in
            "device \(row["serial"] as String? ?? "?") (\(row["kind"] as String? ?? ""))"
        }
        if let roomId = d.roomId, try !exists("room", id: roomId) {
            throw InventoryError.notFound(entity: "room", key: "#\(roomId)", hint: "list rooms with `parc room list`")
        }
        if let orderId = d.orderId, try !exists("purchaseOrder", id: orderId) {
            throw InventoryError.notFound(entity: "order", key: "#\(orderId)", hint: "list orders with `parc order list`")
        }
        if let cartId = d.cartId {
            guard let c = try device(id: cartId) else {
                throw InventoryError.notFound(entity: "cart", key: "#\(cartId)", hint: "list carts with `parc cart list`")
            }
            guard c.kind == .cart else {
                throw InventoryError.invalid(InvalidValue(field: "cart", value: c.assetTag ?? c.serial,
                                                          problem: "\(c.serial) is a \(c.kind.rawValue), not a cart"))
            }
            guard c.id != d.id else {
                throw InventoryError.invalid(InvalidValue(field: "cart", value: c.serial, problem: "a cart cannot hold itself"))
            }
        }
    }

    private func normalizeMacs(_ macs: [String]) throws -> [String] {
        var out: [String] = []
        for raw in macs {
            let mac = try MACAddress.normalize(raw, field: "mac")
            if !out.contains(mac) { out.append(mac) }
        }
        return out
    }

    /// Throws `duplicate` when one of `macs` belongs to a device other than `owner`.
    private func checkMacs(_ macs: [String], owner: Int64?) throws {
        for mac in macs {
            let statement = try db.cachedStatement(sql: "SELECT deviceId FROM deviceMac WHERE mac = ? AND deviceId IS NOT ?")
            if let holder = try Int64.fetchOne(statement, arguments: [mac, owner]),
               let other = try device(id: holder) {
                throw InventoryError.duplicate(entity: "device", field: "mac", value: mac,
                                               holder: "device \(other.serial) (\(other.kind.rawValue))")
            }
        }
    }

    private func applyMacs(_ change: MacChange?, to d: Device) throws {
        guard let change else { return }
        let add = try normalizeMacs(change.add)
        try checkMacs(add, owner: d.id)
        if change.replaceAll {
            try db.execute(sql: "DELETE FROM deviceMac WHERE deviceId = ?", arguments: [d.id!])
        } else {
            for mac in try normalizeMacs(change.remove) {
                try db.execute(sql: "DELETE FROM deviceMac WHERE deviceId = ? AND mac = ?", arguments: [d.id!, mac])
                if db.changesCount == 0 {
                    throw InventoryError.invalid(InvalidValue(field: "mac", value: mac, problem: "\(d.serial) has no such MAC address; `parc device show \(d.serial)` lists them"))
                }
            }
        }
        for mac in add {
            try db.execute(sql: "INSERT OR IGNORE INTO deviceMac (mac, deviceId) VALUES (?, ?)", arguments: [mac, d.id!])
        }
    }
}
