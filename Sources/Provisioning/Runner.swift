import Foundation
import Logging
import ParcCore
import Templating

/// A device as a play sees it: its name, its groups and its inventory variables.
///
/// `vars` are what a person wrote for the device (inventory `group_vars` / `host_vars` files):
/// rendered on use. `data` are its inventory fields and stored facts: never rendered.
public struct HostTarget: Sendable, Hashable, Codable {
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
    /// `-e` typed in a terminal by the person who runs parc: templates, as ansible-playbook's.
    public var extraVars: [String: Value] = [:]
    /// Launch-time variables given through the web, the API or a relay: as high as `-e`, but data,
    /// never rendered (a request must not make the server read a file or its environment).
    public var extraData: [String: Value] = [:]
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
    /// Set to stop the run: no device starts another task; the steps in progress end.
    public var cancellation: RunCancellation?

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

/// A host's counts at the end, as Ansible's recap.
public struct HostRecap: Sendable, Equatable, Codable {
    public var ok = 0
    public var changed = 0
    public var failed = 0
    public var skipped = 0
    public var unreachable = 0
    public var ignored = 0
    public var rescued = 0

    public init(ok: Int = 0, changed: Int = 0, failed: Int = 0, skipped: Int = 0, unreachable: Int = 0, ignored: Int = 0, rescued: Int = 0) {
        self.ok = ok
        self.changed = changed
        self.failed = failed
        self.skipped = skipped
        self.unreachable = unreachable
        self.ignored = ignored
        self.rescued = rescued
    }
}

public struct RunResult: Sendable, Codable {
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

    public init(records: [TaskRecord], recap: [String: HostRecap], failedHosts: [String], unreachableHosts: [String], aborted: String? = nil,
                facts: [String: DeviceFacts] = [:], roundTrips: [String: Int] = [:]) {
        self.records = records
        self.recap = recap
        self.failedHosts = failedHosts
        self.unreachableHosts = unreachableHosts
        self.aborted = aborted
        self.facts = facts
        self.roundTrips = roundTrips
    }

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
    let memories: [String: HostMemory]

    public init(playbook: Playbook, hosts: [HostTarget], connector: any Connector, options: RunOptions,
                logger: Logger = Logger(label: "parc.run"), observer: @escaping @Sendable (RunEvent) -> Void = { _ in }) {
        self.playbook = playbook
        self.hosts = hosts
        self.connector = connector
        self.options = options
        // Every record leaves the runner masked for no_log (terminal, database, SSE, API).
        self.observer = { event in
            if case .task(let r) = event { observer(.task(r.masked)) } else { observer(event) }
        }
        self.logger = logger
        var memories: [String: HostMemory] = [Self.implicitLocalhost.serial: HostMemory()]
        for h in hosts { memories[h.serial] = HostMemory() }
        self.memories = memories
    }

    /// What the hosts share: the records and their recap, and run_once's results. Everything
    /// about one device lives in its ``HostMemory``, which only that device's task touches.
    actor State {
        var records: [TaskRecord] = []
        var recap: [String: HostRecap] = [:]

        /// The host's last failed (not ignored) task record.
        func lastFailure(_ host: String) -> TaskRecord? {
            records.last { $0.host == host && $0.outcome == .failed && !$0.ignored }
        }

        /// The `meta: end_play` tasks a host reached with its condition true, by their place.
        private var endedPlays: Set<String> = []
        func endPlay(_ play: String) { endedPlays.insert(play) }
        func playEnded(_ play: String) -> Bool { endedPlays.contains(play) }

        /// Adds a record; `count: false` for a loop's items, whose task is counted once (`count(_:)`).
        func add(_ r: TaskRecord, count: Bool = true) {
            records.append(r.masked)
            if count { self.count(r) }
        }

        /// Counts a task in its host's recap, as Ansible's stats do (a loop counts once).
        func count(_ r: TaskRecord) {
            var c = recap[r.host] ?? HostRecap()
            switch r.outcome {
            case .ok: c.ok += 1
            case .changed: c.ok += 1; c.changed += 1
            // An ignored failure counts as ok and ignored, as in Ansible's recap.
            // (and as changed when its result says so, a failed command's does).
            case .failed: if r.ignored { c.ok += 1; c.ignored += 1; if r.changed { c.changed += 1 } } else { c.failed += 1 }
            case .skipped: c.skipped += 1
            case .unreachable: c.unreachable += 1
            }
            recap[r.host] = c
        }

        /// A rescue caught the host's failure.
        func rescued(_ host: String) {
            var c = recap[host] ?? HostRecap()
            c.rescued += 1
            if c.failed > 0 { c.failed -= 1 }
            recap[host] = c
        }

        var once: [String: Task<ModuleResult, Never>] = [:]
        /// run_once: the first host to reach the task runs it; the others get its result.
        func runOnce(_ key: String, _ body: @escaping @Sendable () async -> ModuleResult) async -> (result: ModuleResult, ranHere: Bool) {
            if let t = once[key] { return (await t.value, false) }
            let t = Task { await body() }
            once[key] = t
            return (await t.value, true)
        }
    }

