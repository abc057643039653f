import Foundation
import Synchronization
import InventoryStore
import Logging
import ParcCore
import Provisioning
import SSHTransport
import Templating

/// A run as asked for: the playbook, which devices, how.
public struct RunRequest: Sendable {
    /// The playbook's path.
    public var playbook: String
    /// A host pattern (`school_0572113m:&kind_laptop:!lab-03`).
    public var limit: String?
    /// Only these devices (serials, any case): a retry, pending work, devices picked in a list.
    public var only: Set<String>?
    public var check = false
    public var diff = false
    public var tags: Set<String> = []
    public var skipTags: Set<String> = []
    /// `-e` values typed in a terminal, already read: templates, as ansible-playbook's.
    public var extraVars: [String: Value] = [:]
    /// Values given through the web, the API or a relay: data, never rendered (AWX's `!unsafe`).
    public var extraData: [String: Value] = [:]

    /// Values given through the web or the API, as data (never rendered).
    public mutating func giveData(_ values: [String: String]) { extraData = values.mapValues(Value.string) }
    /// How the run was asked for, kept with the work it leaves pending (never secret values).
    public var parameters = RunParameters()
    public var become: Become = .sudo
    /// `-b` and ansible.cfg: what plays that do not say it do (become, its user, facts).
    public var playDefaults = PlayDefaults()
    /// `-b`: plays that do not say `become:` run as root.
    public var becomeAll: Bool {
        get { playDefaults.become }
        set { playDefaults.become = newValue }
    }
    public var startAtTask: String?
    public var retryOf: Int64?
    /// An Ansible inventory to run on instead of parc's devices (`-i`).
    public var ansibleInventory: String?
    /// Asks a `vars_prompt` question (nil: nobody to ask).
    public var prompter: (@Sendable (_ prompt: String, _ isPrivate: Bool) -> String?)?

    public init(playbook: String) { self.playbook = playbook }

    /// `-b` and the request's own settings over ansible.cfg's `become`, `become_user`, `gathering`.
    public func playDefaults(with config: AnsibleConfig) -> PlayDefaults {
        var d = playDefaults
        if config.become?.value == true { d.become = true }
        d.becomeUser = d.becomeUser ?? config.becomeUser?.value
        if let g = config.gathering?.value { d.gathering = g }
        return d
    }

    /// Tags as typed: `a,b, c`.
    public static func tagSet(_ text: String?) -> Set<String> {
        Set((text ?? "").split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty })
    }
}

/// What a run reports while it goes, for the terminal, the browser and the API alike.
public enum RunProgress: Sendable {
    /// Recorded as run `id`, on these devices (in order).
    case started(id: Int64, playbook: String, check: Bool, hosts: [HostRef])
    case play(name: String, hosts: Int)
    case task(TaskRecord)
    case unreachable(host: String, message: String)
    case note(String)
    /// The end: each device's counts, the exit status, why it stopped early.
    case recap(RunReport)

    public struct HostRef: Sendable, Equatable {
        public var name: String
        public var serial: String
    }
}

/// How a run ended, as recorded.
public struct RunReport: Sendable {
    public var id: Int64
    public var hosts: [RunHostSummary]
    /// 0 all went well, 2 a device failed (or the run stopped early), 4 a device was unreachable.
    public var exitCode: Int32
    public var aborted: String?
    public var check: Bool
    /// Round trips waited on each device (measured, not recorded).
    public var roundTrips: [String: Int]
}

public typealias RunJob = Job<RunProgress, RunReport>

extension Job where Event == RunProgress {
    /// The run's id, once recorded.
    public var runID: Int64? {
        for e in history { if case .started(let id, _, _, _) = e.event { return id } }
        return nil
    }
}

/// Runs playbooks on devices of the inventory (or of an Ansible inventory) and records them:
/// selection, inventory variables, SSH connections, host-key pinning, records, facts, pending work,
/// and one run at a time per device.
public enum PlaybookRuns {
    /// What a run goes to: its hosts, how to reach each, and every name patterns may use.
    public struct Targets: Sendable {
        public var hosts: [HostTarget]
        public var ssh: [String: SSHOptions]
        public var knownNames: Set<String>
        /// From parc's devices (pinned keys, facts and pending work recorded) or an Ansible inventory.
        public var fromDatabase: Bool
        /// Each device's school (UAI), by serial: a relay serving it runs it.
        public var schools: [String: String] = [:]
    }

