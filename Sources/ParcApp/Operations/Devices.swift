import Exchange
import Foundation
import InventoryStore
import ParcCore

// Devices, carts and groups: the operations behind `parc device …`, `parc cart …`, `parc find`,
// `parc history`, `parc groups` and `parc group …`.

public enum DeviceOps {
    /// A device's own fields as typed: `nil` keeps a field, an empty value clears an optional one.
    public struct Fields: Codable, Sendable {
        public var assetTag, manufacturer, model, order, member, warrantyEnd, price, hostname, address, sshPort, sshUser, notes, hostKey: String?
        public var status: DeviceStatus?

        public init(assetTag: String? = nil, manufacturer: String? = nil, model: String? = nil, status: DeviceStatus? = nil,
                    order: String? = nil, member: String? = nil, warrantyEnd: String? = nil, price: String? = nil,
                    hostname: String? = nil, address: String? = nil, sshPort: String? = nil, sshUser: String? = nil,
                    notes: String? = nil, hostKey: String? = nil) {
            (self.assetTag, self.manufacturer, self.model, self.status, self.order, self.member) = (assetTag, manufacturer, model, status, order, member)
            (self.warrantyEnd, self.price, self.hostname, self.address, self.sshPort) = (warrantyEnd, price, hostname, address, sshPort)
            (self.sshUser, self.notes, self.hostKey) = (sshUser, notes, hostKey)
        }

        func apply(to d: inout Device, _ r: InventoryReader) throws {
            edit(assetTag, &d.assetTag) { $0 }
            edit(manufacturer, &d.manufacturer) { $0 }
            edit(model, &d.model) { $0 }
            if let status { d.status = status }
            try edit(order, &d.orderId) { try r.order($0, member: member).id! }
            try edit(warrantyEnd, &d.warrantyEnd) { try Day(parsing: $0, field: "warrantyEnd") }
            try edit(price, &d.purchasePrice) { try Money(parsing: $0, field: "purchasePrice") }
            edit(hostname, &d.hostname) { $0 }
            edit(address, &d.address) { $0 }
            try edit(sshPort, &d.sshPort) { v in
                guard let p = Int(v) else { throw InvalidValue(field: "sshPort", value: v, problem: "a port is a number, e.g. 22") }
                return p
            }
            edit(sshUser, &d.sshUser) { $0 }
            edit(notes, &d.notes) { $0 }
            edit(hostKey, &d.hostKey) { $0 }
        }
    }

    /// Where a device goes: a school's room, a cart, or nowhere (all nil).
    public struct Place: Codable, Sendable {
        public var school, room, cart: String?
        public init(school: String?, room: String?, cart: String?) { (self.school, self.room, self.cart) = (school, room, cart) }

        func ids(_ tx: InventoryReader) throws -> (roomId: Int64?, cartId: Int64?) {
            try tx.placeIDs(school: school, room: room, cart: cart)
        }

        func target(_ tx: InventoryReader) throws -> InventoryStore.Place {
            let ids = try ids(tx)
            return ids.roomId.map(InventoryStore.Place.room) ?? ids.cartId.map(InventoryStore.Place.cart) ?? .nowhere
        }
    }

    public struct Add: InventoryOperation {
        public static let name = "device.add"
        public static let summary = "Add a device, in a room, a cart or in stock (as `parc device add` and `parc cart add`)"
        public var kind: DeviceKind
        public var serial: String
        public var fields: Fields
        public var place: Place
        public var macs: [String]
        public init(kind: DeviceKind, serial: String, fields: Fields, place: Place, macs: [String]) {
            (self.kind, self.serial, self.fields, self.place, self.macs) = (kind, serial, fields, place, macs)
        }
        public func perform(in workspace: Workspace) async throws -> Device {
            if kind == .cart && place.cart != nil { throw AppError("a cart cannot go in another cart; give --school and --room") }
            return try await workspace.inventory.writing { tx in
                let ids = try place.ids(tx)
                var d = Device(kind: kind, serial: serial, status: ids.roomId != nil || ids.cartId != nil ? .deployed : .inStock,
                               roomId: ids.roomId, cartId: ids.cartId)
                try fields.apply(to: &d, tx)
                return try tx.addDevice(d, macs: macs)
            }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "device.list"
        public static let summary = "Devices narrowed by filters (as `parc device list`)"
        public var filter: DeviceFilter
        public init(_ filter: DeviceFilter) { self.filter = filter }
        public func perform(in workspace: Workspace) async throws -> [DeviceRow] { try await workspace.inventory.reading { try $0.devices(filter) } }
    }

