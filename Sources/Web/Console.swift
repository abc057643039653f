import Foundation
import Hummingbird
import Logging
import NIOCore
import ParcApp
import ParcCore
import Synchronization

/// The technicians' console: the runs and onboardings this server started, followed live.
final class Console: Sendable {
    let workspace: Workspace

    /// A playbook as people name it: relative to `playbooks/`, whether the run was started here
    /// (an absolute path) or by `parc run playbooks/x.yml` (relative to where it ran).
    func shownPlaybook(_ path: String) -> String {
        let dir = workspace.playbooksDirectory.standardizedFileURL.path + "/"
        let full = path.hasPrefix("/") ? URL(fileURLWithPath: path).standardizedFileURL.path : path
        if full.hasPrefix(dir) { return String(full.dropFirst(dir.count)) }
        if path.hasPrefix("playbooks/") { return String(path.dropFirst("playbooks/".count)) }
        if path.hasPrefix("./playbooks/") { return String(path.dropFirst("./playbooks/".count)) }
        return path
    }
    private let runs = Mutex<[Int64: (job: RunJob, wire: WireJob)]>([:])
    private let onboardings = Mutex<[String: (job: Onboarding.OnboardJob, fields: [String: String])]>([:])
    private let pending = Mutex<PendingWork.ServeJob?>(nil)

    init(workspace: Workspace, sweep: Duration = .seconds(300), mail: MailSettings? = nil, baseURL: String? = nil) {
        self.workspace = workspace
        // The notices of problems leave the outbox as soon as they can, retried until they go.
        if let mail {
            Task { [weak self] in
                while !Task.isCancelled {
                    guard let workspace = self?.workspace else { return }
                    await MailOutbox.send(in: workspace, settings: mail, baseURL: baseURL)
                    try? await Task.sleep(for: mail.interval)
                }
            }
        }
        // A relay that connects serves the work its schools' devices are owed (they may be on now).
        workspace.relays?.onArrival { [weak self] login, schools in
            guard let self else { return }
            Task { self.servePending(relay: login, schools: schools) }
        }
        // Then, every few minutes, each relay looks for those devices and serves the ones that are on.
        if let hub = workspace.relays {
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: sweep)
                    guard let console = self else { return }
                    await console.sweep(hub)
                }
            }
        }
    }

    /// Each connected relay probes the devices of its schools that are owed pending work; those that
    /// answer are served through it.
    func sweep(_ hub: RelayHub) async {
        for relay in hub.status {
            guard let owed = try? PendingWork.owed(inSchools: relay.schools, in: workspace), !owed.isEmpty else { continue }
            let up = await hub.probe(owed, through: relay.login)
            if !up.isEmpty { servePending(relay: relay.login, schools: relay.schools, only: Set(up.map { $0.lowercased() })) }
        }
    }

    /// Serves the pending work of the devices of `schools` (only those of `only` when given),
    /// through the relay that serves them.
    func servePending(relay login: String, schools: [String], only: Set<String>? = nil) {
        let workspace = self.workspace.acting(as: login)
        do {
            let serials = try PendingWork.serials(inSchools: schools, in: workspace).filter { only?.contains($0) ?? true }
            var base = RunRequest(playbook: "")
            base.become = Self.become
            guard let job = try PendingWork.serve(in: workspace, base: base, only: serials, ask: Self.askFromEnvironment) else { return }
            job.tap { [weak self] e in
                if case .runStarted(let run) = e.event, let id = run.runID { self?.track(run, id: id) }
            }
        } catch {
            workspace.logger.warning("pending work not served through the relay", metadata: ["relay": "\(login)", "error": "\(error)"])
        }
    }

    /// The workspace acting as this account (the run records and audit events name it).
    func workspace(for viewer: Viewer) -> Workspace { workspace.acting(as: viewer.account.login) }

    /// Starts a run; throws ``DeviceBusy`` when another run holds a device, nil when none matches.
    func start(_ request: RunRequest, as viewer: Viewer) throws -> Int64? {
        guard let job = try PlaybookRuns.start(request, in: workspace(for: viewer)), let id = job.runID else { return nil }
        track(job, id: id)
        return id
    }

    /// A run's events as server-sent-event frames, each encoded once for every follower.
    typealias WireJob = Job<ByteBuffer, Void>

    func track(_ job: RunJob, id: Int64) {
        let wire = WireJob()
        runs.withLock { all in
            // A finished run is told from its record; only the latest few finished ones keep their
            // events in memory (a page opened just as it ended still follows it live).
            let finished = all.filter { $0.value.job.isFinished }.keys.sorted()
            for k in finished.dropLast(20) { all.removeValue(forKey: k) }
            all[id] = (job, wire)
        }
        // Each event encoded once, as it is emitted, for every follower of the run.
        let count = Mutex(0)
        job.tap { e in
            let n = count.withLock { $0 += 1; return $0 }
            wire.emit(RunEvents.frame(id: n, event: RunEventJSON.name(e.event), data: RunEventJSON.json(e)))
            if case .recap = e.event { wire.finish(.success(())) }
        }
        Task {
            // A run that ends without its recap (it could not be recorded) ends its stream too.
            _ = await job.result()
            wire.finish(.success(()))
        }
    }

    func run(_ id: Int64) -> RunJob? { runs.withLock { $0[id]?.job } }
    func wire(_ id: Int64) -> WireJob? { runs.withLock { $0[id]?.wire } }

    /// Starts an onboarding; `fields` are the form's (never the password), to ask confirmations after.
    func startOnboarding(_ request: Onboarding.Request, fields: [String: String], as viewer: Viewer) throws -> String {
        let job = try Onboarding.start(request, through: LocalParc(workspace(for: viewer)))
        let id = String(Secrets.random().filter { $0.isLetter || $0.isNumber }.prefix(16))
        onboardings.withLock { all in
            if all.count > 50 { for (k, j) in all where j.job.isFinished { all.removeValue(forKey: k) } }
            all[id] = (job, fields)
        }
        return id
    }

    func onboarding(_ id: String) -> (Onboarding.OnboardJob, [String: String])? { onboardings.withLock { $0[id].map { ($0.job, $0.fields) } } }

    /// Serves pending work (one at a time): false when a serving is already going on.
    func servePending(as viewer: Viewer) throws -> Bool? {
        try pending.withLock { current -> Bool? in
            if let current, !current.isFinished { return false }
            var base = RunRequest(playbook: "")
            base.become = Self.become
            guard let job = try PendingWork.serve(in: workspace(for: viewer), base: base, ask: Self.askFromEnvironment) else { return nil }
            current = job
            // Each run it starts is followed live like one started from the form.
            let console = self
            job.tap { e in
                if case .runStarted(let run) = e.event, let id = run.runID { console.track(run, id: id) }
            }
            return true
        }
    }

    /// Nobody can type a secret in the server: a replayed --ask-vars comes from its environment.
    static let askFromEnvironment = EnvironmentCredentials.askVars(for: "for the server")

    /// sudo with the server's $PARC_BECOME_PASSWORD when set, else sudo without password.
    static var become: Become { EnvironmentCredentials.become }
}

