import Foundation
import ParcCore
import Templating

extension Runner {
    /// One task on one host, as Ansible's TaskExecutor: each loop item with its variables, its
    /// condition, its attempts (`until` / `retries`), `changed_when` / `failed_when`, its record;
    /// then the loop's count and the task's `register`. The runner decides before whether the task
    /// runs at all (tags, refusals) and where (its session); the executor runs its items.
    final class TaskExecutor {
        let runner: Runner
        let task: TaskSpec
        let spec: ModuleSpec
        let h: HostRun
        let state: State
        /// The task's name, rendered.
        let name: String
        let session: DeviceSession
        let become: Become
        /// The task's variables; set_fact / include_vars results join them for the next items.
        var base: [String: Value]
        let resolved: Scope.Resolved
        /// Loop items whose steps were planned and sent together (see `planLoop`).
        var batched: [Int: PlannedItem] = [:]

        /// Each item's registered value, each item's record, whether any changed.
        var results: [Value] = []
        var records: [TaskRecord] = []
        var anyChanged = false
        var hostFailed = false

        init(_ runner: Runner, task: TaskSpec, spec: ModuleSpec, h: HostRun, state: State, name: String, session: DeviceSession,
             become: Become, resolved: Scope.Resolved) {
            self.runner = runner
            self.task = task
            self.spec = spec
            self.h = h
            self.state = state
            self.name = name
            self.session = session
            self.become = become
            self.resolved = resolved
            self.base = resolved.vars
        }

        var templates: TemplateEngine { runner.templates }
        var memory: HostMemory { runner.memory(h.host.serial) }

        /// Runs every item; the handlers the task notifies.
        func run(_ items: [Value?]) async -> [String] {
            batched = await planLoop(items)
            if memory.isDown { return [] }
            if task.loop != nil && items.isEmpty { await skipEmptyLoop() }
            for (index, item) in items.enumerated() {
                guard await runItem(item, index: index, of: items) else { return [] }
            }
            if task.loop != nil { await countLoop() }
            register()
            if hostFailed {
                memory.failed = true
                return []
            }
            return anyChanged ? task.notify : []
        }

        /// A loop of a device module: every item is planned first and its steps queued as a group of
        /// their own (a failed item does not stop the next, as in Ansible), then all are sent in one
        /// round trip (or as few as the items' facts need). Items whose condition or arguments cannot
        /// be evaluated here are left to the item-by-item path, which reports why.
        func planLoop(_ items: [Value?]) async -> [Int: PlannedItem] {
            guard task.loop != nil, items.count > 1, !task.runOnce, task.asyncSeconds == nil, (task.loopPause ?? 0) <= 0, !task.loopExtended,
                  case .device(let body) = spec.behaviour else { return [:] }
            // What was queued before must not be freed by the items' groups: it goes first.
            if session.hasQueuedSteps { await runner.settle(h, state: state) }
            if memory.isDown { return [:] }
            var contexts: [(index: Int, ctx: ModuleContext)] = []
            for (index, item) in items.enumerated() {
                let v = variables(item, index: index, of: items)
                guard (try? task.when.allSatisfy({ try templates.condition($0, vars: v, at: task.location) })) == true,
                      let ctx = try? runner.context(task, vars: v, h) else { continue }
                contexts.append((index, ctx))
            }
            // The facts every item asks first, in one round trip.
            var wanted: [Fact] = []
            for (_, ctx) in contexts {
                var probe = ctx
                probe.known = session.known(for: become)
                do { _ = try body(probe) } catch let need as NeedFacts { wanted += need.facts } catch {}
            }
            if !wanted.isEmpty { try? await session.gather(wanted, become: become) }
            var planned: [Int: PlannedItem] = [:]
            for (index, ctx) in contexts {
                do {
                    let p = try await runner.plan(body, ctx, session: session, become: become).plan
                    session.clearFailure()
                    if ctx.check {
                        planned[index] = .planned(p)
                    } else {
                        let owner = session.newOwner()
                        session.enqueue(p.steps, become: become, owner: owner, independent: true)
                        planned[index] = .queued(p, owner: owner)
                    }
                } catch let failure as ModuleFailure {
                    planned[index] = .refused(failure)
                } catch {
                    planned[index] = .lost(error)
                    break
                }
            }
            if let error = await runner.settle(h, state: state) {
                for (index, p) in planned { if case .queued(_, let owner) = p, session.results(of: owner) == nil { planned[index] = .lost(error) } }
            }
            return planned
        }