    /// Hosts of a run that a relay runs (the server sends it the work and records what it reports).
    public struct RelayPart: Sendable {
        public var relay: String
        public var hosts: [HostTarget]
    }

    /// A run ready to start: loaded, its devices chosen, its patterns checked.
    public struct Prepared: Sendable {
        public let request: RunRequest
        public let workspace: Workspace
        public let playbook: Playbook
        public let targets: Targets
        /// Runs the hosts this machine reaches itself.
        public let runner: Runner
        public let connector: SSHConnector
        public let job: RunJob
        /// The hosts relays run, one part per relay.
        public let relayed: [RelayPart]
        let options: RunOptions
        let headers: PlayHeaders
        public var hosts: [HostTarget] { targets.hosts }
        var directHosts: [HostTarget] {
            let away = Set(relayed.flatMap { $0.hosts.map(\.serial) })
            return targets.hosts.filter { !away.contains($0.serial) }
        }

        /// Records the run (claiming its devices: ``DeviceBusy`` when another run holds one) and
        /// starts it; returns at once, the job tells the rest.
        public func start() throws -> RunJob {
            let request = self.request, targets = self.targets, runner = self.runner, connector = self.connector, job = self.job
            let inventory = workspace.inventory
            let selector = (request.ansibleInventory.map { "-i \($0) " } ?? "")
                + (request.only != nil && request.retryOf == nil && request.limit == nil
                    ? targets.hosts.map(\.name).joined(separator: ",") : request.limit ?? "all")
            let claims = targets.fromDatabase ? targets.hosts.map { (serial: $0.serial, name: $0.name) } : []
            // The relays' work is made before the run is recorded: a playbook folder a relay cannot
            // take is refused with nothing written and no device held.
            var work = try relayed.isEmpty ? [] : relayWork()
            let id = try inventory.write { tx in
                try tx.startRun(playbook: request.playbook, hash: playbook.contentHash, selector: selector, checkMode: request.check,
                                retryOf: request.retryOf, parameters: request.parameters, claiming: claims, pid: getpid(), isAlive: PlaybookRuns.isAlive)
            }
            job.emit(.started(id: id, playbook: request.playbook, check: request.check,
                              hosts: targets.hosts.map { .init(name: $0.name, serial: $0.serial) }))
            // Below the tasks that follow it (a web server's live pages), so that they keep up.
            let direct = directHosts, relayed = self.relayed, hub = workspace.relays, pieces = work
            for i in work.indices { work[i].run = id }
            job.start(priority: .utility) { job in
                async let own: RunResult? = direct.isEmpty ? nil : runner.run()
                // Each relay's part, at the same time as this machine's own.
                let parts = await withTaskGroup(of: (String, RelayOutcome).self) { group in
                    for (part, w) in zip(relayed, pieces) {
                        group.addTask {
                            guard let hub else { return (part.relay, RelayHub.lost(part)) }
                            let seen = PlaysSeen()
                            let names = Set(part.hosts.map(\.name)), serials = Set(part.hosts.map(\.serial))
                            let outcome = await hub.dispatch(w, to: part.relay, cancellation: job.cancellation) { e in
                                switch e {
                                case .play(let name, let hosts): if headers.show(seen.next()) { job.emit(.play(name: name, hosts: hosts)) }
                                case .task(let r): if serials.contains(r.serial) && names.contains(r.host) { job.emit(.task(r.masked)) }
                                case .unreachable(let host, let message): if names.contains(host) { job.emit(.unreachable(host: host, message: message)) }
                                case .note(let text): job.emit(.note(text))
                                case .answered, .gathered: break
                                }
                            }
                            return (part.relay, outcome)
                        }
                    }
                    var all: [(String, RelayOutcome)] = []
                    for await p in group { all.append(p) }
                    return all
                }
                var result = await own ?? RunResult(records: [], recap: [:], failedHosts: [], unreachableHosts: [])
                var newKeys = connector.newKeys.all
                var servedBy: [String: String] = [:]
                for (relay, outcome) in parts {
                    // A relay speaks for its own part only: what it says of another device is dropped,
                    // and a key it met is pinned only where accept-new let it meet one.
                    let mine = relayed.first { $0.relay == relay }?.hosts ?? []
                    result.merge(outcome.result.restricted(to: mine))
                    let serials = Set(mine.map(\.serial))
                    for (serial, key) in outcome.newKeys where serials.contains(serial) {
                        guard let policy = targets.ssh[serial]?.hostKeyPolicy, policy.mode == .acceptNew, policy.pinned == nil else { continue }
                        newKeys[serial] = try? HostKey(openSSH: key)
                    }
                }
                for part in relayed { for h in part.hosts { servedBy[h.serial] = part.relay } }
                let report: RunReport
                do {
                    report = try PlaybookRuns.record(result, id: id, request: request, targets: targets, newKeys: newKeys, relays: servedBy, inventory: inventory)
                } catch {
                    // The run's end must be written whatever happens: its devices are free again.
                    try? inventory.write { tx in try tx.finishRun(id, exitCode: 2, endedAt: Date(), hosts: [], tasks: [], aborted: "not recorded: \(error)") }
                    throw error
                }
                job.emit(.recap(report))
                return report
            }
            return job
        }