/// Run events as server-sent events: the same for the console's pages and the API.
enum RunEvents {
    static func frame(id: Int, event: String, data: JSONValue) -> ByteBuffer {
        var b = ByteBuffer(string: "id: \(id)\nevent: \(event)\ndata: ")
        b.writeBytes(data.compact())
        b.writeString("\n\n")
        return b
    }

    /// A run's events as a stream: live from this server's job (from `after` on), else from its
    /// record (a run another process started is waited for, then told whole).
    /// A note in both languages, as the run's own notes are.
    static func note(_ message: Message) -> JSONValue {
        .object([("text", .string(message.english)), ("textFr", .string(message.french))])
    }

    static func response(run id: Int64, console: Console, audience: Audience, after lastSeen: Int?) -> Response {
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
        if let wire = console.wire(id) {
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                // Whatever came since the last write goes out in one write: a follower that falls
                // behind in a burst (50 devices ending a task at once) catches up at once.
                var seen = max(0, lastSeen ?? 0)
                while true {
                    let frames = await wire.events(after: seen)
                    if frames.isEmpty { break }
                    seen += frames.count
                    var out = ByteBuffer()
                    for f in frames { out.writeImmutableBuffer(f.event) }
                    try await writer.write(out)
                }
                try await writer.finish(nil)
            })
        }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var waited = false
            while true {
                let (detail, holders) = try await console.workspace.view(as: audience) { r in (try r.run(id), try r.claimingProcesses(of: id)) }
                if detail.run.endedAt == nil {
                    // A run whose process is gone (a crash) will never end: say so rather than wait forever.
                    if !holders.isEmpty && !holders.contains(where: { kill($0, 0) == 0 || errno == EPERM }) {
                        try await writer.write(frame(id: 0, event: "note", data: Self.note("run \(Int(id)) was left unfinished: the process running it has ended")))
                        break
                    }
                    if !waited {
                        try await writer.write(frame(id: 0, event: "note", data: Self.note("run \(Int(id)) goes on in another process: its tasks show when it ends")))
                        waited = true
                    } else {
                        // A comment line each second: a follower that left ends this loop (the write fails).
                        try await writer.write(ByteBuffer(string: ": waiting\n\n"))
                    }
                    try await Task.sleep(for: .seconds(1))
                    continue
                }
                var n = 0
                func send(_ event: String, _ data: JSONValue) async throws {
                    n += 1
                    if let lastSeen, n <= lastSeen { return }
                    try await writer.write(frame(id: n, event: event, data: data))
                }
                let run = detail.run
                let at = (run.endedAt ?? run.startedAt)
                let hosts = Dictionary(detail.hosts.map { ($0.serial, $0.host) }, uniquingKeysWith: { a, _ in a })
                try await send("start", .object([("id", .number(Int(id))), ("playbook", .string(run.playbook)), ("check", .bool(run.checkMode)),
                                                 ("hosts", .array(hosts.sorted { $0.value < $1.value }.map { .object([("name", .string($0.value)), ("serial", .string($0.key))]) }))]))
                for t in detail.tasks { try await send("task", .object(RunEventJSON.taskFields(t))) }
                try await send("recap", RunEventJSON.recap(id: id, hosts: detail.hosts, exitCode: run.exitCode ?? 2, aborted: run.aborted, check: run.checkMode, at: at))
                break
            }
            try await writer.finish(nil)
        })
    }
}
