import Foundation
import Logging
import ParcCore
import Provisioning
import SSHTransport
import Synchronization
import Templating

// Relays: a process on a school's network (`parc relay`) that connects out to the central server,
// takes the work for its schools' devices, does it over SSH with the same engine, and streams the
// same events back. The server records them as if it had run them. This file holds what travels
// between the two (the wire), the server's side (`RelayHub`) and the relay's engine side.

/// One piece of work for a relay: a run's playbook (with its folder: roles, templates, files) on
/// some devices of its schools, with everything the server knows about them (variables, pinned host
/// keys) and how to run. The relay adds only its SSH keys and, when sudo needs one, its password.
public struct RelayWork: Codable, Sendable {
    public var id: String
    public var run: Int64
    /// The playbook's path inside `files`.
    public var playbook: String
    /// The playbook's folder: relative path → content.
    public var files: [String: Data]
    public var hosts: [HostTarget]
    /// How to reach each host, by serial (never a credential).
    public var ssh: [String: Endpoint]
    public var options: Options
    /// Instead of a run: magic packets to broadcast on the school's network.
    public var wake: WakePlan?
    /// Instead of a run: devices to look for (serial → where its SSH listens); the relay notes
    /// `answers SERIAL` for each that is on (the sweep that finds devices owed pending work).
    public var probe: [String: Probe]?
    /// Instead of a run: ping the devices of `ssh`, or read their facts; each answer is an event.
    public var reach: Reach?
    /// Folders of `files` holding roles from the roles path (ansible.cfg), in its order.
    public var rolesPath: [String]?
    /// What plays that do not say it do: `-b`, ansible.cfg's become and gathering.
    public var playDefaults: PlayDefaults?

    public enum Reach: String, Codable, Sendable { case ping, facts }

    public struct Probe: Codable, Sendable, Equatable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
    }

    public struct WakePlan: Codable, Sendable {
        public var packets: [Waking.Packet]
        /// Milliseconds between two devices.
        public var stagger: Int
    }

    public init(id: String, run: Int64, playbook: String, files: [String: Data], hosts: [HostTarget], ssh: [String: Endpoint], options: Options,
                wake: WakePlan? = nil, probe: [String: Probe]? = nil, reach: Reach? = nil) {
        self.reach = reach
        self.wake = wake
        self.probe = probe
        self.id = id
        self.run = run
        self.playbook = playbook
        self.files = files
        self.hosts = hosts
        self.ssh = ssh
        self.options = options
    }

    public struct Endpoint: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var port: Int
        public var user: String
        /// The key pinned in the central inventory (OpenSSH form), nil when none yet.
        public var hostKey: String?
        /// `strict` or `accept-new`: a first key is sent back and pinned by the server.
        public var policy: String
        public var timeout: Double

        public init(_ ssh: SSHOptions, timeout: Double) {
            (name, address, port, user) = (ssh.name, ssh.address, ssh.port, ssh.user)
            hostKey = ssh.hostKeyPolicy.pinned?.openSSH
            policy = ssh.hostKeyPolicy.mode.rawValue
            self.timeout = timeout
        }

        /// How the relay connects, with its own keys.
        func options(_ credentials: [SSHCredential]) throws -> SSHOptions {
            let pinned = try hostKey.map { try HostKey(openSSH: $0) }
            return SSHOptions(name: name, address: address, port: port, user: user, credentials: credentials,
                              hostKeyPolicy: HostKeyPolicy(mode: HostKeyPolicy.Mode(rawValue: policy) ?? .strict, pinned: pinned, knownHostsFiles: []),
                              connectTimeout: .milliseconds(Int(timeout * 1000)))
        }
    }

    /// Work that pings the devices of `endpoints` (serial → how to reach it), or reads their facts.
    static func reaching(_ reach: Reach, _ endpoints: [String: Endpoint], forks: Int) -> RelayWork {
        RelayWork(id: UUID().uuidString.lowercased(), run: 0, playbook: "", files: [:], hosts: [], ssh: endpoints,
                  options: .init(check: true, diff: false, forks: forks, tags: [], skipTags: [], extraVars: [:], extraData: [:],
                                 become: "sudo", becomeUser: nil, startAtTask: nil, knownNames: []),
                  reach: reach)
    }

    public struct Options: Codable, Sendable {
        public var check: Bool
        public var diff: Bool
        public var forks: Int
        public var tags: [String]
        public var skipTags: [String]
        /// `-e` typed by a person: templates.
        public var extraVars: [String: Value]
        /// Values given through the web or the API: data.
        public var extraData: [String: Value]
        /// `none`, `sudo`, `password` (sudo with the relay's own PARC_BECOME_PASSWORD).
        public var become: String
        public var becomeUser: String?
        public var startAtTask: String?
        public var knownNames: [String]

        public init(check: Bool, diff: Bool, forks: Int, tags: [String], skipTags: [String], extraVars: [String: Value], extraData: [String: Value],
                    become: String, becomeUser: String?, startAtTask: String?, knownNames: [String]) {
            self.check = check
            self.diff = diff
            self.forks = forks
            self.tags = tags
            self.skipTags = skipTags
            self.extraVars = extraVars
            self.extraData = extraData
            self.become = become
            self.becomeUser = becomeUser
            self.startAtTask = startAtTask
            self.knownNames = knownNames
        }
    }
}

