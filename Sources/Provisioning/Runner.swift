import Foundation
import Logging
import ParcCore
import Templating

/// A device as a play sees it: its name, its groups and its inventory variables.
///
/// `vars` are what a person wrote for the device (inventory `group_vars` / `host_vars` files):
/// rendered on use. `data` are its inventory fields and stored facts: never rendered.
public struct HostTarget: Sendable, Hashable {
    public var name: String
    public var serial: String
    public var groups: Set<String>
    public var vars: [String: Value]
    public var data: [String: Value]

    public init(name: String, serial: String, groups: Set<String>, vars: [String: Value] = [:], data: [String: Value] = [:]) {
        self.name = name
        self.serial = serial
        self.groups = groups
        self.vars = vars
        self.data = data
    }

    /// A variable as the connection reads it (`ansible_user`, `ansible_host`…), wherever it was set.
    public func variable(_ name: String) -> Value? { vars[name] ?? data[name] }
}

/// Opens the connection to a host (SSH for real, a script in unit tests).
public protocol Connector: Sendable {
    func connect(_ host: HostTarget) async throws -> any Transport
}

public struct RunOptions: Sendable {
    public var check = false
    public var diff = false
    public var forks = 20
    public var tags: Set<String> = []
    public var skipTags: Set<String> = []
    public var extraVars: [String: Value] = [:]
    /// How `become: yes` tasks become root.
    public var become: Become = .sudo
    /// `--limit`: a host pattern the plays' hosts are further restricted to.
    public var limit: String?
    /// Asks a `vars_prompt` question on a terminal (nil: no terminal); the flag says the answer
    /// must not be echoed.
    public var prompter: (@Sendable (_ prompt: String, _ isPrivate: Bool) -> String?)?
    /// `--start-at-task`: tasks before the first whose name matches (a glob) are left out.
    public var startAtTask: String?
    /// Every group and host name of the inventory (lower-case), for `checkPatterns`; nil: the
    /// groups and names of the hosts given.
    public var knownNames: Set<String>?

    public init(check: Bool = false, diff: Bool = false, forks: Int = 20, tags: Set<String> = [], skipTags: Set<String> = [],
                extraVars: [String: Value] = [:], become: Become = .sudo) {
        self.check = check
        self.diff = diff
        self.forks = forks
        self.tags = tags
        self.skipTags = skipTags
        self.extraVars = extraVars
        self.become = become
    }
}

public enum Outcome: String, Sendable, Codable, CaseIterable {
    case ok, changed, failed, skipped, unreachable
}

/// One task on one host (one loop item).
public struct TaskRecord: Sendable {
    public var play: String
    public var task: String
    public var host: String
    public var serial: String
    public var item: String?
    public var outcome: Outcome
    public var changed: Bool
    public var ignored: Bool
    public var message: String?
    public var output: String?
    public var diff: [FileDiff]
    public var milliseconds: Int
    public var location: SourceLocation?
    /// The module the task ran (`debug` messages are shown as Ansible shows them).
    public var module: String = ""
}

/// A host's counts at the end, as Ansible's recap.
public struct HostRecap: Sendable, Equatable {
    public var ok = 0
    public var changed = 0
    public var failed = 0
    public var skipped = 0
    public var unreachable = 0
    public var ignored = 0
    public var rescued = 0
}

public struct RunResult: Sendable {
    public var records: [TaskRecord]
    public var recap: [String: HostRecap]
    /// Serials of the hosts that failed or could not be reached.
    public var failedHosts: [String]
    public var unreachableHosts: [String]
    public var aborted: String?
    /// Facts the plays gathered, by serial: the caller may keep them (the device was seen).
    public var facts: [String: DeviceFacts] = [:]
    /// Round trips waited on each device after authentication, by serial (where the transport counts them).
    public var roundTrips: [String: Int] = [:]

    /// 0 all went well, 2 a host failed, 4 a host was unreachable (as Ansible).
    public var exitCode: Int32 { !unreachableHosts.isEmpty ? 4 : !failedHosts.isEmpty || aborted != nil ? 2 : 0 }
}

/// What a run reports while it goes.
public enum RunEvent: Sendable {
    case play(name: String, hosts: Int)
    case task(TaskRecord)
    case unreachable(host: String, message: String)
    case note(String)
}

/// Runs a playbook on hosts: one connection per host for the whole run, hosts in parallel (at most
/// `forks`), each host going through its tasks on its own; a failed host stops its own tasks only.
public final class Runner: Sendable {
    let playbook: Playbook
    let hosts: [HostTarget]
    let connector: any Connector
    let options: RunOptions
    let observer: @Sendable (RunEvent) -> Void
    let templates = TemplateEngine()
    let logger: Logger
    /// Files changed on the control node after this are the run's own (see include_vars).
    let started = Date()

    public init(playbook: Playbook, hosts: [HostTarget], connector: any Connector, options: RunOptions,
                logger: Logger = Logger(label: "parc.run"), observer: @escaping @Sendable (RunEvent) -> Void = { _ in }) {
        self.playbook = playbook
        self.hosts = hosts
        self.connector = connector
        self.options = options
        self.observer = observer
        self.logger = logger
    }

