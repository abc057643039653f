import Foundation
import Logging
import ParcCore
import Templating

/// One device's side of a run, owned by the task that runs the device's plays: its connection,
/// the answers it gave (facts, kept until a step changes what they describe), and the steps
/// planned but not sent yet.
///
/// Steps wait in a queue and go to the device with the next question (facts the next task
/// needs) or when a result is needed: the steps of several tasks and the facts of the next one
/// travel in one round trip. A failed step stops the steps after it on the device (the shell
/// skips them), so a change never follows a failed one, as in a task-by-task run.
final class DeviceSession: @unchecked Sendable {
    private(set) var transport: any Transport
    let host: HostTarget
    private let reconnect: @Sendable () async throws -> any Transport
    /// Tells the runner the connection changed (after a reboot).
    private let replaced: @Sendable (any Transport) async -> Void
    private var known: [String: [Fact: CommandResult]] = [:]
    private struct Queued {
        var step: Step
        var become: Become
        var owner: Int
        /// The first step of an independent owner (a loop item): a failure before it does not stop it.
        var startsGroup = false
    }
    private var queue: [Queued] = []
    /// Each owner's step results once sent (nil entries: skipped after a failed step).
    private var outcomes: [Int: [CommandResult?]] = [:]
    /// Why a step failed on the device: later queued steps are never sent.
    private(set) var failedStep = false
    private var owners = 0

    init(transport: any Transport, host: HostTarget, reconnect: @escaping @Sendable () async throws -> any Transport,
         replaced: @escaping @Sendable (any Transport) async -> Void) {
        self.transport = transport
        self.host = host
        self.reconnect = reconnect
        self.replaced = replaced
    }

    static func key(_ become: Become) -> String {
        switch become {
        case .none: "-"
        case .sudo, .sudoPassword: "root"
        case .sudoUser(let user, _): "user:" + user
        }
    }

    func known(for become: Become) -> [Fact: CommandResult] { known[Self.key(become)] ?? [:] }

    /// Forgets every answer: a task tried again asks the device afresh.
    func forgetFacts() { known = [:] }

    /// A handle for the steps of one task (one loop item).
    func newOwner() -> Int {
        owners += 1
        return owners
    }

    var hasQueuedSteps: Bool { !queue.isEmpty }

    /// Queues a task's steps; the facts they change are forgotten now (the plan after them must
    /// not read the state before them). `independent`: a failed step queued before does not stop
    /// these (a loop's items).
    func enqueue(_ steps: [Step], become: Become, owner: Int, independent: Bool = false) {
        outcomes[owner] = nil
        for (i, step) in steps.enumerated() {
            queue.append(Queued(step: step, become: become, owner: owner, startsGroup: independent && i == 0))
            invalidate(by: step)
        }
        if steps.isEmpty { outcomes[owner] = [] }
    }

    private func invalidate(by step: Step) {
        guard let touched = step.touches else { known = [:]; return }
        if touched.isEmpty { return }
        for (k, facts) in known {
            known[k] = facts.filter { fact, _ in
                guard let paths = fact.paths, !fact.staleAfterAnyChange else { return false }
                // Stale: the path itself, a path under a removed tree, a tree a change is in, and a
                // folder a change is under (a step may have made it: `mkdir -p`, a copy into `dest/`).
                return !paths.contains { p in
                    touched.contains { t in
                        p == t || (step.removesTree && p.hasPrefix(t.hasSuffix("/") ? t : t + "/"))
                            || (p.hasSuffix("/") && (t.hasPrefix(p) || t + "/" == p))
                            || (!p.isEmpty && t.hasPrefix(p == "/" ? p : p + "/"))
                    }
                }
            }
        }
    }

    /// The results of an owner's steps, once they were sent (nil: not yet).
    func results(of owner: Int) -> [CommandResult?]? { outcomes[owner] }

    /// Asks `facts` of the device (as `become`), sending the queued steps before them in the same round trip.
    func gather(_ facts: [Fact], become: Become) async throws {
        let wanted = facts.reduce(into: [Fact]()) { list, f in if !list.contains(f) { list.append(f) } }
        let answers = try await send(extra: wanted.map { ShellCommand($0.script, input: $0.input) }, become: become, timeout: nil)
        let k = Self.key(become)
        for (fact, answer) in zip(wanted, answers) {
            if let answer { known[k, default: [:]][fact] = answer }
        }
    }

    /// Sends every queued step.
    func flush() async throws {
        _ = try await send(extra: [], become: .none, timeout: nil)
    }

