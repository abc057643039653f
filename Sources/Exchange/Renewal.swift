import Foundation
import InventoryStore
import ParcCore

/// Replacement planning: each device's age and warranty, and what to renew each year with an
/// estimated cost (the latest price paid for the same model, else for the same kind).
public struct RenewalPlan: Sendable {
    public struct Item: Sendable {
        public var device: DeviceRow
        /// Delivered (else ordered) on, from the device's order.
        public var since: Day?
        public var ageYears: Int?
        public var renewalYear: Int?
        public var estimate: Money?
    }

    public struct Year: Sendable {
        public var year: Int
        /// Count and cost by kind and model.
        public var lines: [(kind: DeviceKind, model: String, count: Int, cost: Money?)]
        public var total: Money
        /// Devices whose cost could not be estimated (no price paid for their model or kind).
        public var unpriced: Int
    }

    public var member: Member
    public var today: Day
    public var items: [Item]
    public var years: [Year]
    /// The service lives the plan used.
    public var lifetimes: [DeviceKind: Int]

    /// Usual service lives in schools (years), by kind.
    public static let lifetimes: [DeviceKind: Int] = [.laptop: 5, .tablet: 5, .interactiveScreen: 8, .projector: 7, .documentCamera: 7,
                                                      .cart: 10, .accessPoint: 7, .other: 6]

    public static func build(_ r: InventoryReader, member ref: String, today: Day, lifetimes: [DeviceKind: Int] = lifetimes) throws -> RenewalPlan {
        let member = try r.member(ref)
        let orders = Dictionary(try r.orders(memberId: member.id!).map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        let devices = try r.devices(DeviceFilter(member: member.slug)).filter { $0.status != .retired && $0.status != .lost }
        func since(_ d: DeviceRow) -> Day? { d.order.flatMap { orders[$0] }.flatMap { $0.deliveredOn ?? $0.orderedOn } }
        // The latest price paid, by model and by kind (latest: the most recent delivery).
        var byModel: [String: (Day?, Money)] = [:], byKind: [DeviceKind: (Day?, Money)] = [:]
        for d in devices {
            guard let price = d.purchasePrice else { continue }
            let when = since(d)
            func later(_ old: (Day?, Money)?) -> Bool { old == nil || (when ?? Day.distantPast) >= (old!.0 ?? Day.distantPast) }
            if let m = d.model?.lowercased(), later(byModel[m]) { byModel[m] = (when, price) }
            if later(byKind[d.kind]) { byKind[d.kind] = (when, price) }
        }
        var items: [Item] = []
        for d in devices {
            let start = since(d)
            let life = lifetimes[d.kind] ?? 6
            let renewal = start.map { $0.year + life } ?? d.warrantyEnd?.year
            let age = start.map { s in today.year - s.year - ((today.month, today.day) < (s.month, s.day) ? 1 : 0) }
            let estimate = d.model.flatMap { byModel[$0.lowercased()]?.1 } ?? byKind[d.kind]?.1
            items.append(Item(device: d, since: start, ageYears: age, renewalYear: renewal, estimate: estimate))
        }
        items.sort { ($0.renewalYear ?? Int.max, $0.device.kind.rawValue, $0.device.serial) < ($1.renewalYear ?? Int.max, $1.device.kind.rawValue, $1.device.serial) }
        var years: [Year] = []
        for (year, group) in Dictionary(grouping: items.filter { $0.renewalYear != nil }, by: { $0.renewalYear! }).sorted(by: { $0.key < $1.key }) {
            var lines: [(DeviceKind, String, Int, Money?)] = []
            for (key, same) in Dictionary(grouping: group, by: { "\($0.device.kind.rawValue)|\($0.device.model ?? "")" }).sorted(by: { $0.key < $1.key }) {
                _ = key
                let priced = same.compactMap(\.estimate)
                lines.append((same[0].device.kind, same[0].device.model ?? "", same.count, priced.isEmpty ? nil : priced.reduce(.zero, +)))
            }
            years.append(Year(year: year, lines: lines, total: group.compactMap(\.estimate).reduce(.zero, +), unpriced: group.filter { $0.estimate == nil }.count))
        }
        return RenewalPlan(member: member, today: today, items: items, years: years, lifetimes: lifetimes)
    }

    /// In French, for the town hall.
    public func text() -> String {
        let title = "Renouvellement de l'équipement — \(member.name)"
        var out = "\(title)\n\(String(repeating: "=", count: title.count))\nÉdité le \(today.french)\n\n"
        let kinds = Set(items.map(\.device.kind))
        let lives = DeviceKind.allCases.filter(kinds.contains).map { "\($0.french.lowercased()) \(lifetimes[$0] ?? 6) ans" }.joined(separator: ", ")
        out += "À renouveler par année (durée de vie retenue : \(lives))\n"
        if years.isEmpty { out += "  (aucune date de livraison ni de garantie connue)\n" }
        for y in years {
            out += "  \(y.year)\(y.year <= today.year ? " (dès maintenant)" : "") : \(FrenchText.count(y.lines.reduce(0) { $0 + $1.count }, "équipement")), coût estimé \(y.total.french)"
            out += y.unpriced > 0 ? " (+ \(y.unpriced) sans prix connu)\n" : "\n"
            for l in y.lines {
                out += "    - \(l.count) × \(l.kind.french)\(l.model.isEmpty ? "" : " \(l.model)") : \(l.cost?.french ?? "prix inconnu")\n"
            }
        }
        let undated = items.filter { $0.renewalYear == nil }.count
        if undated > 0 { out += "  Sans date : \(FrenchText.count(undated, "équipement")) (ni commande livrée ni fin de garantie)\n" }
        out += "\nÉquipements par âge\n"
        for i in items.sorted(by: { ($0.ageYears ?? -1, $0.device.serial) > ($1.ageYears ?? -1, $1.device.serial) }) {
            let d = i.device
            out += "  - \(d.kind.french)\(d.model.map { " \($0)" } ?? ""), n° de série \(d.serial)"
            out += i.since.map { ", livré le \($0.french)" } ?? ", date de livraison inconnue"
            out += i.ageYears.map { " (\($0) an\($0 > 1 ? "s" : ""))" } ?? ""
            out += d.warrantyEnd.map { ", garantie jusqu'au \($0.french)" } ?? ", garantie inconnue"
            out += i.renewalYear.map { ", à renouveler en \($0)" } ?? ""
            out += "\n"
        }
        return out
    }

    /// One line per device, for spreadsheets (';', UTF-8 with BOM).
    public func csv() -> String {
        let header = ["Type", "Modèle", "N° de série", "N° d'inventaire", "Livré le", "Âge (ans)", "Fin de garantie", "À renouveler en", "Coût estimé"]
        var out = "\u{FEFF}" + header.map { CSVCell.escape($0, separator: ";") }.joined(separator: ";") + "\r\n"
        for i in items {
            let d = i.device
            out += [d.kind.french, d.model ?? "", d.serial, d.assetTag ?? "", i.since?.french ?? "", i.ageYears.map(String.init) ?? "",
                    d.warrantyEnd?.french ?? "", i.renewalYear.map(String.init) ?? "",
                    i.estimate.map { $0.frenchNumber } ?? ""]
                .map { CSVCell.escape($0, separator: ";") }.joined(separator: ";") + "\r\n"
        }
        return out
    }
}