        /// The work each relay gets: the playbook's folder, its hosts with how to reach them (no
        /// credential), and how to run.
        func relayWork() throws -> [RelayWork] {
            let bundle = try PlaybookBundle.files(of: request.playbook)
            let path = String(URL(fileURLWithPath: request.playbook).standardizedFileURL.path.dropFirst(bundle.root.path.count).drop { $0 == "/" })
            // Roles found in the roles path travel too, each under its entry's number.
            var files = bundle.files
            var rolesPath: [String] = []
            for (index, entry) in workspace.ansible.rolesPath.value.enumerated() {
                let used = playbook.roleDirectories.filter { $0.hasPrefix(entry + "/") && !$0.hasPrefix(bundle.root.path + "/") }
                guard !used.isEmpty else { continue }
                let folder = "roles-path-\(index)"
                rolesPath.append(folder)
                for dir in used.sorted() {
                    let name = dir.dropFirst(entry.count + 1).split(separator: "/").first.map(String.init) ?? ""
                    for (rel, data) in try PlaybookBundle.files(under: URL(fileURLWithPath: "\(entry)/\(name)")) {
                        files["\(folder)/\(name)/\(rel)"] = data
                    }
                }
            }
            var become = "sudo", becomeUser: String? = nil
            switch options.become {
            case .none: become = "none"
            case .sudo: break
            case .sudoPassword: become = "password"
            case .sudoUser(let user, let password): becomeUser = user; become = password == nil ? "sudo" : "password"
            }
            let o = RelayWork.Options(check: options.check, diff: options.diff, forks: options.forks, tags: options.tags.sorted(),
                                      skipTags: options.skipTags.sorted(), extraVars: options.extraVars, extraData: options.extraData,
                                      become: become, becomeUser: becomeUser, startAtTask: options.startAtTask,
                                      knownNames: (options.knownNames ?? []).sorted())
            return relayed.map { part in
                var endpoints: [String: RelayWork.Endpoint] = [:]
                for h in part.hosts {
                    guard let ssh = targets.ssh[h.serial] else { continue }
                    endpoints[h.serial] = RelayWork.Endpoint(ssh, timeout: workspace.access.timeout)
                }
                var work = RelayWork(id: UUID().uuidString.lowercased(), run: 0, playbook: path, files: files, hosts: part.hosts,
                                     ssh: endpoints, options: o)
                work.rolesPath = rolesPath
                work.playDefaults = request.playDefaults(with: workspace.ansible)
                return work
            }
        }
    }

