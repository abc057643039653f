import Exchange
import Foundation
import InventoryStore
import ParcCore

// Members, schools, rooms, lots, orders and funding lines: the operations behind `parc member …`,
// `parc school …`, `parc room …`, `parc lot …`, `parc order …` and `parc funding …`.

public enum MemberOps {
    /// A member's fields as typed: `nil` keeps a field, an empty value clears an optional one.
    public struct Fields: Codable, Sendable {
        public var name, slug, siren, insee, deliberation, deliberationDate, receipt, conventionDate, signatory: String?
        public var kind: MemberKind?

        public init(name: String? = nil, kind: MemberKind? = nil, slug: String? = nil, siren: String? = nil, insee: String? = nil,
                    deliberation: String? = nil, deliberationDate: String? = nil, receipt: String? = nil,
                    conventionDate: String? = nil, signatory: String? = nil) {
            (self.name, self.kind, self.slug, self.siren, self.insee) = (name, kind, slug, siren, insee)
            (self.deliberation, self.deliberationDate, self.receipt, self.conventionDate, self.signatory) =
                (deliberation, deliberationDate, receipt, conventionDate, signatory)
        }

        func apply(to m: inout Member) throws {
            if let name { m.name = name }
            if let kind { m.kind = kind }
            if let slug { m.slug = slug }
            edit(siren, &m.siren) { $0 }
            edit(insee, &m.insee) { $0 }
            edit(deliberation, &m.deliberationNumber) { $0 }
            try edit(deliberationDate, &m.deliberationDate) { try Day(parsing: $0, field: "deliberationDate") }
            edit(receipt, &m.prefectureReceipt) { $0 }
            try edit(conventionDate, &m.conventionDate) { try Day(parsing: $0, field: "conventionDate") }
            edit(signatory, &m.conventionSignatory) { $0 }
        }
    }

    public struct Add: InventoryOperation {
        public static let name = "member.add"
        public static let summary = "Add a member (as `parc member add`)"
        public var fields: Fields
        public init(_ fields: Fields) { self.fields = fields }
        public func perform(in workspace: Workspace) async throws -> Member {
            guard let name = fields.name else { throw AppError("give the member's --name") }
            var m = Member(kind: fields.kind ?? .commune, name: name)
            try fields.apply(to: &m)
            if fields.slug == nil { m.slug = slugify(m.name) }
            let member = m
            return try await workspace.inventory.writing { try $0.addMember(member) }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "member.list"
        public static let summary = "Every member (as `parc member list`)"
        public init() {}
        public func perform(in workspace: Workspace) async throws -> [Member] { try await workspace.inventory.reading { try $0.members() } }
    }

    public struct Detail: Codable, Sendable {
        public var member: Member
        public var schools: [School]
        public var orders: [Order]
        public var devices: Int
    }

    public struct Show: InventoryOperation {
        public static let name = "member.show"
        public static let summary = "A member with its schools, orders and device count (as `parc member show`)"
        public var member: String
        public init(_ member: String) { self.member = member }
        public func perform(in workspace: Workspace) async throws -> Detail {
            try await workspace.inventory.reading { r in
                let m = try r.member(member)
                return Detail(member: m, schools: try r.schools(memberId: m.id!), orders: try r.orders(memberId: m.id!),
                              devices: try r.devices(DeviceFilter(member: m.slug)).count)
            }
        }
    }

    public struct Edit: InventoryOperation {
        public static let name = "member.edit"
        public static let summary = "Change a member's fields (as `parc member edit`)"
        public var member: String
        public var fields: Fields
        public init(_ member: String, _ fields: Fields) { (self.member, self.fields) = (member, fields) }
        public func perform(in workspace: Workspace) async throws -> Member {
            try await workspace.inventory.writing { tx in try tx.updateMember(member) { try fields.apply(to: &$0) } }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "member.remove"
        public static let summary = "Remove a member without schools and orders (as `parc member remove`)"
        public var member: String
        public init(_ member: String) { self.member = member }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeMember(member) }
            return Done()
        }
    }
}

