import Foundation
import InventoryStore
import ParcCore

/// The commune's view of its equipment: what it owns, where, what it cost, who paid, what needs
/// attention. Built from the inventory; printed as French text, CSV or a standalone HTML page.
public struct EquipmentReport: Sendable {
    public struct RoomSection: Sendable {
        public var name: String
        public var devices: [DeviceRow]
    }

    public struct SchoolSection: Sendable {
        public var school: School
        public var rooms: [RoomSection]
        public var deviceCount: Int { rooms.reduce(0) { $0 + $1.devices.count } }
    }

    public struct OrderLine: Sendable {
        public var order: Order
        public var lot: Lot?
        public var devices: Int
        public var funding: [FundingLine]

        /// Subsidies (from others than the member itself) asked for and granted for this order.
        public var requested: Money { funding.filter { $0.funder != .commune }.reduce(.zero) { $0 + $1.requested } }
        public var granted: Money { funding.filter { $0.funder != .commune }.reduce(.zero) { $0 + ($1.granted ?? .zero) } }
        /// What the member pays in the end: the amount with tax less the subsidies granted ("reste à charge").
        public var ownShare: Money? { order.amountInclTax.map { $0 - granted } }
    }

    public struct FunderTotal: Sendable, Equatable {
        public var funder: Funder
        public var requested: Money
        public var granted: Money
    }

    public var title: String
    public var member: Member
    public var generatedOn: Day
    public var warrantyMonths: Int
    public var schools: [SchoolSection]
    /// Devices of the member that are in no school (in stock).
    public var unplaced: [DeviceRow]
    public var byKind: [(DeviceKind, Int)]
    public var byStatus: [(DeviceStatus, Int)]
    public var orders: [OrderLine]
    public var funding: [FunderTotal]
    public var warrantyEnding: [DeviceRow]
    public var needsAttention: [DeviceRow]
    /// What the managed devices said that the inventory does not (parc reconcile).
    public var findings: [Finding]
    /// Carts lent past their date (from or to this member's schools).
    public var overdueLoans: [CartLoan] = []

    public var allDevices: [DeviceRow] { schools.flatMap { $0.rooms.flatMap(\.devices) } + unplaced }