    actor State {
        var records: [TaskRecord] = []
        var recap: [String: HostRecap] = [:]
        var failed: Set<String> = []
        var unreachable: Set<String> = []
        var gathered: [String: DeviceFacts] = [:]
        func gathered(_ serial: String, _ facts: DeviceFacts) { gathered[serial] = facts }
        var connections: [String: any Transport] = [:]
        /// Registered results and set_fact values (data), include_vars values (authored unless a
        /// run wrote the file), by host.
        var registered: [String: [String: (value: Value, authored: Bool)]] = [:]

        /// Adds a record; `count: false` for a loop's items, whose task is counted once (`count(_:)`).
        func add(_ r: TaskRecord, count: Bool = true) {
            records.append(r)
            if count { self.count(r) }
        }

        /// Counts a task in its host's recap, as Ansible's stats do (a loop counts once).
        func count(_ r: TaskRecord) {
            var c = recap[r.host] ?? HostRecap()
            switch r.outcome {
            case .ok: c.ok += 1
            case .changed: c.ok += 1; c.changed += 1
            case .failed: if r.ignored { c.ignored += 1 } else { c.failed += 1 }
            case .skipped: c.skipped += 1
            case .unreachable: c.unreachable += 1
            }
            recap[r.host] = c
        }
        func markFailed(_ serial: String) { failed.insert(serial) }
        /// Hosts past --start-at-task's task.
        var startedHosts: Set<String> = []
        func started(_ serial: String) -> Bool { startedHosts.contains(serial) }
        func start(_ serial: String) { startedHosts.insert(serial) }
        /// A rescue caught the failure: the host goes on.
        func rescue(_ serial: String, host: String) {
            failed.remove(serial)
            var c = recap[host] ?? HostRecap()
            c.rescued += 1
            if c.failed > 0 { c.failed -= 1 }
            recap[host] = c
        }
        func isFailed(_ serial: String) -> Bool { failed.contains(serial) }
        func isUnreachable(_ serial: String) -> Bool { unreachable.contains(serial) }
        var once: [String: Task<ModuleResult, Never>] = [:]
        /// run_once: the first host to reach the task runs it; the others get its result.
        func runOnce(_ key: String, _ body: @escaping @Sendable () async -> ModuleResult) async -> (result: ModuleResult, ranHere: Bool) {
            if let t = once[key] { return (await t.value, false) }
            let t = Task { await body() }
            once[key] = t
            return (await t.value, true)
        }
        /// The host's unreachable record, added with it, counts it in the recap.
        func markUnreachable(_ host: String, _ serial: String) { unreachable.insert(serial) }
        func isDown(_ serial: String) -> Bool { failed.contains(serial) || unreachable.contains(serial) }
        func connection(_ key: String) -> (any Transport)? { connections[key] }
        func setConnection(_ serial: String, _ t: any Transport) { connections[serial] = t }
        func registered(_ serial: String) -> [String: (value: Value, authored: Bool)] { registered[serial] ?? [:] }
        func register(_ serial: String, _ name: String, _ value: Value, authored: Bool = false) {
            registered[serial, default: [:]][name] = (value, authored)
        }
        /// Round trips each device's connections waited for, by serial (counted at close).
        var roundTrips: [String: Int] = [:]
        func closeAll() async {
            for (key, t) in connections {
                let serial = String(key.split(separator: "|", omittingEmptySubsequences: false).first ?? "")
                roundTrips[serial, default: 0] += await t.roundTrips()
                await t.close()
            }
            connections = [:]
        }
        func result(aborted: String?) -> RunResult {
            var r = RunResult(records: records, recap: recap, failedHosts: failed.sorted(), unreachableHosts: unreachable.sorted(), aborted: aborted,
                              facts: gathered)
            r.roundTrips = roundTrips
            return r
        }
    }

    public func run() async -> RunResult {
        let state = State()
        var aborted: String? = nil
        plays: for written in playbook.plays {
            var play = written
            for p in play.prompts where options.extraVars[p.name] == nil {
                let answer = options.prompter?(p.prompt + (p.defaultValue.map { " [\($0.description)]" } ?? ""), p.isPrivate)
                if let answer, !answer.isEmpty {
                    play.promptAnswers[p.name] = .string(answer)
                } else if let d = p.defaultValue {
                    play.vars[p.name] = d
                } else {
                    aborted = "\(p.location): vars_prompt '\(p.name)' needs an answer: run parc on a terminal, or give it with -e \(p.name)=…"
                    observer(.note(aborted!))
                    break plays
                }
            }
            let selected = select(play)
            observer(.play(name: play.name, hosts: selected.count))
            if selected.isEmpty { observer(.note("play \(play.name): no host matches \(play.hosts)")); continue }
            var start = 0
            for size in play.serial.batches(of: selected.count) {
                let batch = Array(selected[start..<(start + size)])
                start += size
                var alive: [HostTarget] = []
                for h in batch where !(await state.isDown(h.serial)) { alive.append(h) }
                let thePlay = play
                await forEach(alive, limit: options.forks) { host in await self.runPlay(thePlay, on: host, state: state) }
                if let max = play.maxFailPercentage {
                    var failedInBatch = 0
                    for h in batch where await state.isDown(h.serial) { failedInBatch += 1 }
                    if Double(failedInBatch) * 100 / Double(batch.count) > Double(max) {
                        aborted = "play \(play.name): \(failedInBatch) of \(batch.count) host(s) failed, over max_fail_percentage \(max)%; the run stops"
                        observer(.note(aborted!))
                        break plays
                    }
                }
            }
        }
        await state.closeAll()
        return await state.result(aborted: aborted)
    }

    /// Ansible's implicit localhost: the control node, when the inventory has no host of that name.
    static let implicitLocalhost = HostTarget(name: "localhost", serial: "localhost", groups: [],
                                              data: ["inventory_hostname": .string("localhost"), "ansible_connection": .string("local")])

