import Foundation
import InventoryStore
import ParcCore
import Yams

extension DeviceExport {
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
