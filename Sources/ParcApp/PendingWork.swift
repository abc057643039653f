import Foundation
import InventoryStore
import ParcCore
import Provisioning
import Templating

/// What is owed to devices that were offline, served playbook by playbook, each replayed as its
/// run was asked for (`-e`, `--ask-vars`, `--tags`, `--skip-tags`, `--limit`).
public enum PendingWork {
    /// One playbook owed to some devices, with how it was asked for.
    public struct Batch: Sendable {
        public var playbook: String
        public var items: [PendingItem]
        public var parameters: RunParameters?
        /// "--tags x -e key=…": how the run was asked for then, values of -e hidden.
        public var asAsked: String? {
            guard let p = parameters, !p.extraVars.isEmpty || !p.askVars.isEmpty || !p.dataVars.isEmpty || p.tags != nil || p.skipTags != nil || p.limit != nil
            else { return nil }
            return ([p.tags.map { "--tags \($0)" }, p.skipTags.map { "--skip-tags \($0)" }, p.limit.map { "--limit \($0)" }].compactMap { $0 }
                    + p.extraVars.map { $0.hasPrefix("@") ? "-e \($0)" : "-e \($0.split(separator: "=").first ?? "")=…" }
                    + p.dataVars.keys.sorted().map { "\($0)=… (given through the web, as data)" }
                    + p.askVars.map { "--ask-vars \($0)" }).joined(separator: " ")
        }
    }

    public enum Progress: Sendable {
        /// A playbook is about to be served to these devices.
        case batch(Batch)
        /// Its run started (for whoever follows runs one by one, such as the web app's live pages).
        case runStarted(RunJob)
        /// Its run's own progress.
        case run(RunProgress)
        /// Not served now: a device is in another run, or the run could not start.
        case notServed(Batch, reason: String)
    }

    public typealias ServeJob = Job<Progress, Int32>

    /// The pending work, grouped: one batch per playbook and way it was asked for, oldest first.
    public static func batches(in workspace: Workspace, only serials: Set<String>? = nil) throws -> [Batch] {
        struct Key: Hashable { var playbook: String; var parameters: RunParameters? }
        let owed = try workspace.inventory.read { try $0.pending() }.filter { serials?.contains($0.serial.lowercased()) ?? true }
        return Dictionary(grouping: owed, by: { Key(playbook: $0.playbook, parameters: $0.parameters) })
            .sorted(by: { ($0.key.playbook, $0.value[0].since) < ($1.key.playbook, $1.value[0].since) })
            .map { Batch(playbook: $0.key.playbook, items: $0.value, parameters: $0.key.parameters) }
    }

    /// Serves every batch, one run after the other; the job's output is the worst exit status.
    /// - Parameters:
    ///   - base: how to run (become, diff, check…); its playbook, devices and variables are each batch's.
    ///   - typed: what the command line gives now (on top of what was asked then).
    ///   - extra: the values of `typed`'s `-e` and `--ask-vars`, already read.
    ///   - ask: values for the `--ask-vars` names a batch was asked with (never stored).
    /// Returns nil when nothing is pending.
    ///   - only: only the work owed to these devices (serials, lower-case): a relay's schools.
    public static func serve(in workspace: Workspace, base: RunRequest, typed: RunParameters = RunParameters(), extra: [String: Value] = [:],
                             only: Set<String>? = nil, ask: @escaping @Sendable ([String]) throws -> [String: Value]) throws -> ServeJob? {
        let batches = try batches(in: workspace, only: only)
        if batches.isEmpty { return nil }
        let job = ServeJob()
        job.start { job in
            var worst: Int32 = 0
            for batch in batches {
                if let by = job.cancellation.cancelledBy { job.emit(.notServed(batch, reason: "cancelled by \(by)")); continue }
                job.emit(.batch(batch))
                do {
                    let request = try self.request(for: batch, base: base, typed: typed, extra: extra, ask: ask)
                    guard let run = try PlaybookRuns.start(request, in: workspace) else {
                        job.emit(.notServed(batch, reason: "none of its devices has an address any more"))
                        continue
                    }
                    job.emit(.runStarted(run))
                    for await e in run.events() { job.emit(.run(e.event)) }
                    worst = max(worst, try await run.value().exitCode)
                } catch {
                    job.emit(.notServed(batch, reason: "\(error)"))
                    worst = max(worst, 2)
                }
            }
            return worst
        }
        return job
    }

    /// The run that serves one batch.
    public static func request(for batch: Batch, base: RunRequest, typed: RunParameters, extra: [String: Value],
                               ask: ([String]) throws -> [String: Value]) throws -> RunRequest {
        var request = base
        request.playbook = batch.playbook
        request.only = Set(batch.items.map { $0.serial.lowercased() })
        request.retryOf = nil
        var values = extra
        var data = base.extraData
        var parameters = typed
        if let p = batch.parameters {
            parameters = RunParameters(extraVars: p.extraVars + typed.extraVars, askVars: p.askVars + typed.askVars.filter { !p.askVars.contains($0) },
                                       tags: typed.tags ?? p.tags, skipTags: typed.skipTags ?? p.skipTags, limit: typed.limit ?? p.limit,
                                       dataVars: p.dataVars.merging(typed.dataVars) { _, now in now })
            // What is given now wins over what was given then, whatever the nature of either.
            let then = try ExtraVars.replay(p, ask: ask)
            values = then.authored.filter { data[$0.key] == nil }.merging(extra) { _, now in now }
            data = then.data.filter { extra[$0.key] == nil }.merging(data) { _, now in now }
        }
        request.parameters = parameters
        request.extraVars = values
        request.extraData = data
        request.tags = RunRequest.tagSet(parameters.tags)
        request.skipTags = RunRequest.tagSet(parameters.skipTags)
        request.limit = parameters.limit
        return request
    }
}

extension PendingWork {
    /// The devices of these schools (UAI) owed pending work, with where a relay probes them.
    public static func owed(inSchools schools: [String], in workspace: Workspace) throws -> [String: RelayWork.Probe] {
        let wanted = Set(schools.map { $0.uppercased() })
        return try workspace.inventory.read { r in
            let pending = Set(try r.pending().map { $0.serial.lowercased() })
            var out: [String: RelayWork.Probe] = [:]
            for d in try r.devices() where pending.contains(d.serial.lowercased()) && (d.uai.map { wanted.contains($0.uppercased()) } ?? false) {
                if let address = d.address { out[d.serial] = RelayWork.Probe(address: address, port: d.sshPort ?? 22) }
            }
            return out
        }
    }

    /// The serials (lower case) of the devices of these schools (UAI).
    public static func serials(inSchools schools: [String], in workspace: Workspace) throws -> Set<String> {
        let wanted = Set(schools.map { $0.uppercased() })
        return try workspace.inventory.read { r in
            Set(try r.devices().filter { $0.uai.map { wanted.contains($0.uppercased()) } ?? false }.map { $0.serial.lowercased() })
        }
    }
}

extension PendingWork {
    /// What is owed to devices that were offline, per device and playbook.
    public static func items(in workspace: Workspace) throws -> [PendingItem] {
        try workspace.inventory.read { try $0.pending() }
    }
}