/// What a relay reports while the work goes: play, task, unreachable, note.
public enum RelayEvent: Codable, Sendable {
    case play(name: String, hosts: Int)
    case task(TaskRecord)
    case unreachable(host: String, message: String)
    case note(String)
    /// A device's answer to a ping (work with `reach: ping`).
    case answered(ReachOps.Answer)
    /// A device's facts, or why not (work with `reach: facts`).
    case gathered(FactsOps.Gathered)

    init(_ e: RunEvent) {
        switch e {
        case .play(let name, let hosts): self = .play(name: name, hosts: hosts)
        case .task(let r): self = .task(r)
        case .unreachable(let host, let message): self = .unreachable(host: host, message: message)
        case .note(let text): self = .note(text)
        }
    }
}

/// How a relay's work ended: the engine's result and the host keys met first (accept-new).
public struct RelayOutcome: Codable, Sendable {
    public var result: RunResult
    /// serial → key (OpenSSH form), pinned by the server.
    public var newKeys: [String: String]

    public init(result: RunResult, newKeys: [String: String]) {
        self.result = result
        self.newKeys = newKeys
    }
}

/// A relay's report: events from index `from` (a report sent twice is taken once), and the outcome
/// with the last one.
public struct RelayReport: Codable, Sendable {
    public var from: Int
    public var events: [RelayEvent]
    public var outcome: RelayOutcome?

    public init(from: Int, events: [RelayEvent], outcome: RelayOutcome? = nil) {
        self.from = from
        self.events = events
        self.outcome = outcome
    }
}

/// The server's answer to a report: the next index it expects, and who cancelled the run if
/// someone did (the relay stops starting tasks).
public struct RelayReply: Codable, Sendable {
    public var next: Int
    public var cancelledBy: String?
}

/// A relay as the server sees it.
public struct RelayStatus: Sendable, Equatable {
    public var login: String
    public var schools: [String]
    public var secondsSinceSeen: Double
    public var jobs: Int
}

/// The server's side of the relays: who is connected for which schools, the work waiting for
/// each, and the events coming back. A relay is connected while it polls; one silent for longer
/// than `timeout` is gone: its unfinished work ends with its devices unreachable (they get
/// pending work), so a run never waits for it forever.
public final class RelayHub: Sendable {
    struct Relay {
        var schools: Set<String>
        var lastSeen: ContinuousClock.Instant
        var queue: [RelayWork] = []
        var waiter: (id: Int, continuation: CheckedContinuation<RelayWork?, Never>)?
    }

    final class Pending: Sendable {
        let relay: String
        let hosts: [HostTarget]
        let sink: @Sendable (RelayEvent) -> Void
        let cancellation: RunCancellation?
        struct State {
            var received = 0
            var records: [TaskRecord] = []
            var outcome: RelayOutcome?
            var continuation: CheckedContinuation<RelayOutcome, Never>?
        }
        let state = Mutex(State())
        init(relay: String, hosts: [HostTarget], sink: @escaping @Sendable (RelayEvent) -> Void, cancellation: RunCancellation?) {
            self.relay = relay
            self.hosts = hosts
            self.sink = sink
            self.cancellation = cancellation
        }

