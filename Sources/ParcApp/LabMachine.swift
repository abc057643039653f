import Foundation
import Lab
import ParcCore

/// The lab's devices on this machine (`parc lab`): sshd processes, their files, a school's network
/// of its own. Their records go to the inventory through ``LabOps``.
public struct LabMachine: Sendable {
    /// A lab device as `parc lab` shows it.
    public struct Device: Sendable, Equatable {
        public var name: String
        public var address: String
        public var port: Int
        public var user: String
        public var serial: String
        public var pid: Int32?
        public var running: Bool
    }

    /// An isolated school's network.
    public struct Network: Sendable, Equatable {
        public var school: String
        public var namespace: String
        /// This machine, as seen from inside.
        public var hostAddress: String
        public var innerAddress: String
        public var relayPid: Int32?
        public var relayRunning: Bool
    }

    let lab: Lab

    /// Starts `count` devices in `directory` (with `isolatedSchool`, on that school's own network).
    public static func up(count: Int, in directory: String, password: String?, isolatedSchool: String?) throws -> LabMachine {
        var options = LabOptions(password: password, sudoNeedsPassword: false)
        options.isolatedSchool = isolatedSchool
        return LabMachine(lab: try Lab.up(count: count, in: directory, options: options))
    }

    /// The lab living in `directory`.
    public static func load(_ directory: String) throws -> LabMachine { LabMachine(lab: try Lab.load(directory)) }

    /// Whether devices get their own files (root only).
    public static var canIsolate: Bool { Lab.canIsolate }

    public var directory: String { lab.directory }
    /// The private key that logs in to every lab device.
    public var clientKey: String { lab.clientKey }

    public var devices: [Device] {
        lab.devices.map { Device(name: $0.name, address: $0.address, port: $0.port, user: $0.user, serial: $0.serial, pid: $0.pid,
                                 running: $0.pid.map(Spawn.isAlive) == true) }
    }

    public var network: Network? {
        lab.network.map { Network(school: $0.school, namespace: $0.namespace, hostAddress: $0.hostAddress, innerAddress: $0.innerAddress,
                                  relayPid: $0.relayPid, relayRunning: $0.relayPid.map(Spawn.isAlive) == true) }
    }

    /// The devices as the inventory records them (with their host keys, pinned).
    public func registration() throws -> [LabOps.Device] {
        try lab.devices.map { d in
            LabOps.Device(serial: d.serial, name: d.name, address: d.address, port: d.port, user: d.user, hostKey: try lab.hostKey(d.name).openSSH)
        }
    }

    /// Starts a process (a relay) inside the isolated school's network; its pid.
    public func startRelay(_ arguments: [String], log: String) throws -> Int32 { try lab.startRelay(arguments, log: log) }

    /// Stops every device (and the relay), removes the lab's files and network.
    public func down() { lab.down() }
}
