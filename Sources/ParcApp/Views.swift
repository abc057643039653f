import Foundation
import Exchange
import InventoryStore
import ParcCore

// The inventory as one account sees it. The web's pages and the API read through an
// `InventoryView`: every object is loaded by the access rules written here, once, which answer
// `NotVisible` both for what does not exist and for what belongs to another member, so that a page
// cannot show what its reader may not see, and existence does not leak.

/// Who reads: staff (technicians, administrators) see everything; a commune's account sees its
/// member's; a relay sees nothing here (it takes work through the relay hub).
public struct Audience: Sendable {
    public var account: Account
    /// The slug of a commune account's member.
    public var memberSlug: String?

    public init(account: Account, memberSlug: String?) {
        self.account = account
        self.memberSlug = memberSlug
    }

    public var isStaff: Bool { account.role == .technician || account.role == .admin }

    /// Whether this reader may see what belongs to the member with this id.
    public func maySee(memberId: Int64) -> Bool { isStaff || (account.role == .commune && account.memberId == memberId) }

    /// Whether this reader may see what belongs to `member` (a slug; nil: belongs to no member).
    public func maySee(member: String?) -> Bool { isStaff || (account.role == .commune && member != nil && member == memberSlug) }
}

/// Unknown, or not this reader's: the same answer for both.
public struct NotVisible: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "not found" }
}

/// A read of the inventory through the access rules of one ``Audience``.
public struct InventoryView {
    let r: InventoryReader
    public let audience: Audience

    init(_ r: InventoryReader, _ audience: Audience) {
        self.r = r
        self.audience = audience
    }

    private func staffOnly() throws {
        guard audience.isStaff else { throw NotVisible() }
    }

    // MARK: Members, schools, rooms

    /// The member of this exact slug.
    public func member(_ slug: String) throws -> Member {
        guard let m = try? r.member(slug), m.slug == slug, audience.maySee(memberId: m.id!) else { throw NotVisible() }
        return m
    }

    /// The member of this id, when this reader may see it.
    public func member(id: Int64) throws -> Member? {
        guard audience.maySee(memberId: id) else { return nil }
        return try r.member(id: id)
    }

    public func members() throws -> [Member] { try r.members().filter { audience.maySee(memberId: $0.id!) } }

