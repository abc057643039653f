import Foundation
import ParcCore

/// The plain-text (JSON) form of part of an inventory: the grouping's catalogue of lots, and members
/// with their schools, rooms, orders, funding and devices. `inventory/` holds such files
/// (`parc init --sample` loads them).
public struct InventoryFile: Codable, Sendable {
    public var lots: [LotEntry]?
    public var members: [MemberEntry]?
    public var devices: [DeviceEntry]?

    public struct LotEntry: Codable, Sendable {
        public var number: String
        public var title: String
        public var supplier: String?
    }

    public struct MemberEntry: Codable, Sendable {
        public var kind: MemberKind
        public var name: String
        public var slug: String?
        public var siren: String?
        public var insee: String?
        public var deliberationNumber: String?
        public var deliberationDate: Day?
        public var prefectureReceipt: String?
        public var conventionDate: Day?
        public var conventionSignatory: String?
        public var schools: [SchoolEntry]?
        public var orders: [OrderEntry]?
    }

    public struct SchoolEntry: Codable, Sendable {
        public var uai: String
        public var name: String
        public var city: String?
        public var rooms: [String]?
    }

    public struct OrderEntry: Codable, Sendable {
        public var number: String
        public var lot: String?
        public var supplier: String?
        public var orderedOn: Day?
        public var deliveredOn: Day?
        public var deliveryNote: String?
        public var amountExclTax: Money?
        public var amountInclTax: Money?
        public var funding: [FundingEntry]?
    }

    public struct FundingEntry: Codable, Sendable {
        public var funder: Funder
        public var label: String?
        public var requested: Money
        public var granted: Money?
    }

    public struct DeviceEntry: Codable, Sendable {
        public var kind: DeviceKind
        public var serial: String
        public var assetTag: String?
        public var manufacturer: String?
        public var model: String?
        public var status: DeviceStatus?
        /// UAI of the school; with `room`.
        public var school: String?
        public var room: String?
        /// Serial or asset tag of the cart holding it.
        public var cart: String?
        public var order: String?
        /// Whose order `order` is, when several members use the number.
        public var member: String?
        public var macs: [String]?
        public var warrantyEnd: Day?
        public var purchasePrice: Money?
        public var hostname: String?
        public var address: String?
        public var sshPort: Int?
        public var sshUser: String?
        public var notes: String?
    }

