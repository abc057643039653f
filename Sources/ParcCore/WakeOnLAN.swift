import Foundation

/// Wake-on-LAN: the magic packet and where to send it. No I/O.
public enum WakeOnLAN {
    /// Six 0xFF bytes, then the MAC sixteen times (102 bytes).
    public static func packet(mac: String) throws(InvalidValue) -> [UInt8] {
        let hex = mac.filter { $0.isHexDigit }
        guard hex.count == 12, mac.allSatisfy({ $0.isHexDigit || ":-.".contains($0) }),
              let value = UInt64(hex, radix: 16) else {
            throw InvalidValue(field: "mac", value: mac, problem: "a MAC address is six bytes, e.g. 8c:16:45:3a:10:99")
        }
        let bytes = (0..<6).map { UInt8((value >> (8 * UInt64(5 - $0))) & 0xff) }
        return [UInt8](repeating: 0xff, count: 6) + Array([[UInt8]](repeating: bytes, count: 16).joined())
    }

    /// The broadcast address of an IPv4 address with its prefix (`192.168.1.20/24` → `192.168.1.255`).
    public static func broadcast(of cidr: String) -> String? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        let address = octets.reduce(0) { $0 << 8 | $1 }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - UInt32(prefix))
        let b = address | ~mask
        return [24, 16, 8, 0].map { String((b >> $0) & 0xff) }.joined(separator: ".")
    }

    /// Where a device's packets go: the broadcast address of the subnet its stored facts show
    /// (the address it is known by first), else nil.
    public static func broadcast(for facts: DeviceFacts?, address: String?) -> String? {
        guard let facts else { return nil }
        let inet = facts.addresses.filter { $0.family == "inet" && !$0.address.hasPrefix("127.") }
        let chosen = inet.first { a in address.map { a.address.hasPrefix($0 + "/") } ?? false } ?? inet.first
        return chosen.flatMap { broadcast(of: $0.address) }
    }
}
