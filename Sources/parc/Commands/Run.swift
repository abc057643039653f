import ArgumentParser
import Foundation
import ParcApp
import ParcCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
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
        // The ansible.cfg ansible-playbook would read here, and the ANSIBLE_* variables.
        let project = try AnsibleProject.here()
        if syntaxCheck {
            guard let playbook else { throw ValidationError("--syntax-check needs a playbook") }
            emit(try PlaybookListing.syntaxCheck(playbook, rolesPath: project.rolesPath))
            return
        }
        if listTasks {
            guard let playbook else { throw ValidationError("--list-tasks needs a playbook") }
            emit(try PlaybookListing.tasks(path: playbook, rolesPath: project.rolesPath))
            return
        }
        if let server = try global.remote() { return try await runRemote(server) }
        let (settings, notes) = try project.access(access.settings, typed: access.typed)
        for note in notes { warn(note) }
        var workspace = try global.open(access: settings)
        workspace.follow(project)
        // ansible.cfg's inventory, as ansible-playbook would use it without -i.
        let chosenInventory = retry == nil && !pending ? try project.inventory(given: inventoryFile) : (file: inventoryFile, note: nil)
        if let note = chosenInventory.note { warn(note) }
        // Asked once, before anything runs (and before a prompt could mix with progress lines).
        let extra = try ExtraVars.parse(extraVars).merging(ExtraVars.asked(try AskVars.ask(askVars))) { _, asked in asked }
        let typed = RunParameters(extraVars: extraVars, askVars: askVars, tags: tags, skipTags: skipTags, limit: limit)
        if pending {
            if inventoryFile != nil { throw ValidationError("--pending works on parc's devices, not with -i") }
            guard let job = try PendingWork.serve(in: workspace, base: try request(playbook: "", project: project), typed: typed, extra: extra,
                                                  ask: { ExtraVars.asked(try AskVars.ask($0)) }) else {
                emit("Nothing is pending.\n")
                return
            }
            let progress = Progress(quiet: json, verbosity: global.verbose)
            for await e in job.events() {
                switch e.event {
                case .batch(let b):
                    emit("Pending: \(b.playbook) for \(b.items.map(\.device).joined(separator: ", "))\n")
                    if let asked = b.asAsked { emit("  as asked then: \(asked)\n") }
                case .runStarted: break
                case .run(.recap(let report)): try render(report, workspace: workspace)
                case .run(let event): progress.report(event)
                case .notServed(let b, let reason): warn("\(b.playbook) not served now: \(reason)")
                }
            }
            let worst = try await job.value()
            if worst != 0 { throw ExitCode(worst) }
            return
        }
        var request: RunRequest
        if let retry {
            if inventoryFile != nil { throw ValidationError("--retry works on parc's devices, not with -i") }
            // The one "rerun the failed" (the console's too): that run's playbook, as it was asked.
            guard let rerun = try PlaybookRuns.rerunFailed(retry, in: workspace, base: try self.request(playbook: playbook ?? "", project: project), typed: typed, extra: extra,
                                                           ask: { ExtraVars.asked(try AskVars.ask($0)) }) else {
                emit("Run \(retry) has no failed or unreachable device; nothing to retry.\n")
                return
            }
            request = rerun
        } else {
            guard let playbook else { throw ValidationError("give a playbook, --retry RUN or --pending") }
            request = try self.request(playbook: playbook, inventory: chosenInventory.file, project: project)
            request.extraVars = extra
            request.parameters = typed
        }
        let playbookPath = request.playbook
        let prepared = try PlaybookRuns.prepare(request, in: workspace)
        if prepared.hosts.isEmpty {
            // Nothing matched is not a mistake of the command line: a warning and exit 0, as Ansible.
            warn("no device with an address matches\(limit.map { " --limit \($0)" } ?? ""); nothing to do (see `parc groups`)")
            return
        }
        if listHosts {
            emit(PlaybookListing.hosts(prepared, path: playbookPath))
            return
        }
        var woken = Set<String>()
        if wake {
            let w = wakeOptions
            let up = try await Waking.wakeAsleep(prepared.hosts, targets: prepared.targets, via: w.via, broadcast: w.broadcast, port: w.wolPort,
                                                 stagger: w.stagger, waitFor: waitFor, in: workspace)
            if let via = up.via, via.macs > 0 { emit("Sent from \(via.device) to \(via.target):\(w.wolPort) for \(via.macs) MAC address(es).\n") }
            for s in up.sent {
                if let error = s.error { throw ValidationError("\(s.device): \(error)") }
                emit("\(s.device): \(s.macs.joined(separator: ", ")) → \(s.target):\(w.wolPort)\(s.relay.map { " (through the relay \($0))" } ?? "")\n")
            }
            if up.via != nil || !up.sent.isEmpty || up.silent > 0 || !up.woken.isEmpty {
                FileHandle.standardError.write(Data(("\(up.woken.count) device(s) woke" + (up.silent == 0 ? "" : "; \(up.silent) did not answer within \(Int(waitFor)) s") + ".\n").utf8))
            }
            woken = up.woken
        }
        let job = try prepared.start()
        let progress = Progress(quiet: json, verbosity: global.verbose)
        for await e in job.events() { progress.report(e.event) }
        let report = try await job.value()
        if poweroffAfter {
            for p in await PlaybookRuns.powerOff(woken, hosts: prepared.hosts, report: report, connector: prepared.connector) {
                let line = p.error.map { "\(p.host): could not power it off: \($0)" } ?? "\(p.host): powered off"
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        try render(report, workspace: workspace)
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// What this command line asks of every run (the devices and variables come after).
    func request(playbook: String, inventory: String? = nil, project: AnsibleProject? = nil) throws -> RunRequest {
        var r = RunRequest(playbook: playbook)
        r.limit = limit
        r.check = check
        r.diff = diff
        r.tags = RunRequest.tagSet(tags)
        r.skipTags = RunRequest.tagSet(skipTags)
        r.become = try becomeMethod(asking: project?.asksBecomePassword == true)
        r.becomeAll = become
        r.startAtTask = startAtTask
        r.ansibleInventory = inventory
        r.prompter = Prompter.ask
        return r
    }

    /// The recap, or with --json the recorded run in the one shape `parc runs show --json` prints
    /// too, with the round trips each device cost (measured, not recorded).
    func render(_ report: RunReport, workspace: Workspace) throws {
        if json {
            let (recorded, hosts, tasks) = try PlaybookRuns.recorded(report.id, in: workspace)
            emit(try RunJSON.render(recorded, hosts: hosts, tasks: tasks, roundTrips: report.roundTrips))
        } else {
            emit(RecapText.render(report.hosts, aborted: report.aborted, runID: report.id, check: report.check))
        }
    }

    func becomeMethod(asking: Bool = false) throws -> Become {
        if askBecomePass || asking {
            guard let pass = getpass("BECOME password: ") else { throw ValidationError("no become password given") }
            return .sudoPassword(Secret(String(cString: pass)))
        }
        return EnvironmentCredentials.become
    }
}


/// `--ask-vars NAME`: each value read without echo from the terminal, or one line each from
/// standard input when it is not a terminal (`printf '%s\n' "$PSK" | parc run … --ask-vars wifi_psk`).
enum AskVars {
    static func ask(_ names: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        let terminal = isatty(STDIN_FILENO) != 0
        for name in names {
            guard ExtraVars.isName(name) else {
                throw ValidationError("--ask-vars takes variable names (letters, digits, _), not '\(name)'")
            }
            let value: String?
            if let env = EnvironmentCredentials.askVar(name) {
                // Unattended replays (parc watch): the value from the environment, never stored.
                value = env
            } else if terminal {
                value = getpass("\(name): ").map { String(cString: $0) }
            } else {
                value = readLine(strippingNewline: true)
            }
            guard let value else { throw ValidationError("--ask-vars \(name): no value given (standard input ended)") }
            out[name] = value
        }
        return out
    }
}

extension GlobalOptions {
    /// The inventory, the parc folder and how this command line reaches devices.
    func workspace(_ access: AccessOptions) throws -> Workspace {
        try open(access: access.settings)
    }
}

/// Live progress on standard error: one line per play, device and task, as ansible-playbook.
final class Progress: @unchecked Sendable {
    let quiet: Bool
    /// -v: each task's output too.
    let verbosity: Int
    /// Colours on a terminal, unless NO_COLOR is set (https://no-color.org).
    let colour: Bool
    private let lock = NSLock()

    init(quiet: Bool, verbosity: Int = 0) {
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

    func report(_ event: RunProgress) {
        guard !quiet else { return }
        lock.lock(); defer { lock.unlock() }
        switch event {
        case .started, .recap:
            break
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

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "Provisioning runs recorded in the inventory.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the latest runs.")
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

        func run() async throws {
            let runs = try await global.parc().perform(RunOps.List(limit: last))
            if output.format != .table {
                emit(Render.list(runs, fields: Self.fields, format: output.format))
                return
            }
            emit(Render.table(header: ["RUN", "STARTED", "PLAYBOOK", "SELECTOR", "CHECK", "BY", "EXIT"], rows: runs.map { r in
                [String(r.id!), EventTime.iso(r.startedAt), r.playbook, r.selector, r.checkMode ? "yes" : "no", r.actor, r.exitCode.map(String.init) ?? "running"]
            }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run: its recap per device and every task.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run's id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let detail = try await global.parc().perform(RunOps.Show(id))
            let (run, hosts, tasks) = (detail.run, detail.hosts, detail.tasks)
            if json {
                emit(try RunJSON.render(run, hosts: hosts, tasks: tasks))
                return
            }
            emit("Run \(id): \(run.playbook) on \(run.selector)\(run.checkMode ? " (check mode)" : ""), by \(run.actor), started \(EventTime.iso(run.startedAt))"
                 + (run.exitCode.map { ", exit \($0)" } ?? ", not finished") + "\n\n")
            // Which relay ran each device, when relays did.
            let relayed = hosts.contains { $0.relay != nil }
            emit(Render.table(header: ["DEVICE", "SERIAL", "OUTCOME", "OK", "CHANGED", "FAILED", "SKIPPED", "UNREACHABLE"] + (relayed ? ["RELAY"] : []), rows: hosts.map { h in
                [h.host, h.serial, h.outcome.rawValue, String(h.ok), String(h.changed), String(h.failed), String(h.skipped), String(h.unreachable)]
                    + (relayed ? [h.relay ?? "-"] : [])
            }) + "\n")
            emit(Render.table(header: ["DEVICE", "TASK", "OUTCOME", "MS", "MESSAGE"], rows: tasks.map { t in
                [t.host, t.task + (t.item.map { " (\($0))" } ?? ""), t.outcome.rawValue + (t.ignored ? " (ignored)" : ""), String(t.milliseconds), t.message ?? ""]
            }))
        }
    }
}
