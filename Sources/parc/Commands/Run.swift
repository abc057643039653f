import ArgumentParser
import Foundation
import InventoryStore
import ParcCore
import Templating
import Provisioning
import SSHTransport

/// Opens SSH connections for the runner, with the inventory's pinned host keys.
struct SSHConnector: Connector {
    let options: [String: SSHOptions]
    /// Host keys met for the first time under `accept-new`, by serial: pinned after the run.
    let newKeys = NewKeys()

    final class NewKeys: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String: HostKey] = [:]
        func add(_ serial: String, _ key: HostKey) { lock.withLock { keys[serial] = key } }
        var all: [String: HostKey] { lock.withLock { keys } }
    }

    func connect(_ host: HostTarget) async throws -> any Transport {
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

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a playbook on devices of the inventory: in parallel, with a dry run (--check) and a record.",
        discussion: """
            Exit status: 0 all went well, 2 a device failed, 4 a device was unreachable (as Ansible). \
            Every run is recorded in the inventory: `parc runs list`, `parc runs show ID`, and \
            `parc run --retry ID` reruns only the failed and unreachable devices of a run.
            Examples:
              parc run playbooks/baseline.yml --limit school_0572113m --check --diff
              parc run playbooks/wifi.yml -e wifi_psk=… --limit cart_nlv_2024_010
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The playbook (YAML).") var playbook: String?
    @Option(name: [.customShort("i"), .customLong("inventory")],
            help: ArgumentHelp("An Ansible inventory (INI or YAML, with group_vars/ and host_vars/ beside it) to run on, instead of parc's devices.", valueName: "file"))
    var inventoryFile: String?
    @Option(name: [.customShort("l"), .long], help: ArgumentHelp("Only these devices (a pattern: school_0572113m:&kind_laptop:!lab-03).", valueName: "pattern")) var limit: String?
    @Flag(name: [.customShort("C"), .long], help: "Dry run: report what would change, change nothing.") var check = false
    @Flag(name: [.customShort("D"), .long], help: "Show the changes made to files (unified diff), headed by device and task.") var diff = false
    @Option(name: [.customShort("t"), .long], help: ArgumentHelp("Only tasks with these tags (comma-separated).", valueName: "tags")) var tags: String?
    @Option(name: .customLong("skip-tags"), help: ArgumentHelp("Skip tasks with these tags.", valueName: "tags")) var skipTags: String?
    @Option(name: [.customShort("e"), .customLong("extra-vars")], help: ArgumentHelp("A variable, key=value, or @file.yml (repeatable).", valueName: "vars"))
    var extraVars: [String] = []
    @Option(name: .customLong("ask-vars"), help: ArgumentHelp("Ask this variable's value (a secret) without echo, or read it as one line of standard input (repeatable).", valueName: "name"))
    var askVars: [String] = []
    @Option(help: ArgumentHelp("Rerun the failed and unreachable devices of this run.", valueName: "run id")) var retry: Int64?
    @Flag(help: "Run what is owed to devices that were offline (see `parc pending`), each playbook on its devices.") var pending = false
    @Flag(name: [.customShort("K"), .customLong("ask-become-pass")], help: "Ask the sudo password (else $PARC_BECOME_PASSWORD, else sudo without password).")
    var askBecomePass = false
    @Flag(name: [.customShort("b"), .long], help: "Run plays that do not say `become:` as root (sudo).") var become = false
    @Flag(name: .customLong("list-hosts"), help: "List the devices each play would run on; run nothing.") var listHosts = false
    @Flag(name: .customLong("list-tasks"), help: "List each play's tasks with their tags; run nothing.") var listTasks = false
    @Option(name: .customLong("start-at-task"), help: ArgumentHelp("Start at the first task with this name (wildcards * and ?).", valueName: "name"))
    var startAtTask: String?
    @OptionGroup var access: AccessOptions
    @Flag(help: "Wake (Wake-on-LAN) the selected devices that do not answer, wait for their SSH, then run.") var wake = false
    @Option(name: .customLong("wait-for"), help: ArgumentHelp("With --wake: how long to wait for the woken devices (seconds).", valueName: "seconds"))
    var waitFor: Double = 120
    @Flag(name: .customLong("poweroff-after"), help: "With --wake: power off, at the end, the devices this run woke.") var poweroffAfter = false
    @OptionGroup var wakeOptions: WakeOptions
    @Flag(help: "Print the whole result as JSON.") var json = false
    @Flag(name: .customLong("syntax-check"), help: "Only load the playbook (roles, includes, templates) and report what is wrong; touch nothing.")
    var syntaxCheck = false

    func run() async throws {
        if syntaxCheck {
            guard let playbook else { throw ValidationError("--syntax-check needs a playbook") }
            let book = try PlaybookLoader.load(playbook)
            func count(_ list: [TaskSpec]) -> Int {
                list.reduce(0) { $0 + ($1.module == "block" ? count($1.block + $1.rescue + $1.always) : $1.module == "meta" ? 0 : 1) }
            }
            let tasks = book.plays.reduce(0) { $0 + count($1.tasks) }
            emit("playbook: \(playbook) (\(book.plays.count) play\(book.plays.count == 1 ? "" : "s"), \(tasks) task\(tasks == 1 ? "" : "s")): no error found\n")
            return
        }
        if listTasks {
            guard let playbook else { throw ValidationError("--list-tasks needs a playbook") }
            emit(PlaybookListing.tasks(try PlaybookLoader.load(playbook), path: playbook))
            return
        }
        let inventory = try global.open()
        // Asked once, before anything runs (and before a prompt could mix with progress lines).
        let extra = try ExtraVars.parse(extraVars).merging(try ExtraVars.ask(askVars)) { _, asked in asked }
        if pending {
            if inventoryFile != nil { throw ValidationError("--pending works on parc's devices, not with -i") }
            let owed = try inventory.read { try $0.pending() }
            if owed.isEmpty { emit("Nothing is pending.\n"); return }
            var worst: Int32 = 0
            // Each playbook replayed as its run was asked for (-e, --ask-vars, --tags, --skip-tags,
            // --limit); what this command line gives comes on top.
            struct Key: Hashable { var playbook: String; var parameters: RunParameters? }
            for (key, items) in Dictionary(grouping: owed, by: { Key(playbook: $0.playbook, parameters: $0.parameters) })
                .sorted(by: { ($0.key.playbook, $0.value[0].since) < ($1.key.playbook, $1.value[0].since) }) {
                emit("Pending: \(key.playbook) for \(items.map(\.device).joined(separator: ", "))\n")
                var replay = self
                var replayExtra = extra
                if let p = key.parameters {
                    replay.extraVars = p.extraVars + extraVars
                    replay.askVars = p.askVars + askVars.filter { !p.askVars.contains($0) }
                    replay.tags = tags ?? p.tags
                    replay.skipTags = skipTags ?? p.skipTags
                    replay.limit = limit ?? p.limit
                    replayExtra = try ExtraVars.parse(p.extraVars).merging(try ExtraVars.ask(p.askVars)) { _, asked in asked }
                        .merging(extra) { _, now in now }
                    if !p.extraVars.isEmpty || !p.askVars.isEmpty || p.tags != nil || p.skipTags != nil || p.limit != nil {
                        emit("  as asked then:\(p.tags.map { " --tags \($0)" } ?? "")\(p.skipTags.map { " --skip-tags \($0)" } ?? "")\(p.limit.map { " --limit \($0)" } ?? "")"
                             + p.extraVars.map { $0.hasPrefix("@") ? " -e \($0)" : " -e \($0.split(separator: "=").first ?? "")=…" }.joined()
                             + p.askVars.map { " --ask-vars \($0)" }.joined() + "\n")
                    }
                }
                let code = try await replay.perform(inventory, playbookPath: key.playbook, only: Set(items.map { $0.serial.lowercased() }), retryOf: nil, extra: replayExtra)
                worst = max(worst, code)
            }
            if worst != 0 { throw ExitCode(worst) }
            return
        }
        var playbookPath = playbook
        var retryHosts: Set<String>? = nil
        if let retry {
            if inventoryFile != nil { throw ValidationError("--retry works on parc's devices, not with -i") }
            let previous = try inventory.read { try $0.run(retry) }
            playbookPath = playbookPath ?? previous.run.playbook
            retryHosts = Set(previous.hosts.filter { $0.outcome == "failed" || $0.outcome == "unreachable" }.map { $0.serial.lowercased() })
            if retryHosts!.isEmpty { emit("Run \(retry) has no failed or unreachable device; nothing to retry.\n"); return }
        }
        guard let playbookPath else { throw ValidationError("give a playbook, --retry RUN or --pending") }
        let code = try await perform(inventory, playbookPath: playbookPath, only: retryHosts, retryOf: retry, extra: extra)
        if code != 0 { throw ExitCode(code) }
    }

    /// What a run goes to: its hosts, how to reach each, and every name patterns may use.
    struct Targets {
        var hosts: [HostTarget]
        var ssh: [String: SSHOptions]
        var knownNames: Set<String>
        /// From parc's devices (pinned keys, facts and pending work recorded) or an Ansible inventory.
        var fromDatabase: Bool
    }

    /// Runs `playbookPath` on the selected devices (only those in `only` when given); returns the exit code.
    func perform(_ inventory: Inventory, playbookPath: String, only retryHosts: Set<String>?, retryOf retry: Int64?,
                 extra: [String: Value]) async throws -> Int32 {
        var book = try PlaybookLoader.load(playbookPath)
        if become { for i in book.plays.indices where !book.plays[i].becomeWritten { book.plays[i].become = true } }

        var options = RunOptions(check: check, diff: diff, forks: access.forks)
        options.tags = Set((tags ?? "").split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty })
        options.skipTags = Set((skipTags ?? "").split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty })
        options.extraVars = extra
        options.become = try becomeMethod()
        options.startAtTask = startAtTask
        options.prompter = Prompter.ask

        let targets = try inventoryFile.map { try ansibleTargets($0) } ?? databaseTargets(inventory, only: retryHosts)
        options.knownNames = targets.knownNames
        let hosts = targets.hosts
        if hosts.isEmpty {
            // Nothing matched is not a mistake of the command line: a warning and exit 0, as Ansible.
            warn("no device with an address matches\(limit.map { " --limit \($0)" } ?? ""); nothing to do (see `parc groups`)")
            return 0
        }

        let woken = wake ? try await wakeAsleep(hosts, targets: targets, inventory: inventory) : []
        let progress = Progress(total: hosts.count, quiet: json, verbosity: global.verbose)
        let connector = SSHConnector(options: targets.ssh)
        let runner = Runner(playbook: book, hosts: hosts, connector: connector, options: options) { event in
            progress.report(event)
        }
        // One rule for every pattern: a name the inventory does not know is an error, before anything runs.
        try runner.checkPatterns()
        if listHosts {
            emit(PlaybookListing.hosts(book, path: playbookPath, runner: runner))
            return 0
        }
        let selector = (inventoryFile.map { "-i \($0) " } ?? "") + (limit ?? "all")
        let runID = try inventory.write { try $0.startRun(playbook: playbookPath, hash: book.contentHash, selector: selector, checkMode: check, retryOf: retry) }
        let result = await runner.run()
        progress.finish()
        if poweroffAfter { await powerOff(woken, hosts: hosts, result: result, connector: connector) }
        // accept-new: pin the keys met for the first time (a device's in the inventory, with its
        // audit event; an Ansible inventory's host in ~/.ssh/known_hosts, as ssh does).
        for (serial, key) in connector.newKeys.all {
            if targets.fromDatabase {
                try inventory.write { tx in _ = try tx.updateDevice(serial) { $0.hostKey = key.openSSH } }
            } else if let o = targets.ssh[serial] {
                try KnownHostsFile.add(host: o.address, port: o.port, key: key)
            }
        }

        let hostSummaries = hosts.compactMap { h -> RunHostSummary? in
            guard let c = result.recap[h.name] else { return nil }
            return RunHostSummary(host: h.name, serial: h.serial, ok: c.ok, changed: c.changed, failed: c.failed, skipped: c.skipped, unreachable: c.unreachable)
        }
        let entries = result.records.map { r in
            RunTaskEntry(serial: r.serial, host: r.host, play: r.play, task: r.task, item: r.item, outcome: r.outcome.rawValue, changed: r.changed,
                         ignored: r.ignored, message: r.message, output: r.output, diff: r.diff.isEmpty ? nil : r.diff.map(\.unified).joined(separator: "\n"),
                         milliseconds: r.milliseconds)
        }
        try inventory.write { tx in
            try tx.finishRun(runID, exitCode: Int(result.exitCode), endedAt: Date(), hosts: hostSummaries, tasks: entries)
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
            guard !check else { return }
            for h in hostSummaries {
                if h.outcome == "unreachable" {
                    try tx.addPending(serial: h.serial, playbook: playbookPath, reason: "unreachable", runId: runID,
                                      parameters: RunParameters(extraVars: extraVars, askVars: askVars, tags: tags, skipTags: skipTags, limit: limit))
                }
                else if h.outcome != "failed" { try tx.clearPending(serial: h.serial, playbook: playbookPath) }
            }
        }

        if json {
            // The recorded run, in the one shape `parc runs show --json` prints too, with the round
            // trips each device cost (measured, not recorded).
            let (recorded, hosts, tasks) = try inventory.read { try $0.run(runID) }
            emit(try RunJSON.render(recorded, hosts: hosts, tasks: tasks, roundTrips: result.roundTrips))
        } else {
            emit(RecapText.render(hostSummaries, aborted: result.aborted, runID: runID, check: check))
        }
        return result.exitCode
    }

    /// parc's devices with an address (the pattern of --limit, the devices of a retry), as hosts
    /// with their groups and variables.
    func databaseTargets(_ inventory: Inventory, only retryHosts: Set<String>?) throws -> Targets {
        try inventory.read { r -> Targets in
            var rows = try r.devices().filter { $0.address != nil }
            if let limit {
                let allowed = Set(try r.select(try HostPattern(limit)).map { $0.serial.lowercased() })
                rows = rows.filter { allowed.contains($0.serial.lowercased()) }
            }
            if let retryHosts { rows = rows.filter { retryHosts.contains($0.serial.lowercased()) } }
            let groups = try r.groups()
            let userGroups = try r.userGroups()
            let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.slug, $0.name) })
            let credentials = access.credentials()
            let known = access.knownHostsFiles()
            var ssh: [String: SSHOptions] = [:]
            let varsDir = ParcHome.locate().appendingPathComponent("inventory").path
            let hosts = try rows.map { row -> HostTarget in
                let mine = Set(groups.filter { $0.value.contains(row.serial) }.map(\.key))
                ssh[row.serial] = try access.ssh(for: row, credentials: credentials, knownHosts: known)
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
                let vars = try InventoryVars.files(for: row, groups: mine, directory: varsDir)
                return HostTarget(name: row.inventoryName, serial: row.serial, groups: mine, vars: vars, data: data)
            }
            var names = Set(groups.keys.map { $0.lowercased() })
            for d in try r.devices() { names.formUnion([d.serial, d.assetTag, d.hostname].compactMap { $0?.lowercased() }) }
            return Targets(hosts: hosts, ssh: ssh, knownNames: names, fromDatabase: true)
        }
    }

    /// The hosts of an Ansible inventory (`-i`), reached as its variables say (ansible_host,
    /// ansible_port, ansible_user, ansible_ssh_private_key_file), host keys checked against
    /// known_hosts as ssh does (accept-new adds a first key to ~/.ssh/known_hosts).
    func ansibleTargets(_ file: String) throws -> Targets {
        let inventory = try AnsibleInventory.load(file)
        var hosts = try inventory.targets()
        if let limit {
            let pattern = try HostPattern(limit)
            let byName = Dictionary(hosts.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
            let selected = try pattern.evaluate { (term: String) throws -> Set<String> in
                let key = term.lowercased()
                let found = Set(hosts.filter { h in
                    key == "all" || h.name.lowercased() == key || h.groups.contains { $0.lowercased() == key }
                        || ((key.contains("*") || key.contains("?")) && (GroupName.matches(key, h.name) || h.groups.contains { GroupName.matches(key, $0) }))
                }.map { $0.name.lowercased() })
                if found.isEmpty && !key.contains("*") && !key.contains("?") && !inventory.names.contains(key) {
                    throw ValidationError("--limit: '\(term)' is neither a group nor a host of \(file)")
                }
                return found
            }
            hosts = hosts.filter { selected.contains($0.name.lowercased()) && byName[$0.name.lowercased()] != nil }
        }
        let credentials = access.credentials()
        let known = access.knownHostsFiles()
        var ssh: [String: SSHOptions] = [:]
        for h in hosts {
            let address = h.variable("ansible_host")?.string ?? h.name
            let port = Int(h.variable("ansible_port")?.description ?? "") ?? 22
            // As Ansible: the inventory's ansible_user over -u, -u over the login name.
            let user = h.variable("ansible_user")?.string ?? access.user ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
            var keys = credentials
            if let key = h.variable("ansible_ssh_private_key_file")?.string, !key.isEmpty {
                keys.insert(.keyFile((key as NSString).expandingTildeInPath), at: 0)
            }
            ssh[h.serial] = SSHOptions(name: h.name, address: address, port: port, user: user, credentials: keys,
                                       hostKeyPolicy: HostKeyPolicy(mode: access.hostKeyPolicy, pinned: nil, knownHostsFiles: known),
                                       connectTimeout: .milliseconds(Int(access.timeout * 1000)))
        }
        return Targets(hosts: hosts, ssh: ssh, knownNames: inventory.names, fromDatabase: false)
    }

    /// `--wake`: the selected devices whose SSH does not answer get magic packets; returns the
    /// serials of those that answered within --wait-for. The others stay as they are (the run
    /// finds them unreachable and owes them the playbook).
    func wakeAsleep(_ hosts: [HostTarget], targets: Targets, inventory: Inventory) async throws -> Set<String> {
        guard targets.fromDatabase else { throw ValidationError("--wake wakes parc's devices (their MACs are in the inventory), not those of -i") }
        let asleep = hosts.filter { h in targets.ssh[h.serial].map { !WakeSender.answers($0.address, port: $0.port, timeout: 1) } ?? false }
        guard !asleep.isEmpty else { return [] }
        let serials = Set(asleep.map(\.serial))
        let (rows, facts) = try inventory.read { r -> ([DeviceRow], [String: DeviceFacts]) in
            let rows = try r.devices().filter { serials.contains($0.serial) }
            var facts: [String: DeviceFacts] = [:]
            for row in rows { if let f = try r.facts(serial: row.serial) { facts[row.serial] = f.facts } }
            return (rows, facts)
        }
        _ = try await Wake.wake(rows, facts: facts, options: wakeOptions, inventory: inventory, access: access)
        var waiting = serials
        var woken = Set<String>()
        let deadline = ContinuousClock.now + .milliseconds(Int(waitFor * 1000))
        while !waiting.isEmpty && ContinuousClock.now < deadline {
            for s in waiting {
                if let o = targets.ssh[s], WakeSender.answers(o.address, port: o.port, timeout: 0.5) { woken.insert(s); waiting.remove(s) }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        }
        FileHandle.standardError.write(Data(("\(woken.count) device(s) woke" + (waiting.isEmpty ? "" : "; \(waiting.count) did not answer within \(Int(waitFor)) s") + ".\n").utf8))
        return woken
    }

    /// `--poweroff-after`: the devices this run woke go back off (a detached poweroff, as root).
    func powerOff(_ woken: Set<String>, hosts: [HostTarget], result: RunResult, connector: SSHConnector) async {
        for h in hosts where woken.contains(h.serial) && (result.recap[h.name]?.unreachable ?? 0) == 0 {
            do {
                let t = try await connector.connect(h)
                _ = try await t.run("nohup /bin/sh -c 'sleep 2; systemctl poweroff || poweroff' >/dev/null 2>&1 &", stdin: nil, become: .sudo, timeout: .seconds(30))
                await t.close()
                FileHandle.standardError.write(Data("\(h.name): powered off\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("\(h.name): could not power it off: \(error)\n".utf8))
            }
        }
    }

    func becomeMethod() throws -> Become {
        if askBecomePass {
            guard let pass = getpass("BECOME password: ") else { throw ValidationError("no become password given") }
            return .sudoPassword(Secret(String(cString: pass)))
        }
        if let env = ProcessInfo.processInfo.environment["PARC_BECOME_PASSWORD"], !env.isEmpty { return .sudoPassword(Secret(env)) }
        return .sudo
    }
}

/// `-e key=value`, `-e @file.yml`.
enum ExtraVars {
    /// A file given with `-e @FILE` holds what should not be on a command line (passwords, Wi-Fi
    /// keys): it must be the user's own (or root's) and closed to other users, as ssh wants of a key.
    static func checkPrivate(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ValidationError("-e @\(path): cannot read it (\(String(cString: strerror(errno))))") }
        let mode = st.st_mode & 0o777
        if mode & 0o007 != 0 || mode & 0o020 != 0 {
            throw ValidationError("-e @\(path): other users may read or change it (mode \(String(mode, radix: 8))); it may hold secrets: chmod 600 \(path)")
        }
        if st.st_uid != geteuid() && st.st_uid != 0 {
            throw ValidationError("-e @\(path): it belongs to another user (uid \(st.st_uid)); use a file of your own")
        }
    }

    /// `--ask-vars NAME`: each value read without echo from the terminal, or one line each from
    /// standard input when it is not a terminal (`printf '%s\n' "$PSK" | parc run … --ask-vars wifi_psk`).
    static func ask(_ names: [String]) throws -> [String: Value] {
        var out: [String: Value] = [:]
        let terminal = isatty(STDIN_FILENO) != 0
        for name in names {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !(name.first!.isNumber) else {
                throw ValidationError("--ask-vars takes variable names (letters, digits, _), not '\(name)'")
            }
            let value: String?
            if let env = ProcessInfo.processInfo.environment["PARC_ASK_" + name] ?? ProcessInfo.processInfo.environment["PARC_ASK_" + name.uppercased()] {
                // Unattended replays (parc watch): the value from the environment, never stored.
                value = env
            } else if terminal {
                value = getpass("\(name): ").map { String(cString: $0) }
            } else {
                value = readLine(strippingNewline: true)
            }
            guard let value else { throw ValidationError("--ask-vars \(name): no value given (standard input ended)") }
            out[name] = .string(value)
        }
        return out
    }

    static func parse(_ items: [String]) throws -> [String: Value] {
        var out: [String: Value] = [:]
        for item in items {
            if item.hasPrefix("@") {
                let path = String(item.dropFirst())
                try checkPrivate(path)
                for (k, v) in try PlaybookLoader.loadVars(path) { out[k] = v }
                continue
            }
            for word in item.split(separator: " ") {
                guard let eq = word.firstIndex(of: "="), eq != word.startIndex else { throw ValidationError("-e takes key=value or @file.yml, not '\(word)'") }
                out[String(word[..<eq])] = .string(String(word[word.index(after: eq)...]))
            }
        }
        return out
    }
}

/// The variables a device brings to plays: its inventory fields (parc_*), then the YAML of
/// inventory/group_vars/all.yml, group_vars/<group>.yml (groups in name order) and host_vars/<name>.yml.
enum InventoryVars {
    /// The device's inventory fields (parc_*, ansible_host, ansible_user): data.
    static func fields(of row: DeviceRow, groups: Set<String>, communeName: String?) -> [String: Value] {
        var v: [String: Value] = [
            "inventory_hostname": .string(row.inventoryName), "parc_serial": .string(row.serial), "parc_kind": .string(row.kind.rawValue),
            "group_names": .list(groups.sorted().map(Value.string)),
        ]
        let optional: [(String, String?)] = [
            ("ansible_host", row.address), ("ansible_user", row.sshUser), ("parc_hostname", row.hostname), ("parc_asset_tag", row.assetTag),
            ("parc_school", row.uai), ("parc_school_name", row.school), ("parc_room", row.room), ("parc_cart", row.cart),
            ("parc_commune", row.member), ("parc_commune_name", communeName), ("parc_model", row.model),
        ]
        for (k, value) in optional { if let value { v[k] = .string(value) } }
        return v
    }

    /// What the vars files say for the device: templates, rendered on use.
    static func files(for row: DeviceRow, groups: Set<String>, directory: String) throws -> [String: Value] {
        var v: [String: Value] = [:]
        let files = ["\(directory)/group_vars/all.yml"] + groups.sorted().map { "\(directory)/group_vars/\($0).yml" }
            + ["\(directory)/host_vars/\(row.inventoryName).yml"]
        for file in files where FileManager.default.fileExists(atPath: file) {
            for (k, value) in try PlaybookLoader.loadVars(file) { v[k] = value }
        }
        return v
    }
}

/// Live progress: on a terminal one updating line; otherwise one line per host and task.
final class Progress: @unchecked Sendable {
    let total: Int
    let quiet: Bool
    /// -v: each task's output too.
    let verbosity: Int
    /// Colours on a terminal, unless NO_COLOR is set (https://no-color.org).
    let colour: Bool
    private let lock = NSLock()

    init(total: Int, quiet: Bool, verbosity: Int = 0) {
        self.total = total
        self.quiet = quiet
        self.verbosity = verbosity
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        colour = isatty(STDERR_FILENO) != 0 && !noColor
    }

    /// Ansible's words and colours for an outcome.
    static func word(_ r: TaskRecord) -> (String, String) {
        switch r.outcome {
        case .ok: ("ok", "32")
        case .changed: ("changed", "33")
        case .failed: ("failed", "31")
        case .skipped: ("skipping", "36")
        case .unreachable: ("unreachable", "31")
        }
    }

    func report(_ event: RunEvent) {
        guard !quiet else { return }
        lock.lock(); defer { lock.unlock() }
        switch event {
        case .play(let name, let hosts):
            line("\nPLAY [\(name)] — \(hosts) device\(hosts == 1 ? "" : "s")", colour: "1")
        case .note(let text):
            line("[WARNING]: \(text)", colour: "35")
        case .unreachable(let host, let message):
            line("fatal: [\(host)]: UNREACHABLE! => \(message)", colour: "31")
        case .task(let r):
            let (word, code) = Self.word(r)
            let label = r.item.map { " (item=\($0))" } ?? ""
            var text = "\(word): [\(r.host)] \(r.task)\(label)"
            if r.module == "debug", r.outcome == .ok, let message = r.message {
                // As Ansible shows a debug message.
                text += " => {\n    \"msg\": \(jsonStringLiteral(message))\n}"
            } else if r.outcome == .failed, let m = r.message {
                text += " => \(m)"
            }
            if r.ignored { text += " ...ignoring" }
            if verbosity >= 1, let output = r.output, !output.isEmpty, r.module != "debug" {
                text += "\n" + output.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
            }
            line(text, colour: code)
            for d in r.diff {
                line("--- [\(r.host)] \(r.task)\(label): \(d.path)", colour: "1")
                line(d.unified, colour: nil)
            }
        }
    }

    /// A line of progress. Much of it comes from devices (messages, items, diffs): what a terminal
    /// would obey in it (escape sequences, carriage returns) is shown as escapes.
    private func line(_ text: String, colour code: String?) {
        let shown = TextRules.visible(text, max: 1_000_000, keepLineBreaks: true)
        let painted = colour && code != nil ? "\u{1B}[\(code!)m" + shown + "\u{1B}[0m" : shown
        FileHandle.standardError.write(Data((painted + "\n").utf8))
    }

    func finish() {}
}

/// `vars_prompt` on a terminal: the question on standard error, the answer without echo when
/// private; nil when standard input is not a terminal.
enum Prompter {
    @Sendable static func ask(_ prompt: String, _ isPrivate: Bool) -> String? {
        guard isatty(STDIN_FILENO) != 0 else { return nil }
        if isPrivate { return getpass("\(prompt): ").map { String(cString: $0) } }
        FileHandle.standardError.write(Data("\(prompt): ".utf8))
        return readLine(strippingNewline: true)
    }
}

/// `--list-hosts` and `--list-tasks`, as ansible-playbook prints them.
enum PlaybookListing {
    static func hosts(_ book: Playbook, path: String, runner: Runner) -> String {
        var out = "\nplaybook: \(path)\n"
        for (i, play) in book.plays.enumerated() {
            let hosts = runner.hosts(of: play)
            out += "\n  play #\(i + 1) (\(play.hosts)): \(play.name)\tTAGS: [\(play.tags.joined(separator: ", "))]\n"
            out += "    pattern: ['\(play.hosts)']\n    hosts (\(hosts.count)):\n"
            for h in hosts { out += "      \(h.name)\n" }
        }
        return out
    }

    static func tasks(_ book: Playbook, path: String) -> String {
        var out = "\nplaybook: \(path)\n"
        func walk(_ tasks: [TaskSpec], _ playTags: [String]) -> String {
            var s = ""
            for t in tasks {
                if t.module == "meta" { continue }
                if t.module == "block" { s += walk(t.block + t.rescue + t.always, playTags); continue }
                let tags = Set(t.tags + playTags).sorted()
                s += "      \(t.name)\tTAGS: [\(tags.joined(separator: ", "))]\n"
            }
            return s
        }
        for (i, play) in book.plays.enumerated() {
            out += "\n  play #\(i + 1) (\(play.hosts)): \(play.name)\tTAGS: [\(play.tags.joined(separator: ", "))]\n    tasks:\n"
            out += walk(play.tasks, play.tags)
        }
        return out
    }
}

/// The user's home: $HOME, else the account's.
enum Home {
    static var path: String {
        if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty { return home }
        return FileManager.default.homeDirectoryForCurrentUser.path
    }
}

/// ~/.ssh/known_hosts, where accept-new records a first key of an Ansible inventory's host.
enum KnownHostsFile {
    static func add(host: String, port: Int, key: HostKey) throws {
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

enum RecapText {
    static func render(_ hosts: [RunHostSummary], aborted: String?, runID: Int64, check: Bool) -> String {
        var out = "\nPLAY RECAP\(check ? " (check mode: nothing was changed)" : "")\n"
        out += Render.table(header: ["DEVICE", "OK", "CHANGED", "FAILED", "SKIPPED", "UNREACHABLE"],
                            rows: hosts.map { [$0.host, String($0.ok), String($0.changed), String($0.failed), String($0.skipped), String($0.unreachable)] })
        if let aborted { out += "\(aborted)\n" }
        out += "Recorded as run \(runID): parc runs show \(runID)\n"
        return out
    }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Provisioning runs recorded in the inventory.", subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the latest runs.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "How many.") var last = 20

        /// The keys of a run in `runs show --json`'s "run" object.
        static let fields: [Field<RunSummary>] = [
            Field("id", "RUN") { .number($0.id.map(Int.init)) },
            Field("startedAt", "STARTED") { .string(EventTime.iso($0.startedAt)) },
            Field("playbook", "PLAYBOOK") { .string($0.playbook) },
            Field("selector", "SELECTOR") { .string($0.selector) },
            Field("checkMode", "CHECK") { .bool($0.checkMode) },
            Field("actor", "BY") { .string($0.actor) },
            Field("exitCode", "EXIT") { .number($0.exitCode) },
            Field("endedAt", "ENDED") { .text($0.endedAt.map(EventTime.iso)) },
            Field("retryOf", "RETRY OF") { .number($0.retryOf.map(Int.init)) },
        ]

        func run() throws {
            let runs = try global.open().read { try $0.runs(limit: last) }
            if output.format != .table {
                emit(Render.list(runs, fields: Self.fields, format: output.format))
                return
            }
            emit(Render.table(header: ["RUN", "STARTED", "PLAYBOOK", "SELECTOR", "CHECK", "BY", "EXIT"], rows: runs.map { r in
                [String(r.id!), EventTime.iso(r.startedAt), r.playbook, r.selector, r.checkMode ? "yes" : "no", r.actor, r.exitCode.map(String.init) ?? "running"]
            }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a run: its recap per device and every task.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (run, hosts, tasks) = try global.open().read { try $0.run(id) }
            if json {
                emit(try RunJSON.render(run, hosts: hosts, tasks: tasks))
                return
            }
            emit("Run \(id): \(run.playbook) on \(run.selector)\(run.checkMode ? " (check mode)" : ""), by \(run.actor), started \(EventTime.iso(run.startedAt))"
                 + (run.exitCode.map { ", exit \($0)" } ?? ", not finished") + "\n\n")
            emit(Render.table(header: ["DEVICE", "SERIAL", "OUTCOME", "OK", "CHANGED", "FAILED", "SKIPPED", "UNREACHABLE"], rows: hosts.map { h in
                [h.host, h.serial, h.outcome, String(h.ok), String(h.changed), String(h.failed), String(h.skipped), String(h.unreachable)]
            }) + "\n")
            emit(Render.table(header: ["DEVICE", "TASK", "OUTCOME", "MS", "MESSAGE"], rows: tasks.map { t in
                [t.host, t.task + (t.item.map { " (\($0))" } ?? ""), t.outcome + (t.ignored ? " (ignored)" : ""), String(t.milliseconds), t.message ?? ""]
            }))
        }
    }
}