        /// Ends the wait with `outcome` (once).
        func end(_ outcome: RelayOutcome) {
            let c = state.withLock { s -> CheckedContinuation<RelayOutcome, Never>? in
                guard s.outcome == nil else { return nil }
                s.outcome = outcome
                defer { s.continuation = nil }
                return s.continuation
            }
            c?.resume(returning: outcome)
        }
    }

    struct State {
        var relays: [String: Relay] = [:]
        var jobs: [String: Pending] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    /// A relay silent this long is gone.
    public let timeout: Duration
    /// How long a poll is held when there is no work.
    public let pollWait: Duration
    /// Called when a relay connects (first poll, or back after it was gone), with its schools.
    private let arrival = Mutex<(@Sendable (String, [String]) -> Void)?>(nil)
    let logger: Logger

    /// The second's tick that looks for silent relays: on a queue of its own, so that a busy
    /// cooperative pool (two threads on a 2-core machine) never delays the bound.
    private nonisolated(unsafe) let ticker = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "parc.relays.sweep"))

    public init(timeout: Duration = .seconds(60), pollWait: Duration = .seconds(25), logger: Logger = Logger(label: "parc.relays")) {
        self.timeout = timeout
        self.pollWait = min(pollWait, timeout)
        self.logger = logger
        // Relays gone silent are looked for every second, for as long as the hub exists.
        ticker.schedule(deadline: .now() + 1, repeating: 1)
        ticker.setEventHandler { [weak self] in self?.sweep() }
        ticker.resume()
    }

    deinit { ticker.cancel() }

    /// What to do when a relay arrives (the server serves its schools' pending work).
    public func onArrival(_ body: @escaping @Sendable (String, [String]) -> Void) { arrival.withLock { $0 = body } }

    /// The connected relay serving `uai`, if any (the one seen last when several do).
    public func relay(forSchool uai: String?) -> String? {
        guard let uai else { return nil }
        let now = ContinuousClock.now
        return state.withLock { s in
            s.relays.filter { $0.value.schools.contains(uai.uppercased()) && ($0.value.waiter != nil || now - $0.value.lastSeen < timeout) }
                .max { $0.value.lastSeen < $1.value.lastSeen }?.key
        }
    }

    public var status: [RelayStatus] {
        let now = ContinuousClock.now
        return state.withLock { s in
            s.relays.filter { $0.value.waiter != nil || now - $0.value.lastSeen < timeout }.map { login, r in
                RelayStatus(login: login, schools: r.schools.sorted(), secondsSinceSeen: Self.seconds(now - r.lastSeen),
                            jobs: s.jobs.values.filter { $0.relay == login }.count)
            }.sorted { $0.login < $1.login }
        }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// A relay asks for work for `schools` (all of its account's when empty): the next piece at
    /// once, else nil after `wait` (at most ``pollWait``).
    public func poll(relay login: String, schools: [String], wait: Duration? = nil) async -> RelayWork? {
        let wait = min(wait ?? pollWait, pollWait)
        let now = ContinuousClock.now
        let (work, id, arrived): (RelayWork?, Int?, Bool) = state.withLock { s in
            let known = s.relays[login]
            let arrived = known == nil || (known!.waiter == nil && now - known!.lastSeen >= timeout)
            var r = known ?? Relay(schools: [], lastSeen: now)
            r.schools = Set(schools.map { $0.uppercased() })
            r.lastSeen = now
            // A newer poll replaces a held one (the old connection is gone or about to be).
            if let old = r.waiter { old.continuation.resume(returning: nil); r.waiter = nil }
            if !r.queue.isEmpty {
                let w = r.queue.removeFirst()
                s.relays[login] = r
                return (w, nil, arrived)
            }
            s.nextWaiter += 1
            s.relays[login] = r
            return (nil, s.nextWaiter, arrived)
        }
        if arrived {
            logger.info("relay connected", metadata: ["relay": "\(login)", "schools": "\(schools.joined(separator: ","))"])
            if let body = arrival.withLock({ $0 }) { body(login, schools) }
        }
        if let work { return work }
        guard let id else { return nil }
        return await withCheckedContinuation { c in
            let handed = state.withLock { s -> RelayWork? in
                guard var r = s.relays[login] else { return nil }
                if !r.queue.isEmpty {
                    let w = r.queue.removeFirst()
                    s.relays[login] = r
                    return w
                }
                r.waiter = (id, c)
                s.relays[login] = r
                return nil
            }
            if let handed { c.resume(returning: handed); return }
            Task {
                try? await Task.sleep(for: wait)
                let c = state.withLock { s -> CheckedContinuation<RelayWork?, Never>? in
                    guard var r = s.relays[login], let w = r.waiter, w.id == id else { return nil }
                    r.waiter = nil
                    r.lastSeen = .now
                    s.relays[login] = r
                    return w.continuation
                }
                c?.resume(returning: nil)
            }
        }
    }

    /// Hands `work` to `relay` and waits for its outcome, forwarding its events to `sink`. A relay
    /// that goes silent ends the work with its hosts unreachable (see ``sweep()``).
    public func dispatch(_ work: RelayWork, to login: String, cancellation: RunCancellation? = nil,
                         events sink: @escaping @Sendable (RelayEvent) -> Void) async -> RelayOutcome {
        let pending = Pending(relay: login, hosts: work.hosts, sink: sink, cancellation: cancellation)
        return await withCheckedContinuation { c in
            let gone = state.withLock { s -> Bool in
                guard var r = s.relays[login] else { return true }
                pending.state.withLock { $0.continuation = c }
                s.jobs[work.id] = pending
                if let w = r.waiter {
                    // Handed to a held poll: the relay was there just now.
                    r.waiter = nil
                    r.lastSeen = .now
                    s.relays[login] = r
                    w.continuation.resume(returning: work)
                } else {
                    r.queue.append(work)
                    s.relays[login] = r
                }
                return false
            }
            if gone {
                for h in work.hosts { sink(.unreachable(host: h.name, message: "through the relay \(login): it is not connected")) }
                c.resume(returning: Self.lost(pending))
            }
        }
    }

    /// Asks `relay` which of `devices` (serial → where its SSH listens) answer now (none when the
    /// relay is gone).
    public func probe(_ devices: [String: RelayWork.Probe], through login: String) async -> Set<String> {
        let work = RelayWork(id: UUID().uuidString.lowercased(), run: 0, playbook: "", files: [:], hosts: [], ssh: [:],
                             options: .init(check: true, diff: false, forks: 1, tags: [], skipTags: [], extraVars: [:], extraData: [:],
                                            become: "none", becomeUser: nil, startAtTask: nil, knownNames: []),
                             probe: devices)
        let up = Mutex<Set<String>>([])
        _ = await dispatch(work, to: login) { e in
            if case .note(let text) = e, text.hasPrefix("answers ") { _ = up.withLock { $0.insert(String(text.dropFirst(8))) } }
        }
        return up.withLock { $0 }
    }

    public enum ReportError: Error { case unknownJob }

    /// A relay's report on its work: new events forwarded (those already received skipped), the
    /// outcome ends the wait.
    public func report(relay login: String, job id: String, _ report: RelayReport) throws(ReportError) -> RelayReply {
        guard let pending = state.withLock({ s -> Pending? in
            guard let p = s.jobs[id], p.relay == login else { return nil }
            s.relays[login]?.lastSeen = .now
            if report.outcome != nil { s.jobs[id] = nil }
            return p
        }) else { throw .unknownJob }
        let fresh = pending.state.withLock { s -> ArraySlice<RelayEvent> in
            let skip = max(0, s.received - report.from)
            guard skip < report.events.count else { return [] }
            let new = report.events[skip...]
            s.received += new.count
            for case .task(let r) in new { s.records.append(r) }
            return new
        }
        for e in fresh { pending.sink(e) }
        if let outcome = report.outcome { pending.end(outcome) }
        let next = pending.state.withLock { $0.received }
        return RelayReply(next: next, cancelledBy: pending.cancellation?.cancelledBy)
    }

    /// Ends the work of relays silent for longer than ``timeout``: their hosts unreachable. The
    /// server calls it every second.
    public func sweep() {
        let now = ContinuousClock.now
        let lost = state.withLock { s -> [(String, Pending)] in
            var out: [(String, Pending)] = []
            for (login, r) in s.relays where r.waiter == nil && now - r.lastSeen >= timeout {
                for (id, p) in s.jobs where p.relay == login {
                    out.append((id, p))
                    s.jobs[id] = nil
                }
                // Work not yet taken goes nowhere: its run ends now.
                s.relays[login]?.queue = []
            }
            return out
        }
        for (_, p) in lost {
            logger.warning("relay stopped answering", metadata: ["relay": "\(p.relay)"])
            let outcome = Self.lost(p)
            for h in p.hosts where !(outcome.result.recap[h.name].map { $0.unreachable == 0 } ?? false) {
                p.sink(.unreachable(host: h.name, message: "through the relay \(p.relay): it stopped answering (silent for \(Int(Self.seconds(timeout))) s)"))
            }
            p.end(outcome)
        }
    }

    /// The outcome of a part whose relay was never reached: every host unreachable.
    static func lost(_ part: PlaybookRuns.RelayPart) -> RelayOutcome {
        lost(Pending(relay: part.relay, hosts: part.hosts, sink: { _ in }, cancellation: nil))
    }

    /// The outcome of work whose relay is gone: what it reported, and every host unreachable.
    static func lost(_ p: Pending) -> RelayOutcome {
        let records = p.state.withLock { $0.records }
        var recap: [String: HostRecap] = [:]
        for h in p.hosts { recap[h.name] = HostRecap() }
        for r in records where recap[r.host] != nil {
            switch r.outcome {
            case .ok: recap[r.host]!.ok += 1
            case .changed: recap[r.host]!.changed += 1; recap[r.host]!.ok += 1
            case .failed: if r.ignored { recap[r.host]!.ignored += 1 } else { recap[r.host]!.failed += 1 }
            case .skipped: recap[r.host]!.skipped += 1
            case .unreachable: break
            }
        }
        for h in p.hosts { recap[h.name]!.unreachable = 1 }
        let result = RunResult(records: records, recap: recap, failedHosts: [], unreachableHosts: p.hosts.map(\.serial), aborted: nil)
        return RelayOutcome(result: result, newKeys: [:])
    }
}