    /// What the run knows of one device across its plays. Plays run one after the other and a
    /// device's play runs in one task, so only that task touches it (and the runner, between
    /// batches and at the end, once the tasks are done).
    final class HostMemory: @unchecked Sendable {
        var failed = false
        var unreachable = false
        var isDown: Bool { failed || unreachable }
        /// Past --start-at-task's task.
        var started = false
        /// Registered results and set_fact values (data), include_vars values (authored unless a
        /// run wrote the file).
        var registered: [String: (value: Value, authored: Bool)] = [:]
        /// Connections by "serial|login user".
        var connections: [String: any Transport] = [:]
        var facts: DeviceFacts?
        var roundTrips = 0

        func closeAll() async {
            for t in connections.values {
                roundTrips += await t.roundTrips()
                await t.close()
            }
            connections = [:]
        }
    }

    /// Every device's memory, made before the run (the implicit localhost included).
    func memory(_ serial: String) -> HostMemory { memories[serial]! }

    func result(_ state: State, aborted: String?) async -> RunResult {
        var r = RunResult(records: await state.records, recap: await state.recap,
                          failedHosts: memories.filter { $0.value.failed }.keys.sorted(),
                          unreachableHosts: memories.filter { $0.value.unreachable }.keys.sorted(), aborted: aborted,
                          facts: memories.compactMapValues(\.facts))
        r.roundTrips = memories.compactMapValues { $0.roundTrips > 0 ? $0.roundTrips : nil }
        return r
    }