public enum SchoolOps {
    /// A school with its member's slug and its number of rooms.
    public struct Row: Codable, Sendable {
        public var school: School
        public var member: String
        public var rooms: Int
    }

    static func rows(_ r: InventoryReader, memberId: Int64?) throws -> [Row] {
        let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.id!, $0.slug) })
        let roomCounts = Dictionary(grouping: try r.rooms(), by: \.schoolId).mapValues(\.count)
        return try r.schools(memberId: memberId).map { Row(school: $0, member: members[$0.memberId] ?? "?", rooms: roomCounts[$0.id!] ?? 0) }
    }

    public struct Add: InventoryOperation {
        public static let name = "school.add"
        public static let summary = "Add a school to a member, with rooms (as `parc school add`)"
        public var uai, name: String
        public var member: String
        public var city: String?
        public var rooms: [String]
        public init(uai: String, name: String, member: String, city: String?, rooms: [String]) {
            (self.uai, self.name, self.member, self.city, self.rooms) = (uai, name, member, city, rooms)
        }
        public func perform(in workspace: Workspace) async throws -> School {
            try await workspace.inventory.writing { tx in
                let s = try tx.addSchool(uai: uai, name: name, member: member, city: city)
                for room in rooms { try tx.addRoom(school: s.uai, name: room) }
                return s
            }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "school.list"
        public static let summary = "Schools, of one member or all (as `parc school list`)"
        public var member: String?
        public init(member: String?) { self.member = member }
        public func perform(in workspace: Workspace) async throws -> [Row] {
            try await workspace.inventory.reading { r in try SchoolOps.rows(r, memberId: try member.map { try r.member($0).id! }) }
        }
    }

    public struct Detail: Codable, Sendable {
        public var row: Row
        public var rooms: [Room]
        public var devices: [DeviceRow]
    }

    public struct Show: InventoryOperation {
        public static let name = "school.show"
        public static let summary = "A school with its rooms and devices (as `parc school show`)"
        public var uai: String
        public init(_ uai: String) { self.uai = uai }
        public func perform(in workspace: Workspace) async throws -> Detail {
            try await workspace.inventory.reading { r in
                let s = try r.school(uai)
                let row = try SchoolOps.rows(r, memberId: s.memberId).first { $0.school.id == s.id }!
                return Detail(row: row, rooms: try r.rooms(schoolId: s.id!), devices: try r.devices(DeviceFilter(school: s.uai)))
            }
        }
    }

    public struct Edit: InventoryOperation {
        public static let name = "school.edit"
        public static let summary = "Change a school's UAI, name, member or town (as `parc school edit`)"
        public var uai: String
        public var newUAI, name, member, city: String?
        public init(_ uai: String, newUAI: String?, name: String?, member: String?, city: String?) {
            (self.uai, self.newUAI, self.name, self.member, self.city) = (uai, newUAI, name, member, city)
        }
        public func perform(in workspace: Workspace) async throws -> School {
            try await workspace.inventory.writing { tx in
                let memberId = try member.map { try tx.member($0).id! }
                return try tx.updateSchool(uai) { s in
                    if let newUAI { s.uai = newUAI }
                    if let name { s.name = name }
                    if let memberId { s.memberId = memberId }
                    edit(city, &s.city) { $0 }
                }
            }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "school.remove"
        public static let summary = "Remove a school with no devices left in it (as `parc school remove`)"
        public var uai: String
        public init(_ uai: String) { self.uai = uai }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeSchool(uai) }
            return Done()
        }
    }
}

public enum RoomOps {
    /// A room with its school's UAI and how many devices it holds.
    public struct Row: Codable, Sendable {
        public var uai: String
        public var room: Room
        public var devices: Int
    }

