import Foundation
import Synchronization

/// How a task ended on a device, and (for a device's whole run) the worst of its tasks: one set of
/// words for the runner, the store, the command line and the web app (Ansible's).
public enum TaskOutcome: String, Sendable, Codable, CaseIterable, Hashable {
    case ok, changed, failed, skipped, unreachable

    /// A device that ended so is owed the run again (`parc run --retry`, "relancer les échecs").
    public var needsRetry: Bool { self == .failed || self == .unreachable }

    /// As French technicians say it. "Ignoré" is a task whose condition was false (Ansible's
    /// "skipping"); a failure Ansible was told to ignore stays "en échec" in parc's records.
    public var french: String {
        switch self {
        case .ok: "inchangé"
        case .changed: "modifié"
        case .failed: "en échec"
        case .skipped: "ignoré"
        case .unreachable: "injoignable"
        }
    }
}

/// Asks a run to stop: no device starts another task once it is set; the steps in progress end.
public final class RunCancellation: Sendable {
    private let state = Mutex<String?>(nil)
    public init() {}
    /// Who asked (for the run's record).
    public func cancel(by actor: String) { state.withLock { if $0 == nil { $0 = actor } } }
    public var isCancelled: Bool { state.withLock { $0 != nil } }
    public var cancelledBy: String? { state.withLock { $0 } }
}

/// A device is in another run that has not ended: one run at a time per device.
public struct DeviceBusy: Error, CustomStringConvertible, Sendable, Equatable {
    public var device: String
    public var runID: Int64
    public var actor: String
    public init(device: String, runID: Int64, actor: String) {
        self.device = device
        self.runID = runID
        self.actor = actor
    }
    public var description: String {
        "\(device) is busy: run \(runID) (by \(actor)) holds it until it ends (parc runs show \(runID)); wait for it, or leave the device out"
    }
}

/// A provisioning run as the inventory records it.
/// How a run was asked for, kept with the work it leaves pending so that `parc run --pending`
/// replays it exactly. Secret values are never kept: `-e @FILE` keeps the file's path (read again),
/// `--ask-vars` keeps the names (asked again, or read from `PARC_ASK_<NAME>`).
public struct RunParameters: Sendable, Equatable, Codable, Hashable {
    /// `-e` as typed: `key=value` words and `@FILE`.
    public var extraVars: [String]
    public var askVars: [String]
    public var tags: String?
    public var skipTags: String?
    public var limit: String?
    /// Variables given through the web, the API or a relay (name → value): data, never templates,
    /// in the run and in every replay of it.
    public var dataVars: [String: String]

    public init(extraVars: [String] = [], askVars: [String] = [], tags: String? = nil, skipTags: String? = nil, limit: String? = nil,
                dataVars: [String: String] = [:]) {
        self.extraVars = extraVars
        self.askVars = askVars
        self.tags = tags
        self.skipTags = skipTags
        self.limit = limit
        self.dataVars = dataVars
    }

    enum CodingKeys: String, CodingKey { case extraVars, askVars, tags, skipTags, limit, dataVars }

    // Records written before `dataVars` existed have no such key.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        extraVars = try c.decodeIfPresent([String].self, forKey: .extraVars) ?? []
        askVars = try c.decodeIfPresent([String].self, forKey: .askVars) ?? []
        tags = try c.decodeIfPresent(String.self, forKey: .tags)
        skipTags = try c.decodeIfPresent(String.self, forKey: .skipTags)
        limit = try c.decodeIfPresent(String.self, forKey: .limit)
        dataVars = try c.decodeIfPresent([String: String].self, forKey: .dataVars) ?? [:]
    }
}

public struct RunSummary: Sendable, Equatable, Codable {
    public var id: Int64?
    public var playbook: String
    public var playbookHash: String
    public var selector: String
    public var checkMode: Bool
    public var actor: String
    public var startedAt: Date
    public var endedAt: Date?
    /// 0, 2 (a host failed) or 4 (a host was unreachable); nil while running.
    public var exitCode: Int?
    public var retryOf: Int64?
    /// Why the run stopped before its end (cancelled, max_fail_percentage, an unanswered prompt).
    public var aborted: String?

    public init(id: Int64? = nil, playbook: String, playbookHash: String, selector: String, checkMode: Bool, actor: String,
                startedAt: Date, endedAt: Date? = nil, exitCode: Int? = nil, retryOf: Int64? = nil, aborted: String? = nil) {
        self.id = id
        self.playbook = playbook
        self.playbookHash = playbookHash
        self.selector = selector
        self.checkMode = checkMode
        self.actor = actor
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.retryOf = retryOf
        self.aborted = aborted
    }
}

/// One host's recap in a run.
public struct RunHostSummary: Sendable, Equatable, Codable {
    public var host: String
    public var serial: String
    public var ok: Int
    public var changed: Int
    public var failed: Int
    public var skipped: Int
    public var unreachable: Int
    /// ok, changed, failed or unreachable (never skipped).
    public var outcome: TaskOutcome
    /// The relay that ran it, when one did (nil: this server reached the device itself).
    public var relay: String?

    public init(host: String, serial: String, ok: Int, changed: Int, failed: Int, skipped: Int, unreachable: Int, relay: String? = nil) {
        self.relay = relay
        self.host = host
        self.serial = serial
        self.ok = ok
        self.changed = changed
        self.failed = failed
        self.skipped = skipped
        self.unreachable = unreachable
        outcome = unreachable > 0 ? .unreachable : failed > 0 ? .failed : changed > 0 ? .changed : .ok
    }
}

/// One task on one host in a run; output and diff already masked for `no_log` tasks.
public struct RunTaskEntry: Sendable, Equatable, Codable {
    public var serial: String
    public var host: String
    public var play: String
    public var task: String
    public var item: String?
    public var outcome: TaskOutcome
    public var changed: Bool
    public var ignored: Bool
    public var message: String?
    public var output: String?
    public var diff: String?
    public var milliseconds: Int

    public init(serial: String, host: String, play: String, task: String, item: String?, outcome: TaskOutcome, changed: Bool, ignored: Bool,
                message: String?, output: String?, diff: String?, milliseconds: Int) {
        self.serial = serial
        self.host = host
        self.play = play
        self.task = task
        self.item = item
        self.outcome = outcome
        self.changed = changed
        self.ignored = ignored
        self.message = message
        self.output = output
        self.diff = diff
        self.milliseconds = milliseconds
    }
}

/// Blocking work (SQLite, bcrypt, a file) on a thread of its own: never on the cooperative pool's
/// threads (two on a 2-core machine), which the server's and the runner's tasks need.
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