    /// Loads the playbook, chooses the devices and checks the patterns; nothing runs yet. A
    /// selection that matches nothing gives `hosts` empty (not an error, as Ansible).
    public static func prepare(_ request: RunRequest, in workspace: Workspace) throws -> Prepared {
        let defaults = request.playDefaults(with: workspace.ansible)
        var book = try PlaybookLoader.load(request.playbook, rolesPath: workspace.ansible.rolesPath.value)
        book.apply(defaults)
        let job = RunJob()
        var options = RunOptions(check: request.check, diff: request.diff, forks: workspace.access.forks)
        options.tags = request.tags
        options.skipTags = request.skipTags
        options.extraVars = request.extraVars
        options.extraData = request.extraData
        options.become = request.become
        options.startAtTask = request.startAtTask
        options.prompter = request.prompter
        options.cancellation = job.cancellation
        let targets = try request.ansibleInventory.map { try ansibleTargets($0, request: request, access: workspace.access) }
            ?? databaseTargets(request, workspace: workspace)
        options.knownNames = targets.knownNames
        // Devices of a school a connected relay serves are run through it; the others from here.
        var relayed: [RelayPart] = []
        if targets.fromDatabase, let hub = workspace.relays {
            var byRelay: [String: [HostTarget]] = [:]
            for h in targets.hosts { if let relay = hub.relay(forSchool: targets.schools[h.serial]) { byRelay[relay, default: []].append(h) } }
            relayed = byRelay.sorted { $0.key < $1.key }.map { RelayPart(relay: $0.key, hosts: $0.value) }
        }
        let away = Set(relayed.flatMap { $0.hosts.map(\.serial) })
        let connector = SSHConnector(options: targets.ssh)
        let headers = PlayHeaders(), seen = PlaysSeen()
        let runner = Runner(playbook: book, hosts: targets.hosts.filter { !away.contains($0.serial) }, connector: connector, options: options,
                            logger: workspace.logger) { event in
            switch event {
            case .play(let name, let hosts): if headers.show(seen.next()) { job.emit(.play(name: name, hosts: hosts)) }
            case .task(let r): job.emit(.task(r))
            case .unreachable(let host, let message): job.emit(.unreachable(host: host, message: message))
            case .note(let text): job.emit(.note(text))
            }
        }
        // One rule for every pattern: a name the inventory does not know is an error, before anything runs.
        try runner.checkPatterns()
        return Prepared(request: request, workspace: workspace, playbook: book, targets: targets, runner: runner, connector: connector, job: job,
                        relayed: relayed, options: options, headers: headers)
    }

    /// Whether the process that holds a run is still there (another user's process answers EPERM).
    public static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// A recorded run with its devices and tasks.
    public static func recorded(_ id: Int64, in workspace: Workspace) throws -> (run: RunSummary, hosts: [RunHostSummary], tasks: [RunTaskEntry]) {
        try workspace.inventory.read { try $0.run(id) }
    }

    /// Ends as interrupted the runs whose process is gone (see `endInterruptedRuns`); their
    /// devices get pending work. The server calls it at start and then periodically.
    @discardableResult
    public static func endInterrupted(in workspace: Workspace) throws -> [Int64] {
        try workspace.inventory.write { tx in try tx.endInterruptedRuns(isAlive: isAlive, at: Date()) }
    }

    /// Prepares and starts; nil when no device matches.
    public static func start(_ request: RunRequest, in workspace: Workspace) throws -> RunJob? {
        let prepared = try prepare(request, in: workspace)
        return prepared.hosts.isEmpty ? nil : try prepared.start()
    }

    /// "Rerun the failed", from the command line (`--retry`) and the console alike: the failed and
    /// unreachable devices of run `id`, with its playbook (unless `base` names one) and as it was
    /// asked — its check mode, tags, limit and variables, replayed as pending work replays them
    /// (values given through the web stay data) — with what is given now on top. Nil when that run
    /// has no device to rerun.
    public static func rerunFailed(_ id: Int64, in workspace: Workspace, base: RunRequest, typed: RunParameters = RunParameters(),
                                   extra: [String: Value] = [:], ask: ([String]) throws -> [String: Value]) throws -> RunRequest? {
        let (previous, parameters) = try workspace.inventory.read { r in (try r.run(id), try r.runParameters(id)) }
        let serials = Set(previous.hosts.filter { $0.outcome.needsRetry }.map { $0.serial.lowercased() })
        guard !serials.isEmpty else { return nil }
        let batch = PendingWork.Batch(playbook: base.playbook.isEmpty ? previous.run.playbook : base.playbook, items: [], parameters: parameters)
        var request = try PendingWork.request(for: batch, base: base, typed: typed, extra: extra, ask: ask)
        request.only = serials
        request.retryOf = id
        // A dry run's failures are rerun dry.
        request.check = base.check || previous.run.checkMode
        return request
    }

