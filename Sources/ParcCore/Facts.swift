import Foundation

/// What a device says about itself, gathered over SSH (`parc facts`) and kept in the inventory.
public struct DeviceFacts: Codable, Sendable, Equatable {
    public struct Interface: Codable, Sendable, Equatable {
        public var name: String
        public var mac: String
        public init(name: String, mac: String) { self.name = name; self.mac = mac }
    }

    public struct Address: Codable, Sendable, Equatable {
        public var interface: String
        /// `inet` or `inet6`.
        public var family: String
        /// With its prefix length: `192.168.1.20/24`.
        public var address: String
        public init(interface: String, family: String, address: String) { self.interface = interface; self.family = family; self.address = address }
    }

    public var hostname: String = ""
    public var fqdn: String = ""
    /// The firmware's (DMI) serial number, vendor and product.
    public var serial: String?
    public var vendor: String?
    public var product: String?
    /// `Debian GNU/Linux 12 (bookworm)`.
    public var osName: String = ""
    /// `debian`, `ubuntu`…
    public var osID: String = ""
    public var osVersion: String = ""
    /// Debian, Ubuntu, PrimTux… derive from Debian.
    public var osFamily: String = ""
    public var kernel: String = ""
    public var architecture: String = ""
    public var cpuModel: String = ""
    public var cpuCount: Int = 0
    public var memoryMB: Int = 0
    public var memoryAvailableMB: Int = 0
    public var diskSizeMB: Int = 0
    public var diskFreeMB: Int = 0
    public var uptimeSeconds: Int = 0
    public var lastBoot: Date?
    public var interfaces: [Interface] = []
    public var addresses: [Address] = []

    public init() {}

    /// Interfaces that are no hardware (bridges, tunnels, containers…): their MACs identify nothing.
    static let virtualPrefixes = ["lo", "ifb", "docker", "veth", "br-", "virbr", "tun", "tap", "wg", "lxc", "vnet", "dummy", "vmnet", "zt"]

    /// Normalised MAC addresses of the hardware interfaces (no loopback, virtual or all-zero ones).
    public var macs: [String] {
        interfaces.compactMap { i in
            guard i.mac != "00:00:00:00:00:00", !Self.virtualPrefixes.contains(where: { i.name.hasPrefix($0) }),
                  let m = try? MACAddress.normalize(i.mac) else { return nil }
            return m
        }.sorted()
    }

    /// The first global IPv4 address, without its prefix.
    public var primaryIPv4: String? {
        addresses.first { $0.family == "inet" && !$0.address.hasPrefix("127.") }.map { String($0.address.split(separator: "/")[0]) }
    }
}