    /// The report of a member (slug, SIREN or INSEE code), or of one school when `school` is given;
    /// `findings`: whether to compare the devices with their facts (pages that do not show them skip it).
    public static func build(_ r: InventoryReader, member memberRef: String? = nil, school uai: String? = nil,
                             warrantyMonths: Int = 6, today: Day, findings withFindings: Bool = true) throws -> EquipmentReport {
        let member: Member
        let schools: [School]
        let devices: [DeviceRow]
        if let uai {
            let s = try r.school(uai)
            member = try r.members().first { $0.id == s.memberId }!
            schools = [s]
            devices = try r.devices(DeviceFilter(school: s.uai))
        } else {
            member = try r.member(memberRef ?? "")
            schools = try r.schools(memberId: member.id!)
            devices = try r.devices(DeviceFilter(member: member.slug))
        }
        var sections: [SchoolSection] = []
        for s in schools {
            let inSchool = devices.filter { $0.uai == s.uai }
            var rooms: [RoomSection] = try r.rooms(schoolId: s.id!).map { room in
                RoomSection(name: room.name, devices: inSchool.filter { $0.room == room.name })
            }
            rooms.removeAll { $0.devices.isEmpty }
            sections.append(SchoolSection(school: s, rooms: rooms))
        }
        let unplaced = uai == nil ? devices.filter { $0.uai == nil } : []
        let counted = sections.flatMap { $0.rooms.flatMap(\.devices) } + unplaced
        let byKind = DeviceKind.allCases.compactMap { k in let n = counted.filter { $0.kind == k }.count; return n > 0 ? (k, n) : nil }
        let byStatus = DeviceStatus.allCases.compactMap { s in let n = counted.filter { $0.status == s }.count; return n > 0 ? (s, n) : nil }

        let lots = Dictionary(uniqueKeysWithValues: try r.lots().map { ($0.id!, $0) })
        let orderNumbers = Set(counted.compactMap(\.order))
        let orders = try r.orders(memberId: member.id!).filter { uai == nil || orderNumbers.contains($0.number) }
        let lines = try orders.map { o in
            OrderLine(order: o, lot: o.lotId.flatMap { lots[$0] }, devices: counted.filter { $0.order == o.number }.count,
                      funding: try r.fundingLines(orderId: o.id!))
        }
        let funding = Funder.allCases.compactMap { f -> FunderTotal? in
            let fl = lines.flatMap(\.funding).filter { $0.funder == f }
            guard !fl.isEmpty else { return nil }
            return FunderTotal(funder: f, requested: fl.reduce(.zero) { $0 + $1.requested }, granted: fl.reduce(.zero) { $0 + ($1.granted ?? .zero) })
        }
        let limit = today.adding(months: warrantyMonths)
        let ending = counted.filter { d in d.warrantyEnd.map { $0 >= today && $0 <= limit } ?? false }
            .sorted { ($0.warrantyEnd!, $0.serial) < ($1.warrantyEnd!, $1.serial) }
        let attention = counted.filter { $0.status == .inRepair || $0.status == .lost }
        let title = uai.map { u in "Équipement numérique — \(schools[0].name) (\(u.uppercased()))" } ?? "Équipement numérique — \(member.name)"
        let findings = withFindings ? try r.reconcile(counted, staleAfterDays: 30) : []
        let uais = Set(schools.map(\.uai))
        let overdue = try r.loans(open: true).filter { loan in
            loan.isOverdue(on: today) && ([loan.to] + [loan.home].compactMap { $0 }).contains { uais.contains(String($0.split(separator: " ").first ?? "")) }
        }
        var report = EquipmentReport(title: title, member: member, generatedOn: today, warrantyMonths: warrantyMonths, schools: sections,
                                     unplaced: unplaced, byKind: byKind, byStatus: byStatus, orders: lines, funding: funding,
                                     warrantyEnding: ending, needsAttention: attention, findings: findings)
        report.overdueLoans = overdue
        return report
    }

    public var totalExclTax: Money { orders.reduce(.zero) { $0 + ($1.order.amountExclTax ?? .zero) } }
    /// The member's own share over every order whose amount is known.
    public var totalOwnShare: Money { orders.reduce(.zero) { $0 + ($1.ownShare ?? .zero) } }

    /// `part` as a share of `whole`, in French (`62,5 %`), or "—".
    public static func rate(_ part: Money, of whole: Money?) -> String {
        guard let whole, whole.cents > 0 else { return "—" }
        let value = (Double(part.cents) * 1000 / Double(whole.cents)).rounded() / 10
        return (value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value).replacingOccurrences(of: ".", with: ",")) + " %"
    }
    public var totalInclTax: Money { orders.reduce(.zero) { $0 + ($1.order.amountInclTax ?? .zero) } }

    /// Orders per lot: lot number and title, order count, amount incl. tax.
    public var byLot: [(lot: String, orders: Int, amount: Money)] {
        var out: [(String, Int, Money)] = []
        for line in orders {
            let key = line.lot.map { "Lot \($0.number) — \($0.title)" } ?? "Hors lot"
            if let i = out.firstIndex(where: { $0.0 == key }) {
                out[i].1 += 1
                out[i].2 = out[i].2 + (line.order.amountInclTax ?? .zero)
            } else {
                out.append((key, 1, line.order.amountInclTax ?? .zero))
            }
        }
        return out
    }
}

extension Day {
    /// Today, in the machine's time zone.
    public static func today(_ date: Date = Date()) -> Day {
        let c = Calendar.current.dateComponents([.year, .month, .day], from: date)
        return (try? Day(year: c.year!, month: c.month!, day: c.day!)) ?? (try! Day(year: 2000, month: 1, day: 1))
    }
}