    public struct Detail: Codable, Sendable {
        public var row: DeviceRow
        /// A cart's contents (empty for other kinds).
        public var contents: [DeviceRow]
        public var lastChange: AuditEvent?
        public var lastRun: RunSummary?
        public var lastRunHost: RunHostSummary?
        public var facts: DeviceFacts?
        public var factsSeenAt: Date?
    }

    public struct Show: InventoryOperation {
        public static let name = "device.show"
        public static let summary = "Everything about a device: its fields, a cart's contents, its last change, last run and facts (as `parc device show`)"
        public var device: String
        public init(_ device: String) { self.device = device }
        public func perform(in workspace: Workspace) async throws -> Detail {
            try await workspace.inventory.reading { r in
                let d = try r.device(device)
                let last = try r.lastRun(serial: d.serial)
                let facts = try r.facts(serial: d.serial)
                return Detail(row: try r.deviceRow(device), contents: d.kind == .cart ? try r.devices(DeviceFilter(cart: d.serial)) : [],
                              lastChange: try r.history(d.serial).last, lastRun: last?.run, lastRunHost: last?.host,
                              facts: facts?.facts, factsSeenAt: facts?.seenAt)
            }
        }
    }

    /// Changes a device: its fields and MACs, then its place (nil: where it is), then its status
    /// when one is given (a place sets the status it implies). With `ifVersion`, refused when the
    /// device changed since that version (the console's form, `--if-version`).
    public struct Edit: InventoryOperation {
        public static let name = "device.edit"
        public static let summary = "Change a device's fields, MAC addresses, place and status; refused when it changed since ifVersion (as `parc device edit` and the console's form)"
        public var device: String
        public var newSerial: String?
        public var kind: DeviceKind?
        public var fields: Fields
        public var addMacs, removeMacs: [String]
        public var place: Place?
        public var ifVersion: Int64?
        public init(_ device: String, newSerial: String? = nil, kind: DeviceKind? = nil, fields: Fields, addMacs: [String] = [], removeMacs: [String] = [],
                    place: Place? = nil, ifVersion: Int64? = nil) {
            (self.device, self.newSerial, self.kind, self.fields, self.addMacs, self.removeMacs) = (device, newSerial, kind, fields, addMacs, removeMacs)
            (self.place, self.ifVersion) = (place, ifVersion)
        }
        public func perform(in workspace: Workspace) async throws -> Device {
            try await workspace.inventory.writing { tx in
                try tx.expect(version: ifVersion, of: device)
                let change = addMacs.isEmpty && removeMacs.isEmpty ? nil : MacChange(add: addMacs, remove: removeMacs)
                var d = try tx.updateDevice(device, macs: change) { d in
                    if let newSerial { d.serial = newSerial }
                    if let kind { d.kind = kind }
                    try fields.apply(to: &d, tx)
                }
                if let place {
                    d = try tx.move(d.serial, to: try place.target(tx))
                    if let status = fields.status, d.status != status { d = try tx.setStatus(d.serial, status) }
                }
                return d
            }
        }
    }

    public struct Moved: Codable, Sendable {
        public var device: Device
        /// What a moved cart holds (its devices went along).
        public var held: Int
    }