    /// Writes the end of a run: keys first met (accept-new), the recap and tasks, facts gathered,
    /// pending work owed or served.
    static func record(_ result: RunResult, id: Int64, request: RunRequest, targets: Targets, newKeys: [String: HostKey],
                       relays: [String: String] = [:], inventory: Inventory) throws -> RunReport {
        // accept-new: pin the keys met for the first time (a device's in the inventory, with its
        // audit event; an Ansible inventory's host in ~/.ssh/known_hosts, as ssh does).
        for (serial, key) in newKeys.sorted(by: { $0.key < $1.key }) {
            if targets.fromDatabase {
                try inventory.write { tx in _ = try tx.updateDevice(serial) { $0.hostKey = key.openSSH } }
            } else if let o = targets.ssh[serial] {
                try KnownHostsFile.add(host: o.address, port: o.port, key: key)
            }
        }
        let hostSummaries = targets.hosts.compactMap { h -> RunHostSummary? in
            guard let c = result.recap[h.name] else { return nil }
            return RunHostSummary(host: h.name, serial: h.serial, ok: c.ok, changed: c.changed, failed: c.failed, skipped: c.skipped, unreachable: c.unreachable,
                                  relay: relays[h.serial])
        }
        try inventory.write { tx in
            try tx.finishRun(id, exitCode: Int(result.exitCode), endedAt: Date(), hosts: hostSummaries, tasks: result.records.map(RunTaskEntry.init),
                             aborted: result.aborted)
            // An Ansible inventory's hosts are not parc's devices: nothing more to record.
            guard targets.fromDatabase else { return }
            // Facts a play gathered are the device's latest: it was seen (also in check mode).
            // A play without become cannot read DMI: the firmware identity seen before stays.
            for (serial, gathered) in result.facts.sorted(by: { $0.key < $1.key }) {
                var facts = gathered
                if facts.serial == nil, let before = try tx.facts(serial: serial)?.facts {
                    facts.serial = before.serial
                    facts.vendor = facts.vendor ?? before.vendor
                    facts.product = facts.product ?? before.product
                }
                try tx.recordFacts(serial: serial, facts, seenAt: Date())
            }
            // An offline laptop is owed the playbook; a device that got it owes nothing.
            guard !request.check else { return }
            for h in hostSummaries {
                switch h.outcome {
                case .unreachable:
                    try tx.addPending(serial: h.serial, playbook: request.playbook, reason: "unreachable", runId: id, parameters: request.parameters)
                case .failed: break
                case .ok, .changed, .skipped: try tx.clearPending(serial: h.serial, playbook: request.playbook)
                }
            }
        }
        return RunReport(id: id, hosts: hostSummaries, exitCode: result.exitCode, aborted: result.aborted, check: request.check,
                         roundTrips: result.roundTrips)
    }

    /// The folder whose `group_vars/` and `host_vars/` count too (the playbook's), if any.
    static func playbookDirectory(_ request: RunRequest) -> String? {
        guard !request.playbook.isEmpty else { return nil }
        return URL(fileURLWithPath: request.playbook).standardizedFileURL.deletingLastPathComponent().path
    }

