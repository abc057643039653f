import Foundation

/// Device lists out of the inventory, in forms that come back in (`parc import devices`) or that
/// other tools read (Ansible).
public enum DeviceExport {
    /// The CSV columns, named as the importer reads them, so that an export re-imports as it was.
    public static let csvColumns: [(String, @Sendable (DeviceRow) -> String?)] = [
        ("serial", { $0.serial }), ("assetTag", { $0.assetTag }), ("kind", { $0.kind.rawValue }),
        ("manufacturer", { $0.manufacturer }), ("model", { $0.model }), ("status", { $0.status.rawValue }),
        ("uai", { $0.cart == nil ? $0.uai : nil }), ("room", { $0.cart == nil ? $0.room : nil }), ("cart", { $0.cart }),
        ("order", { $0.order }), ("member", { $0.order == nil ? nil : $0.member }), ("macs", { $0.macs.isEmpty ? nil : $0.macs.joined(separator: " ") }),
        ("hostname", { $0.hostname }), ("address", { $0.address }), ("sshPort", { $0.sshPort.map(String.init) }), ("sshUser", { $0.sshUser }),
        ("warrantyEnd", { $0.warrantyEnd?.description }), ("purchasePrice", { $0.purchasePrice?.description }),
        ("priceExclTax", { $0.priceExclTax?.description }), ("designation", { $0.designation }), ("notes", { $0.notes }),
    ]

    /// For spreadsheet software in France: `;` separated, UTF-8 with a byte-order mark, French
    /// headers and values (dates `jj/mm/aaaa`, decimal commas) — which parc's importer reads back.
    public static let excelColumns: [(String, @Sendable (DeviceRow) -> String?)] = [
        ("N° de série", { $0.serial }), ("N° d'inventaire", { $0.assetTag }), ("Type", { $0.kind.french }),
        ("Marque", { $0.manufacturer }), ("Modèle", { $0.model }), ("Désignation", { $0.designation }), ("État", { $0.status.french }),
        ("UAI", { $0.cart == nil ? $0.uai : nil }), ("Salle", { $0.cart == nil ? $0.room : nil }), ("Chariot", { $0.cart }),
        ("Commande", { $0.order }), ("Membre", { $0.order == nil ? nil : $0.member }),
        ("Adresses MAC", { $0.macs.isEmpty ? nil : $0.macs.joined(separator: " ") }), ("Nom d'hôte", { $0.hostname }),
        ("Adresse IP", { $0.address }), ("Fin de garantie", { $0.warrantyEnd?.french }),
        ("Prix TTC", { $0.purchasePrice.map { $0.frenchNumber } }),
        ("Prix HT", { $0.priceExclTax.map { $0.frenchNumber } }), ("Remarques", { $0.notes }),
    ]

    public static func excel(_ rows: [DeviceRow]) -> String {
        var out = "\u{FEFF}" + excelColumns.map { csvCell($0.0, separator: ";") }.joined(separator: ";") + "\r\n"
        for row in rows { out += excelColumns.map { csvCell($0.1(row) ?? "", separator: ";") }.joined(separator: ";") + "\r\n" }
        return out
    }

    /// RFC 4180 CSV with a header of field names.
    public static func csv(_ rows: [DeviceRow]) -> String {
        var out = csvColumns.map(\.0).joined(separator: ",") + "\r\n"
        for row in rows {
            out += csvColumns.map { csvCell($0.1(row) ?? "") }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// A CSV cell: quoted where needed, formulas neutralised (see `CSVCell`).
    public static func csvCell(_ s: String, separator: Character = ",") -> String { CSVCell.escape(s, separator: separator) }
}
