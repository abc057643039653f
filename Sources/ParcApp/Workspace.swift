import Foundation
import InventoryStore
import Lab
import Synchronization
import Logging
import ParcCore
import Provisioning
import SSHTransport

/// A request parc cannot act on, said so the person can fix it (a file, a field, a name).
public struct AppError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// What to fix, in the catalogue's languages.
    public var message: Message
    public init(_ message: Message) { self.message = message }
    public var description: String { message.description }
    public var errorDescription: String? { description }
}

/// The folder parc works in: `$PARC_HOME`, else the nearest folder holding `inventory/` above the
/// current directory, else above the `parc` executable (a checkout running its own build), else
/// the current directory.
public enum ParcHome {
    public static func locate() -> URL {
        if let home = Environment.value("PARC_HOME") { return URL(fileURLWithPath: home) }
        // Found once per working directory: a command's start asks several times.
        let directory = FileManager.default.currentDirectoryPath
        return located.withLock { known in
            if let known, known.directory == directory { return known.home }
            let home = search(from: directory)
            known = (directory, home)
            return home
        }
    }

    private static let located = Mutex<(directory: String, home: URL)?>(nil)

    private static func search(from directory: String) -> URL {
        let cwd = URL(fileURLWithPath: directory)
        if let found = ancestor(of: cwd, holding: "inventory") { return found }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let exePath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map(URL.init(fileURLWithPath:)) ?? exe
        if let found = ancestor(of: exePath.deletingLastPathComponent(), holding: "inventory") { return found }
        return cwd
    }

    private static func ancestor(of start: URL, holding name: String) -> URL? {
        var dir = start.standardizedFileURL
        while true {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir), isDir.boolValue {
                return dir
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }

    /// The lab's folder: `option`, else $PARC_LAB_DIR, else inventory/lab in the parc folder.
    public static func labDirectory(_ option: String? = nil, home: URL? = nil) -> String {
        if let option, !option.isEmpty { return option }
        if let env = Environment.value("PARC_LAB_DIR") { return env }
        return (home ?? locate()).appendingPathComponent("inventory/lab").path
    }
}

/// The user's home: $HOME, else the account's.
public enum Home {
    public static var path: String {
        if let home = Environment.value("HOME") { return home }
        return FileManager.default.homeDirectoryForCurrentUser.path
    }
}

/// parc's own management key: `inventory/keys/parc_ed25519`, made on first use.
public enum ManagementKey {
    public static func path(_ option: String? = nil, home: URL? = nil) -> String {
        if let option, !option.isEmpty { return option }
        if let env = Environment.value("PARC_IDENTITY") { return env }
        return (home ?? ParcHome.locate()).appendingPathComponent("inventory/keys/parc_ed25519").path
    }

    /// The key's public half, making the key when it does not exist.
    public static func publicKey(at path: String) throws -> String {
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let r = try Spawn.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "parc-management", "-f", path])
            guard r.status == 0 else { throw AppError("cannot make the management key \(path): \(r.output)") }
        }
        guard let text = try? String(contentsOfFile: path + ".pub", encoding: .utf8) else {
            throw AppError("the management key \(path) has no public half (\(path).pub)")
        }
        return text.trimmed
    }
}

/// How parc reaches devices over SSH: which keys, which host-key policy, how long to wait, how many at once.
public struct AccessSettings: Sendable {
    public var credentials: [SSHCredential]
    public var knownHostsFiles: [String]
    public var hostKeyPolicy: HostKeyPolicy.Mode
    /// Seconds to wait for a device to connect and authenticate.
    public var timeout: Double
    public var forks: Int
    /// Log in as this user instead of each device's SSH user.
    public var user: String?
    /// The user for devices and hosts that name none (ansible.cfg's `remote_user`).
    public var defaultUser: String?

    public init(credentials: [SSHCredential], knownHostsFiles: [String] = [], hostKeyPolicy: HostKeyPolicy.Mode = .strict,
                timeout: Double = 10, forks: Int = 20, user: String? = nil) {
        self.credentials = credentials
        self.knownHostsFiles = knownHostsFiles
        self.hostKeyPolicy = hostKeyPolicy
        self.timeout = timeout
        self.forks = forks
        self.user = user
    }

    /// parc's usual keys: `identities` when given, else $PARC_IDENTITY, the management key, the
    /// lab's key, ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa (those that exist), then ssh-agent.
    public static func standardCredentials(identities: [String] = [], home: URL? = nil) -> [SSHCredential] {
        let user = FileManager.default.homeDirectoryForCurrentUser.path
        var files = identities
        if files.isEmpty {
            if let id = Environment.value("PARC_IDENTITY") { files.append(id) }
            files += [ManagementKey.path(nil, home: home), ParcHome.labDirectory(home: home) + "/id_ed25519", user + "/.ssh/id_ed25519", user + "/.ssh/id_ecdsa"]
                .filter { FileManager.default.fileExists(atPath: $0) }
        }
        var seen = Set<String>()
        var out: [SSHCredential] = files.filter { seen.insert($0).inserted }.map { .keyFile($0) }
        if getenv("SSH_AUTH_SOCK") != nil { out.append(.agent) }
        return out
    }

    /// ~/.ssh/known_hosts when it exists.
    public static func standardKnownHosts() -> [String] {
        let file = Home.path + "/.ssh/known_hosts"
        return FileManager.default.fileExists(atPath: file) ? [file] : []
    }

