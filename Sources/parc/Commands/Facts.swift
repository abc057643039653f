import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct FactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Gather facts from devices over SSH (in parallel) and keep them in the inventory.",
        discussion: """
            Host name, firmware serial, vendor and product (DMI, read as root through sudo), MAC and \
            IP addresses, OS, kernel, CPU, memory, disk, uptime and last boot. `parc device show` \
            shows them; playbooks see them as ansible_* variables.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var access: AccessOptions
    @Flag(help: "Print JSON: the facts of each device.") var json = false

    func run() async throws {
        try access.checkRemote(global)
        let results = try await global.parc(access: access.settings).perform(FactsOps.Gather(selection.value, tuning: access.tuning))
        guard !results.isEmpty else { warn("no selected device has an address; nothing to read"); return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            var out: [String: DeviceFacts] = [:]
            for r in results { if let f = r.facts { out[r.device] = f } }
            emit(String(decoding: try encoder.encode(out), as: UTF8.self) + "\n")
        } else {
            emit(Render.table(header: ["DEVICE", "HOSTNAME", "SERIAL", "OS", "KERNEL", "CPU", "MEMORY", "DISK FREE", "IPV4"], rows: results.map { r in
                if let f = r.facts {
                    [r.device, f.hostname, f.serial ?? "—", "\(f.osName)", f.kernel, "\(f.cpuCount)×\(f.cpuModel)",
                     "\(f.memoryMB) MiB", "\(f.diskFreeMB)/\(f.diskSizeMB) MiB", f.primaryIPv4 ?? ""]
                } else {
                    [r.device, "(\(r.error ?? "no facts"))", "", "", "", "", "", "", ""]
                }
            }))
        }
        let unreachable = results.filter { $0.outcome == .unreachable }.count, failed = results.filter { $0.outcome == .failed }.count
        FileHandle.standardError.write(Data("\(results.count) device(s): \(results.count - unreachable - failed) gathered, \(failed) failed, \(unreachable) unreachable\n".utf8))
        if unreachable > 0 { throw ExitCode(4) }
        if failed > 0 { throw ExitCode(2) }
    }
}


struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the devices' gathered facts with the inventory: serial, MACs, host name, who answers where, last seen.",
        discussion: """
            --fix applies the safe updates (host name and MAC addresses from the device, with audit \
            events). A serial that differs is never changed: check the device by hand.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: SelectionOptions
    @Option(help: "Report devices not seen for this many days.") var days = 30
    @Flag(help: "Apply the safe updates (host name, MACs).") var fix = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let reconciled = try await global.parc().perform(FactsOps.Reconcile(selection.value, days: days, fix: fix))
        let (findings, fixed, refused) = (reconciled.findings, reconciled.fixed, reconciled.refused)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            emit(String(decoding: try encoder.encode(findings), as: UTF8.self) + "\n")
        } else if findings.isEmpty {
            emit("The inventory and the devices agree.\n")
        } else {
            emit(Render.table(header: ["DEVICE", "SERIAL", "FINDING", "INVENTORY", "DEVICE SAYS", "FIX"], rows: findings.map { f in
                [f.device, f.serial, f.message, f.expected ?? "", f.found ?? "",
                 f.fixable ? (fix ? (refused[FactsOps.Reconcile.key(f)].map { "not fixed: \($0)" } ?? "fixed") : "--fix") : "by hand"]
            }))
        }
        if fix { FileHandle.standardError.write(Data("\(fixed) update(s) applied\n".utf8)) }
        if findings.contains(where: { !$0.fixable || !fix }) || !refused.isEmpty { throw ExitCode(2) }
    }
}

struct Pending: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pending", abstract: "What is owed to devices that were offline: `parc run --pending` serves it.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let items = try await global.parc().perform(RunOps.Pending())
        if output.format != .table {
            emit(Render.list(items, fields: [
                Field("device", "DEVICE") { .string($0.device) }, Field("serial", "SERIAL") { .string($0.serial) },
                Field("playbook", "PLAYBOOK") { .string($0.playbook) }, Field("reason", "WHY") { .string($0.reason) },
                Field("since", "SINCE") { .string(EventTime.iso($0.since)) }, Field("runId", "RUN") { .number($0.runId.map(Int.init)) },
            ], format: output.format))
            return
        }
        if items.isEmpty { emit("Nothing is pending.\n"); return }
        emit(Render.table(header: ["DEVICE", "SERIAL", "PLAYBOOK", "WHY", "SINCE", "RUN"], rows: items.map {
            [$0.device, $0.serial, $0.playbook, $0.reason, EventTime.iso($0.since), $0.runId.map(String.init) ?? ""]
        }))
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Serve pending work as devices come back: `parc run --pending` every interval.",
        discussion: "Stops when nothing is pending, or after --rounds rounds. Values of --ask-vars come from PARC_ASK_<NAME>.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Seconds between rounds.") var interval: Double = 60
    @Option(help: "Stop after this many rounds (default: until nothing is pending).") var rounds: Int?
    @OptionGroup var access: AccessOptions

    func run() async throws {
        if global.server != nil {
            throw ValidationError("a server serves pending work by itself: when a relay connects, and by its sweeps (parc serve --relay-sweep); see parc pending --server")
        }
        let workspace = try global.workspace(access)
        var base = RunRequest(playbook: "")
        base.become = EnvironmentCredentials.become
        let progress = Progress(quiet: false, verbosity: global.verbose)
        var round = 0
        while true {
            round += 1
            let owed = try PendingWork.items(in: workspace)
            if owed.isEmpty { emit("Nothing is pending.\n"); return }
            emit("Round \(round): \(owed.count) pending item(s)\n")
            if let job = try PendingWork.serve(in: workspace, base: base, ask: EnvironmentCredentials.askVars(for: "for unattended replays")) {
                for await e in job.events() {
                    switch e.event {
                    case .batch(let b): emit("Pending: \(b.playbook) for \(b.items.map(\.device).joined(separator: ", "))\n")
                    case .runStarted: break
                    case .run(.recap(let r)): emit(RecapText.render(r.hosts, aborted: r.aborted, runID: r.id, check: r.check))
                    case .run(let event): progress.report(event)
                    case .notServed(let b, let reason): warn("\(b.playbook) not served now: \(reason)")
                    }
                }
                _ = await job.result()
            }
            if let rounds, round >= rounds { return }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }
}
