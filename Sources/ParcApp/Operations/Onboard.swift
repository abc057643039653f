import Foundation
import InventoryStore
import ParcCore

/// The inventory's side of onboarding (``Onboarding``): the SSH part happens where the technician
/// is (on site, on the school's network), these steps where the inventory is (the local file or
/// the central server).
public enum OnboardOps {
    /// The device recorded at this address and port, if any (its pinned key is then checked strictly).
    public struct Known: InventoryOperation {
        public static let name = "onboard.known"
        public static let summary = "The device recorded at an address and port, if any (onboarding)"
        public var address: String
        public var port: Int
        public init(address: String, port: Int) { (self.address, self.port) = (address, port) }
        public func perform(in workspace: Workspace) async throws -> DeviceRow? {
            try await workspace.inventory.reading { [address, port] r in try r.devices().first { $0.address == address && ($0.sshPort ?? 22) == port } }
        }
    }

    /// What to create when a serial is not in the inventory.
    public struct Creation: Codable, Sendable {
        public var kind: DeviceKind
        public var manufacturer, model, order, cart: String?
        public init(kind: DeviceKind, manufacturer: String?, model: String?, order: String?, cart: String?) {
            (self.kind, self.manufacturer, self.model, self.order, self.cart) = (kind, manufacturer, model, order, cart)
        }
    }

    /// The device of this firmware serial; created as `create` says when it is not there (nil: not created).
    public struct Match: InventoryOperation {
        public static let name = "onboard.match"
        public static let summary = "The device of a firmware serial, created when asked (onboarding)"
        public var serial: String
        public var create: Creation?
        public init(serial: String, create: Creation?) { (self.serial, self.create) = (serial, create) }
        public func perform(in workspace: Workspace) async throws -> DeviceRow? {
            if let row = try await workspace.inventory.reading({ [serial] r in try r.deviceID(serial: serial) != nil ? try r.deviceRow(serial) : nil }) {
                return row
            }
            guard let create else { return nil }
            return try await workspace.inventory.writing { [serial] tx in
                let ids = try tx.placeIDs(school: nil, room: nil, cart: create.cart)
                _ = try tx.addDevice(Device(kind: create.kind, manufacturer: create.manufacturer, model: create.model, serial: serial, status: .deployed,
                                            cartId: ids.cartId, orderId: try create.order.map { try tx.order($0).id! }))
                return try tx.deviceRow(serial)
            }
        }
    }

    /// The host name a rule gives the device (`{commune}-{room}-{nn}`…).
    public struct Name: InventoryOperation {
        public static let name = "onboard.name"
        public static let summary = "The host name a naming rule gives a device (onboarding)"
        public var serial: String
        public var rule: String
        public init(serial: String, rule: String) { (self.serial, self.rule) = (serial, rule) }
        public func perform(in workspace: Workspace) async throws -> String {
            try await workspace.inventory.reading { [serial, rule] r in try HostnameRule(rule).name(for: try r.deviceRow(serial), reader: r) }
        }
    }

    public struct Recorded: Codable, Sendable {
        /// Whether the record changed.
        public var changed: Bool
        /// MACs another device holds (left to `parc reconcile`).
        public var skipped: [String]
    }

    /// Records how the device is reached and named, its host key, its MACs (when the record has
    /// none) and its facts.
    public struct Record: InventoryOperation {
        public static let name = "onboard.record"
        public static let summary = "Record an onboarded device: address, port, user, host key, host name, MACs and facts (onboarding)"
        public var serial, address, user, hostKey, hostname: String
        public var port: Int
        public var facts: DeviceFacts
        public init(serial: String, address: String, port: Int, user: String, hostKey: String, hostname: String, facts: DeviceFacts) {
            (self.serial, self.address, self.port, self.user, self.hostKey, self.hostname, self.facts) = (serial, address, port, user, hostKey, hostname, facts)
        }
        public func perform(in workspace: Workspace) async throws -> Recorded {
            let seen = Date()
            return try await workspace.inventory.writing { [self] tx in
                let row = try tx.deviceRow(serial)
                var skipped: [String] = []
                // MACs the record lacks, from the device; one another device holds is left to `parc reconcile`.
                var macs: [String] = []
                if row.macs.isEmpty {
                    for mac in facts.macs {
                        if let holder = try tx.serial(ofMAC: mac), holder.lowercased() != row.serial.lowercased() { skipped.append("\(mac) (held by \(holder))") }
                        else { macs.append(mac) }
                    }
                }
                let changed = row.address != address || (row.sshPort ?? 22) != port || row.sshUser != user
                    || row.hostKey != hostKey || row.hostname != hostname || !macs.isEmpty
                _ = try tx.updateDevice(row.serial, macs: macs.isEmpty ? nil : MacChange(add: macs, replaceAll: true)) { d in
                    d.address = address
                    d.sshPort = port
                    d.sshUser = user
                    d.hostKey = hostKey
                    d.hostname = hostname
                }
                try tx.recordFacts(serial: row.serial, facts, seenAt: seen)
                return Recorded(changed: changed, skipped: skipped)
            }
        }
    }
}
