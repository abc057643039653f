import Foundation
import InventoryStore
import ParcCore
import Yams

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

    /// An Ansible inventory (YAML): every device with an address (all devices with `includeAll`) as a
    /// host with its connection and inventory variables, in the groups of `parc groups`.
    public static func ansibleInventory(_ r: InventoryReader, includeAll: Bool = false) throws -> String {
        let rows = try r.devices().filter { includeAll || $0.address != nil }
        let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.slug, $0) })
        // Host names must be unique: a repeated host name gets its serial appended.
        var counts: [String: Int] = [:]
        for row in rows { counts[row.inventoryName.lowercased(), default: 0] += 1 }
        func name(_ row: DeviceRow) -> String {
            counts[row.inventoryName.lowercased()]! > 1 ? "\(row.inventoryName)-\(row.serial)" : row.inventoryName
        }
        var hosts: [(String, Node)] = []
        var nameBySerial: [String: String] = [:]
        for row in rows.sorted(by: { name($0) < name($1) }) {
            let host = name(row)
            nameBySerial[row.serial] = host
            // An address recorded before addresses were checked is checked again: in an inventory
            // file, `-oProxyCommand=…` would be an option to ssh.
            if let address = row.address {
                do { _ = try DeviceAddress.normalize(address) } catch {
                    throw InvalidValue(field: "address", value: address, problem: "device \(row.serial) has an address that is not an IP address or a host name; correct it (parc device edit \(row.serial) --address …) before exporting")
                }
            }
            var vars: [(String, String?)] = [
                ("ansible_host", row.address), ("ansible_port", row.sshPort.map(String.init)), ("ansible_user", row.sshUser),
                ("parc_serial", row.serial), ("parc_asset_tag", row.assetTag), ("parc_kind", row.kind.rawValue),
                ("parc_school", row.uai), ("parc_school_name", row.school), ("parc_room", row.room), ("parc_cart", row.cart),
                ("parc_commune", row.member), ("parc_commune_name", row.member.flatMap { members[$0]?.name }),
            ]
            vars = vars.filter { $0.1 != nil }
            let mapping = Node.Mapping(vars.map { key, value in
                let valueNode: Node = key == "ansible_port" ? Node(value!, Tag(.int)) : Node(value!, Tag(.str), .doubleQuoted)
                return (Node(key), valueNode)
            })
            hosts.append((host, .mapping(mapping)))
        }
        let exported = Set(nameBySerial.keys)
        var children: [(Node, Node)] = []
        for (group, serials) in try r.groups().sorted(by: { $0.key < $1.key }) where group != "all" {
            let members = serials.filter(exported.contains).compactMap { nameBySerial[$0] }.sorted()
            if members.isEmpty { continue }
            let hostsNode = Node.Mapping(members.map { (Node($0), Node("", Tag(.null))) })
            children.append((Node(group), .mapping(Node.Mapping([(Node("hosts"), .mapping(hostsNode))]))))
        }
        let all = Node.Mapping([
            (Node("hosts"), .mapping(Node.Mapping(hosts.map { (Node($0.0), $0.1) }))),
            (Node("children"), .mapping(Node.Mapping(children))),
        ])
        let root = Node.mapping(Node.Mapping([(Node("all"), .mapping(all))]))
        return "# Ansible inventory written by parc from the Fus@é inventory. Regenerate with: parc export ansible-inventory\n"
            + (try Yams.serialize(node: root, allowUnicode: true, sortKeys: false))
    }
}