    public struct Add: InventoryOperation {
        public static let name = "room.add"
        public static let summary = "Add a room to a school (as `parc room add`)"
        public var uai, name: String
        public init(uai: String, name: String) { (self.uai, self.name) = (uai, name) }
        public func perform(in workspace: Workspace) async throws -> Room { try await workspace.inventory.writing { try $0.addRoom(school: uai, name: name) } }
    }

    public struct List: InventoryOperation {
        public static let name = "room.list"
        public static let summary = "Rooms with their device counts, of one school or all (as `parc room list`)"
        public var uai: String?
        public init(uai: String?) { self.uai = uai }
        public func perform(in workspace: Workspace) async throws -> [Row] {
            try await workspace.inventory.reading { r in
                let wanted = try uai.map { try r.school($0).id! }
                var out: [Row] = []
                for s in try r.schools() where wanted == nil || s.id == wanted {
                    let devices = try r.devices(DeviceFilter(school: s.uai))
                    for room in try r.rooms(schoolId: s.id!) {
                        out.append(Row(uai: s.uai, room: room, devices: devices.filter { $0.room == room.name }.count))
                    }
                }
                return out
            }
        }
    }

    public struct Show: InventoryOperation {
        public static let name = "room.show"
        public static let summary = "The devices in a room, carts' contents included (as `parc room show`)"
        public var uai, name: String
        public init(uai: String, name: String) { (self.uai, self.name) = (uai, name) }
        public func perform(in workspace: Workspace) async throws -> [DeviceRow] {
            try await workspace.inventory.reading { r in
                let room = try r.room(school: uai, name: name)
                return try r.devices(DeviceFilter(school: uai, room: room.name))
            }
        }
    }

    public struct Edit: InventoryOperation {
        public static let name = "room.edit"
        public static let summary = "Rename a room (as `parc room edit`)"
        public var uai, name, newName: String
        public init(uai: String, name: String, newName: String) { (self.uai, self.name, self.newName) = (uai, name, newName) }
        public func perform(in workspace: Workspace) async throws -> Room {
            try await workspace.inventory.writing { try $0.updateRoom(school: uai, name: name) { $0.name = newName } }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "room.remove"
        public static let summary = "Remove an empty room (as `parc room remove`)"
        public var uai, name: String
        public init(uai: String, name: String) { (self.uai, self.name) = (uai, name) }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeRoom(school: uai, name: name) }
            return Done()
        }
    }
}

public enum LotOps {
    public struct Add: InventoryOperation {
        public static let name = "lot.add"
        public static let summary = "Add a lot (as `parc lot add`)"
        public var number, title: String
        public var supplier: String?
        public init(number: String, title: String, supplier: String?) { (self.number, self.title, self.supplier) = (number, title, supplier) }
        public func perform(in workspace: Workspace) async throws -> Lot {
            try await workspace.inventory.writing { try $0.addLot(Lot(number: number, title: title, supplier: supplier)) }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "lot.list"
        public static let summary = "Every lot (as `parc lot list`)"
        public init() {}
        public func perform(in workspace: Workspace) async throws -> [Lot] { try await workspace.inventory.reading { try $0.lots() } }
    }

    public struct Detail: Codable, Sendable {
        public var lot: Lot
        public var orders: [Order]
    }

    public struct Show: InventoryOperation {
        public static let name = "lot.show"
        public static let summary = "A lot and the orders placed under it (as `parc lot show`)"
        public var number: String
        public init(_ number: String) { self.number = number }
        public func perform(in workspace: Workspace) async throws -> Detail {
            try await workspace.inventory.reading { r in
                let l = try r.lot(number)
                return Detail(lot: l, orders: try r.orders(lotId: l.id!))
            }
        }
    }

