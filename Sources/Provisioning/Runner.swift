import Foundation
import Logging
import ParcCore

/// A device as a play sees it: its name, its groups and its inventory variables.
public struct HostTarget: Sendable, Hashable {
    public var name: String
    public var serial: String
    public var groups: Set<String>
    public var vars: [String: Value]

    public init(name: String, serial: String, groups: Set<String>, vars: [String: Value]) {
        self.name = name
        self.serial = serial
        self.groups = groups
        self.vars = vars
    }
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
}

/// A host's counts at the end, as Ansible's recap.
public struct HostRecap: Sendable, Equatable {
    public var ok = 0
    public var changed = 0
    public var failed = 0
    public var skipped = 0
    public var unreachable = 0
    public var ignored = 0
}

public struct RunResult: Sendable {
    public var records: [TaskRecord]
    public var recap: [String: HostRecap]
    /// Serials of the hosts that failed or could not be reached.
    public var failedHosts: [String]
    public var unreachableHosts: [String]
    public var aborted: String?

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
        var connections: [String: any Transport] = [:]
        var registered: [String: [String: Value]] = [:]

        func add(_ r: TaskRecord) {
            records.append(r)
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
        /// The host's unreachable record, added with it, counts it in the recap.
        func markUnreachable(_ host: String, _ serial: String) { unreachable.insert(serial) }
        func isDown(_ serial: String) -> Bool { failed.contains(serial) || unreachable.contains(serial) }
        func connection(_ serial: String) -> (any Transport)? { connections[serial] }
        func setConnection(_ serial: String, _ t: any Transport) { connections[serial] = t }
        func vars(_ serial: String) -> [String: Value] { registered[serial] ?? [:] }
        func register(_ serial: String, _ name: String, _ value: Value) { registered[serial, default: [:]][name] = value }
        func closeAll() async { for t in connections.values { await t.close() }; connections = [:] }
        func result(aborted: String?) -> RunResult {
            RunResult(records: records, recap: recap, failedHosts: failed.sorted(), unreachableHosts: unreachable.sorted(), aborted: aborted)
        }
    }