// MARK: The relay's engine side

extension RelayWork {
    /// Does the work here, over SSH with `credentials`, reporting each event to `report` as it
    /// happens; returns the outcome. The playbook's folder is written to a temporary folder, removed
    /// at the end.
    public func perform(credentials: [SSHCredential], becomePassword: Secret?, logger: Logger,
                        cancellation: RunCancellation, report: @escaping @Sendable (RelayEvent) -> Void) async throws -> RelayOutcome {
        if let wake {
            await Waking.send(wake, report: report)
            return RelayOutcome(result: RunResult(records: [], recap: [:], failedHosts: [], unreachableHosts: []), newKeys: [:])
        }
        if let probe {
            let up = await concurrently(probe.sorted { $0.key < $1.key }, limit: 32) { serial, p in
                Waking.answers(p.address, port: p.port, timeout: 2) ? serial : nil
            }
            for serial in up.compactMap({ $0 }) { report(.note("answers \(serial)")) }
            return RelayOutcome(result: RunResult(records: [], recap: [:], failedHosts: [], unreachableHosts: []), newKeys: [:])
        }
        if let reach {
            let targets = try ssh.sorted { $0.key < $1.key }.map { serial, e in (serial, try e.options(credentials)) }
            let become: Become = becomePassword.map { .sudoPassword($0) } ?? .sudo
            let keys = await concurrently(targets, limit: max(1, options.forks)) { serial, o -> (String, HostKey)? in
                switch reach {
                case .ping:
                    let (answer, key) = await ReachOps.Ping.ping(name: o.name, serial: serial, o)
                    report(.answered(answer))
                    return key.map { (serial, $0) }
                case .facts:
                    report(.gathered(await FactsRefresh.gather(name: o.name, serial: serial, o, become: become)))
                    return nil
                }
            }
            var newKeys: [String: String] = [:]
            for case let (serial, key)? in keys { newKeys[serial] = key.openSSH }
            return RelayOutcome(result: RunResult(records: [], recap: [:], failedHosts: [], unreachableHosts: []), newKeys: newKeys)
        }
        let fm = FileManager.default
        let folder = fm.temporaryDirectory.appendingPathComponent("parc-relay-\(id)")
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: folder) }
        let base = folder.standardizedFileURL.path
        for (path, content) in files {
            let url = folder.appendingPathComponent(path).standardizedFileURL
            // Nothing lands outside the work's folder, whatever a path says.
            guard url.path.hasPrefix(base + "/") else { throw AppError("the work names a file outside its folder: \(path)") }
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url)
        }
        var book = try PlaybookLoader.load(folder.appendingPathComponent(playbook).path,
                                           rolesPath: (rolesPath ?? []).map { folder.appendingPathComponent($0).standardizedFileURL.path })
        book.apply(playDefaults ?? PlayDefaults())
        var o = RunOptions(check: options.check, diff: options.diff, forks: options.forks)
        o.tags = Set(options.tags)
        o.skipTags = Set(options.skipTags)
        o.extraVars = options.extraVars
        o.extraData = options.extraData
        o.startAtTask = options.startAtTask
        o.knownNames = Set(options.knownNames)
        o.cancellation = cancellation
        switch options.become {
        case "none": o.become = .none
        case "password":
            guard let becomePassword else { throw AppError("the run needs sudo's password: start the relay with PARC_BECOME_PASSWORD set") }
            o.become = options.becomeUser.map { .sudoUser($0, becomePassword) } ?? .sudoPassword(becomePassword)
        default: o.become = options.becomeUser.map { .sudoUser($0, nil) } ?? .sudo
        }
        var endpoints: [String: SSHOptions] = [:]
        for (serial, e) in ssh { endpoints[serial] = try e.options(credentials) }
        let connector = SSHConnector(options: endpoints)
        let runner = Runner(playbook: book, hosts: hosts, connector: connector, options: o, logger: logger) { report(RelayEvent($0)) }
        let result = await runner.run()
        return RelayOutcome(result: result, newKeys: connector.newKeys.all.mapValues(\.openSSH))
    }
}