    /// Runs the queue's steps (grouped by way of becoming, in order), with `extra` reads after
    /// them in the last round trip; returns the reads' answers.
    private func send(extra: [ShellCommand], become: Become, timeout: Duration?) async throws -> [CommandResult?] {
        var items = queue
        queue = []
        var answers: [CommandResult?] = []
        var extraSent = extra.isEmpty
        while true {
            guard let first = items.first else {
                if !extraSent { answers = try await transport.batch(extra, become: become, timeout: timeout).complete() }
                break
            }
            if case .reboot = first.step.kind {
                items.removeFirst()
                try await reboot(first)
                continue
            }
            // The next run of steps with one way of becoming, up to a reboot.
            var group: [Queued] = []
            while let next = items.first, Self.key(next.become) == Self.key(first.become) {
                if case .reboot = next.step.kind { break }
                group.append(next)
                items.removeFirst()
            }
            if failedStep {
                for q in group { outcomes[q.owner, default: []].append(nil) }
                continue
            }
            let withReads = !extraSent && items.isEmpty && Self.key(first.become) == Self.key(become)
            var commands = group.map { ShellCommand($0.step.script, input: $0.step.input, isStep: true, startsGroup: $0.startsGroup) }
            if withReads { commands += extra }
            let limit = (group.compactMap(\.step.timeout) + [timeout].compactMap { $0 }).max()
            let batch = await transport.batch(commands, become: first.become, timeout: limit)
            let results = batch.results
            for (q, r) in zip(group, results) {
                outcomes[q.owner, default: []].append(r)
                if let r, !r.succeeded { failedStep = true }
            }
            if let interruption = batch.interruption {
                // What ran is known; the rest of the queue is dropped with the error.
                queue = []
                throw interruption
            }
            if withReads {
                answers = Array(results.dropFirst(group.count))
                extraSent = true
            }
        }
        return answers
    }

    /// Ends a step failure's hold once the runner dealt with it (a failure that was ignored).
    func clearFailure() { failedStep = false }

    /// `reboot`: the queued steps before it have run; reads the boot id, restarts the device,
    /// waits for a new connection with a new boot id, and keeps that connection for the rest of
    /// the run.
    private func reboot(_ q: Queued) async throws {
        guard case .reboot(_, let delay, let timeout) = q.step.kind, !failedStep else {
            outcomes[q.owner, default: []].append(nil)
            return
        }
        let before = try await transport.shell("cat /proc/sys/kernel/random/boot_id", become: .none, timeout: .seconds(30)).stdoutText.trimmed
        let started = try await transport.batch([ShellCommand(q.step.script, isStep: true)], become: q.become, timeout: .seconds(60)).complete()[0]
        guard let started, started.succeeded else {
            outcomes[q.owner, default: []].append(started)
            failedStep = true
            return
        }
        await transport.close()
        known = [:]
        let end = ContinuousClock.now + .seconds(timeout)
        try await Task.sleep(for: .seconds(delay + 2))
        while ContinuousClock.now < end {
            if let fresh = try? await reconnect() {
                if let id = try? await fresh.shell("cat /proc/sys/kernel/random/boot_id", become: .none, timeout: .seconds(10)), id.stdoutText.trimmed != before {
                    transport = fresh
                    await replaced(fresh)
                    outcomes[q.owner, default: []].append(CommandResult(exitStatus: 0, stdout: [], stderr: []))
                    return
                }
                await fresh.close()
            }
            try await Task.sleep(for: .seconds(3))
        }
        outcomes[q.owner, default: []].append(CommandResult(exitStatus: 1, stdout: [], stderr: Array("the device did not come back within \(timeout) s (reboot_timeout)".utf8)))
        failedStep = true
    }
}

extension Modules {
    /// Runs one device module outside a playbook (onboarding names the device with `hostname`):
    /// its facts, its plan, its steps through the one applier. A failure throws ``ModuleFailure``.
    public static func apply(_ name: String, args: [String: Value], vars: [String: Value] = [:], on transport: any Transport,
                             become: Become, check: Bool = false) async throws -> ModuleResult {
        guard let spec = registry[name], case .device(let body) = spec.behaviour else { throw ModuleFailure("\(name) is not a device module") }
        let session = DeviceSession(transport: transport, host: HostTarget(name: transport.host, serial: transport.host, groups: []),
                                    reconnect: { transport }, replaced: { _ in })
        var ctx = ModuleContext(args: args)
        ctx.vars = vars
        ctx.check = check
        var asked = 0
        while true {
            ctx.known = session.known(for: become)
            let plan: Plan
            do { plan = try body(ctx) } catch let need as NeedFacts {
                asked += 1
                if asked > 8 { throw ModuleFailure("\(name) kept asking the device for facts") }
                try await session.gather(need.facts, become: become)
                continue
            }
            if check { return plan.result }
            let owner = session.newOwner()
            session.enqueue(plan.steps, become: become, owner: owner)
            try await session.flush()
            guard let result = Runner.outcome(plan, session.results(of: owner) ?? []) else { throw ModuleFailure("\(name): a step did not run") }
            if result.failed { throw ModuleFailure(result.msg ?? "\(name) failed") }
            if !plan.again { return result }
            ctx.phase += 1
        }
    }
}
