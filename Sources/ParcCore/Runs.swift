import Foundation

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

    public init(extraVars: [String] = [], askVars: [String] = [], tags: String? = nil, skipTags: String? = nil, limit: String? = nil) {
        self.extraVars = extraVars
        self.askVars = askVars
        self.tags = tags
        self.skipTags = skipTags
        self.limit = limit
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

    public init(id: Int64? = nil, playbook: String, playbookHash: String, selector: String, checkMode: Bool, actor: String,
                startedAt: Date, endedAt: Date? = nil, exitCode: Int? = nil, retryOf: Int64? = nil) {
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
    /// ok, changed, failed or unreachable.
    public var outcome: String

    public init(host: String, serial: String, ok: Int, changed: Int, failed: Int, skipped: Int, unreachable: Int) {
        self.host = host
        self.serial = serial
        self.ok = ok
        self.changed = changed
        self.failed = failed
        self.skipped = skipped
        self.unreachable = unreachable
        outcome = unreachable > 0 ? "unreachable" : failed > 0 ? "failed" : changed > 0 ? "changed" : "ok"
    }
}

/// One task on one host in a run; output and diff already masked for `no_log` tasks.
public struct RunTaskEntry: Sendable, Equatable, Codable {
    public var serial: String
    public var host: String
    public var play: String
    public var task: String
    public var item: String?
    public var outcome: String
    public var changed: Bool
    public var ignored: Bool
    public var message: String?
    public var output: String?
    public var diff: String?
    public var milliseconds: Int

    public init(serial: String, host: String, play: String, task: String, item: String?, outcome: String, changed: Bool, ignored: Bool,
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