extension RunResult {
    /// Only what concerns `hosts` (a relay's report on the devices it was given).
    func restricted(to hosts: [HostTarget]) -> RunResult {
        let names = Set(hosts.map(\.name)), serials = Set(hosts.map(\.serial))
        return RunResult(records: records.filter { serials.contains($0.serial) && names.contains($0.host) },
                         recap: recap.filter { names.contains($0.key) }, failedHosts: failedHosts.filter(serials.contains),
                         unreachableHosts: unreachableHosts.filter(serials.contains), aborted: aborted,
                         facts: facts.filter { serials.contains($0.key) }, roundTrips: roundTrips.filter { serials.contains($0.key) })
    }

    /// Two parts of one run (this server's and a relay's, or two relays') as one.
    mutating func merge(_ other: RunResult) {
        records += other.records
        recap.merge(other.recap) { a, _ in a }
        failedHosts += other.failedHosts
        unreachableHosts += other.unreachableHosts
        aborted = aborted ?? other.aborted
        facts.merge(other.facts) { a, _ in a }
        roundTrips.merge(other.roundTrips) { a, _ in a }
    }
}

/// The playbook's folder as files (relative path → content), for a relay: every regular file under
/// it, hidden ones and `.retry` files left out, at most `limit` bytes in all.
enum PlaybookBundle {
    static func files(of playbook: String, limit: Int = 64 << 20) throws -> (root: URL, files: [String: Data]) {
        let root = URL(fileURLWithPath: playbook).standardizedFileURL.deletingLastPathComponent()
        return (root, try files(under: root, limit: limit))
    }

