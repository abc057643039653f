import Foundation
import InventoryStore
import ParcCore

extension EquipmentReport {
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
            // The lab's simulated devices are no one's equipment.
            devices = try r.devices(DeviceFilter(school: s.uai)).filter { $0.simulated != true }
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


}
