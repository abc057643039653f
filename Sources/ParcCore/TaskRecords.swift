import Foundation

/// One task on one host (one loop item).
public struct TaskRecord: Sendable, Codable {
    public var play: String
    public var task: String
    public var host: String
    public var serial: String
    public var item: String?
    public var outcome: TaskOutcome
    public var changed: Bool
    public var ignored: Bool
    public var message: String?
    public var output: String?
    public var diff: [FileDiff]
    public var milliseconds: Int
    public var location: SourceLocation?
    /// The module the task ran (`debug` messages are shown as Ansible shows them).
    public var module: String = ""
    /// The task said `no_log`: its record is masked (``masked``) before it reaches any store or stream.
    public var noLog = false

    /// What may be shown of the record: for a `no_log` task, its outcome and counts only (no
    /// output, message, diff or item label), as Ansible's censored results. The runner applies it
    /// where records leave it (the run's records and its events), so no path can forget it.
    public var masked: TaskRecord {
        guard noLog else { return self }
        var r = self
        r.output = r.output.map { _ in "(output hidden by no_log)" }
        if !(r.outcome == .skipped && r.message == "condition false") {
            r.message = r.message.map { _ in "the output has been hidden due to the fact that 'no_log: true' was specified for this result" }
        }
        r.item = r.item.map { _ in "(hidden)" }
        r.diff = []
        return r
    }

    public init(play: String, task: String, host: String, serial: String, item: String? = nil, outcome: TaskOutcome, changed: Bool, ignored: Bool, message: String? = nil, output: String? = nil, diff: [FileDiff], milliseconds: Int, location: SourceLocation? = nil, module: String = "", noLog: Bool = false) {
        self.play = play
        self.task = task
        self.host = host
        self.serial = serial
        self.item = item
        self.outcome = outcome
        self.changed = changed
        self.ignored = ignored
        self.message = message
        self.output = output
        self.diff = diff
        self.milliseconds = milliseconds
        self.location = location
        self.module = module
        self.noLog = noLog
    }
}

/// A file's content before and after, for `--diff`.
public struct FileDiff: Sendable, Equatable, Codable {
    public var path: String
    public var before: String?
    public var after: String?

    public init(path: String, before: String?, after: String?) {
        self.path = path
        self.before = before
        self.after = after
    }

    /// A unified diff (whole-file hunks; enough to read a configuration change).
    public var unified: String {
        let a = before.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } ?? []
        let b = after.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } ?? []
        var out = "--- \(before == nil ? "/dev/null" : "before: \(path)")\n+++ \(after == nil ? "/dev/null" : "after: \(path)")\n"
        // Longest common subsequence, line by line.
        let n = a.count, m = b.count
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
        }
        var i = 0, j = 0
        var lines: [String] = []
        while i < n || j < m {
            if i < n && j < m && a[i] == b[j] { lines.append(" " + a[i]); i += 1; j += 1 }
            else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) { lines.append("-" + a[i]); i += 1 }
            else { lines.append("+" + b[j]); j += 1 }
        }
        if lines.last == " " { lines.removeLast() }
        out += "@@ -1,\(n) +1,\(m) @@\n" + lines.joined(separator: "\n") + "\n"
        return out
    }
}

/// Where something is in a playbook: file, line, column.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// How a device's host key is trusted: never silently.
public enum HostKeyTrust: String, Sendable, CaseIterable {
    /// The key must match the pinned one or a known_hosts entry.
    case strict
    /// First contact accepts the key (the caller pins it); later contacts must match.
    case acceptNew = "accept-new"
}
