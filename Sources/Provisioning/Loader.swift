import Foundation
import ParcCore
import Yams

/// Reads playbooks with Yams, keeping every node's line and column so that a mistake is reported
/// where it is, before anything runs.
public enum PlaybookLoader {
    static let playKeys: Set<String> = ["name", "hosts", "vars", "vars_files", "become", "serial", "max_fail_percentage", "tasks",
                                        "handlers", "tags", "gather_facts"]
    static let taskKeys: Set<String> = ["name", "when", "loop", "register", "changed_when", "failed_when", "ignore_errors", "notify",
                                        "become", "tags", "no_log", "listen"]

    public static func load(_ path: String) throws -> Playbook {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlaybookError("cannot read the playbook \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let file = path
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func error(_ message: String, _ node: Node?) -> PlaybookError {
            guard let mark = node?.mark else { return PlaybookError(message, at: SourceLocation(file: file, line: 1, column: 1)) }
            return PlaybookError(message, at: SourceLocation(file: file, line: mark.line, column: mark.column),
                                 sourceLine: mark.line - 1 < lines.count ? lines[mark.line - 1] : nil)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw yamlError(e, file: file, lines: lines)
        }
        guard let root, case .sequence(let plays) = root else {
            throw error("a playbook is a list of plays (each starting with `- hosts: …`)", root)
        }
        let ctx = Context(file: file, lines: lines)
        let parsed = try plays.map { try ctx.play($0) }
        return Playbook(path: path, directory: (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                        plays: parsed, contentHash: SHA256.hex(Array(data)))
    }

    /// Loads a YAML file of variables (group_vars, vars_files, -e @file).
    public static func loadVars(_ path: String) throws -> [String: Value] {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlaybookError("cannot read the variables file \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let e as YamlError { throw yamlError(e, file: path, lines: lines) }
        guard let node else { return [:] }
        guard case .mapping = node, case .map(let vars) = Context(file: path, lines: lines).value(node) else {
            throw PlaybookError("a variables file is a mapping of names to values", at: SourceLocation(file: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1))
        }
        return vars
    }

    static func yamlError(_ e: YamlError, file: String, lines: [String]) -> PlaybookError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return PlaybookError("YAML syntax: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column),
                                 sourceLine: mark.line - 1 < lines.count && mark.line >= 1 ? lines[mark.line - 1] : nil)
        case .composer(_, let problem, let mark, _):
            return PlaybookError("YAML: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column),
                                 sourceLine: mark.line - 1 < lines.count && mark.line >= 1 ? lines[mark.line - 1] : nil)
        default:
            return PlaybookError("YAML: \(e)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    struct Context {
        let file: String
        let lines: [String]

        func location(_ node: Node) -> SourceLocation {
            SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        }

        func error(_ message: String, _ node: Node) -> PlaybookError {
            let line = node.mark?.line ?? 1
            return PlaybookError(message, at: location(node), sourceLine: line - 1 < lines.count ? lines[line - 1] : nil)
        }

        func pairs(_ node: Node, what: String) throws -> [(key: String, keyNode: Node, value: Node)] {
            guard case .mapping(let mapping) = node else { throw error("\(what) must be a mapping (key: value)", node) }
            return try mapping.map { k, v in
                guard let key = k.string else { throw error("a key must be text", k) }
                return (key, k, v)
            }
        }

        /// A YAML node as a value, with YAML 1.1 scalars as Ansible reads them (yes/no booleans, octal modes).
        func value(_ node: Node) -> Value {
            switch node {
            case .scalar(let scalar):
                switch node.tag.description {
                case Tag.Name.null.rawValue: return .null
                case Tag.Name.bool.rawValue: return Bool.construct(from: scalar).map(Value.bool) ?? .string(scalar.string)
                case Tag.Name.int.rawValue: return Int.construct(from: scalar).map(Value.int) ?? .string(scalar.string)
                case Tag.Name.float.rawValue: return Double.construct(from: scalar).map(Value.double) ?? .string(scalar.string)
                default: return .string(scalar.string)
                }
            case .sequence(let seq): return .list(seq.map(value))
            case .mapping(let m):
                var out: [String: Value] = [:]
                for (k, v) in m { out[k.string ?? ""] = value(v) }
                return .map(out)
            case .alias: return .null
            }
        }

        func strings(_ node: Node, what: String) throws -> [String] {
            switch value(node) {
            case .list(let items): return try items.map { v in
                guard let s = v.string else { throw error("\(what) is a list of names", node) }
                return s
            }
            case .null: return []
            case let v: guard let s = v.string else { throw error("\(what) is a name or a list of names", node) }
                return s.split(separator: ",").map { String($0).trimmed }
            }
        }

        func bool(_ node: Node, what: String) throws -> Bool {
            switch value(node) {
            case .bool(let b): return b
            case .string(let s) where ["yes", "no", "true", "false", "on", "off"].contains(s.lowercased()): return Value.string(s).truthy
            default: throw error("\(what) is yes or no", node)
            }
        }

        func play(_ node: Node) throws -> Play {
            var play = Play(name: "", hosts: "", vars: [:], varsFiles: [], become: false, serial: .all, maxFailPercentage: nil,
                            gatherFacts: true, tasks: [], handlers: [], tags: [], location: location(node))
            var sawHosts = false
            for (key, keyNode, v) in try pairs(node, what: "a play") {
                switch key {
                case "name": play.name = value(v).string ?? ""
                case "hosts":
                    sawHosts = true
                    switch value(v) {
                    case .list(let l): play.hosts = l.compactMap(\.string).joined(separator: ":")
                    case let other: play.hosts = other.string ?? ""
                    }
                case "vars":
                    guard case .map(let m) = value(v) else { throw error("vars is a mapping of names to values", v) }
                    play.vars = m
                case "vars_files": play.varsFiles = try strings(v, what: "vars_files")
                case "become": play.become = try bool(v, what: "become")
                case "gather_facts": play.gatherFacts = try bool(v, what: "gather_facts")
                case "serial":
                    switch value(v) {
                    case .int(let n) where n > 0: play.serial = .count(n)
                    case .string(let s) where s.hasSuffix("%") && Int(s.dropLast()) != nil: play.serial = .percent(Int(s.dropLast())!)
                    case .string(let s) where Int(s) != nil: play.serial = .count(Int(s)!)
                    default: throw error("serial is a number of hosts or a percentage (e.g. 5 or \"25%\")", v)
                    }
                case "max_fail_percentage":
                    guard case .int(let n) = value(v), (0...100).contains(n) else { throw error("max_fail_percentage is a number from 0 to 100", v) }
                    play.maxFailPercentage = n
                case "tags": play.tags = try strings(v, what: "tags")
                case "tasks": play.tasks = try tasks(v)
                case "handlers": play.handlers = try tasks(v)
                default:
                    throw error("unknown play keyword '\(key)'; parc supports \(PlaybookLoader.playKeys.sorted().joined(separator: ", "))", keyNode)
                }
            }
            guard sawHosts, !play.hosts.trimmed.isEmpty else { throw error("a play needs `hosts:` (a group, a device, or all)", node) }
            if play.name.isEmpty { play.name = play.hosts }
            return play
        }

        func tasks(_ node: Node) throws -> [TaskSpec] {
            guard case .sequence(let seq) = node else {
                if case .scalar = node, value(node) == .null { return [] }
                throw error("tasks are a list (each starting with `- name: …`)", node)
            }
            return try seq.map(task)
        }

        func task(_ node: Node) throws -> TaskSpec {
            var t = TaskSpec(name: "", module: "", args: [:], when: [], loop: nil, register: nil, changedWhen: nil, failedWhen: nil,
                             ignoreErrors: false, notify: [], become: nil, tags: [], noLog: false, listen: [], location: location(node))
            var moduleNode: Node? = nil
            var rawArgs: Node? = nil
            for (key, keyNode, v) in try pairs(node, what: "a task") {
                switch key {
                case "name": t.name = value(v).string ?? ""
                case "when":
                    switch value(v) {
                    case .list(let l): t.when = l.map(\.description)
                    case let other: t.when = [other.description]
                    }
                case "loop": t.loop = value(v)
                case "register": t.register = value(v).string
                case "changed_when": t.changedWhen = value(v).description
                case "failed_when": t.failedWhen = value(v).description
                case "ignore_errors": t.ignoreErrors = try bool(v, what: "ignore_errors")
                case "notify": t.notify = try strings(v, what: "notify").flatMap { [$0] }
                case "listen": t.listen = try strings(v, what: "listen")
                case "become": t.become = try bool(v, what: "become")
                case "tags": t.tags = try strings(v, what: "tags")
                case "no_log": t.noLog = try bool(v, what: "no_log")
                default:
                    let name = Modules.shortName(key)
                    guard Modules.registry[name] != nil else {
                        throw error("unknown module or task keyword '\(key)'; modules are \(Modules.registry.keys.sorted().joined(separator: ", "))", keyNode)
                    }
                    if moduleNode != nil { throw error("a task runs one module; '\(key)' is a second one (\(t.module) came first)", keyNode) }
                    t.module = name
                    moduleNode = keyNode
                    rawArgs = v
                }
            }
            guard let moduleNode, let rawArgs else { throw error("this task names no module (e.g. `copy:`, `command:`)", node) }
            let module = Modules.registry[t.module]!
            switch value(rawArgs) {
            case .map(let m): t.args = m
            case .null: t.args = [:]
            case .string(let s): t.args = try freeForm(s, module: module, node: rawArgs)
            default: throw error("the arguments of \(t.module) are a mapping or `key=value` text", rawArgs)
            }
            for key in t.args.keys where !module.arguments.contains(key) {
                throw error("\(t.module) has no argument '\(key)'; it takes \(module.arguments.sorted().joined(separator: ", "))", rawArgs)
            }
            for key in module.required where t.args[key] == nil {
                throw error("\(t.module) needs the argument '\(key)'", moduleNode)
            }
            if t.name.isEmpty { t.name = t.module + (t.args["_raw_params"]?.string.map { " \($0)" } ?? "") }
            return t
        }

        /// `key=value key2="a b"` text; what is left is the free-form command of command/shell.
        func freeForm(_ text: String, module: ModuleSpec, node: Node) throws -> [String: Value] {
            var args: [String: Value] = [:]
            var rest: [String] = []
            for word in Self.splitArgs(text) {
                if let eq = word.firstIndex(of: "="), module.arguments.contains(String(word[..<eq])), String(word[..<eq]) != "_raw_params" {
                    var v = String(word[word.index(after: eq)...])
                    if v.count >= 2, (v.hasPrefix("\"") && v.hasSuffix("\"")) || (v.hasPrefix("'") && v.hasSuffix("'")) { v = String(v.dropFirst().dropLast()) }
                    args[String(word[..<eq])] = .string(v)
                } else {
                    rest.append(word)
                }
            }
            if !rest.isEmpty {
                guard module.takesFreeForm else {
                    throw error("\(module.name) takes key=value arguments; '\(rest.joined(separator: " "))' is not one", node)
                }
                args["_raw_params"] = .string(rest.joined(separator: " "))
            }
            return args
        }

        /// Splits on spaces outside quotes and `{{ }}`, keeping the quotes.
        static func splitArgs(_ text: String) -> [String] {
            var out: [String] = []
            var current = ""
            var quote: Character? = nil
            var braces = 0
            var previous: Character = " "
            for c in text {
                if let q = quote { current.append(c); if c == q { quote = nil }; previous = c; continue }
                if c == "\"" || c == "'" { quote = c; current.append(c); previous = c; continue }
                if c == "{" && previous == "{" { braces += 1 }
                if c == "}" && previous == "}" { braces = max(0, braces - 1) }
                if c == " " && braces == 0 {
                    if !current.isEmpty { out.append(current); current = "" }
                } else {
                    current.append(c)
                }
                previous = c
            }
            if !current.isEmpty { out.append(current) }
            return out
        }
    }
}