    /// How to reach one device of the inventory; nil when it has no address.
    public func ssh(for device: DeviceRow) throws -> SSHOptions? {
        guard let address = device.address else { return nil }
        let pinned = try device.hostKey.map { try HostKey(openSSH: $0) }
        return SSHOptions(name: device.inventoryName, address: address, port: device.sshPort ?? 22,
                          user: user ?? device.sshUser ?? defaultUser ?? "root", credentials: credentials,
                          hostKeyPolicy: HostKeyPolicy(mode: hostKeyPolicy, pinned: pinned, knownHostsFiles: knownHostsFiles),
                          connectTimeout: .milliseconds(Int(timeout * 1000)))
    }
}

/// What every use case works on: the inventory, the parc folder (playbooks/, inventory/ vars
/// files, keys) and how devices are reached.
public struct Workspace: Sendable {
    public var inventory: Inventory
    public var home: URL
    public var access: AccessSettings
    public var logger: Logger
    /// The relays connected to this server (`parc serve`): devices of their schools are run
    /// through them. Nil: every device is reached from this machine.
    public var relays: RelayHub?
    /// The ansible.cfg of the folder parc was started in (roles path, play defaults).
    public var ansible: AnsibleConfig

    public init(inventory: Inventory, home: URL, access: AccessSettings, logger: Logger = Logger(label: "parc.app"), relays: RelayHub? = nil,
                ansible: AnsibleConfig? = nil) {
        self.relays = relays
        self.ansible = ansible ?? .defaults(home: Home.path)
        self.inventory = inventory
        self.home = home
        self.access = access
        self.logger = logger
    }

    /// Where playbooks live: `playbooks/` in the parc folder.
    public var playbooksDirectory: URL { home.appendingPathComponent("playbooks") }
    /// Where the inventory's vars files live (group_vars/, host_vars/).
    public var varsDirectory: String { home.appendingPathComponent("inventory").path }
}

/// Runs `body` on every item with at most `limit` at once; results in the items' order.
public func concurrently<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R) async -> [R] {
    await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func add() {
            let i = next
            let item = items[i]
            group.addTask { (i, await body(item)) }
            next += 1
        }
        while next < min(max(limit, 1), items.count) { add() }
        while let (i, r) = await group.next() {
            results[i] = r
            if next < items.count { add() }
        }
        return results.map { $0! }
    }
}

extension Workspace {
    /// The same workspace, with another actor named in the audit log and the run records.
    public func acting(as actor: String) -> Workspace {
        var copy = self
        copy.inventory = inventory.acting(as: actor)
        return copy
    }
}

extension Workspace {
    /// Opens (with `create`, makes or migrates) the inventory file at `path`, with the parc folder
    /// and how this machine reaches devices. `actor` is who the audit log names.
    /// `concurrentReads`: readers of their own beside the writer (`parc serve`); a command that
    /// reads or writes a little and ends does with one connection.
    public static func open(database path: String, actor: String?, home: URL, access: AccessSettings, storeLogger: Logger,
                            concurrentReads: Bool = true) throws -> Workspace {
        Workspace(inventory: try Inventory(path: path, actor: actor, logger: storeLogger, concurrentReads: concurrentReads), home: home, access: access)
    }

    /// The inventory file.
    public var databasePath: String { inventory.path }

    /// Why this inventory can be read but not changed (a read-only file, a newer parc's file); nil when writable.
    public var readOnlyReason: String? { inventory.readOnlyReason }

    /// A consistent copy of the whole inventory in `file` (SQLite's online backup: safe while the
    /// portal or another `parc` writes).
    public func backup(to file: String, overwrite: Bool) throws -> BackupSummary {
        try inventory.backup(to: file, overwrite: overwrite)
    }

    /// What the parc inventory in `file` holds (a backup, before restoring it).
    public static func backupSummary(_ file: String) throws -> BackupSummary {
        try Inventory.summary(of: file)
    }

    /// What this inventory holds now.
    public func summary() throws -> BackupSummary { try Inventory.summary(of: inventory.path) }

    /// Replaces the whole inventory by the backup in `file`; the inventory as it was is first saved
    /// beside it (`<database>.before-restore-<time>.sqlite`), whose path is returned.
    public func restore(from file: String, now: Date = Date()) throws -> (restored: BackupSummary, previous: BackupSummary) {
        let stamp = ISO8601DateFormatter.string(from: now, timeZone: .current, formatOptions: [.withFullDate, .withTime])
        let base = (inventory.path as NSString).deletingPathExtension
        return try inventory.restore(from: file, safetyCopy: "\(base).before-restore-\(stamp).sqlite")
    }

    /// Loads the sample data (lots, members, schools, orders, devices) in one transaction; empty when already there.
    public func loadSamples(_ files: [String]) throws -> [(path: String, summary: String)] {
        try inventory.loadSamples(files)
    }
}

/// Whether the inventory changed since a value was computed from it: what the portal keeps
/// answers by (see `ChangeWatch`).
public struct InventoryChanges: Sendable {
    let watch: ChangeWatch

    /// A watch over the workspace's inventory; nil when its file cannot be watched (nothing may be kept then).
    public init?(_ workspace: Workspace) {
        guard let watch = workspace.inventory.changeWatch() else { return nil }
        self.watch = watch
    }

    /// The inventory's change counter: equal values mean nothing was committed in between.
    public func version() throws -> Int64 { try watch.version() }
}
