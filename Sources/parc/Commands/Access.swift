import ArgumentParser
import Foundation
import InventoryStore
import ParcCore
import Templating
import SSHTransport

/// How parc reaches devices over SSH: which keys, which host-key policy, how long to wait.
struct AccessOptions: ParsableArguments {
    @Option(name: .customLong("identity"), help: ArgumentHelp("A private key (ed25519 or ecdsa) to log in with (repeatable; default: $PARC_IDENTITY, the lab's key, ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, and ssh-agent).", valueName: "file"))
    var identities: [String] = []

    @Option(name: .customLong("host-key-policy"), help: "strict (the key must match the pinned one or known_hosts) or accept-new (pin a first key, refuse a changed one).")
    var hostKeyPolicy: HostKeyPolicy.Mode = .strict

    @Option(name: .customLong("known-hosts"), help: ArgumentHelp("A known_hosts file to trust (repeatable; default: ~/.ssh/known_hosts).", valueName: "file"))
    var knownHosts: [String] = []

    @Option(help: ArgumentHelp("Seconds to wait for a device to connect and authenticate.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(name: [.customShort("f"), .long], help: "How many devices to work on at once.")
    var forks: Int = 20

    @Option(name: [.customShort("u"), .long], help: "Log in as this user instead of each device's SSH user.")
    var user: String?

    func validate() throws {
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    /// The credentials to offer, in order.
    func credentials() -> [SSHCredential] {
        let env = ProcessInfo.processInfo.environment
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        var files = identities
        if files.isEmpty {
            if let id = env["PARC_IDENTITY"], !id.isEmpty { files.append(id) }
            files += [ManagementKey.path(nil), LabPaths.directory() + "/id_ed25519", home + "/.ssh/id_ed25519", home + "/.ssh/id_ecdsa"]
                .filter { FileManager.default.fileExists(atPath: $0) }
        }
        var seen = Set<String>()
        var out: [SSHCredential] = files.filter { seen.insert($0).inserted }.map { .keyFile($0) }
        if env["SSH_AUTH_SOCK"] != nil { out.append(.agent) }
        return out
    }

    func knownHostsFiles() -> [String] {
        if !knownHosts.isEmpty { return knownHosts }
        let file = Home.path + "/.ssh/known_hosts"
        return FileManager.default.fileExists(atPath: file) ? [file] : []
    }

    /// How to reach one device of the inventory; nil when it has no address.
    func ssh(for device: DeviceRow, credentials: [SSHCredential], knownHosts: [String]) throws -> SSHOptions? {
        guard let address = device.address else { return nil }
        let pinned = try device.hostKey.map { try HostKey(openSSH: $0) }
        return SSHOptions(name: device.inventoryName, address: address, port: device.sshPort ?? 22,
                          user: user ?? device.sshUser ?? "root", credentials: credentials,
                          hostKeyPolicy: HostKeyPolicy(mode: hostKeyPolicy, pinned: pinned, knownHostsFiles: knownHosts),
                          connectTimeout: .milliseconds(Int(timeout * 1000)))
    }
}

extension HostKeyPolicy.Mode: ExpressibleByArgument {}

/// Selects devices by pattern and the device-list filters.
struct SelectionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Groups or devices, Ansible-style: school_0572113m:&kind_laptop:!lab-03 (default: all). See `parc groups`.", valueName: "pattern"))
    var pattern: String?

    @Option(help: ArgumentHelp("Narrow further with another pattern.", valueName: "pattern"))
    var limit: String?

    @Option(help: "Only this member's devices.") var member: String?
    @Option(help: "Only this school's devices (UAI).") var school: String?
    @Option(help: "Only devices of this kind.") var kind: DeviceKind?

    func select(_ r: InventoryReader) throws -> [DeviceRow] {
        var rows = try r.select(try HostPattern(pattern ?? "all"))
        if let limit {
            let allowed = Set(try r.select(try HostPattern(limit)).map(\.serial))
            rows = rows.filter { allowed.contains($0.serial) }
        }
        if member != nil || school != nil || kind != nil {
            let allowed = Set(try r.devices(DeviceFilter(member: member, school: school, kind: kind)).map(\.serial))
            rows = rows.filter { allowed.contains($0.serial) }
        }
        return rows
    }
}

/// Runs `body` on every item with at most `limit` at once; results in the items' order.
func concurrently<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R) async -> [R] {
    await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func add() {
            let i = next
            let item = items[i]
            group.addTask { (i, await body(item)) }
            next += 1
        }
        while next < min(limit, items.count) { add() }
        while let (i, r) = await group.next() {
            results[i] = r
            if next < items.count { add() }
        }
        return results.map { $0! }
    }
}

enum LabPaths {
    /// The lab's folder: $PARC_LAB_DIR, else inventory/lab in the parc folder.
    static func directory(_ option: String? = nil) -> String {
        if let option, !option.isEmpty { return option }
        if let env = ProcessInfo.processInfo.environment["PARC_LAB_DIR"], !env.isEmpty { return env }
        return ParcHome.locate().appendingPathComponent("inventory/lab").path
    }
}