    public func run() async -> RunResult {
        let state = State()
        var aborted: String? = nil
        // Tasks parc cannot run, each behind a condition: said before anything runs.
        for r in playbook.refusals { observer(.note("\(r.location.map { "\($0): " } ?? "")\(r.message); the task fails if it runs")) }
        plays: for written in playbook.plays {
            var play = written
            for p in play.prompts where options.extraVars[p.name] == nil && options.extraData[p.name] == nil {
                let question = p.prompt + (p.defaultValue.map { " [\($0.description)]" } ?? "")
                var answer = options.prompter?(question, p.isPrivate)
                // confirm: the same answer twice (three tries, as a person mistypes).
                if p.confirm, answer != nil {
                    var tries = 1
                    while let first = answer, options.prompter?("confirm " + question, p.isPrivate) != first {
                        observer(.note("***** VALUES ENTERED DO NOT MATCH ****"))
                        tries += 1
                        answer = tries <= 3 ? options.prompter?(question, p.isPrivate) : nil
                        if answer == nil { break }
                    }
                    if answer == nil {
                        aborted = "\(p.location): vars_prompt '\(p.name)': the two answers never matched"
                        observer(.note(aborted!))
                        break plays
                    }
                }
                if let scheme = p.encrypt, let plain = (answer?.isEmpty == false ? answer : nil) ?? p.defaultValue?.description {
                    // Hashed as Ansible's encrypt does, with a salt drawn at random (or the one given).
                    let kind = Prompt.schemes[scheme] ?? "sha512"
                    do {
                        let hashed = try PasswordHash.hash(plain, scheme: kind, salt: p.salt ?? PasswordHash.randomSalt(p.saltSize ?? (kind == "md5" ? 8 : 16)), rounds: nil)
                        play.promptAnswers[p.name] = .string(hashed)
                    } catch {
                        aborted = "\(p.location): vars_prompt '\(p.name)': \(error)"
                        observer(.note(aborted!))
                        break plays
                    }
                } else if let answer, !answer.isEmpty {
                    play.promptAnswers[p.name] = .string(answer)
                } else if let d = p.defaultValue {
                    play.vars[p.name] = d
                } else {
                    aborted = "\(p.location): vars_prompt '\(p.name)' needs an answer: run parc on a terminal, or give it with -e \(p.name)=…"
                    observer(.note(aborted!))
                    break plays
                }
            }
            if let by = options.cancellation?.cancelledBy { aborted = Self.cancelled(by); break plays }
            let selected = select(play)
            observer(.play(name: play.name, hosts: selected.count))
            if selected.isEmpty { observer(.note("play \(play.name): no host matches \(play.hosts)")); continue }
            var start = 0
            for size in play.serial.batches(of: selected.count) {
                if let by = options.cancellation?.cancelledBy { aborted = Self.cancelled(by); break plays }
                let batch = Array(selected[start..<(start + size)])
                start += size
                var alive: [HostTarget] = []
                for h in batch where !memory(h.serial).isDown { alive.append(h) }
                let thePlay = play
                await forEach(alive, limit: options.forks) { host in await self.runPlay(thePlay, on: host, state: state) }
                if let max = play.maxFailPercentage {
                    var failedInBatch = 0
                    for h in batch where memory(h.serial).isDown { failedInBatch += 1 }
                    if Double(failedInBatch) * 100 / Double(batch.count) > Double(max) {
                        aborted = "play \(play.name): \(failedInBatch) of \(batch.count) host(s) failed, over max_fail_percentage \(max)%; the run stops"
                        observer(.note(aborted!))
                        break plays
                    }
                }
            }
        }
        if aborted == nil, let by = options.cancellation?.cancelledBy { aborted = Self.cancelled(by) }
        if let aborted, options.cancellation?.isCancelled == true { observer(.note(aborted)) }
        for m in memories.values { await m.closeAll() }
        return await result(state, aborted: aborted)
    }

    static func cancelled(_ actor: String) -> String { "cancelled by \(actor): the tasks in progress ended, no other task started" }

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
        if let t = memory(host.serial).connections[key] { return (key, t) }
        let t = try await connector.connect(target)
        memory(host.serial).connections[key] = t
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
                probe.add(extraData: options.extraData)
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
                let facts = try await FactGathering.gatherForPlay(connection.transport, become: play.become ? options.become : .none)
                let kept = try AnsibleFacts.subset(FactGathering.variables(facts.device, ansible: facts.ansible)["ansible_facts"]?.map ?? [:], play.gatherSubset)
                scope.add(data: FactGathering.namespaced(kept))
                memory(host.serial).facts = facts.device
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
        scope.add(extraData: options.extraData)
        let run = HostRun(play: play, host: host, scope: scope)
        run.sessions[connection.key] = session(connection.transport, key: connection.key, host: host, state: state)
        run.main = connection.key
        await prefetch(play.tasks, run, state: state)
        await execute(play.tasks, run, state: state)
        await flushHandlers(run, state: state)
    }