    /// The hosts a play runs on: its pattern, within --limit; `localhost` is the control node
    /// unless the inventory names a host so.
    func select(_ play: Play) -> [HostTarget] {
        var pool = hosts
        if !hosts.contains(where: { $0.name.lowercased() == "localhost" }),
           (try? HostPattern(play.hosts))?.terms.contains(where: { $0.operation == .union && ["localhost", "127.0.0.1"].contains($0.name.lowercased()) }) == true {
            pool.append(Self.implicitLocalhost)
        }
        let chosen = matching(play.hosts, in: pool)
        guard let limit = options.limit else { return pool.filter { chosen.contains($0.serial) } }
        let limited = matching(limit, in: pool)
        return pool.filter { chosen.contains($0.serial) && limited.contains($0.serial) }
    }

    /// The hosts a play would run on (`--list-hosts`).
    public func hosts(of play: Play) -> [HostTarget] { select(play) }

    /// One rule for every pattern, before anything runs: a name that is neither a group nor a
    /// host of the inventory is an error (a known group without hosts only gives a note and the
    /// play is skipped).
    public func checkPatterns() throws {
        var known = options.knownNames ?? Set(hosts.flatMap { h in h.groups.map { $0.lowercased() } + [h.name.lowercased(), h.serial.lowercased()] })
        known.formUnion(["all", "ungrouped", "localhost", "127.0.0.1"])
        for play in playbook.plays {
            let pattern: HostPattern
            do { pattern = try HostPattern(play.hosts) } catch {
                throw PlaybookError("hosts: \(error)", at: play.location)
            }
            for term in pattern.terms where !term.name.contains("*") && !term.name.contains("?") && !known.contains(term.name.lowercased()) {
                throw PlaybookError("play '\(play.name)' names '\(term.name)' in hosts:, which is neither a group nor a device of the inventory (see `parc groups`)",
                                    at: play.location)
            }
        }
    }

    /// The serials of the hosts a pattern names.
    func matching(_ text: String, in pool: [HostTarget]) -> Set<String> {
        guard let pattern = try? HostPattern(text) else { return [] }
        return pattern.evaluate { (term: String) -> Set<String> in
            let key = term.lowercased()
            let wild = key.contains("*") || key.contains("?")
            return Set(pool.filter { h in
                if key == "all" { return h.serial != "localhost" || hosts.contains(h) }
                let names = h.groups.map { $0.lowercased() } + [h.name.lowercased(), h.serial.lowercased()]
                return names.contains { wild ? GroupName.matches(key, $0) : $0 == key }
            }.map(\.serial))
        }
    }