        /// A loop over nothing: one `skipping` line, as ansible-playbook prints it.
        func skipEmptyLoop() async {
            var skipped = runner.record(task, name: name, h, item: nil)
            skipped.outcome = .skipped
            skipped.message = "No items in the list"
            await state.add(skipped, count: false)
            runner.observer(.task(skipped))
            records.append(skipped)
        }

        /// The variables of one item: the loop variable, `index_var`, `ansible_loop`.
        func variables(_ item: Value?, index: Int, of items: [Value?]) -> [String: Value] {
            var v = base
            guard let item else { return v }
            let loopVar = runner.loopVar(task, vars: base)
            v[loopVar] = item
            v["ansible_loop_var"] = .string(loopVar)
            if let indexVar = task.loopIndexVar { v[indexVar] = .int(index); v["ansible_index_var"] = .string(indexVar) }
            if task.loopExtended { v["ansible_loop"] = Runner.loopInfo(items.compactMap { $0 }, index, allItems: task.loopExtendedAllItems) }
            return v
        }

        /// One item, recorded. False when the task stops here for this host (its steps wait with
        /// later tasks', the host went away or failed before it ran).
        func runItem(_ item: Value?, index: Int, of items: [Value?]) async -> Bool {
            var v = variables(item, index: index, of: items)
            if index > 0, let pause = task.loopPause, pause > 0 { try? await Task.sleep(for: .milliseconds(Int(pause * 1000))) }
            let start = ContinuousClock.now
            let label = item.map { i in task.loopLabel.flatMap { try? templates.render($0, vars: v, at: task.location) } ?? i.description }
            var record = runner.record(task, name: name, h, item: label)
            var warnings: [String] = []
            do {
                if let falseCondition = try task.when.first(where: { try !templates.condition($0, vars: v, at: task.location) }) {
                    record.outcome = .skipped
                    record.message = "condition false"
                    // As Ansible registers a skipped item: the condition that was false.
                    var skipped = ModuleResult()
                    skipped.skipped = true
                    skipped.data = ["skip_reason": .string("Conditional result was False"), "false_condition": .string(falseCondition)]
                    // As Ansible's: the label is made with the item's own result registered; a
                    // label that cannot be made fails the item.
                    if let why = labelFailure(skipped, vars: v) {
                        skipped.failed = true
                        skipped.msg = why
                        record.outcome = .failed
                        record.message = why
                    }
                    results.append(registered(skipped, item: item, index: index))
                } else {
                    guard case .done(let result) = try await attempts(index: index, label: label, record: record, vars: &v) else { return false }
                    results.append(registered(result, item: item, index: index))
                    runner.fill(&record, with: result)
                    warnings = result.notices + result.warnings
                }
            } catch let error as TransportError where error.isUnreachable {
                await runner.finishWithError(error, record: record, h, state: state)
                if task.loop != nil { await countLoop() }
                return false
            } catch {
                // The earlier tasks' outcomes first (a task that failed before this one means this one never ran).
                guard await runner.settledBeforeFailure(h, state: state) else { return false }
                record.outcome = .failed
                record.message = "\(resolved.explain(error))"
                // A task that failed before its module ran (its arguments, its condition) is
                // registered failed with the message, as Ansible's.
                results.append(registered(ModuleResult(failed: record.message ?? "\(error)"), item: item, index: index))
            }
            let ignoring = try? runner.ignoresErrors(task, vars: v)
            if record.outcome == .failed && ignoring == true { record.ignored = true }
            record.milliseconds = (ContinuousClock.now - start).ms
            await state.add(record, count: task.loop == nil)
            records.append(record)
            runner.observer(.task(record))
            if !task.noLog { for w in warnings { runner.observer(.note("[\(h.host.name)]: \(w)")) } }
            if record.outcome == .changed { anyChanged = true }
            if record.outcome == .failed && ignoring != true { hostFailed = true }
            return true
        }