    /// A device session whose connection the run's state follows (a reboot replaces it).
    func session(_ transport: any Transport, key: String, host: HostTarget, state: State) -> DeviceSession {
        let own = memory(host.serial)
        return DeviceSession(transport: transport, host: host, reconnect: { [connector] in try await connector.connect(host) },
                             replaced: { fresh in own.connections[key] = fresh })
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
            if memory(h.host.serial).unreachable || options.cancellation?.isCancelled == true || h.ended { return }
            if !force, memory(h.host.serial).failed { return }
            switch task.kind {
            case .block:
                let failedBefore = memory(h.host.serial).failed
                await execute(task.block, h, state: state, force: force)
                if !failedBefore, memory(h.host.serial).failed, !task.rescue.isEmpty, !(memory(h.host.serial).unreachable) {
                    memory(h.host.serial).failed = false
                    // What rescue tasks read of the failure, as Ansible gives it (data: never rendered).
                    if let failure = await state.lastFailure(h.host.name) {
                        var result: OrderedMap = ["failed": .bool(true), "changed": .bool(failure.changed), "msg": .string(failure.message ?? "")]
                        if let output = failure.output, !output.isEmpty { result["stdout"] = .string(output) }
                        memory(h.host.serial).registered["ansible_failed_result"] = (.map(result), false)
                        memory(h.host.serial).registered["ansible_failed_task"] = (.map(["name": .string(failure.task), "action": .string(failure.module)]), false)
                    }
                    await state.rescued(h.host.name)
                    await execute(task.rescue, h, state: state, force: force)
                }
                if !task.always.isEmpty { await execute(task.always, h, state: state, force: true) }
            case .include(let include):
                await runInclude(task, include, h, state: state)
            case .meta(let action):
                await settle(h, state: state)
                let vars = await taskScope(task, h, state: state).vars
                // end_play: a host ends the play where another ended it (hosts run on their own here,
                // so each stops when it reaches that task; Ansible's linear strategy has them all there).
                let endedHere = action == "end_play" ? await state.playEnded(task.location.description) : false
                let applies = endedHere || ((try? task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) })) ?? false)
                guard applies else {
                    var r = record(task, name: task.name, h, item: nil)
                    r.outcome = .skipped
                    r.message = "condition false"
                    await state.add(r)
                    observer(.task(r))
                    continue
                }
                switch action {
                case "end_host": h.ended = true; return
                case "end_play": await state.endPlay(task.location.description); h.ended = true; return
                default: break  // noop, refresh_inventory, clear_host_errors: nothing to do here
                }
            case .flushHandlers:
                await settle(h, state: state)
                let vars = await taskScope(task, h, state: state).vars
                if (try? task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) })) ?? true { await flushHandlers(h, state: state) }
            case .module:
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
        for (k, entry) in memory(h.host.serial).registered {
            if entry.authored { scope.add(authored: [k: entry.value]) } else { scope.add(data: [k: entry.value]) }
        }
        scope.add(authored: task.includeParams)
        scope.add(data: task.includeData)
        // Ansible's ansible_search_path: the task's role, then the folder of the file the task is written in.
        let fileFolder = (task.location.file as NSString).deletingLastPathComponent
        let searchPath = [task.directory, fileFolder.isEmpty ? nil : fileFolder].compactMap { $0 }
        scope.add(data: ["parc_task_dir": .string(task.directory ?? playbook.directory),
                         "ansible_search_path": .list(searchPath.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.map { .string($0) })])
        return scope.resolved(templates, at: task.location)
    }

    /// loop_control's `loop_var`, rendered when it is a template (`"{{ loop_var_name }}"`).
    func loopVar(_ task: TaskSpec, vars: [String: Value]) -> String {
        guard task.loopVar.contains("{{") else { return task.loopVar }
        return (try? templates.render(task.loopVar, vars: vars, at: task.location)) ?? task.loopVar
    }

    /// How many dynamic includes the running task is inside (a file that includes itself stops).
    @TaskLocal static var includeDepth = 0

    /// A dynamic include_tasks: its condition, then per loop item its file name rendered, its
    /// tasks read and run (the item given to them as data). Each file included is a record, as
    /// ansible-playbook's `included:` lines, and counts as ok.
    func runInclude(_ task: TaskSpec, _ include: DynamicInclude, _ h: HostRun, state: State) async {
        guard selectedByTags(task, play: h.play) else { return }
        // A file parc could not read at load: skipped if its condition is false, else it fails there.
        if let refusal = task.refusal { _ = await refuse(task, refusal, h, state: state); return }
        await settle(h, state: state)
        if memory(h.host.serial).isDown { return }
        let vars = await taskScope(task, h, state: state).vars
        let name = (try? templates.render(task.name, vars: vars, at: task.location)) ?? task.name
        var base = record(task, name: name, h, item: nil)
        do {
            if try !task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) }) {
                base.outcome = .skipped
                base.message = "condition false"
                await state.add(base)
                observer(.task(base))
                return
            }
            let items = try self.items(task, vars: vars)
            if task.loop != nil && items.isEmpty {
                base.outcome = .skipped
                base.message = "No items in the list"
                await state.add(base)
                observer(.task(base))
                return
            }
            for (index, item) in items.enumerated() {
                var v = vars
                var data: [String: Value] = [:]
                let loopVar = self.loopVar(task, vars: vars)
                if let item { v[loopVar] = item; data[loopVar] = item; data["ansible_loop_var"] = .string(loopVar) }
                if item != nil, let indexVar = task.loopIndexVar { v[indexVar] = .int(index); data[indexVar] = .int(index) }
                let file = try templates.render(include.file, vars: v, at: task.location)
                let path = PlaybookLoader.normalised(file.hasPrefix("/") ? file : include.base + "/" + file)
                guard FileManager.default.fileExists(atPath: path) else { throw PlaybookError("include_tasks: no file \(path)", at: task.location) }
                let tasks = try PlaybookLoader.$rolesPath.withValue(playbook.rolesPath) {
                    try PlaybookLoader.loadTaskFile(path, playbookDirectory: playbook.directory, directory: include.roleDirectory)
                }.map { var x = $0; if include.roleDirectory == nil { x.directory = nil }; return x }
                var r = record(task, name: name, h, item: item.map { i in task.loopLabel.flatMap { try? templates.render($0, vars: v, at: task.location) } ?? i.description })
                r.message = "included: \(path)"
                await state.add(r)
                observer(.task(r))
                let brought = tasks.map {
                    $0.inheriting(when: [], tags: task.tags, vars: task.vars, become: task.become, becomeUser: task.becomeUser, environment: task.environment,
                                  directory: nil, includeParams: task.includeParams, includeData: data, moduleDefaults: task.moduleDefaults)
                }
                guard Self.includeDepth < PlaybookLoader.maxInclusionDepth else {
                    throw PlaybookError("include_tasks nests deeper than \(PlaybookLoader.maxInclusionDepth) files (\(path) includes itself?)", at: task.location)
                }
                await Self.$includeDepth.withValue(Self.includeDepth + 1) { await execute(brought, h, state: state) }
                if memory(h.host.serial).isDown || memory(h.host.serial).failed { return }
            }
        } catch {
            await fail(h.host, play: h.play, task: name, message: "\(error)", location: task.location, state: state, noLog: task.noLog)
        }
    }

    /// Runs the notified handlers (once each, in the order they are written), then forgets them.
    func flushHandlers(_ h: HostRun, state: State) async {
        await settle(h, state: state)
        let notified = h.notified
        h.notified = []
        for handler in h.play.handlers where notified.contains(where: { $0 == handler.name || handler.listen.contains($0) }) {
            let failed = memory(h.host.serial).failed, gone = memory(h.host.serial).unreachable
            if failed || gone { return }
            var more: [String] = []
            if case .include(let include) = handler.kind { await runInclude(handler, include, h, state: state) }
            else { more = await runTask(handler, h, state: state, tagsApply: false) }
            await settle(h, state: state)
            h.notified += more.filter { !notified.contains($0) && !h.notified.contains($0) }
        }
        if !h.notified.isEmpty { await flushHandlers(h, state: state) }
    }

    func unreachable(_ host: HostTarget, play: Play, message: String, state: State) async {
        memory(host.serial).unreachable = true
        observer(.unreachable(host: host.name, message: message))
        await state.add(TaskRecord(play: play.name, task: "connect", host: host.name, serial: host.serial, item: nil, outcome: .unreachable,
                                   changed: false, ignored: false, message: message, output: nil, diff: [], milliseconds: 0, location: nil))
    }

    func fail(_ host: HostTarget, play: Play, task: String, message: String, location: SourceLocation?, state: State, noLog: Bool = false,
              ignored: Bool = false) async {
        let r = TaskRecord(play: play.name, task: task, host: host.name, serial: host.serial, item: nil, outcome: .failed, changed: false,
                           ignored: ignored, message: message, output: nil, diff: [], milliseconds: 0, location: location, noLog: noLog)
        await state.add(r)
        if !ignored { memory(host.serial).failed = true }
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

}

extension Duration {
    /// Whole milliseconds.
    var ms: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}

extension RunTaskEntry {
    /// A task's record as the inventory keeps it (diffs as one unified text).
    public init(_ r: TaskRecord) {
        self.init(serial: r.serial, host: r.host, play: r.play, task: r.task, item: r.item, outcome: r.outcome, changed: r.changed,
                  ignored: r.ignored, message: r.message, output: r.output, diff: r.diff.isEmpty ? nil : r.diff.map(\.unified).joined(separator: "\n"),
                  milliseconds: r.milliseconds)
    }
}
