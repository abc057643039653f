import Foundation
import Logging
import ParcCore
import Templating

/// One device through one play: its own task owns its `HostRun` (sessions, queued tasks,
/// notified handlers); the runner's shared state is only for what hosts share (run_once, the
/// records, registered values, the connections to close).
extension Runner {
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
        /// `meta: end_host` reached: the play is over for this host (not a failure).
        var ended = false

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

    // MARK: Facts known before the play

    /// Asks the device, in one round trip, what the play's tasks will want to know and can be
    /// known before anything runs: every task whose arguments and conditions need nothing the
    /// run produces is planned against no facts, and the facts it asks for are gathered.
    func prefetch(_ tasks: [TaskSpec], _ h: HostRun, state: State) async {
        guard let session = h.sessions[h.main] else { return }
        var wanted: [String: (become: Become, facts: [Fact])] = [:]
        func walk(_ list: [TaskSpec]) async {
            for task in list {
                if task.kind == .block { await walk(task.block); continue }
                guard let spec = Modules.registry[task.module], case .device(let plan) = spec.behaviour, task.loop == nil, !task.delegateToLocal,
                      task.remoteUser == nil || task.remoteUser == h.play.remoteUser, !task.noLog, selectedByTags(task, play: h.play) else { continue }
                let vars = await taskScope(task, h, state: state).vars
                guard (try? task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) })) == true,
                      var ctx = try? context(task, vars: vars, h) else { continue }
                ctx.known = [:]
                let become = self.become(task, h, vars: vars)
                do { _ = try plan(ctx) } catch let need as NeedFacts {
                    let k = DeviceSession.key(become)
                    wanted[k, default: (become, [])].facts += need.facts.filter(\.askedAhead)
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
    func become(_ task: TaskSpec, _ h: HostRun, vars: [String: Value]) -> Become {
        let host = h.host
        // A connection variable set for the task (its vars, its include's, the play's) wins over
        // the inventory's, as Ansible's variable precedence has it; rendered with the task's variables.
        func variable(_ name: String) -> Value? {
            for source in [task.includeParams, task.vars, h.play.vars] {
                if let raw = source[name] { return (try? templates.evaluate(raw, vars: vars, at: task.location)) ?? raw }
            }
            return host.variable(name)
        }
        // become_user as written may be a template (`{{ unprivileged_user }}`), rendered with the task's variables.
        let becomeUser = variable("ansible_become_user")?.string
            ?? (task.becomeUser ?? h.play.becomeUser).map { (try? templates.render($0, vars: vars, at: task.location)) ?? $0 }
        let becomes = variable("ansible_become").map(\.truthy) ?? task.become ?? h.play.become
        var method = options.become
        if let pass = (variable("ansible_become_password") ?? variable("ansible_become_pass"))?.string, !pass.isEmpty {
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
        ctx.check = task.checkMode ?? options.check
        ctx.diff = task.diffMode ?? options.diff
        ctx.playbookDirectory = task.directory ?? playbook.directory
        ctx.vars = v
        ctx.templates = templates
        ctx.location = task.location
        ctx.runStarted = started
        ctx.noLog = task.noLog
        ctx.pathArguments = Modules.registry[task.module]?.pathArguments ?? Self.pathArguments
        ctx.environment = try templates.evaluate(.map(h.play.environment.merging(task.environment) { _, own in own }), vars: v, at: task.location).map ?? [:]
        // Names reach the device's shell as `export NAME=…`: only a variable's name may.
        if let bad = ctx.environment.keys.sorted().first(where: { name in
            name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } != true || !name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        }) {
            throw PlaybookError("environment: '\(bad)' is not the name of an environment variable (letters, digits and _, not starting with a digit)", at: task.location)
        }
        return ctx
    }

    /// The items of a task's loop (one nil item without a loop).
    func items(_ task: TaskSpec, vars: [String: Value]) throws -> [Value?] {
        guard let loop = task.loop else { return [nil] }
        if task.loopKind == .withFirstFound {
            // Terms naming an undefined variable are passed over, as Ansible does; the files are
            // looked for in the role's and playbook's templates/, vars/ or files/ by the module.
            let terms = (loop.list ?? [loop]).compactMap { try? templates.evaluate($0, vars: vars, at: task.location) }
            let folder = task.module.contains("template") ? "templates" : task.module.contains("var") ? "vars" : "files"
            let dirs = [vars["parc_task_dir"]?.string, vars["parc_playbook_dir"]?.string].compactMap { $0 }
            do { return try TemplateEngine.firstFound(terms, dirs: dirs, folder: folder) } catch let e as PlaybookError {
                throw PlaybookError(e.message, at: task.location)
            }
        }
        let evaluated = try templates.evaluate(loop, vars: vars, at: task.location)
        switch task.loopKind {
        case .withDict:
            // One item per key, {key, value}, in the mapping's order.
            guard case .map(let d) = evaluated else {
                throw PlaybookError("the 'dict' lookup plugin expects a dictionary, got '\(evaluated.pythonText)' of type \(evaluated.pythonType) (with_dict needs a mapping)", at: task.location)
            }
            return d.map { .map(OrderedMap(ordered: [("key", .string($0.key)), ("value", $0.value)])) }
        case .withItems:
            // The list flattened one level (a lone string is a list of one).
            return (evaluated.list ?? [evaluated]).flatMap { $0.list ?? [$0] }
        case .withNested: return LoopTerms.nested((evaluated.list ?? [evaluated]).map { $0.list ?? [$0] })
        case .withTogether: return LoopTerms.together((evaluated.list ?? []).map { $0.list ?? [$0] })
        case .withIndexedItems: return LoopTerms.indexed((evaluated.list ?? [evaluated]).flatMap { $0.list ?? [$0] })
        case .withSequence:
            return try Self.sequence(evaluated.description, at: task.location).map { .string($0) }
        case .withSubelements:
            // [list of mappings, key, {skip_missing}]: one [parent, element] per element of each parent's list.
            guard let terms = evaluated.list, terms.count >= 2, let key = terms[1].string else {
                throw PlaybookError("with_subelements takes a list of mappings and the name of a key holding a list", at: task.location)
            }
            let skipMissing = terms.count > 2 ? (terms[2].map?["skip_missing"]?.truthy ?? false) : false
            var out: [Value?] = []
            for parent in terms[0].list ?? [] {
                var current: Value? = parent
                for part in key.split(separator: ".") { current = current?.map?[String(part)] }
                guard let elements = current?.list else {
                    if skipMissing { continue }
                    throw PlaybookError("with_subelements: the key '\(key)' is missing or not a list in \(parent.json)", at: task.location)
                }
                out += elements.map { .list([parent, $0]) }
            }
            return out
        case .withList:
            return evaluated.list ?? [evaluated]
        case .loop, .withFirstFound:
            guard case .list(let list) = evaluated else { throw PlaybookError("loop needs a list; this one is \(evaluated.json)", at: task.location) }
            return list
        }
    }

    /// loop_control's `extended`: Ansible's `ansible_loop` for the item at `index`.
    static func loopInfo(_ items: [Value], _ index: Int, allItems: Bool) -> Value {
        var m: OrderedMap = ["index": .int(index + 1), "index0": .int(index), "revindex": .int(items.count - index),
                             "revindex0": .int(items.count - index - 1), "first": .bool(index == 0), "last": .bool(index == items.count - 1),
                             "length": .int(items.count)]
        if allItems { m["allitems"] = .list(items) }
        if index > 0 { m["previtem"] = items[index - 1] }
        if index < items.count - 1 { m["nextitem"] = items[index + 1] }
        return .map(m)
    }

    /// with_sequence's terms, as Ansible's sequence lookup reads them: `start=1 end=10 stride=2
    /// format=host%02d`, `count=3`, or the short `[start-]end[/stride][:format]`.
    static func sequence(_ text: String, at location: SourceLocation) throws -> [String] {
        var start = 1, end: Int? = nil, stride = 1, count: Int? = nil, format = "%d"
        let words = text.split(separator: " ").map(String.init)
        if words.allSatisfy({ $0.contains("=") }) && !words.isEmpty {
            for w in words {
                let (k, v) = (String(w.prefix { $0 != "=" }), String(w.drop { $0 != "=" }.dropFirst()))
                func number() throws -> Int {
                    guard let n = Int(v) ?? (v.hasPrefix("0x") ? Int(v.dropFirst(2), radix: 16) : nil) else {
                        throw PlaybookError("with_sequence: \(k) must be a number, not '\(v)'", at: location)
                    }
                    return n
                }
                switch k {
                case "start": start = try number()
                case "end": end = try number()
                case "stride": stride = try number()
                case "count": count = try number()
                case "format": format = v
                default: throw PlaybookError("with_sequence: unknown argument '\(k)' (start, end, stride, count, format)", at: location)
                }
            }
        } else {
            // [start-]end[/stride][:format]
            var rest = text.trimmed
            if let colon = rest.firstIndex(of: ":") { format = String(rest[rest.index(after: colon)...]); rest = String(rest[..<colon]) }
            if let slash = rest.firstIndex(of: "/") { stride = Int(rest[rest.index(after: slash)...]) ?? 1; rest = String(rest[..<slash]) }
            if let dash = rest.firstIndex(of: "-") { start = Int(rest[..<dash]) ?? 1; end = Int(rest[rest.index(after: dash)...]) }
            else { end = Int(rest) }
            guard end != nil else { throw PlaybookError("with_sequence: cannot read '\(text)'", at: location) }
        }
        if let count {
            guard end == nil else { throw PlaybookError("with_sequence: give count or end, not both", at: location) }
            if count == 0 { return [] }
            end = start + (count - 1) * stride
        }
        guard let last = end else { throw PlaybookError("with_sequence: give end or count", at: location) }
        guard stride != 0 else { throw PlaybookError("with_sequence: stride cannot be 0", at: location) }
        if (stride > 0 && last < start) || (stride < 0 && last > start) {
            throw PlaybookError("with_sequence: to count backwards make stride negative", at: location)
        }
        return Swift.stride(from: start, through: last, by: stride).map { String(format: format, Int32(truncatingIfNeeded: $0)) }
    }

    /// Whether a task's record may wait for its steps to be sent with later ones: nothing in the
    /// task reads its result (no register, changed_when, failed_when, ignore_errors, loop, run_once).
    /// A task on the control node (delegate_to: localhost) never waits: the next task may read
    /// what it wrote there (a copy's src, a template) while planning.
    func canWait(_ task: TaskSpec) -> Bool {
        !task.delegateToLocal && task.loop == nil && task.register == nil && task.changedWhen.isEmpty && task.failedWhen.isEmpty && !task.ignoreErrors && !task.runOnce
            && task.asyncSeconds == nil && Modules.registry[task.module]?.setsFacts != true  // its facts are wanted by the next task
            && task.until.isEmpty && task.retries == nil && task.ignoreErrorsExpression == nil && task.timeoutSeconds == nil
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
                let p = try body(Self.expandingPathArguments(ctx))
                guard p.again else { return (p, earlier) }
                if !ctx.check {
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

    /// The path arguments Ansible's modules expand on the device (`path`, `dest`, `creates`…); a
    /// module names its own others (``ModuleSpec/pathArguments``: user's `home`, `shell`…).
    static let pathArguments = ["path", "dest", "creates", "removes", "chdir"]

    /// Path arguments as Ansible's `path` type reads them where the module runs: `~` or `~user`
    /// the device's home of that user (of the user the module runs as, for `~`), `$NAME` and
    /// `${NAME}` that user's environment (one that is not set stays as written) — expandvars
    /// and expanduser. A copy's or unarchive's `src` is a path of the device with `remote_src`.
    static func expandingPathArguments(_ ctx: ModuleContext) throws -> ModuleContext {
        var c = ctx
        let keys = c.pathArguments + (c.args["remote_src"]?.truthy == true ? ["src"] : [])
        for key in keys {
            // Any other value is text first, as Python's str() gives it (a dict as its repr).
            if let v = c.args[key], v != .null, v.string == nil { c.args[key] = .string(v.pythonText) }
            guard case .string(let s)? = c.args[key], s.hasPrefix("~") || s.contains("$") else { continue }
            let expanded = try c.fact(.command(c.exports + "printf '%s' \(CommandModule.expandedWord(s))"))
            guard expanded.succeeded, !expanded.stdout.isEmpty else { continue }
            c.args[key] = .string(expanded.stdoutText)
        }
        return c
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
            } else if step.reportsOutput && res.succeeded {
                (r.stdout, r.stderr) = (res.stdoutText, res.stderrText)
            } else if !res.succeeded {
                r.failed = true
                r.changed = false
                r.msg = "\(step.what) failed (exit \(res.exitStatus)): \(Self.why(res))"
                if step.reportsOutput { (r.rc, r.stdout, r.stderr) = (res.exitStatus, res.stdoutText, res.stderrText) }
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
            fill(&record, with: result)
            record.milliseconds = (ContinuousClock.now - d.started).ms
            await state.add(record)
            observer(.task(record))
            if result.failed {
                memory(h.host.serial).failed = true
                stopped = true
            } else if result.changed {
                for n in d.notify where !h.notified.contains(n) { h.notified.append(n) }
            }
        }
        // Every failure sent so far is recorded: what the runner queues next may run.
        for session in h.sessions.values { session.clearFailure() }
        return sendError
    }

    /// A task parc cannot run: skipped when its condition is false (Ansible never looks at its
    /// module then), else failed with what parc lacks.
    func refuse(_ task: TaskSpec, _ refusal: PlaybookError, _ h: HostRun, state: State) async -> [String] {
        await settle(h, state: state)
        if memory(h.host.serial).isDown { return [] }
        let vars = await taskScope(task, h, state: state).vars
        var r = record(task, name: (try? templates.render(task.name, vars: vars, at: task.location)) ?? task.name, h, item: nil)
        do {
            if try task.when.allSatisfy({ try templates.condition($0, vars: vars, at: task.location) }) {
                r.outcome = .failed
                r.message = "\(refusal)"
                // A task's failure like any other: ignore_errors keeps the host going, register keeps it.
                r.ignored = (try? ignoresErrors(task, vars: vars)) ?? false
                if let name = task.register {
                    memory(h.host.serial).registered[name] = (.map(["failed": .bool(true), "changed": .bool(false), "msg": .string(refusal.message)]), false)
                }
            } else {
                r.outcome = .skipped
                r.message = "condition false"
            }
        } catch {
            r.outcome = .failed
            r.message = "\(error)"
        }
        await state.add(r)
        observer(.task(r))
        if r.outcome == .failed && !r.ignored { memory(h.host.serial).failed = true }
        return []
    }

    /// Before a task fails on the control node (a template, an argument): the outcomes of the
    /// earlier tasks still waiting are recorded first, in order. False when one of them failed:
    /// the task would not have run, and leaves no record.
    func settledBeforeFailure(_ h: HostRun, state: State) async -> Bool {
        if !h.deferred.isEmpty { await settle(h, state: state) }
        return !memory(h.host.serial).isDown
    }

    /// A task's record when talking to the device failed: unreachable (the host is done) or failed.
    func finishWithError(_ error: any Error, record: TaskRecord, _ h: HostRun, state: State) async {
        var record = record
        record.message = "\(error)"
        if let e = error as? TransportError, e.isUnreachable {
            record.outcome = .unreachable
            await state.add(record)
            memory(h.host.serial).unreachable = true
            observer(.unreachable(host: h.host.name, message: "\(error)"))
        } else {
            record.outcome = .failed
            await state.add(record)
            memory(h.host.serial).failed = true
            observer(.task(record))
        }
    }

    func fill(_ record: inout TaskRecord, with result: ModuleResult) {
        record.outcome = result.failed ? .failed : result.skipped ? .skipped : result.changed ? .changed : .ok
        record.changed = result.changed
        record.message = result.msg
        record.output = [result.stdout, result.stderr].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: "\n")
        record.diff = result.diff
    }

    /// Runs one task on a host, if it runs at all (tags, `--start-at-task`, a refusal) and where
    /// (its session), its items by a `TaskExecutor`; returns the handlers it notifies.
    func runTask(_ task: TaskSpec, _ h: HostRun, state: State, tagsApply: Bool = true) async -> [String] {
        let (play, host) = (h.play, h.host)
        if tagsApply && !selectedByTags(task, play: play) { return [] }
        if tagsApply, let start = options.startAtTask, !(memory(host.serial).started) {
            // As Ansible: the task's name as written, or "role : name", against the glob.
            guard GroupName.matches(start.lowercased(), task.name.lowercased()) else { return [] }
            memory(host.serial).started = true
        }
        if let refusal = task.refusal { return await refuse(task, refusal, h, state: state) }
        if task.moduleTemplate != nil {
            // `action: "{{ ansible_pkg_mgr }} …"`: the module and its arguments, now that they are known.
            do {
                return await runTask(try await concreteModule(task, h, state: state), h, state: state, tagsApply: false)
            } catch {
                // As Ansible, which decides the module before the task's condition: a failure even under a false `when`.
                guard await settledBeforeFailure(h, state: state) else { return [] }
                let ignored = (try? ignoresErrors(task, vars: await taskScope(task, h, state: state).vars)) ?? false
                await fail(h.host, play: h.play, task: task.name, message: "\(error)", location: task.location, state: state, noLog: task.noLog, ignored: ignored)
                return []
            }
        }
        guard let spec = Modules.registry[task.module] else { return [] }
        // A task that runs on the control node (or through another connection) waits for the
        // device's queued steps: it must not run if one of them fails.
        // Another login user (remote_user, rendered): a connection of its own.
        let otherUser = task.remoteUser != nil ? self.remoteUser(task, vars: await taskScope(task, h, state: state).vars) != play.remoteUser : false
        if !spec.touchesDevice || task.delegateToLocal || otherUser {
            await settle(h, state: state)
            if memory(host.serial).isDown { return [] }
        }
        let resolved = await taskScope(task, h, state: state)
        let remoteUser = self.remoteUser(task, vars: resolved.vars)
        let name = (try? templates.render(task.name, vars: resolved.vars, at: task.location)) ?? task.name
        let items: [Value?]
        do { items = try self.items(task, vars: resolved.vars) } catch {
            guard await settledBeforeFailure(h, state: state) else { return [] }
            // As Ansible's: a loop that cannot be made waits for the condition — false (without
            // the item), the task is skipped and the loop's error never shows.
            if !task.when.isEmpty, let holds = try? task.when.allSatisfy({ try templates.condition($0, vars: resolved.vars, at: task.location) }), !holds {
                var r = record(task, name: name, h, item: nil)
                r.outcome = .skipped
                r.message = "condition false"
                if let register = task.register {
                    memory(host.serial).registered[register] = (.map(["changed": .bool(false), "skipped": .bool(true), "skip_reason": .string("Conditional result was False")]), false)
                }
                await state.add(r)
                observer(.task(r))
                return []
            }
            let message = "\(resolved.explain(error))"
            // As Ansible's: the loop that cannot be made fails the task, and register keeps that.
            if let register = task.register {
                memory(host.serial).registered[register] = (.map(["failed": .bool(true), "changed": .bool(false), "msg": .string(message)]), false)
            }
            await fail(host, play: play, task: name, message: message, location: task.location, state: state, noLog: task.noLog,
                       ignored: (try? ignoresErrors(task, vars: resolved.vars)) ?? false)
            return []
        }
        // Where the task runs, as whom.
        let session: DeviceSession
        do {
            session = try await self.session(for: task, as: remoteUser, h, state: state)
        } catch {
            await finishWithError(error, record: record(task, name: name, h, item: nil), h, state: state)
            return []
        }
        return await TaskExecutor(self, task: task, spec: spec, h: h, state: state, name: name, session: session,
                                  become: self.become(task, h, vars: resolved.vars), resolved: resolved).run(items)
    }

    /// A task's record before it runs.
    func record(_ task: TaskSpec, name: String, _ h: HostRun, item: String?) -> TaskRecord {
        TaskRecord(play: h.play.name, task: name, host: h.host.name, serial: h.host.serial, item: item, outcome: .ok, changed: false,
                   ignored: false, message: nil, output: nil, diff: [], milliseconds: 0, location: task.location, module: task.module, noLog: task.noLog)
    }

    /// The session a task runs through: the play's connection, another login user's, or the
    /// control node's (delegate_to: localhost).
    /// The task's remote_user, rendered with its variables (it may be a template).
    func remoteUser(_ task: TaskSpec, vars: [String: Value]) -> String? {
        task.remoteUser.map { (try? templates.render($0, vars: vars, at: task.location)) ?? $0 }
    }

    func session(for task: TaskSpec, as remoteUser: String?, _ h: HostRun, state: State) async throws -> DeviceSession {
        let key: String
        let transport: any Transport
        if task.delegateToLocal {
            key = "local"
            if let s = h.sessions[key] { return s }
            transport = LocalTransport()
        } else if let user = remoteUser, user != h.play.remoteUser {
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
            do { return .done(try body(ctx)) } catch let failure as ModuleFailure { return .done(ModuleResult(failure: failure)) }
        case .device(let body):
            let planned: (plan: Plan, earlier: [Int])
            do {
                planned = try await plan(body, ctx, session: session, become: become)
            } catch let failure as ModuleFailure {
                await settle(h, state: state)
                if memory(h.host.serial).isDown { return .stopped }
                return .done(ModuleResult(failure: failure))
            } catch {
                // The device stopped answering while this task asked its facts: the queued tasks
                // whose steps ran are recorded first.
                await settle(h, state: state)
                throw error
            }
            if session.failedStep && planned.earlier.isEmpty {
                // An earlier task's step failed on the device while this one gathered its facts.
                await settle(h, state: state)
                if memory(h.host.serial).isDown { return .stopped }
            }
            var p = planned.plan
            if task.checkMode ?? options.check {
                // Nothing to send; the earlier tasks' outcomes are recorded first (a task in check mode among real ones).
                if !h.deferred.isEmpty {
                    await settle(h, state: state)
                    if memory(h.host.serial).isDown { return .stopped }
                }
                return .done(p.result)
            }
            if task.pollZero, let seconds = task.asyncSeconds { p = AsyncJobs.launching(p, seconds: seconds) }
            else if let seconds = task.asyncSeconds ?? task.timeoutSeconds { for i in p.steps.indices { p.steps[i].timeout = .seconds(seconds) } }
            let owner = session.newOwner()
            session.enqueue(p.steps, become: become, owner: owner)
            if wait {
                h.deferred.append(Deferred(record: record, plan: p, owner: owner, session: session, notify: task.notify, started: .now))
                return .waiting
            }
            // The steps queued before go with this task's, in one round trip; their records come first.
            if let error = await settle(h, state: state) {
                if let e = error as? TransportError, e.isUnreachable { throw e }
                if let seconds = task.asyncSeconds, case TransportError.noAnswer? = error as? TransportError {
                    return .done(ModuleResult(failed: "async task did not complete within the requested time - \(seconds)s"))
                }
                if let seconds = task.timeoutSeconds, case TransportError.noAnswer? = error as? TransportError {
                    return .done(ModuleResult(failed: "The \(task.module) action failed to execute in the expected time frame (\(seconds)) and was terminated"))
                }
                return .done(ModuleResult(failed: "\(error)"))
            }
            if memory(h.host.serial).isDown { return .stopped }
            let earlier = planned.earlier.flatMap { session.results(of: $0) ?? [] }
            guard let result = Self.outcome(p, session.results(of: owner) ?? [], earlier: earlier) else { return .stopped }
            return .done(result)
        }
    }

    /// A task whose module is a template (`action: "{{ ansible_pkg_mgr }} name=x"`) with its
    /// module decided and its arguments read and checked as the loader checks a written one.
    func concreteModule(_ task: TaskSpec, _ h: HostRun, state: State) async throws -> TaskSpec {
        let scope = await taskScope(task, h, state: state)
        let template = task.moduleTemplate ?? ""
        let name: String
        do { name = Modules.shortName(try templates.render(template, vars: scope.vars, at: task.location).trimmed) } catch {
            throw PlaybookError("\(scope.explain(error))", at: task.location)
        }
        guard let spec = Modules.registry[name] else {
            throw PlaybookError("action: '\(template)' names the module '\(name)', which parc does not have; its modules are \(Modules.registry.keys.sorted().joined(separator: ", "))", at: task.location)
        }
        var args = try PlaybookLoader.keyValues(task.lateArgs ?? "", module: spec)
        for (k, v) in task.args { args[k] = v }
        args = ModuleDefaultsRule.arguments(args, module: name, defaults: task.moduleDefaults)
        if let problem = PlaybookLoader.argumentProblem(args, module: spec) { throw PlaybookError(problem.message, at: task.location) }
        var concrete = task
        concrete.module = name
        concrete.args = args
        concrete.moduleTemplate = nil
        concrete.lateArgs = nil
        return concrete
    }

    /// `ignore_errors`, also when a template decides it.
    func ignoresErrors(_ task: TaskSpec, vars: [String: Value]) throws -> Bool {
        if task.ignoreErrors { return true }
        guard let expression = task.ignoreErrorsExpression else { return false }
        return Value.string(try templates.render(expression, vars: vars, at: task.location)).truthy
    }
}