    public struct Edit: InventoryOperation {
        public static let name = "lot.edit"
        public static let summary = "Change a lot's title or supplier (as `parc lot edit`)"
        public var number: String
        public var title, supplier: String?
        public init(_ number: String, title: String?, supplier: String?) { (self.number, self.title, self.supplier) = (number, title, supplier) }
        public func perform(in workspace: Workspace) async throws -> Lot {
            try await workspace.inventory.writing { tx in
                try tx.updateLot(number) { l in
                    if let title { l.title = title }
                    edit(supplier, &l.supplier) { $0 }
                }
            }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "lot.remove"
        public static let summary = "Remove a lot no order was placed under (as `parc lot remove`)"
        public var number: String
        public init(_ number: String) { self.number = number }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeLot(number) }
            return Done()
        }
    }
}

public enum OrderOps {
    /// An order with its member's slug, its lot's number and its funding lines.
    public struct Row: Codable, Sendable {
        public var order: Order
        public var member: String
        public var lot: String?
        public var funding: [FundingLine]
    }

    static func rows(_ r: InventoryReader, _ orders: [Order]) throws -> [Row] {
        let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.id!, $0.slug) })
        let lots = Dictionary(uniqueKeysWithValues: try r.lots().map { ($0.id!, $0.number) })
        return try orders.map { o in
            Row(order: o, member: members[o.memberId] ?? "?", lot: o.lotId.flatMap { lots[$0] }, funding: try r.fundingLines(orderId: o.id!))
        }
    }

    /// An order's fields as typed: `nil` keeps a field, an empty value clears an optional one.
    public struct Fields: Codable, Sendable {
        public var lot, supplier, ordered, delivered, deliveryNote, amountExclTax, amountInclTax: String?
        public init(lot: String?, supplier: String?, ordered: String?, delivered: String?, deliveryNote: String?,
                    amountExclTax: String?, amountInclTax: String?) {
            (self.lot, self.supplier, self.ordered, self.delivered) = (lot, supplier, ordered, delivered)
            (self.deliveryNote, self.amountExclTax, self.amountInclTax) = (deliveryNote, amountExclTax, amountInclTax)
        }

        func apply(to o: inout Order, _ r: InventoryReader) throws {
            try edit(lot, &o.lotId) { try r.lot($0).id! }
            edit(supplier, &o.supplier) { $0 }
            try edit(ordered, &o.orderedOn) { try Day(parsing: $0, field: "orderedOn") }
            try edit(delivered, &o.deliveredOn) { try Day(parsing: $0, field: "deliveredOn") }
            edit(deliveryNote, &o.deliveryNote) { $0 }
            try edit(amountExclTax, &o.amountExclTax) { try Money(parsing: $0, field: "amountExclTax") }
            try edit(amountInclTax, &o.amountInclTax) { try Money(parsing: $0, field: "amountInclTax") }
        }
    }

    public struct Add: InventoryOperation {
        public static let name = "order.add"
        public static let summary = "Record a member's order (as `parc order add`)"
        public var number, member: String
        public var fields: Fields
        public init(number: String, member: String, fields: Fields) { (self.number, self.member, self.fields) = (number, member, fields) }
        public func perform(in workspace: Workspace) async throws -> Order {
            try await workspace.inventory.writing { tx in
                var o = Order(memberId: try tx.member(member).id!, number: number)
                try fields.apply(to: &o, tx)
                return try tx.addOrder(o)
            }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "order.list"
        public static let summary = "Orders with their amounts and funding, of a member or a lot (as `parc order list`)"
        public var member, lot: String?
        public init(member: String?, lot: String?) { (self.member, self.lot) = (member, lot) }
        public func perform(in workspace: Workspace) async throws -> [Row] {
            try await workspace.inventory.reading { r in
                try OrderOps.rows(r, try r.orders(memberId: try member.map { try r.member($0).id! }, lotId: try lot.map { try r.lot($0).id! }))
            }
        }
    }

    public struct Detail: Codable, Sendable {
        public var row: Row
        public var devices: Int
    }

    public struct Show: InventoryOperation {
        public static let name = "order.show"
        public static let summary = "An order with its funding lines and device count (as `parc order show`)"
        public var number: String
        public var member: String?
        public init(_ number: String, member: String?) { (self.number, self.member) = (number, member) }
        public func perform(in workspace: Workspace) async throws -> Detail {
            try await workspace.inventory.reading { r in
                let o = try r.order(number, member: member)
                return Detail(row: try OrderOps.rows(r, [o])[0], devices: try r.devices(DeviceFilter(member: member, order: o.number)).count)
            }
        }
    }

    public struct Edit: InventoryOperation {
        public static let name = "order.edit"
        public static let summary = "Change an order's fields (as `parc order edit`)"
        public var number: String
        public var member, newNumber: String?
        public var fields: Fields
        public init(_ number: String, member: String?, newNumber: String?, fields: Fields) {
            (self.number, self.member, self.newNumber, self.fields) = (number, member, newNumber, fields)
        }
        public func perform(in workspace: Workspace) async throws -> Order {
            try await workspace.inventory.writing { tx in
                try tx.updateOrder(number, member: member) { o in
                    if let newNumber { o.number = newNumber }
                    try fields.apply(to: &o, tx)
                }
            }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "order.remove"
        public static let summary = "Remove an order no device came from (as `parc order remove`)"
        public var number: String
        public var member: String?
        public init(_ number: String, member: String?) { (self.number, self.member) = (number, member) }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeOrder(number, member: member) }
            return Done()
        }
    }
}

