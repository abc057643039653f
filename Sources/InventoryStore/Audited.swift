import Foundation
import GRDB
import ParcCore

/// A record whose every change writes an audit event. Its snapshot lists its fields as a person
/// reads them (a room as `UAI / name`, an order by its number), so that the history stays readable
/// after the records it refers to change.
protocol Audited: MutablePersistableRecord {
    static var entity: String { get }
    var id: Int64? { get set }
    /// Normalises the record and checks the rules it must follow on its own (ParcCore's rules).
    mutating func validate() throws(InvalidValue)
    /// The human key at the time of the change: serial, UAI, slug, order number…
    func auditKey(_ tx: InventoryTransaction) throws -> String
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)]
}

extension Member: Audited {
    static var entity: String { "member" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { slug }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        [("kind", kind.rawValue), ("name", name), ("slug", slug), ("siren", siren), ("insee", insee),
         ("deliberationNumber", deliberationNumber), ("deliberationDate", deliberationDate?.description),
         ("prefectureReceipt", prefectureReceipt), ("conventionDate", conventionDate?.description),
         ("conventionSignatory", conventionSignatory)]
    }
}

extension School: Audited {
    static var entity: String { "school" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { uai }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        [("uai", uai), ("name", name), ("member", try tx.memberLabel(memberId)), ("city", city)]
    }
}

extension Room: Audited {
    static var entity: String { "room" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { try tx.roomLabel(self) }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        [("school", try tx.schoolLabel(schoolId)), ("name", name)]
    }
}

extension Lot: Audited {
    static var entity: String { "lot" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { number }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        [("number", number), ("title", title), ("supplier", supplier)]
    }
}

extension Order: Audited {
    static var entity: String { "order" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { number }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        [("number", number), ("member", try tx.memberLabel(memberId)), ("lot", try lotId.map { try tx.lotLabel($0) }),
         ("supplier", supplier), ("orderedOn", orderedOn?.description), ("deliveredOn", deliveredOn?.description),
         ("deliveryNote", deliveryNote), ("amountExclTax", amountExclTax?.description), ("amountInclTax", amountInclTax?.description)]
    }
}

extension FundingLine: Audited {
    static var entity: String { "fundingLine" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { "\(try tx.orderLabel(orderId)) / \(funder.rawValue)" }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        [("order", try tx.orderLabel(orderId)), ("funder", funder.rawValue), ("label", label),
         ("requested", requested.description), ("granted", granted?.description)]
    }
}

extension Device: Audited {
    static var entity: String { "device" }
    func auditKey(_ tx: InventoryTransaction) throws -> String { serial }
    func auditFields(_ tx: InventoryTransaction) throws -> [(String, String?)] {
        let macs = try id.map { try tx.macs(deviceId: $0) } ?? []
        return [("kind", kind.rawValue), ("manufacturer", manufacturer), ("model", model), ("serial", serial),
                ("assetTag", assetTag), ("status", status.rawValue),
                ("room", try roomId.map { try tx.roomLabel(id: $0) }), ("cart", try cartId.map { try tx.cartLabel($0) }),
                ("order", try orderId.map { try tx.orderLabel($0) }), ("warrantyEnd", warrantyEnd?.description),
                ("purchasePrice", purchasePrice?.description), ("priceExclTax", priceExclTax?.description), ("designation", designation),
                ("hostname", hostname), ("address", address),
                ("sshPort", sshPort.map(String.init)), ("sshUser", sshUser), ("notes", notes),
                ("macs", macs.isEmpty ? nil : macs.joined(separator: " ")),
                ("hostKey", hostKey.map { (try? HostKey(openSSH: $0).description) ?? $0 }),
                ("simulated", simulated == true ? "yes" : nil)]
    }
}