    func forEach(_ items: [HostTarget], limit: Int, _ body: @escaping @Sendable (HostTarget) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(limit, items.count) { let h = items[next]; group.addTask { await body(h) }; next += 1 }
            while await group.next() != nil {
                if next < items.count { let h = items[next]; group.addTask { await body(h) }; next += 1 }
            }
        }
    }

    // MARK: One host, one play

    /// One connection per host (and per login user, when a play or task sets remote_user).
    func transport(for host: HostTarget, user: String? = nil, state: State) async throws -> (key: String, transport: any Transport) {
        if host.variable("ansible_connection")?.string == "local" { return ("local", LocalTransport()) }
        var target = host
        // A play's or task's remote_user counts only where the inventory gives no ansible_user
        // (in Ansible the host's variable wins over the keyword).
        let own = host.variable("ansible_user")?.string ?? ""
        let effective = own.isEmpty ? user : nil
        if let effective { target.vars["ansible_user"] = .string(effective) }
        let key = host.serial + "|" + (effective ?? "")
        if let t = await state.connection(key) { return (key, t) }
        let t = try await connector.connect(target)
        await state.setConnection(key, t)
        return (key, t)
    }

    func runPlay(_ play: Play, on host: HostTarget, state: State) async {
        let connection: (key: String, transport: any Transport)
        do {
            connection = try await self.transport(for: host, user: play.remoteUser, state: state)
        } catch let error as TransportError where !error.isUnreachable {
            // The device answered but refused us (host key, authentication): a failure to act on,
            // not an offline laptop.
            await fail(host, play: play, task: "connect", message: "\(error)", location: nil, state: state)
            return
        } catch {
            await unreachable(host, play: play, message: "\(error)", state: state)
            return
        }
        // Layers from the lowest precedence up (Ansible's order): role defaults, the inventory's
        // fields (data) and its vars files, facts (data), the play's vars, vars_files, -e.
        var layersBelowFacts = Scope()
        layersBelowFacts.add(data: magicVariables(play))
        // Ansible's default text; the inventory, the play or -e may set another.
        layersBelowFacts.add(data: ["ansible_managed": .string("Ansible managed")])
        layersBelowFacts.add(authored: play.roleDefaults)
        layersBelowFacts.add(data: host.data)
        layersBelowFacts.add(authored: host.vars)
        var above = Scope()
        above.add(authored: play.vars)
        above.add(data: play.promptAnswers)
        do {
            for file in play.varsFiles {
                var probe = layersBelowFacts
                probe.merge(above)
                probe.add(extra: options.extraVars)
                let resolved = probe.resolved(templates, at: play.location)
                let path: String
                do { path = try templates.render(file, vars: resolved.vars, at: play.location) } catch { throw resolved.explain(error) }
                above.add(authored: try PlaybookLoader.loadVars(path.hasPrefix("/") ? path : "\(playbook.directory)/\(path)"))
            }
        } catch {
            await fail(host, play: play, task: "vars_files", message: "\(error)", location: play.location, state: state)
            return
        }
        var scope = layersBelowFacts
        if play.gatherFacts {
            do {
                let facts = try await FactGathering.gather(connection.transport, become: play.become ? options.become : .none)
                scope.add(data: FactGathering.variables(facts))
                await state.gathered(host.serial, facts)
            } catch let error as TransportError where !error.isUnreachable {
                // The device answered (sudo refused, say): a failure, not an offline device.
                await fail(host, play: play, task: "Gathering Facts", message: "\(error)", location: play.location, state: state)
                return
            } catch {
                await unreachable(host, play: play, message: "\(error)", state: state)
                return
            }
        }
        scope.merge(above)
        scope.add(extra: options.extraVars)
        let run = HostRun(play: play, host: host, scope: scope)
        run.sessions[connection.key] = session(connection.transport, key: connection.key, host: host, state: state)
        run.main = connection.key
        await prefetch(play.tasks, run, state: state)
        await execute(play.tasks, run, state: state)
        await flushHandlers(run, state: state)
    }

    /// A device session whose connection the run's state follows (a reboot replaces it).
    func session(_ transport: any Transport, key: String, host: HostTarget, state: State) -> DeviceSession {
        DeviceSession(transport: transport, host: host, reconnect: { [connector] in try await connector.connect(host) },
                      replaced: { fresh in await state.setConnection(key, fresh) })
    }

    /// What one host carries through a play: owned by that host's task alone.
    final class HostRun: @unchecked Sendable {
        let play: Play
        let host: HostTarget
        /// The play's variables; registered ones come from the run's state at each task.
        let scope: Scope
        var notified: [String] = []
        /// Device sessions by connection (the play's, a task's remote_user, the control node).
        var sessions: [String: DeviceSession] = [:]
        var main = ""
        /// Tasks whose steps were queued, in order, waiting for their results to be recorded.
        var deferred: [Deferred] = []

        init(play: Play, host: HostTarget, scope: Scope) {
            self.play = play
            self.host = host
            self.scope = scope
        }
    }

    /// A task planned and queued on its device; its record waits for the steps' results.
    struct Deferred {
        var record: TaskRecord
        var plan: Plan
        var owner: Int
        var session: DeviceSession
        var notify: [String]
        var started: ContinuousClock.Instant
    }

    /// Ansible's magic variables: groups, hostvars, play_hosts, ansible_managed.
    func magicVariables(_ play: Play) -> [String: Value] {
        var groups: [String: [Value]] = ["all": hosts.map { .string($0.name) }]
        for h in hosts { for g in h.groups { groups[g, default: []].append(.string(h.name)) } }
        let inPlay = select(play).map { Value.string($0.name) }
        return [
            "groups": .map(groups.mapValues(Value.list)), "hostvars": .map(Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, Value.map($0.data.merging($0.vars) { _, own in own })) })),
            "play_hosts": .list(inPlay), "ansible_play_hosts": .list(inPlay), "ansible_play_hosts_all": .list(inPlay),
            "parc_playbook_dir": .string(playbook.directory), "omit": .string(Self.omit),
        ]
    }

    /// The value `omit` stands for: an argument holding it is left out (Ansible's own placeholder idea).
    static let omit = "__omit_place_holder__parc"

    /// Runs tasks in order; blocks run their rescue when a task fails and their always in any case.
    /// Queued steps are settled at the end of every list, so that a block sees its failures.
    func execute(_ tasks: [TaskSpec], _ h: HostRun, state: State, force: Bool = false) async {
        for task in tasks {
            if await state.isUnreachable(h.host.serial) { return }
            if !force, await state.isFailed(h.host.serial) { return }
            switch task.module {
            case "block":
                let failedBefore = await state.isFailed(h.host.serial)
                await execute(task.block, h, state: state, force: force)
                if !failedBefore, await state.isFailed(h.host.serial), !task.rescue.isEmpty, !(await state.isUnreachable(h.host.serial)) {
                    await state.rescue(h.host.serial, host: h.host.name)
                    await execute(task.rescue, h, state: state, force: force)
                }
                if !task.always.isEmpty { await execute(task.always, h, state: state, force: true) }
            case "meta":
                await settle(h, state: state)
                let vars = await taskScope(task, h, state: state).vars
                if (try? task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) })) ?? true { await flushHandlers(h, state: state) }
            default:
                let fired = await runTask(task, h, state: state)
                for n in fired where !h.notified.contains(n) { h.notified.append(n) }
            }
        }
        await settle(h, state: state)
    }

    /// The variables a task sees: the play's, what the host registered so far, then the task's own
    /// (a role's vars and parameters, for this task only), rendered.
    func taskScope(_ task: TaskSpec, _ h: HostRun, state: State) async -> Scope.Resolved {
        // Ansible's order above the play: task vars (role vars, block vars, the task's own),
        // then set_fact and registered values, then role and include params; -e stays pinned.
        var scope = h.scope
        scope.add(authored: task.vars)
        for (k, entry) in await state.registered(h.host.serial) {
            if entry.authored { scope.add(authored: [k: entry.value]) } else { scope.add(data: [k: entry.value]) }
        }
        scope.add(authored: task.includeParams)
        scope.add(data: ["parc_task_dir": .string(task.directory ?? playbook.directory)])
        return scope.resolved(templates, at: task.location)
    }

    /// Runs the notified handlers (once each, in the order they are written), then forgets them.
    func flushHandlers(_ h: HostRun, state: State) async {
        await settle(h, state: state)
        let notified = h.notified
        h.notified = []
        for handler in h.play.handlers where notified.contains(where: { $0 == handler.name || handler.listen.contains($0) }) {
            let failed = await state.isFailed(h.host.serial), gone = await state.isUnreachable(h.host.serial)
            if failed || gone { return }
            let more = await runTask(handler, h, state: state, tagsApply: false)
            await settle(h, state: state)
            h.notified += more.filter { !notified.contains($0) && !h.notified.contains($0) }
        }
        if !h.notified.isEmpty { await flushHandlers(h, state: state) }
    }

    func unreachable(_ host: HostTarget, play: Play, message: String, state: State) async {
        await state.markUnreachable(host.name, host.serial)
        observer(.unreachable(host: host.name, message: message))
        await state.add(TaskRecord(play: play.name, task: "connect", host: host.name, serial: host.serial, item: nil, outcome: .unreachable,
                                   changed: false, ignored: false, message: message, output: nil, diff: [], milliseconds: 0, location: nil))
    }

    func fail(_ host: HostTarget, play: Play, task: String, message: String, location: SourceLocation?, state: State) async {
        let r = TaskRecord(play: play.name, task: task, host: host.name, serial: host.serial, item: nil, outcome: .failed, changed: false,
                           ignored: false, message: message, output: nil, diff: [], milliseconds: 0, location: location)
        await state.add(r)
        await state.markFailed(host.serial)
        observer(.task(r))
    }

    /// Whether `--tags` / `--skip-tags` let the task run.
    func selectedByTags(_ task: TaskSpec, play: Play) -> Bool {
        let tags = Set(task.tags + play.tags)
        if tags.contains("never") && options.tags.isDisjoint(with: tags) { return false }
        if !options.skipTags.isDisjoint(with: tags) { return false }
        if options.tags.isEmpty || options.tags.contains("all") { return true }
        return tags.contains("always") || !options.tags.isDisjoint(with: tags)
    }

    // MARK: Facts known before the play

    /// Asks the device, in one round trip, what the play's tasks will want to know and can be
    /// known before anything runs: every task whose arguments and conditions need nothing the
    /// run produces is planned against no facts, and the facts it asks for are gathered.
    func prefetch(_ tasks: [TaskSpec], _ h: HostRun, state: State) async {
        guard let session = h.sessions[h.main] else { return }
        var wanted: [String: (become: Become, facts: [Fact])] = [:]
        func walk(_ list: [TaskSpec]) async {
            for task in list {
                if task.module == "block" { await walk(task.block); continue }
                guard let spec = Modules.registry[task.module], case .device(let plan) = spec.behaviour, task.loop == nil, !task.delegateToLocal,
                      task.remoteUser == nil || task.remoteUser == h.play.remoteUser, !task.noLog, selectedByTags(task, play: h.play) else { continue }
                let vars = await taskScope(task, h, state: state).vars
                guard (try? task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) })) == true,
                      var ctx = try? context(task, vars: vars, h) else { continue }
                ctx.known = [:]
                let become = self.become(task, h)
                do { _ = try plan(ctx) } catch let need as NeedFacts {
                    let k = DeviceSession.key(become)
                    wanted[k, default: (become, [])].facts += need.facts
                } catch {}
            }
        }
        await walk(tasks)
        for (_, entry) in wanted.sorted(by: { $0.key < $1.key }) where !entry.facts.isEmpty {
            // A failure here shows again, in its place, when the task that wants the fact runs.
            try? await session.gather(entry.facts, become: entry.become)
        }
    }

    // MARK: One task

    /// How the task becomes another user: the inventory's ansible_become* variables win over
    /// the keywords, as in Ansible.
    func become(_ task: TaskSpec, _ h: HostRun) -> Become {
        let host = h.host
        let becomeUser = host.variable("ansible_become_user")?.string ?? task.becomeUser ?? h.play.becomeUser
        let becomes = host.variable("ansible_become").map(\.truthy) ?? task.become ?? h.play.become
        var method = options.become
        if let pass = (host.variable("ansible_become_password") ?? host.variable("ansible_become_pass"))?.string, !pass.isEmpty {
            method = .sudoPassword(Secret(pass))
        }
        guard becomes else { return .none }
        guard let user = becomeUser else { return method }
        if case .sudoPassword(let secret) = method { return .sudoUser(user, secret) }
        return .sudoUser(user, nil)
    }

    /// The module's context for one item: its arguments rendered (assert's `that` stay
    /// conditions), `omit` left out.
    func context(_ task: TaskSpec, vars v: [String: Value], _ h: HostRun) throws -> ModuleContext {
        var raw = task.args
        let conditions = task.module == "assert" ? raw.removeValue(forKey: "that") : nil
        var args = try templates.evaluate(.map(raw), vars: v, at: task.location).map ?? [:]
        if let conditions { args["that"] = conditions }
        args = args.filter { $0.value != .string(Self.omit) }
        var ctx = ModuleContext(args: args)
        ctx.check = options.check
        ctx.diff = options.diff
        ctx.playbookDirectory = task.directory ?? playbook.directory
        ctx.vars = v
        ctx.templates = templates
        ctx.location = task.location
        ctx.runStarted = started
        ctx.noLog = task.noLog
        ctx.environment = try templates.evaluate(.map(h.play.environment.merging(task.environment) { _, own in own }), vars: v, at: task.location).map ?? [:]
        return ctx
    }

    /// The items of a task's loop (one nil item without a loop).
    func items(_ task: TaskSpec, vars: [String: Value]) throws -> [Value?] {
        guard let loop = task.loop else { return [nil] }
        let evaluated = try templates.evaluate(loop, vars: vars, at: task.location)
        switch task.loopKind {
        case .withDict:
            // One item per key, {key, value}, in the mapping's order.
            guard case .map(let d) = evaluated else { throw PlaybookError("with_dict needs a mapping", at: task.location) }
            return d.map { .map(OrderedMap(ordered: [("key", .string($0.key)), ("value", $0.value)])) }
        case .withItems:
            // The list flattened one level (a lone string is a list of one).
            return (evaluated.list ?? [evaluated]).flatMap { $0.list ?? [$0] }
        case .loop:
            guard case .list(let list) = evaluated else { throw PlaybookError("loop needs a list; this one is \(evaluated.json)", at: task.location) }
            return list
        }
    }

    /// Whether a task's record may wait for its steps to be sent with later ones: nothing in the
    /// task reads its result (no register, changed_when, failed_when, ignore_errors, loop, run_once).
    func canWait(_ task: TaskSpec) -> Bool {
        task.loop == nil && task.register == nil && task.changedWhen == nil && task.failedWhen == nil && !task.ignoreErrors && !task.runOnce
            && task.asyncSeconds == nil
    }

    /// Plans a device module: asks the device for the facts it wants (with the queued steps in
    /// the same round trip) until it has them all; a plan that asks to plan again has its steps
    /// applied first (never in check mode).
    func plan(_ body: @Sendable (ModuleContext) throws -> Plan, _ ctx: ModuleContext, session: DeviceSession, become: Become) async throws -> (plan: Plan, earlier: [Int]) {
        var ctx = ctx
        var earlier: [Int] = []
        var asked = 0
        while true {
            ctx.known = session.known(for: become)
            do {
                let p = try body(ctx)
                guard p.again else { return (p, earlier) }
                if !options.check {
                    let owner = session.newOwner()
                    session.enqueue(p.steps, become: become, owner: owner)
                    earlier.append(owner)
                    try await session.flush()
                    if session.failedStep { return (p, earlier) }
                }
                ctx.phase += 1
            } catch let need as NeedFacts {
                asked += 1
                if asked > 8 { throw ModuleFailure("the module kept asking the device for facts (\(need.facts.map(\.script).joined(separator: "; ")))") }
                try await session.gather(need.facts, become: become)
            }
        }
    }

    /// A device module's result once its steps ran: a failed step fails it, the result step's
    /// output completes it.
    static func outcome(_ plan: Plan, _ results: [CommandResult?], earlier: [CommandResult?] = []) -> ModuleResult? {
        var r = plan.result
        for res in earlier {
            guard let res else { return nil }
            if !res.succeeded {
                r.failed = true
                r.changed = false
                r.msg = "\(plan.steps.first?.what ?? "a step") failed (exit \(res.exitStatus)): \(Self.why(res))"
                return r
            }
        }
        for (step, res) in zip(plan.steps, results) {
            guard let res else { return nil }
            if step.isResult {
                plan.finish?(&r, res)
                if r.failed { return r }
            } else if !res.succeeded {
                r.failed = true
                r.changed = false
                r.msg = "\(step.what) failed (exit \(res.exitStatus)): \(Self.why(res))"
                return r
            }
        }
        return r
    }

    static func why(_ r: CommandResult) -> String {
        let text = r.stderrText.trimmed.isEmpty ? r.stdoutText.trimmed : r.stderrText.trimmed
        return text.isEmpty ? "no message" : text
    }

    /// Sends the queued steps of the host's waiting tasks and records their outcomes in order.
    /// Once one failed, the later ones never ran (the device skipped their steps): they leave
    /// no record, as tasks after a failure in Ansible.
    /// Returns the error of sending when no waiting task took it (the caller's own steps failed to go).
    @discardableResult
    func settle(_ h: HostRun, state: State) async -> (any Error)? {
        let waiting = h.deferred
        h.deferred = []
        var sendError: (any Error)? = nil
        for session in Set(h.sessions.keys).sorted().compactMap({ h.sessions[$0] }) where session.hasQueuedSteps {
            do { try await session.flush() } catch { sendError = error; break }
        }
        var stopped = false
        for d in waiting {
            if stopped { continue }
            var record = d.record
            guard let results = d.session.results(of: d.owner), let result = Self.outcome(d.plan, results) else {
                if let error = sendError {
                    await finishWithError(error, record: record, h, state: state)
                    sendError = nil
                    stopped = true
                }
                continue
            }
            fill(&record, with: result, noLog: false)
            record.milliseconds = (ContinuousClock.now - d.started).ms
            await state.add(record)
            observer(.task(record))
            if result.failed {
                await state.markFailed(h.host.serial)
                stopped = true
            } else if result.changed {
                for n in d.notify where !h.notified.contains(n) { h.notified.append(n) }
            }
        }
        // Every failure sent so far is recorded: what the runner queues next may run.
        for session in h.sessions.values { session.clearFailure() }
        return sendError
    }

    /// A task's record when talking to the device failed: unreachable (the host is done) or failed.
    func finishWithError(_ error: any Error, record: TaskRecord, _ h: HostRun, state: State) async {
        var record = record
        record.message = "\(error)"
        if let e = error as? TransportError, e.isUnreachable {
            record.outcome = .unreachable
            await state.add(record)
            await state.markUnreachable(h.host.name, h.host.serial)
            observer(.unreachable(host: h.host.name, message: "\(error)"))
        } else {
            record.outcome = .failed
            await state.add(record)
            await state.markFailed(h.host.serial)
            observer(.task(record))
        }
    }

    func fill(_ record: inout TaskRecord, with result: ModuleResult, noLog: Bool) {
        record.outcome = result.failed ? .failed : result.skipped ? .skipped : result.changed ? .changed : .ok
        record.changed = result.changed
        record.message = result.msg
        record.output = [result.stdout, result.stderr].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: "\n")
        record.diff = result.diff
        if noLog {
            record.output = record.output.map { _ in "(output hidden by no_log)" }
            record.message = record.message.map { _ in "(hidden by no_log)" }
            record.diff = []
        }
    }

    /// What one item of a task gave, once its outcome is known.
    enum ItemOutcome {
        /// Its result (its record written by the caller).
        case done(ModuleResult)
        /// Queued with the steps of later tasks; recorded when they are sent.
        case waiting
        /// The host failed or went away before this item ran (an earlier task's steps failed).
        case stopped
    }

    /// Runs one task (every loop item) and returns the handlers it notifies.
    func runTask(_ task: TaskSpec, _ h: HostRun, state: State, tagsApply: Bool = true) async -> [String] {
        let (play, host) = (h.play, h.host)
        if tagsApply && !selectedByTags(task, play: play) { return [] }
        if tagsApply, let start = options.startAtTask, !(await state.started(host.serial)) {
            // As Ansible: the task's name as written, or "role : name", against the glob.
            guard GroupName.matches(start.lowercased(), task.name.lowercased()) else { return [] }
            await state.start(host.serial)
        }
        guard let spec = Modules.registry[task.module] else { return [] }
        // A task that runs on the control node (or through another connection) waits for the
        // device's queued steps: it must not run if one of them fails.
        if !spec.touchesDevice || task.delegateToLocal || (task.remoteUser != nil && task.remoteUser != play.remoteUser) {
            await settle(h, state: state)
            if await state.isDown(host.serial) { return [] }
        }
        let resolved = await taskScope(task, h, state: state)
        var base = resolved.vars
        let name = (try? templates.render(task.name, vars: base, at: task.location)) ?? task.name
        let items: [Value?]
        do { items = try self.items(task, vars: base) } catch {
            await fail(host, play: play, task: name, message: "\(resolved.explain(error))", location: task.location, state: state)
            return []
        }
        // Where the task runs, as whom.
        let session: DeviceSession
        do {
            session = try await self.session(for: task, h, state: state)
        } catch {
            await finishWithError(error, record: record(task, name: name, h, item: nil), h, state: state)
            return []
        }
        let become = self.become(task, h)
        var results: [Value] = []
        var anyChanged = false
        var hostFailed = false
        var itemRecords: [TaskRecord] = []
        for (index, item) in items.enumerated() {
            var v = base
            if let item { v[task.loopVar] = item }
            if item != nil, let indexVar = task.loopIndexVar { v[indexVar] = .int(index) }
            let start = ContinuousClock.now
            let label = item.map { i in task.loopLabel.flatMap { try? templates.render($0, vars: v, at: task.location) } ?? i.description }
            var record = self.record(task, name: name, h, item: label.map { task.noLog ? "(hidden)" : $0 })
            var result = ModuleResult()
            do {
                if try !task.when.allSatisfy({ try templates.condition($0, vars: v, at: task.location) }) {
                    result.skipped = true
                    record.outcome = .skipped
                    record.message = "condition false"
                } else {
                    let ctx = try context(task, vars: v, h)
                    let outcome: ItemOutcome
                    if task.runOnce {
                        // The first host runs it; every host records the same result.
                        let key = "\(task.location)|\(label ?? "")"
                        let first = record
                        let (shared, ranHere) = await state.runOnce(key) {
                            (try? await self.perform(spec, ctx, task: task, record: first, session: session, become: become, h, state: state, wait: false))
                                .flatMap { if case .done(let r) = $0 { r } else { nil } } ?? ModuleResult(failed: "the task could not run on its first host")
                        }
                        var r = shared
                        if !ranHere { r.msg = (r.msg.map { $0 + " " } ?? "") + "(run once, on another host)" }
                        outcome = .done(r)
                    } else {
                        outcome = try await perform(spec, ctx, task: task, record: record, session: session, become: become, h, state: state,
                                                    wait: canWait(task))
                    }
                    switch outcome {
                    case .waiting: return []
                    case .stopped: return []
                    case .done(let r): result = r
                    }
                    // set_fact and include_vars: their values stay with the host for the rest of the run.
                    // set_fact values are data; include_vars values are templates when a person
                    // wrote the file.
                    if !result.failed, case .map(let facts)? = result.data["ansible_facts"] {
                        for (k, fact) in facts { await state.register(host.serial, k, fact, authored: result.authoredFacts) }
                        if result.authoredFacts { base = await taskScope(task, h, state: state).vars }
                        else { for (k, fact) in facts { base[k] = fact } }
                    }
                    var reg = result.registered
                    v["result"] = reg
                    if let expression = task.changedWhen {
                        result.changed = try templates.condition(expression, vars: withRegister(v, task, reg), at: task.location)
                    }
                    if let expression = task.failedWhen {
                        result.failed = try templates.condition(expression, vars: withRegister(v, task, reg), at: task.location)
                    }
                    reg = result.registered
                    if let item, case .map(var m) = reg {
                        // As Ansible's loop results: each carries its item.
                        m[task.loopVar] = item
                        m["ansible_loop_var"] = .string(task.loopVar)
                        if let indexVar = task.loopIndexVar { m[indexVar] = .int(index); m["ansible_index_var"] = .string(indexVar) }
                        reg = .map(m)
                    }
                    results.append(reg)
                    fill(&record, with: result, noLog: false)
                }
            } catch let error as TransportError where error.isUnreachable {
                await finishWithError(error, record: record, h, state: state)
                if task.loop != nil { await countLoop(itemRecords, task: task, name: name, host: host, play: play, state: state) }
                return []
            } catch {
                record.outcome = .failed
                record.message = "\(resolved.explain(error))"
                result.failed = true
            }
            if task.noLog { fill(&record, with: result, noLog: true); if record.outcome == .skipped { record.message = "condition false" } }
            if record.outcome == .failed && task.ignoreErrors { record.ignored = true }
            record.milliseconds = (ContinuousClock.now - start).ms
            await state.add(record, count: task.loop == nil)
            itemRecords.append(record)
            observer(.task(record))
            if record.outcome == .changed { anyChanged = true }
            if record.outcome == .failed && !task.ignoreErrors { hostFailed = true }
        }
        if task.loop != nil { await countLoop(itemRecords, task: task, name: name, host: host, play: play, state: state) }
        if let register = task.register {
            let value: Value = task.loop == nil ? (results.first ?? .map(["skipped": .bool(true), "changed": .bool(false)]))
                : .map(["results": .list(results), "changed": .bool(anyChanged)])
            await state.register(host.serial, register, value)
        }
        if hostFailed {
            await state.markFailed(host.serial)
            return []
        }
        return anyChanged ? task.notify : []
    }

    /// A task's record before it runs.
    func record(_ task: TaskSpec, name: String, _ h: HostRun, item: String?) -> TaskRecord {
        TaskRecord(play: h.play.name, task: name, host: h.host.name, serial: h.host.serial, item: item, outcome: .ok, changed: false,
                   ignored: false, message: nil, output: nil, diff: [], milliseconds: 0, location: task.location, module: task.module)
    }

    /// The session a task runs through: the play's connection, another login user's, or the
    /// control node's (delegate_to: localhost).
    func session(for task: TaskSpec, _ h: HostRun, state: State) async throws -> DeviceSession {
        let key: String
        let transport: any Transport
        if task.delegateToLocal {
            key = "local"
            if let s = h.sessions[key] { return s }
            transport = LocalTransport()
        } else if let user = task.remoteUser, user != h.play.remoteUser {
            (key, transport) = try await self.transport(for: h.host, user: user, state: state)
            if let s = h.sessions[key] { return s }
        } else {
            return h.sessions[h.main]!
        }
        let s = session(transport, key: key, host: h.host, state: state)
        h.sessions[key] = s
        return s
    }

    /// One item of a task: a control-node module's result, or a device module planned, its steps
    /// queued, and (unless the task may wait) sent with what was queued before them.
    func perform(_ spec: ModuleSpec, _ ctx: ModuleContext, task: TaskSpec, record: TaskRecord, session: DeviceSession, become: Become,
                 _ h: HostRun, state: State, wait: Bool) async throws -> ItemOutcome {
        switch spec.behaviour {
        case .control(let body):
            do { return .done(try body(ctx)) } catch let failure as ModuleFailure { return .done(ModuleResult(failed: failure.message)) }
        case .device(let body):
            let planned: (plan: Plan, earlier: [Int])
            do {
                planned = try await plan(body, ctx, session: session, become: become)
            } catch let failure as ModuleFailure {
                await settle(h, state: state)
                if await state.isDown(h.host.serial) { return .stopped }
                return .done(ModuleResult(failed: failure.message))
            }
            if session.failedStep && planned.earlier.isEmpty {
                // An earlier task's step failed on the device while this one gathered its facts.
                await settle(h, state: state)
                if await state.isDown(h.host.serial) { return .stopped }
            }
            var p = planned.plan
            if options.check { return .done(p.result) }
            if let seconds = task.asyncSeconds { for i in p.steps.indices { p.steps[i].timeout = .seconds(seconds) } }
            let owner = session.newOwner()
            session.enqueue(p.steps, become: become, owner: owner)
            if wait {
                h.deferred.append(Deferred(record: record, plan: p, owner: owner, session: session, notify: task.notify, started: .now))
                return .waiting
            }
            // The steps queued before go with this task's, in one round trip; their records come first.
            if let error = await settle(h, state: state) {
                if let e = error as? TransportError, e.isUnreachable { throw e }
                if let seconds = task.asyncSeconds, case TransportError.channelFailure(_, let reason)? = error as? TransportError, reason.contains("no answer") {
                    return .done(ModuleResult(failed: "async task did not complete within the requested time - \(seconds)s"))
                }
                return .done(ModuleResult(failed: "\(error)"))
            }
            if await state.isDown(h.host.serial) { return .stopped }
            let earlier = planned.earlier.flatMap { session.results(of: $0) ?? [] }
            guard let result = Self.outcome(p, session.results(of: owner) ?? [], earlier: earlier) else { return .stopped }
            return .done(result)
        }
    }

    /// A loop task's one count in the recap: failed if an item failed, changed if one changed,
    /// skipped if every item was (or there were none), ok otherwise.
    func countLoop(_ items: [TaskRecord], task: TaskSpec, name: String, host: HostTarget, play: Play, state: State) async {
        var r = TaskRecord(play: play.name, task: name, host: host.name, serial: host.serial, item: nil, outcome: .ok, changed: false,
                           ignored: false, message: nil, output: nil, diff: [], milliseconds: 0, location: task.location)
        if items.contains(where: { $0.outcome == .unreachable }) { return }
        if let failed = items.first(where: { $0.outcome == .failed }) { r.outcome = .failed; r.ignored = failed.ignored }
        else if items.contains(where: { $0.outcome == .changed }) { r.outcome = .changed }
        else if items.allSatisfy({ $0.outcome == .skipped }) { r.outcome = .skipped }
        await state.count(r)
    }

    func withRegister(_ vars: [String: Value], _ task: TaskSpec, _ reg: Value) -> [String: Value] {
        var v = vars
        if let name = task.register { v[name] = reg }
        return v
    }
}

extension Duration {
    /// Whole milliseconds.
    var ms: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
