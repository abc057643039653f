import Crypto
import Foundation
import InventoryStore
import ParcCore

/// A device in GLPI's native inventory format (the JSON glpi-agent submits; schema
/// `inventory.schema.json` of glpi-project/inventory_format), from the inventory and the facts a
/// run or `parc facts` stored. Laptops and tablets are computers; other kinds (screens, carts,
/// projectors…) have no place in that format and are left out, with the reason.
public enum GLPIExport {
    public static let versionClient = "parc_v0.1.0"

    /// The inventory of `row`, or why it is left out.
    public static func document(_ row: DeviceRow, facts: DeviceFacts?) -> Result<[String: Any], Skip> {
        guard row.kind == .laptop || row.kind == .tablet else {
            return .failure(Skip(serial: row.serial, reason: "a \(row.kind.rawValue) is not a computer in GLPI's inventory format; enter it in GLPI by hand if needed"))
        }
        var content: [String: Any] = ["versionclient": versionClient]
        var hardware: [String: Any] = ["name": facts.map { $0.hostname }.flatMap { $0.isEmpty ? nil : $0 } ?? row.inventoryName,
                                       "uuid": stableUUID(row.serial), "chassis_type": row.kind == .laptop ? "Laptop" : "Tablet"]
        if let memory = facts?.memoryMB, memory > 0 { hardware["memory"] = memory }
        if let ip = facts?.primaryIPv4 ?? row.address { hardware["ipaddr"] = ip }
        content["hardware"] = hardware
        var bios: [String: Any] = ["ssn": facts?.serial ?? row.serial]
        if let m = facts?.vendor ?? row.manufacturer { bios["smanufacturer"] = m }
        if let m = facts?.product ?? row.model { bios["smodel"] = m }
        if let tag = row.assetTag { bios["assettag"] = tag }
        content["bios"] = bios
        if let f = facts, !f.osName.isEmpty {
            var os: [String: Any] = ["name": f.osName, "full_name": [f.osName, f.osVersion].filter { !$0.isEmpty }.joined(separator: " "),
                                     "kernel_name": "linux"]
            if !f.osVersion.isEmpty { os["version"] = f.osVersion }
            if !f.kernel.isEmpty { os["kernel_version"] = f.kernel }
            if !f.architecture.isEmpty { os["arch"] = f.architecture }
            if !f.fqdn.isEmpty { os["fqdn"] = f.fqdn }
            content["operatingsystem"] = os
            if !f.cpuModel.isEmpty || f.cpuCount > 0 {
                var cpu: [String: Any] = [:]
                if !f.cpuModel.isEmpty { cpu["name"] = f.cpuModel }
                if f.cpuCount > 0 { cpu["core"] = f.cpuCount }
                if !f.architecture.isEmpty, f.architecture.range(of: #"^(i386|x86_64|aarch64|arm.*)$"#, options: .regularExpression) != nil { cpu["arch"] = f.architecture }
                content["cpus"] = [cpu]
            }
            if f.diskSizeMB > 0 { content["drives"] = [["type": "/", "total": f.diskSizeMB, "free": f.diskFreeMB]] }
        }
        content["networks"] = networks(row, facts)
        var doc: [String: Any] = ["deviceid": "parc-\(row.serial)", "itemtype": "Computer", "action": "inventory", "content": content]
        if let member = row.member { doc["tag"] = member }
        return .success(doc)
    }

    public struct Skip: Error, Sendable { public var serial: String; public var reason: String }

    /// Interfaces from the facts (with their addresses), then MACs only the inventory knows.
    static func networks(_ row: DeviceRow, _ facts: DeviceFacts?) -> [[String: Any]] {
        var out: [[String: Any]] = []
        var seen = Set<String>()
        for i in facts?.interfaces ?? [] where i.name != "lo" {
            var n: [String: Any] = ["description": i.name, "status": "up", "type": i.name.hasPrefix("wl") ? "wifi" : "ethernet"]
            if !i.mac.isEmpty { n["mac"] = i.mac.lowercased(); seen.insert(i.mac.lowercased()) }
            if let a = facts?.addresses.first(where: { $0.interface == i.name && $0.family == "inet" }) {
                let parts = a.address.split(separator: "/")
                n["ipaddress"] = String(parts[0])
                if parts.count == 2, let prefix = Int(parts[1]) {
                    n["ipmask"] = mask(prefix)
                    if let b = WakeOnLAN.broadcast(of: a.address) { n["ipsubnet"] = subnet(String(parts[0]), prefix) ?? b }
                }
            }
            out.append(n)
        }
        for mac in row.macs where !seen.contains(mac.lowercased()) {
            out.append(["description": "inventory", "status": "down", "type": "ethernet", "mac": mac.lowercased()])
        }
        return out
    }

    static func mask(_ prefix: Int) -> String {
        let m: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - UInt32(min(prefix, 32)))
        return [24, 16, 8, 0].map { String((m >> $0) & 0xff) }.joined(separator: ".")
    }

    static func subnet(_ ip: String, _ prefix: Int) -> String? {
        let o = ip.split(separator: ".").compactMap { UInt32($0) }
        guard o.count == 4 else { return nil }
        let a = o.reduce(0) { $0 << 8 | $1 }
        let m: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - UInt32(min(prefix, 32)))
        return [24, 16, 8, 0].map { String(((a & m) >> $0) & 0xff) }.joined(separator: ".")
    }

    /// A UUID that stays the same for a device (GLPI matches a computer by it and its serial).
    public static func stableUUID(_ serial: String) -> String {
        var b = Array(SHA256.hash(data: Data(("parc-glpi:" + serial).utf8)).prefix(16))
        b[6] = (b[6] & 0x0f) | 0x50
        b[8] = (b[8] & 0x3f) | 0x80
        let hex = b.map { String(format: "%02X", $0) }.joined()
        let i = hex.startIndex
        func part(_ a: Int, _ n: Int) -> Substring { hex[hex.index(i, offsetBy: a)..<hex.index(i, offsetBy: a + n)] }
        return "\(part(0, 8))-\(part(8, 4))-\(part(12, 4))-\(part(16, 4))-\(part(20, 12))"
    }

    /// The document as JSON text (keys sorted, as glpi-agent's files are stable from run to run).
    public static func json(_ doc: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