    public struct Move: InventoryOperation {
        public static let name = "device.move"
        public static let summary = "Put a device in a room, in a cart or nowhere; a cart takes what it holds along (as `parc device move`)"
        public var device: String
        public var place: Place
        public var ifVersion: Int64?
        public init(_ device: String, to place: Place, ifVersion: Int64? = nil) { (self.device, self.place, self.ifVersion) = (device, place, ifVersion) }
        public func perform(in workspace: Workspace) async throws -> Moved {
            try await workspace.inventory.writing { tx in
                try tx.expect(version: ifVersion, of: device)
                let d = try tx.move(device, to: try place.target(tx))
                return Moved(device: d, held: d.kind == .cart ? try tx.contents(ofCart: d.id!).count : 0)
            }
        }
    }

    public struct SetStatus: InventoryOperation {
        public static let name = "device.status"
        public static let summary = "Set a device's status (as `parc device status`)"
        public var device: String
        public var status: DeviceStatus
        public var ifVersion: Int64?
        public init(_ device: String, _ status: DeviceStatus, ifVersion: Int64? = nil) { (self.device, self.status, self.ifVersion) = (device, status, ifVersion) }
        public func perform(in workspace: Workspace) async throws -> Device {
            try await workspace.inventory.writing { tx in
                try tx.expect(version: ifVersion, of: device)
                return try tx.setStatus(device, status)
            }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "device.remove"
        public static let summary = "Remove a device; its history stays (as `parc device remove`)"
        public var device: String
        public init(_ device: String) { self.device = device }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeDevice(device) }
            return Done()
        }
    }

    public struct Found: Codable, Sendable {
        public var rows: [DeviceRow]
        public var total: Int
    }

    public struct Find: InventoryOperation {
        public static let name = "device.find"
        public static let summary = "Devices by serial, asset tag, MAC, host name, model, school or commune (as `parc find`)"
        public var text: String
        public var limit: Int
        public init(_ text: String, limit: Int) { (self.text, self.limit) = (text, limit) }
        public func perform(in workspace: Workspace) async throws -> Found {
            let (rows, total) = try await workspace.inventory.reading { try $0.find(text, limit: limit) }
            return Found(rows: rows, total: total)
        }
    }

    public struct History: InventoryOperation {
        public static let name = "device.history"
        public static let summary = "A device's story from the audit log, removed devices too (as `parc history`)"
        public var device: String
        public init(_ device: String) { self.device = device }
        public func perform(in workspace: Workspace) async throws -> [AuditEvent] { try await workspace.inventory.reading { try $0.history(device) } }
    }
}

public enum CartOps {
    public struct Fill: InventoryOperation {
        public static let name = "cart.fill"
        public static let summary = "Put devices in a cart, all of them or none (as `parc cart fill`)"
        public var cart: String
        public var devices: [String]
        /// The cart's version the list was made from (its contents then); nil: no check.
        public var ifVersion: Int64?
        public init(_ cart: String, with devices: [String], ifVersion: Int64? = nil) { (self.cart, self.devices, self.ifVersion) = (cart, devices, ifVersion) }
        public func perform(in workspace: Workspace) async throws -> [Device] {
            try await workspace.inventory.writing { tx in
                try tx.expect(version: ifVersion, of: cart)
                return try tx.fillCart(cart, with: devices)
            }
        }
    }

    /// A cart with how many devices it holds.
    public struct Row: Codable, Sendable {
        public var cart: DeviceRow
        public var holds: Int
    }

    public struct List: InventoryOperation {
        public static let name = "cart.list"
        public static let summary = "Carts with where they are and how many devices they hold (as `parc cart list`)"
        public var member, school: String?
        public init(member: String?, school: String?) { (self.member, self.school) = (member, school) }
        public func perform(in workspace: Workspace) async throws -> [Row] {
            try await workspace.inventory.reading { r in
                try r.devices(DeviceFilter(member: member, school: school, kind: .cart)).map { c in
                    Row(cart: c, holds: try r.devices(DeviceFilter(cart: c.serial)).count)
                }
            }
        }
    }

    public struct Contents: InventoryOperation {
        public static let name = "cart.show"
        public static let summary = "What a cart holds (as `parc cart show`)"
        public var cart: String
        public init(_ cart: String) { self.cart = cart }
        public func perform(in workspace: Workspace) async throws -> [DeviceRow] {
            try await workspace.inventory.reading { r in try r.devices(DeviceFilter(cart: try r.cart(cart).serial)) }
        }
    }

