import Foundation
import ParcCore

/// Where something is in a playbook: file, line, column.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
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

/// A mistake in a playbook or a template: where, what, and the offending line with a caret, as
/// Ansible shows it.
public struct PlaybookError: Error, LocalizedError, CustomStringConvertible, Sendable {
    public var location: SourceLocation?
    public var message: String
    public var sourceLine: String?

    public init(_ message: String, at location: SourceLocation? = nil, sourceLine: String? = nil) {
        self.message = message
        self.location = location
        self.sourceLine = sourceLine
    }

    public var description: String {
        var out = location.map { "\($0): " } ?? ""
        out += message
        if let line = sourceLine, let location {
            out += "\n\n    \(line)\n    \(String(repeating: " ", count: max(0, location.column - 1)))^ here"
        }
        return out
    }

    public var errorDescription: String? { description }
}

/// A playbook: plays run in order.
public struct Playbook: Sendable {
    public var path: String
    /// The folder holding the playbook, its `files/` and `templates/`.
    public var directory: String
    public var plays: [Play]
    /// SHA-256 of the file, for run records.
    public var contentHash: String
}

/// How many hosts a play works on at once (`serial`).
public enum Serial: Sendable, Equatable {
    case all
    case count(Int)
    case percent(Int)

    /// Batch sizes for `hosts` hosts.
    public func batches(of hosts: Int) -> [Int] {
        let size: Int
        switch self {
        case .all: size = max(hosts, 1)
        case .count(let n): size = max(n, 1)
        case .percent(let p): size = max(hosts * p / 100, 1)
        }
        var out: [Int] = []
        var left = hosts
        while left > 0 { out.append(min(size, left)); left -= size }
        return out
    }
}

public struct Play: Sendable {
    public var name: String
    public var hosts: String
    public var vars: [String: Value]
    public var varsFiles: [String]
    public var become: Bool
    public var serial: Serial
    public var maxFailPercentage: Int?
    public var gatherFacts: Bool
    public var tasks: [TaskSpec]
    public var handlers: [TaskSpec]
    public var tags: [String]
    public var location: SourceLocation
}

/// One task (or handler) as written.
public struct TaskSpec: Sendable {
    public var name: String
    /// The module's short name (`copy`), whatever prefix was written (`ansible.builtin.copy`).
    public var module: String
    public var args: [String: Value]
    /// Conditions, all of which must hold (templates without braces).
    public var when: [String]
    public var loop: Value?
    public var register: String?
    public var changedWhen: String?
    public var failedWhen: String?
    public var ignoreErrors: Bool
    public var notify: [String]
    public var become: Bool?
    public var tags: [String]
    public var noLog: Bool
    /// For handlers: the names it listens to (`listen`) besides its name.
    public var listen: [String]
    public var location: SourceLocation
}