    /// Every regular file under `root` (relative path → content), hidden ones and `.retry` left out.
    static func files(under folder: URL, limit: Int = 64 << 20) throws -> [String: Data] {
        let root = folder.standardizedFileURL
        var out: [String: Data] = [:]
        var total = 0
        let fm = FileManager.default
        guard let walk = fm.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw AppError("cannot read the playbook's folder \(root.path)")
        }
        for case let file as URL in walk {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true, file.pathExtension != "retry" else { continue }
            let rel = String(file.standardizedFileURL.path.dropFirst(root.path.count).drop { $0 == "/" })
            let data = try Data(contentsOf: file)
            total += data.count
            guard total <= limit else {
                throw AppError("the playbook's folder \(root.path) holds more than \(limit >> 20) MiB: a relay takes at most that; keep large files elsewhere")
            }
            out[rel] = data
        }
        return out
    }
}

/// One part's count of the plays it started.
final class PlaysSeen: Sendable {
    private let count = Mutex(0)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}

/// A play header once per play, whichever part of a run (this server, a relay) reaches it first.
final class PlayHeaders: Sendable {
    private let shown = Mutex(0)
    /// `index` is the part's own count of plays so far (1 for its first).
    func show(_ index: Int) -> Bool { shown.withLock { if index > $0 { $0 = index; return true }; return false } }
}