    /// parc's devices with an address (the pattern of `limit`, the devices of `only`), as hosts
    /// with their groups and variables.
    public static func databaseTargets(_ request: RunRequest, workspace: Workspace) throws -> Targets {
        let access = workspace.access
        return try workspace.inventory.read { r -> Targets in
            let all = try r.devices()
            var rows = all.filter { $0.address != nil }
            if let limit = request.limit {
                let allowed = Set(try r.select(try HostPattern(limit)).map { $0.serial.lowercased() })
                rows = rows.filter { allowed.contains($0.serial.lowercased()) }
            }
            if let only = request.only { rows = rows.filter { only.contains($0.serial.lowercased()) } }
            let groups = try r.groups()
            let userGroups = try r.userGroups()
            let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.slug, $0.name) })
            var ssh: [String: SSHOptions] = [:]
            let hosts = try rows.map { row -> HostTarget in
                let mine = Set(groups.filter { $0.value.contains(row.serial) }.map(\.key))
                ssh[row.serial] = try access.ssh(for: row)
                // Fields from the database are data (never rendered); the vars files are templates.
                // The variables of the technician's own groups (values, never templates), by group
                // name, below the device's own fields (host over group, as Ansible).
                var data: [String: Value] = [:]
                for g in userGroups where g.serials.contains(row.serial) {
                    for (k, v) in g.vars { data[k] = .string(v) }
                }
                data.merge(InventoryVars.fields(of: row, groups: mine, communeName: row.member.flatMap { members[$0] })) { _, field in field }
                // Facts gathered earlier (parc facts) stand until the play gathers fresh ones.
                if let stored = try r.facts(serial: row.serial) {
                    for (k, v) in FactGathering.variables(stored.facts) where data[k] == nil { data[k] = v }
                }
                let vars = try InventoryVars.files(for: row, groups: mine, directory: workspace.varsDirectory,
                                                   playbookDirectory: playbookDirectory(request))
                return HostTarget(name: row.inventoryName, serial: row.serial, groups: mine, vars: vars, data: data)
            }
            var names = Set(groups.keys.map { $0.lowercased() })
            for d in all { names.formUnion([d.serial, d.assetTag, d.hostname].compactMap { $0?.lowercased() }) }
            var schools: [String: String] = [:]
            for row in rows { schools[row.serial] = row.uai }
            return Targets(hosts: hosts, ssh: ssh, knownNames: names, fromDatabase: true, schools: schools)
        }
    }

    /// The hosts of an Ansible inventory (`-i`), reached as its variables say (ansible_host,
    /// ansible_port, ansible_user, ansible_ssh_private_key_file), host keys checked against
    /// known_hosts as ssh does (accept-new adds a first key to ~/.ssh/known_hosts).
    public static func ansibleTargets(_ file: String, request: RunRequest, access: AccessSettings) throws -> Targets {
        let inventory = try AnsibleInventory.load(file)
        var hosts = try inventory.targets(playbookDirectory: playbookDirectory(request))
        if let limit = request.limit {
            let pattern = try HostPattern(limit)
            let selected = try pattern.evaluate { (term: String) throws -> Set<String> in
                let key = term.lowercased()
                let found = Set(hosts.filter { h in
                    key == "all" || h.name.lowercased() == key || h.groups.contains { $0.lowercased() == key }
                        || ((key.contains("*") || key.contains("?")) && (GroupName.matches(key, h.name) || h.groups.contains { GroupName.matches(key, $0) }))
                }.map { $0.name.lowercased() })
                if found.isEmpty && !key.contains("*") && !key.contains("?") && !inventory.names.contains(key) {
                    throw AppError("--limit: '\(term)' is neither a group nor a host of \(file)")
                }
                return found
            }
            hosts = hosts.filter { selected.contains($0.name.lowercased()) }
        }
        var ssh: [String: SSHOptions] = [:]
        for h in hosts {
            let address = h.variable("ansible_host")?.string ?? h.name
            let port = Int(h.variable("ansible_port")?.description ?? "") ?? 22
            // As Ansible: the inventory's ansible_user over -u, -u over the login name.
            let user = h.variable("ansible_user")?.string ?? access.user ?? access.defaultUser ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
            var keys = access.credentials
            if let key = h.variable("ansible_ssh_private_key_file")?.string, !key.isEmpty {
                keys.insert(.keyFile((key as NSString).expandingTildeInPath), at: 0)
            }
            ssh[h.serial] = SSHOptions(name: h.name, address: address, port: port, user: user, credentials: keys,
                                       hostKeyPolicy: HostKeyPolicy(mode: access.hostKeyPolicy, pinned: nil, knownHostsFiles: access.knownHostsFiles),
                                       connectTimeout: .milliseconds(Int(access.timeout * 1000)))
        }
        return Targets(hosts: hosts, ssh: ssh, knownNames: inventory.names, fromDatabase: false)
    }
}

/// Opens SSH connections for the runner, with the inventory's pinned host keys.
public struct SSHConnector: Connector {
    let options: [String: SSHOptions]
    /// Host keys met for the first time under `accept-new`, by serial: pinned after the run.
    let newKeys = NewKeys()

    final class NewKeys: Sendable {
        private let keys = Mutex<[String: HostKey]>([:])
        func add(_ serial: String, _ key: HostKey) { keys.withLock { $0[serial] = key } }
        var all: [String: HostKey] { keys.withLock { $0 } }
    }

    public func connect(_ host: HostTarget) async throws -> any Transport {
        guard var o = options[host.serial] else {
            throw TransportError.unreachable(host: host.name, reason: "no address in the inventory")
        }
        // remote_user of a play or task.
        if let user = host.variable("ansible_user")?.string, !user.isEmpty { o.user = user }
        let connection = try await SSHConnection.connect(o)
        if connection.hostKeyCheck == .new { newKeys.add(host.serial, connection.hostKey) }
        return connection
    }
}

/// ~/.ssh/known_hosts, where accept-new records a first key of an Ansible inventory's host.
public enum KnownHostsFile {
    public static func add(host: String, port: Int, key: HostKey) throws {
        let dir = Home.path + "/.ssh"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = dir + "/known_hosts"
        let name = port == 22 ? host : "[\(host)]:\(port)"
        let line = "\(name) \(key.openSSH)\n"
        if !FileManager.default.fileExists(atPath: file) {
            FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }
}