public enum FundingOps {
    public struct Add: InventoryOperation {
        public static let name = "funding.add"
        public static let summary = "Add a funding line to an order (as `parc funding add`)"
        public var order: String
        public var member: String?
        public var funder: Funder
        public var label: String?
        public var requested: String
        public var granted: String?
        public init(order: String, member: String?, funder: Funder, label: String?, requested: String, granted: String?) {
            (self.order, self.member, self.funder, self.label, self.requested, self.granted) = (order, member, funder, label, requested, granted)
        }
        public func perform(in workspace: Workspace) async throws -> FundingLine {
            try await workspace.inventory.writing { tx in
                let o = try tx.order(order, member: member)
                return try tx.addFunding(FundingLine(orderId: o.id!, funder: funder, label: label,
                                                     requested: try Money(parsing: requested, field: "requested"),
                                                     granted: try granted.flatMap { $0.isEmpty ? nil : try Money(parsing: $0, field: "granted") }))
            }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "funding.list"
        public static let summary = "An order's funding lines (as `parc funding list`)"
        public var order: String
        public var member: String?
        public init(order: String, member: String?) { (self.order, self.member) = (order, member) }
        public func perform(in workspace: Workspace) async throws -> [FundingLine] {
            try await workspace.inventory.reading { r in try r.fundingLines(orderId: try r.order(order, member: member).id!) }
        }
    }

    public struct Edit: InventoryOperation {
        public static let name = "funding.edit"
        public static let summary = "Change a funding line (as `parc funding edit`)"
        public var id: Int64
        public var funder: Funder?
        public var label, requested, granted: String?
        public init(id: Int64, funder: Funder?, label: String?, requested: String?, granted: String?) {
            (self.id, self.funder, self.label, self.requested, self.granted) = (id, funder, label, requested, granted)
        }
        public func perform(in workspace: Workspace) async throws -> FundingLine {
            try await workspace.inventory.writing { tx in
                try tx.updateFunding(id: id) { f in
                    if let funder { f.funder = funder }
                    edit(label, &f.label) { $0 }
                    if let requested { f.requested = try Money(parsing: requested, field: "requested") }
                    try edit(granted, &f.granted) { try Money(parsing: $0, field: "granted") }
                }
            }
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "funding.remove"
        public static let summary = "Remove a funding line (as `parc funding remove`)"
        public var id: Int64
        public init(id: Int64) { self.id = id }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { try $0.removeFunding(id: id) }
            return Done()
        }
    }
}