        /// Why loop_control's `label` cannot be made for an item's result (registered under the
        /// task's `register` name while it is made, as Ansible's), or nil.
        func labelFailure(_ result: ModuleResult, vars v: [String: Value]) -> String? {
            guard let label = task.loopLabel else { return nil }
            var scope = v
            if let name = task.register { scope[name] = result.registered }
            do { _ = try templates.render(label, vars: scope, at: task.location); return nil } catch {
                return "Failed to template loop_control.label: \(error)"
            }
        }

        /// The item run until its `until` holds (once without one), its result judged by
        /// `changed_when` / `failed_when`. `vars` gains `result`, the item's registered value.
        func attempts(index: Int, label: String?, record: TaskRecord, vars v: inout [String: Value]) async throws -> ItemOutcome {
            let retry = try retrying(vars: v)
            var attempt = 1
            while true {
                let ctx = try runner.context(task, vars: v, h)
                let outcome = try await once(ctx, index: index, attempt: attempt, label: label, record: record)
                guard case .done(var result) = outcome else { return outcome }
                await keepFacts(result)
                v["result"] = result.registered
                try judge(&result, vars: v)
                if let retry {
                    result.data["attempts"] = .int(attempt)
                    let reg = result.registered
                    let done = try retry.until.isEmpty ? !result.failed
                        : retry.until.allSatisfy { try templates.condition($0, vars: withRegister(v, reg), at: task.location) }
                    if !done {
                        if attempt < retry.total {
                            runner.observer(.note("FAILED - RETRYING: [\(h.host.name)]: \(name) (\(retry.total - attempt) retries left)."))
                            attempt += 1
                            try await Task.sleep(for: .milliseconds(Int(retry.delay * 1000)))
                            session.forgetFacts()
                            continue
                        }
                        // As Ansible: out of retries, failed, with attempts one short of the total.
                        result.data["attempts"] = .int(retry.total - 1)
                        result.failed = true
                    }
                }
                return .done(result)
            }
        }

        /// One attempt of the item: on the first host only (`run_once`, its result given to every
        /// host), as planned with the loop's other items, or performed now.
        func once(_ ctx: ModuleContext, index: Int, attempt: Int, label: String?, record: TaskRecord) async throws -> ItemOutcome {
            if task.runOnce {
                let key = "\(task.location)|\(label ?? "")"
                let (runner, spec, task, session, become, h, state) = (self.runner, self.spec, self.task, self.session, self.become, self.h, self.state)
                let (shared, ranHere) = await state.runOnce(key) {
                    (try? await runner.perform(spec, ctx, task: task, record: record, session: session, become: become, h, state: state, wait: false))
                        .flatMap { if case .done(let r) = $0 { r } else { nil } } ?? ModuleResult(failed: "the task could not run on its first host")
                }
                var r = shared
                if !ranHere { r.msg = (r.msg.map { $0 + " " } ?? "") + "(run once, on another host)" }
                return .done(r)
            }
            if attempt == 1, let planned = batched[index] { return try planned.outcome(session) }
            return try await runner.perform(spec, ctx, task: task, record: record, session: session, become: become, h, state: state,
                                            wait: runner.canWait(task))
        }

        /// set_fact and include_vars: their values stay with the host for the rest of the run.
        /// set_fact values are data; include_vars values are templates when a person wrote the file.
        func keepFacts(_ result: ModuleResult) async {
            guard !result.failed, case .map(let facts)? = result.data["ansible_facts"] else { return }
            for (k, fact) in facts { memory.registered[k] = (fact, result.authoredFacts) }
            // A module's facts (getent's) are also under `ansible_facts`, as Ansible's; set_fact's
            // and include_vars' are variables only.
            if !["set_fact", "include_vars"].contains(task.module), facts["ansible_facts"] == nil {
                var merged = base["ansible_facts"]?.map ?? [:]
                for (k, fact) in facts { merged[k] = fact }
                memory.registered["ansible_facts"] = (.map(OrderedMap(merged)), false)
                base["ansible_facts"] = .map(OrderedMap(merged))
            }
            if result.authoredFacts { base = await runner.taskScope(task, h, state: state).vars }
            else { for (k, fact) in facts { base[k] = fact } }
        }