    public func run() async -> RunResult {
        let state = State()
        var aborted: String? = nil
        plays: for play in playbook.plays {
            let selected = select(play)
            observer(.play(name: play.name, hosts: selected.count))
            if selected.isEmpty { observer(.note("play \(play.name): no host matches \(play.hosts)")); continue }
            var start = 0
            for size in play.serial.batches(of: selected.count) {
                let batch = Array(selected[start..<(start + size)])
                start += size
                var alive: [HostTarget] = []
                for h in batch where !(await state.isDown(h.serial)) { alive.append(h) }
                await forEach(alive, limit: options.forks) { host in await self.runPlay(play, on: host, state: state) }
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

    func select(_ play: Play) -> [HostTarget] {
        guard let pattern = try? HostPattern(play.hosts) else { return [] }
        let chosen = pattern.evaluate { (term: String) -> Set<String> in
            let key = term.lowercased()
            let wild = key.contains("*") || key.contains("?")
            return Set(hosts.filter { h in
                if key == "all" { return true }
                let names = h.groups.map { $0.lowercased() } + [h.name.lowercased(), h.serial.lowercased()]
                return names.contains { wild ? GroupName.matches(key, $0) : $0 == key }
            }.map(\.serial))
        }
        return hosts.filter { chosen.contains($0.serial) }
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

    func transport(for host: HostTarget, state: State) async throws -> any Transport {
        if let t = await state.connection(host.serial) { return t }
        let t = try await connector.connect(host)
        await state.setConnection(host.serial, t)
        return t
    }

    func runPlay(_ play: Play, on host: HostTarget, state: State) async {
        let transport: any Transport
        do {
            transport = try await self.transport(for: host, state: state)
        } catch let error as TransportError where !error.isUnreachable {
            // The device answered but refused us (host key, authentication): a failure to act on,
            // not an offline laptop.
            await fail(host, play: play, task: "connect", message: "\(error)", location: nil, state: state)
            return
        } catch {
            await unreachable(host, play: play, message: "\(error)", state: state)
            return
        }
        var vars = host.vars
        for (k, v) in play.vars { vars[k] = v }
        do {
            for file in play.varsFiles {
                let path = try templates.render(file, vars: vars, at: play.location)
                for (k, v) in try PlaybookLoader.loadVars(path.hasPrefix("/") ? path : "\(playbook.directory)/\(path)") { vars[k] = v }
            }
        } catch {
            await fail(host, play: play, task: "vars_files", message: "\(error)", location: play.location, state: state)
            return
        }
        for (k, v) in options.extraVars { vars[k] = v }
        do {
            vars = try templates.resolve(vars, at: play.location)
        } catch {
            await fail(host, play: play, task: "vars", message: "\(error)", location: play.location, state: state)
            return
        }
        if play.gatherFacts {
            do {
                let facts = try await FactGathering.gather(transport, become: play.become ? options.become : .none)
                for (k, v) in FactGathering.variables(facts) { vars[k] = v }
            } catch {
                await unreachable(host, play: play, message: "\(error)", state: state)
                return
            }
        }
        var notified: [String] = []
        for task in play.tasks {
            if await state.isDown(host.serial) { return }
            let fired = await runTask(task, play: play, host: host, transport: transport, vars: &vars, state: state)
            for n in fired where !notified.contains(n) { notified.append(n) }
        }
        // Handlers: once each, in the order they are written, if notified by name or `listen`.
        for handler in play.handlers where notified.contains(where: { $0 == handler.name || handler.listen.contains($0) }) {
            if await state.isDown(host.serial) { return }
            _ = await runTask(handler, play: play, host: host, transport: transport, vars: &vars, state: state, tagsApply: false)
        }
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

    /// Runs one task (every loop item) and returns the handlers it notifies.
    func runTask(_ task: TaskSpec, play: Play, host: HostTarget, transport: any Transport, vars: inout [String: Value], state: State,
                 tagsApply: Bool = true) async -> [String] {
        if tagsApply && !selectedByTags(task, play: play) { return [] }
        for (k, v) in await state.vars(host.serial) { vars[k] = v }
        let name = (try? templates.render(task.name, vars: vars, at: task.location)) ?? task.name
        var items: [Value?] = [nil]
        if let loop = task.loop {
            do {
                let evaluated = try templates.evaluate(loop, vars: vars, at: task.location)
                guard case .list(let list) = evaluated else {
                    throw PlaybookError("loop needs a list; this one is \(evaluated.json)", at: task.location)
                }
                items = list
            } catch {
                await fail(host, play: play, task: name, message: "\(error)", location: task.location, state: state)
                return []
            }
        }
        var results: [Value] = []
        var anyChanged = false
        var hostFailed = false
        for item in items {
            var v = vars
            if let item { v["item"] = item }
            let start = ContinuousClock.now
            var record = TaskRecord(play: play.name, task: name, host: host.name, serial: host.serial,
                                    item: item.map { task.noLog ? "(hidden)" : $0.description }, outcome: .ok, changed: false,
                                    ignored: false, message: nil, output: nil, diff: [], milliseconds: 0, location: task.location)
            var result = ModuleResult()
            do {
                if try !task.when.allSatisfy({ try templates.condition($0, vars: v, at: task.location) }) {
                    result.skipped = true
                    record.outcome = .skipped
                    record.message = "condition false"
                } else {
                    let args = try templates.evaluate(.map(task.args), vars: v, at: task.location).map ?? [:]
                    let spec = Modules.registry[task.module]!
                    let call = ModuleCall(args: args, transport: transport, become: (task.become ?? play.become) ? options.become : .none,
                                          check: options.check, diff: options.diff, playbookDirectory: playbook.directory, vars: v,
                                          templates: templates, location: task.location,
                                          reconnect: { [connector] in try await connector.connect(host) })
                    do {
                        result = try await spec.run(call)
                    } catch let failure as ModuleFailure {
                        result.failed = true
                        result.msg = failure.message
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
                    results.append(reg)
                    record.outcome = result.failed ? .failed : result.skipped ? .skipped : result.changed ? .changed : .ok
                    record.changed = result.changed
                    record.message = result.msg
                    record.output = [result.stdout, result.stderr].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: "\n")
                    record.diff = result.diff
                }
            } catch let error as TransportError {
                record.outcome = .unreachable
                record.message = "\(error)"
                await state.add(record)
                await state.markUnreachable(host.name, host.serial)
                observer(.unreachable(host: host.name, message: "\(error)"))
                return []
            } catch {
                record.outcome = .failed
                record.message = "\(error)"
                result.failed = true
            }
            if task.noLog {
                record.output = record.output.map { _ in "(output hidden by no_log)" }
                record.message = record.message.map { _ in "(hidden by no_log)" }
                record.diff = []
            }
            if record.outcome == .failed && task.ignoreErrors { record.ignored = true }
            record.milliseconds = Int(((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000) + (ContinuousClock.now - start).components.seconds * 1000)
            await state.add(record)
            observer(.task(record))
            if record.outcome == .changed { anyChanged = true }
            if record.outcome == .failed && !task.ignoreErrors { hostFailed = true }
        }
        if let register = task.register {
            let value: Value = task.loop == nil ? (results.first ?? .map(["skipped": .bool(true), "changed": .bool(false)]))
                : .map(["results": .list(results), "changed": .bool(anyChanged)])
            await state.register(host.serial, register, value)
            vars[register] = value
        }
        if hostFailed {
            await state.markFailed(host.serial)
            return []
        }
        return anyChanged ? task.notify : []
    }

    func withRegister(_ vars: [String: Value], _ task: TaskSpec, _ reg: Value) -> [String: Value] {
        var v = vars
        if let name = task.register { v[name] = reg }
        return v
    }
}

