import Foundation
import ParcCore
import Provisioning

/// `--list-hosts` and `--list-tasks`, as ansible-playbook prints them.
public enum PlaybookListing {
    /// `--syntax-check`: the playbook loads (roles, includes, templates), or the error says where not.
    public static func syntaxCheck(_ path: String, rolesPath: [String] = []) throws -> String {
        let book = try PlaybookLoader.load(path, rolesPath: rolesPath)
        func count(_ list: [TaskSpec]) -> Int {
            list.reduce(0) { $0 + ($1.kind == .block ? count($1.block + $1.rescue + $1.always) : $1.kind == .flushHandlers ? 0 : 1) }
        }
        let tasks = book.plays.reduce(0) { $0 + count($1.tasks) }
        // Tasks parc cannot run that sit behind a condition: loaded, as Ansible loads them, and named.
        let warnings = book.refusals.map { "[WARNING]: \($0.location.map { "\($0): " } ?? "")\($0.message); the task fails if it runs\n" }
        return warnings.joined() + "playbook: \(path) (\(book.plays.count) play\(book.plays.count == 1 ? "" : "s"), \(tasks) task\(tasks == 1 ? "" : "s")): no error found\n"
    }

    /// `--list-hosts`: each play's devices.
    public static func hosts(_ prepared: PlaybookRuns.Prepared, path: String) -> String {
        let book = prepared.playbook, runner = prepared.runner
        var out = "\nplaybook: \(path)\n"
        for (i, play) in book.plays.enumerated() {
            let hosts = runner.hosts(of: play)
            out += "\n  play #\(i + 1) (\(play.hosts)): \(play.name)\tTAGS: [\(play.tags.joined(separator: ", "))]\n"
            out += "    pattern: ['\(play.hosts)']\n    hosts (\(hosts.count)):\n"
            for h in hosts { out += "      \(h.name)\n" }
        }
        return out
    }

    /// `--list-tasks`: each play's tasks with their tags.
    public static func tasks(path: String, rolesPath: [String] = []) throws -> String {
        let book = try PlaybookLoader.load(path, rolesPath: rolesPath)
        var out = "\nplaybook: \(path)\n"
        func walk(_ tasks: [TaskSpec], _ playTags: [String]) -> String {
            var s = ""
            for t in tasks {
                if t.kind == .flushHandlers { continue }
                if t.kind == .block { s += walk(t.block + t.rescue + t.always, playTags); continue }
                let tags = Set(t.tags + playTags).sorted()
                s += "      \(t.name)\tTAGS: [\(tags.joined(separator: ", "))]\n"
            }
            return s
        }
        for (i, play) in book.plays.enumerated() {
            out += "\n  play #\(i + 1) (\(play.hosts)): \(play.name)\tTAGS: [\(play.tags.joined(separator: ", "))]\n    tasks:\n"
            out += walk(play.tasks, play.tags)
        }
        return out
    }
}