    /// Reads a file; a JSON mistake names the file and where in it.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InventoryFileError(file: path, location: nil, message: "cannot read it (\(error.localizedDescription))")
        }
        do {
            self = try JSONDecoder().decode(InventoryFile.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            let inner = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw InventoryFileError(file: path, location: Self.describe(context.codingPath),
                                     message: inner ?? context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InventoryFileError(file: path, location: Self.describe(context.codingPath), message: "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw InventoryFileError(file: path, location: Self.describe(context.codingPath), message: context.debugDescription)
        } catch let error as InvalidValue {
            throw InventoryFileError(file: path, location: nil, message: error.description)
        }
    }

    static func describe(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}

/// A mistake in an inventory file: which file, where in it, and what is wrong.
public struct InventoryFileError: Error, LocalizedError, CustomStringConvertible, Sendable {
    public var file: String
    public var location: String?
    public var message: String

    public var description: String {
        "\(file)\(location.map { ": \($0)" } ?? ""): \(message)"
    }
    public var errorDescription: String? { description }
}

extension InventoryTransaction {
    /// Loads every record of `file` into the inventory (all of it or, on the first mistake, none).
    /// `name` is the file's name for error messages.
    public func load(_ file: InventoryFile, name: String) throws {
        @discardableResult func at<T>(_ location: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as InventoryError {
                throw InventoryFileError(file: name, location: location, message: error.description)
            } catch let error as InvalidValue {
                throw InventoryFileError(file: name, location: location, message: error.description)
            }
        }
        for (i, l) in (file.lots ?? []).enumerated() {
            try at("lots[\(i)]") { try addLot(Lot(number: l.number, title: l.title, supplier: l.supplier)) }
        }
        for (i, m) in (file.members ?? []).enumerated() {
            let member = try at("members[\(i)]") {
                try addMember(Member(kind: m.kind, name: m.name, slug: m.slug, siren: m.siren, insee: m.insee,
                                     deliberationNumber: m.deliberationNumber, deliberationDate: m.deliberationDate,
                                     prefectureReceipt: m.prefectureReceipt, conventionDate: m.conventionDate,
                                     conventionSignatory: m.conventionSignatory))
            }
            for (j, s) in (m.schools ?? []).enumerated() {
                try at("members[\(i)].schools[\(j)]") {
                    let school = try addSchool(uai: s.uai, name: s.name, member: member.slug, city: s.city)
                    for room in s.rooms ?? [] { try addRoom(school: school.uai, name: room) }
                }
            }
            for (j, o) in (m.orders ?? []).enumerated() {
                try at("members[\(i)].orders[\(j)]") {
                    let order = try addOrder(Order(memberId: member.id!, lotId: try o.lot.map { try lot($0).id! }, number: o.number,
                                                   supplier: o.supplier, orderedOn: o.orderedOn, deliveredOn: o.deliveredOn,
                                                   deliveryNote: o.deliveryNote, amountExclTax: o.amountExclTax,
                                                   amountInclTax: o.amountInclTax))
                    for f in o.funding ?? [] {
                        try addFunding(FundingLine(orderId: order.id!, funder: f.funder, label: f.label, requested: f.requested, granted: f.granted))
                    }
                }
            }
        }
        // Carts first, so that the devices they hold can name them.
        let devices = (file.devices ?? []).enumerated().sorted { ($0.element.cart == nil ? 0 : 1) < ($1.element.cart == nil ? 0 : 1) }
        for (i, e) in devices {
            try at("devices[\(i)] (serial \(e.serial))") {
                let place = try placeIDs(school: e.school, room: e.room, cart: e.cart)
                try addDevice(Device(kind: e.kind, manufacturer: e.manufacturer, model: e.model, serial: e.serial, assetTag: e.assetTag,
                                     status: e.status ?? .inStock, roomId: place.roomId, cartId: place.cartId,
                                     orderId: try e.order.map { try order($0, member: e.member).id! }, warrantyEnd: e.warrantyEnd,
                                     purchasePrice: e.purchasePrice, hostname: e.hostname, address: e.address, sshPort: e.sshPort,
                                     sshUser: e.sshUser, notes: e.notes),
                              macs: e.macs ?? [])
            }
        }
    }
}

extension InventoryReader {
    /// The room or cart ids named by a school UAI and room name, or a cart reference.
    public func placeIDs(school uai: String?, room: String?, cart cartRef: String?) throws -> (roomId: Int64?, cartId: Int64?) {
        if let cartRef {
            guard uai == nil && room == nil else {
                throw InventoryError.invalid(InvalidValue(field: "cart", value: cartRef, problem: "a device in a cart is where the cart is: give the cart or the room, not both"))
            }
            return (nil, try cart(cartRef).id!)
        }
        switch (uai, room) {
        case let (uai?, room?): return (try self.room(school: uai, name: room).id!, nil)
        case (nil, nil): return (nil, nil)
        case (_?, nil):
            throw InventoryError.invalid(InvalidValue(field: "room", value: "", problem: "a device is put in a room of the school: add the room's name"))
        case (nil, let room?):
            throw InventoryError.invalid(InvalidValue(field: "school", value: "", problem: "room '\(room)' needs its school's UAI"))
        }
    }
}

extension InventoryFile {
    /// "5 lots, 1 member, …": what the file holds.
    public var summary: String {
        let members = self.members ?? []
        let schools = members.flatMap { $0.schools ?? [] }
        let orders = members.flatMap { $0.orders ?? [] }
        let parts: [(Int, String)] = [
            (lots?.count ?? 0, "lot"), (members.count, "member"), (schools.count, "school"),
            (schools.reduce(0) { $0 + ($1.rooms?.count ?? 0) }, "room"), (orders.count, "order"),
            (orders.reduce(0) { $0 + ($1.funding?.count ?? 0) }, "funding line"), (devices?.count ?? 0, "device"),
        ]
        return parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)\($0.0 == 1 ? "" : "s")" }.joined(separator: ", ")
    }
}

extension Inventory {
    /// Loads the inventory files at `paths` in one transaction, skipping those already loaded (their
    /// lots, or their first member, are in the database). Returns what was loaded.
    @discardableResult
    public func loadSamples(_ paths: [String]) throws -> [(path: String, summary: String)] {
        let files = try paths.map { ($0, try InventoryFile(contentsOf: $0)) }
        return try write { tx in
            var loaded: [(String, String)] = []
            for (path, file) in files {
                let lotsThere = (file.lots ?? []).allSatisfy { (try? tx.lot($0.number)) != nil }
                let memberThere = file.members?.first.map { m in (try? tx.member(m.slug ?? slugify(m.name))) != nil } ?? false
                if (file.members ?? []).isEmpty ? (lotsThere && !(file.lots ?? []).isEmpty) : memberThere { continue }
                try tx.load(file, name: path)
                loaded.append((path, file.summary))
            }
            return loaded
        }
    }
}