        /// `changed_when` and `failed_when` decide over the module's own verdict.
        func judge(_ result: inout ModuleResult, vars v: [String: Value]) throws {
            let reg = result.registered
            if !task.changedWhen.isEmpty {
                result.changed = try task.changedWhen.allSatisfy { try templates.condition($0, vars: withRegister(v, reg), at: task.location) }
            }
            if !task.failedWhen.isEmpty {
                result.failed = try task.failedWhen.allSatisfy { try templates.condition($0, vars: withRegister(v, reg), at: task.location) }
                // As Ansible's registered result: the verdict of failed_when.
                result.data["failed_when_result"] = .bool(result.failed)
            }
        }

        /// What `register` keeps of one item: its result, and in a loop its item (and index), as
        /// Ansible's loop results carry them.
        func registered(_ result: ModuleResult, item: Value?, index: Int) -> Value {
            let reg = result.registered
            guard let item, case .map(var m) = reg else { return reg }
            let loopVar = runner.loopVar(task, vars: base)
            m[loopVar] = item
            m["ansible_loop_var"] = .string(loopVar)
            if let indexVar = task.loopIndexVar { m[indexVar] = .int(index); m["ansible_index_var"] = .string(indexVar) }
            return .map(m)
        }

        /// The task's `register`: its one result, or a loop's `results`.
        func register() {
            guard let name = task.register else { return }
            let value: Value = task.loop == nil ? (results.first ?? .map(["skipped": .bool(true), "changed": .bool(false)]))
                : .map(["results": .list(results), "changed": .bool(anyChanged)])
            memory.registered[name] = (value, false)
        }

        /// `retries` (3 when only `until` is given) and `delay` (5 s), rendered; nil: no retry loop.
        func retrying(vars: [String: Value]) throws -> (total: Int, delay: Double, until: [String])? {
            guard !task.until.isEmpty || task.retries != nil else { return nil }
            func number(_ v: Value?, _ what: String) throws -> Int? {
                guard let v else { return nil }
                let text = try templates.render(v.description, vars: vars, at: task.location).trimmed
                guard let n = Int(text) else { throw PlaybookError("\(what) must be a whole number, not '\(text)'", at: task.location) }
                return n
            }
            let retries = try number(task.retries, "retries") ?? 3
            let delay = try number(task.delay, "delay") ?? 5
            return (1 + max(0, retries), Double(delay < 0 ? 1 : delay), task.until)
        }

        func withRegister(_ vars: [String: Value], _ reg: Value) -> [String: Value] {
            var v = vars
            if let name = task.register { v[name] = reg }
            return v
        }

        /// A loop task's one count in the recap: failed if an item failed, changed if one changed,
        /// skipped if every item was (or there were none), ok otherwise.
        func countLoop() async {
            if records.contains(where: { $0.outcome == .unreachable }) { return }
            var r = TaskRecord(play: h.play.name, task: name, host: h.host.name, serial: h.host.serial, item: nil, outcome: .ok, changed: false,
                               ignored: false, message: nil, output: nil, diff: [], milliseconds: 0, location: task.location)
            if let failed = records.first(where: { $0.outcome == .failed }) { r.outcome = .failed; r.ignored = failed.ignored }
            else if records.contains(where: { $0.outcome == .changed }) { r.outcome = .changed }
            else if records.allSatisfy({ $0.outcome == .skipped }) { r.outcome = .skipped }
            await state.count(r)
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

    /// An item of a loop planned ahead (see `planLoop`).
    enum PlannedItem {
        case queued(Plan, owner: Int)
        case planned(Plan)
        case refused(ModuleFailure)
        case lost(any Error)

        func outcome(_ session: DeviceSession) throws -> ItemOutcome {
            switch self {
            case .queued(let plan, let owner):
                guard let result = Runner.outcome(plan, session.results(of: owner) ?? []) else { return .stopped }
                return .done(result)
            case .planned(let plan): return .done(plan.result)
            case .refused(let failure): return .done(ModuleResult(failure: failure))
            case .lost(let error): throw error
            }
        }
    }
}