    public struct Lend: InventoryOperation {
        public static let name = "cart.lend"
        public static let summary = "Lend a cart to a school's room until a date (as `parc cart lend`)"
        public var cart, school, room, until: String
        public init(_ cart: String, school: String, room: String, until: String) {
            (self.cart, self.school, self.room, self.until) = (cart, school, room, until)
        }
        public func perform(in workspace: Workspace) async throws -> CartLoan {
            let end = try Day(parsing: until, field: "until")
            return try await workspace.inventory.writing { tx in
                try tx.lendCart(cart, to: try tx.room(school: school, name: room).id!, until: end, today: Day.today())
            }
        }
    }

    public struct Return: InventoryOperation {
        public static let name = "cart.return"
        public static let summary = "Bring a lent cart back where it came from (as `parc cart return`)"
        public var cart: String
        public init(_ cart: String) { self.cart = cart }
        public func perform(in workspace: Workspace) async throws -> CartLoan { try await workspace.inventory.writing { try $0.returnCart(cart, today: Day.today()) } }
    }

    public struct Loans: InventoryOperation {
        public static let name = "cart.loans"
        public static let summary = "Loans of carts, all or the open ones (as `parc cart loans`)"
        public var open: Bool
        public init(open: Bool) { self.open = open }
        public func perform(in workspace: Workspace) async throws -> [CartLoan] { try await workspace.inventory.reading { try $0.loans(open: open) } }
    }
}

public enum GroupOps {
    public struct Computed: InventoryOperation {
        public static let name = "group.computed"
        public static let summary = "The groups patterns can name, with their devices' serials (as `parc groups`)"
        public init() {}
        public func perform(in workspace: Workspace) async throws -> [String: [String]] { try await workspace.inventory.reading { try $0.groups() } }
    }

    public struct Add: InventoryOperation {
        public static let name = "group.add"
        public static let summary = "Create a group of one's own (as `parc group add`)"
        public var group: String
        public init(_ group: String) { self.group = group }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.addUserGroup(group) }
            return Done()
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "group.remove"
        public static let summary = "Remove a group of one's own (as `parc group remove`)"
        public var group: String
        public init(_ group: String) { self.group = group }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeUserGroup(group) }
            return Done()
        }
    }

    public struct SetMembers: InventoryOperation {
        public static let name = "group.devices"
        public static let summary = "Put devices in a group of one's own, or take them out (as `parc group add-device` and `remove-device`)"
        public var group: String
        public var devices: [String]
        public var member: Bool
        public init(_ group: String, devices: [String], member: Bool) { (self.group, self.devices, self.member) = (group, devices, member) }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.setUserGroupMembers(group, devices: devices, member: member) }
            return Done()
        }
    }

    /// A variable of a group: a value, or nil to remove it.
    public struct Assignment: Codable, Sendable {
        public var key: String
        public var value: String?
        public init(key: String, value: String?) { (self.key, self.value) = (key, value) }
    }

    public struct SetVars: InventoryOperation {
        public static let name = "group.vars"
        public static let summary = "Set or remove a group's variables, values never templates (as `parc group var`)"
        public var group: String
        public var assignments: [Assignment]
        public init(_ group: String, _ assignments: [Assignment]) { (self.group, self.assignments) = (group, assignments) }
        public func perform(in workspace: Workspace) async throws -> Done {
            var changes: [String: String?] = [:]
            for a in assignments { changes[a.key] = .some(a.value) }
            let all = changes
            try await workspace.inventory.writing { try $0.setUserGroupVars(group, all) }
            return Done()
        }
    }

    public struct List: InventoryOperation {
        public static let name = "group.list"
        public static let summary = "Groups of one's own with their devices and variables (as `parc group list`)"
        public init() {}
        public func perform(in workspace: Workspace) async throws -> [UserGroup] { try await workspace.inventory.reading { try $0.userGroups() } }
    }
}