    /// The names of the members this reader may see, by slug: pages name communes, not slugs.
    public func memberNames() throws -> [String: String] {
        Dictionary(try members().map { ($0.slug, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    /// The school of this exact UAI.
    public func school(_ uai: String) throws -> School {
        guard let s = try? r.school(uai), s.uai == uai, audience.maySee(memberId: s.memberId) else { throw NotVisible() }
        return s
    }

    /// The schools of a member (nil: every school this reader may see).
    public func schools(memberId: Int64? = nil) throws -> [School] {
        if let memberId, !audience.maySee(memberId: memberId) { return [] }
        return try r.schools(memberId: memberId).filter { audience.maySee(memberId: $0.memberId) }
    }

    /// A room of a school by its id (as the page's address gives it).
    public func room(_ school: School, _ id: String) throws -> Room {
        guard audience.maySee(memberId: school.memberId), let id = Int64(id),
              let room = try r.rooms(schoolId: school.id!).first(where: { $0.id == id }) else { throw NotVisible() }
        return room
    }

    /// The rooms of a school (nil: of every school this reader may see).
    public func rooms(schoolId: Int64? = nil) throws -> [Room] {
        let rooms = try r.rooms(schoolId: schoolId)
        if audience.isStaff { return rooms }
        let visible = Set(try schools().map(\.id!))
        return rooms.filter { visible.contains($0.schoolId) }
    }

    // MARK: Devices

    /// The device of this exact serial.
    public func device(_ serial: String) throws -> DeviceRow {
        guard let d = try? r.deviceRow(serial), d.serial == serial, audience.maySee(member: d.member) else { throw NotVisible() }
        return d
    }

    /// The device a serial or an asset tag names.
    public func device(ref: String) throws -> DeviceRow {
        guard let d = try? r.deviceRow(ref), audience.maySee(member: d.member) else { throw NotVisible() }
        return d
    }

    /// The cart of this exact serial.
    public func cart(_ serial: String) throws -> DeviceRow {
        let d = try device(serial)
        guard d.kind == .cart else { throw NotVisible() }
        return d
    }

    /// The devices matching `filter` that this reader may see.
    public func devices(_ filter: DeviceFilter = DeviceFilter()) throws -> [DeviceRow] {
        let rows = try r.devices(filter)
        return audience.isStaff ? rows : rows.filter { audience.maySee(member: $0.member) }
    }

    /// The stored record of a device (technicians' forms edit it).
    public func record(_ serial: String) throws -> Device {
        try staffOnly()
        return try r.device(serial)
    }

    /// The stored record of a device by its id.
    public func record(id: Int64) throws -> Device? {
        try staffOnly()
        return try r.device(id: id)
    }

    /// Technicians' search over every device (serials, tags, MACs, names, models…).
    public func find(_ text: String, limit: Int) throws -> (rows: [DeviceRow], total: Int) {
        try staffOnly()
        return try r.find(text, limit: limit)
    }

    /// What changed on a device, newest last.
    public func history(_ device: DeviceRow) throws -> [AuditEvent] {
        _ = try self.device(device.serial)
        return try r.history(device.serial)
    }

    /// The last runs that touched a device.
    public func runs(of device: DeviceRow, limit: Int) throws -> [(run: RunSummary, host: RunHostSummary)] {
        _ = try self.device(device.serial)
        return try r.runs(serial: device.serial, limit: limit)
    }

    /// What a device last said of itself.
    public func facts(of device: DeviceRow) throws -> (facts: DeviceFacts, seenAt: Date)? {
        _ = try self.device(device.serial)
        return try r.facts(serial: device.serial)
    }

    // MARK: Orders, lots, funding, documents

    /// An order by its id (as the page's address gives it).
    public func order(_ id: String) throws -> Order {
        guard let id = Int64(id), let o = try r.order(id: id), audience.maySee(memberId: o.memberId) else { throw NotVisible() }
        return o
    }

    /// The orders of a member (nil: every order this reader may see).
    public func orders(memberId: Int64? = nil) throws -> [Order] {
        if let memberId, !audience.maySee(memberId: memberId) { return [] }
        return try r.orders(memberId: memberId).filter { audience.maySee(memberId: $0.memberId) }
    }

    /// The grouping's lots (public: the catalogue every member buys from).
    public func lots() throws -> [Lot] { try r.lots() }

    public func lot(_ number: String) throws -> Lot {
        guard let lot = try? r.lot(number) else { throw NotVisible() }
        return lot
    }

    public func fundingLines(of order: Order) throws -> [FundingLine] {
        guard audience.maySee(memberId: order.memberId) else { throw NotVisible() }
        return try r.fundingLines(orderId: order.id!)
    }

    /// A member's documents (of one order when given).
    public func documents(member: Member, order: Order? = nil) throws -> [DocumentInfo] {
        guard audience.maySee(memberId: member.id!) else { throw NotVisible() }
        return try r.documents(member: member.slug, orderId: order?.id)
    }

    /// A document and its bytes, by its id.
    public func document(_ id: String) throws -> (info: DocumentInfo, content: Data) {
        guard let id = Int64(id), let d = try? r.document(id: id), audience.maySee(member: d.info.member) else { throw NotVisible() }
        return d
    }

    /// The commune's report: what it owns, where, what it cost, who paid, what needs attention.
    public func report(member: Member, warrantyMonths: Int = 6, today: Day, findings: Bool = true) throws -> EquipmentReport {
        guard audience.maySee(memberId: member.id!) else { throw NotVisible() }
        return try EquipmentReport.build(r, member: member.slug, warrantyMonths: warrantyMonths, today: today, findings: findings)
    }

    /// The names people go by (`Mme Lambert`), by login, for the accounts that have one: histories,
    /// problems and runs name people, not logins.
    public func peopleNames() throws -> [String: String] {
        Dictionary(try r.accounts().compactMap { a in a.displayName?.nonEmpty.map { (a.login, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: Problems

    /// Every problem this reader may see (staff: all; a commune: its own).
    public func problems() throws -> [Problem] {
        if audience.isStaff { return try r.problems() }
        guard audience.account.role == .commune, let slug = audience.memberSlug else { return [] }
        return try r.problems(member: slug)
    }

    public func problems(member: Member) throws -> [Problem] {
        guard audience.maySee(memberId: member.id!) else { throw NotVisible() }
        return try r.problems(member: member.slug)
    }

    public func problems(of device: DeviceRow) throws -> [Problem] {
        _ = try self.device(device.serial)
        return try r.problems(of: device)
    }

    /// A problem by its id (as the page's address gives it).
    public func problem(_ id: String) throws -> Problem {
        guard let id = Int64(id), let p = try? r.problem(id: id), audience.maySee(member: p.member) else { throw NotVisible() }
        return p
    }

    // MARK: Technicians' views

    public func runs(limit: Int) throws -> [RunSummary] {
        try staffOnly()
        return try r.runs(limit: limit)
    }

    public func run(_ id: Int64) throws -> (run: RunSummary, hosts: [RunHostSummary], tasks: [RunTaskEntry]) {
        try staffOnly()
        return try r.run(id)
    }

    /// The processes of this machine that hold a run (a run they left unfinished if none lives).
    public func claimingProcesses(of id: Int64) throws -> [Int32] {
        try staffOnly()
        return try r.claimingProcesses(of: id)
    }

    public func pending() throws -> [PendingItem] {
        try staffOnly()
        return try r.pending()
    }

    public func accounts() throws -> [Account] {
        try staffOnly()
        return try r.accounts()
    }

    public func account(_ login: String) throws -> Account {
        guard audience.isStaff || login == audience.account.login, let a = try? r.account(login) else { throw NotVisible() }
        return a
    }
}

extension Workspace {
    /// Reads the inventory as `audience` sees it, off the cooperative pool.
    public func view<T: Sendable>(as audience: Audience, _ body: @escaping @Sendable (InventoryView) throws -> T) async throws -> T {
        try await inventory.reading { r in try body(InventoryView(r, audience)) }
    }
}
