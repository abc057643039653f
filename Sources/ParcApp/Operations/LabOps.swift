import Foundation
import InventoryStore
import ParcCore

/// The inventory's side of `parc lab`: the simulated devices run on this machine, their records
/// live in the inventory (the local file, or a central server's).
public enum LabOps {
    /// A lab device as the inventory records it.
    public struct Device: Codable, Sendable {
        public var serial, name, address, user, hostKey: String
        public var port: Int
        public init(serial: String, name: String, address: String, port: Int, user: String, hostKey: String) {
            (self.serial, self.name, self.address, self.port, self.user, self.hostKey) = (serial, name, address, port, user, hostKey)
        }
    }

    /// Registers lab devices as laptops in a school's room (created when missing), in one transaction.
    public struct Register: InventoryOperation {
        public static let name = "lab.register"
        public static let summary = "Register simulated lab devices as laptops in a school's room (as `parc lab up`)"
        public var school, room, folder: String
        public var devices: [Device]
        public init(school: String, room: String, folder: String, devices: [Device]) { (self.school, self.room, self.folder, self.devices) = (school, room, folder, devices) }
        public func perform(in workspace: Workspace) async throws -> String {
            try await workspace.inventory.writing { [self] tx in
                let uai = try tx.school(school).uai
                if (try? tx.room(school: uai, name: room)) == nil { try tx.addRoom(school: uai, name: room) }
                let roomId = try tx.room(school: uai, name: room).id!
                for d in devices {
                    // Simulated: in the school's room for the runs and the relays, counted by no commune.
                    var device = ParcCore.Device(kind: .laptop, manufacturer: "parc", model: "lab device", serial: d.serial,
                                                 status: .deployed, roomId: roomId, hostname: d.name, address: d.address,
                                                 sshPort: d.port, sshUser: d.user, notes: "parc lab (\(folder))", hostKey: d.hostKey)
                    device.simulated = true
                    try tx.addDevice(device)
                }
                return uai
            }
        }
    }

    /// Removes the lab's devices from the inventory (their histories stay); answers how many there were.
    public struct Unregister: InventoryOperation {
        public static let name = "lab.unregister"
        public static let summary = "Remove simulated lab devices from the inventory (as `parc lab down`)"
        public var serials: [String]
        public init(serials: [String]) { self.serials = serials }
        public func perform(in workspace: Workspace) async throws -> Int {
            try await workspace.inventory.writing { [serials] tx in
                var n = 0
                for serial in serials where (try? tx.device(serial)) != nil {
                    try tx.removeDevice(serial)
                    n += 1
                }
                return n
            }
        }
    }
}
