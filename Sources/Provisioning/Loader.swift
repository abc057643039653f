import Foundation
import ParcCore
import Templating
import Yams

/// Reads playbooks with Yams, keeping every node's line and column so that a mistake is reported
/// where it is, before anything runs.
public enum PlaybookLoader {
    static let playKeys: Set<String> = ["name", "hosts", "vars", "vars_files", "become", "become_user", "remote_user", "environment", "serial",
                                        "max_fail_percentage", "tasks", "pre_tasks", "post_tasks", "roles", "handlers", "tags", "gather_facts", "vars_prompt",
                                        "gather_subset", "gather_timeout", "fact_path", "module_defaults"]
    static let taskKeys: Set<String> = ["name", "when", "loop", "with_items", "with_list", "with_dict", "loop_control", "register", "changed_when",
                                        "failed_when", "ignore_errors", "notify", "with_first_found", "with_nested", "with_together", "with_sequence",
                                        "with_subelements", "with_indexed_items", "become", "become_user", "remote_user", "environment", "tags",
                                        "no_log", "listen", "vars", "args", "delegate_to", "run_once", "block", "rescue", "always", "async", "poll",
                                        "until", "retries", "delay", "action", "check_mode", "timeout", "diff", "module_defaults"]
    /// Ansible keywords parc knows but does not do yet: named plainly instead of "unknown".
    static let unsupported: [String: String] = [
        "with_fileglob": "with_fileglob loops",
        "local_action": "local_action (use delegate_to: localhost)",
        "throttle": "throttle", "any_errors_fatal": "any_errors_fatal",
        "connection": "other connection plugins", "collections": "collections", "debugger": "the debugger",
        "strategy": "strategies (parc runs each host on its own)", "order": "host order",
        "become_method": "become methods other than sudo", "delegate_facts": "delegate_facts", "notify_when": "notify_when",
    ]
    /// Modules of ansible-core and of the collections school playbooks use that parc does not
    /// implement: named as not supported rather than unknown.
    static let ansibleModules: Set<String> = [
        "add_host", "apt_key", "apt_rpm", "assemble", "blockinfile", "dnf", "dnf5", "expect",
        "fetch", "gather_facts", "git", "group_by", "iptables", "known_hosts", "package_facts", "ping",
        "pip", "raw", "replace", "rpm_key", "service_facts", "subversion", "sysvinit",
        "uri", "validate_argument_spec", "wait_for_connection", "yum", "yum_repository", "synchronize", "firewalld",
        "modprobe", "pam_limits", "dconf", "gconftool2", "xfconf", "flatpak", "flatpak_remote", "snap", "npm", "ini_file", "nmcli",
        "seboolean", "selinux", "acl", "patch", "at", "capabilities", "make", "archive", "alternatives", "kernel_blacklist",
        "lvol", "parted", "filesystem", "openssl_privatekey", "x509_certificate", "docker_container", "mysql_db", "postgresql_db",
    ]

    /// One file bringing in another (import_playbook, import/include_tasks, a role's tasks).
    struct Inclusion: Sendable {
        var file: String
        var line: Int
        var target: String
    }

    /// The inclusions that led to the file being read, to report a cycle instead of recursing forever.
    @TaskLocal static var chain: [Inclusion] = []
    /// How deep inclusions may nest (Ansible has no such limit, but nothing real comes near it).
    static let maxInclusionDepth = 64

    /// Reads `target`, brought in by `file` at `line`; a file that (through others) brings in
    /// itself is an error naming the whole chain.
    static func including<T>(_ target: String, from file: String, line: Int, _ body: () throws -> T) throws -> T {
        func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        let here = Inclusion(file: file, line: line, target: target)
        let links = chain + [here]
        if let start = links.firstIndex(where: { canonical($0.file) == canonical(target) }) {
            let steps = links[start...].map { "\($0.file):\($0.line) brings in \(($0.target as NSString).lastPathComponent)" }
            throw PlaybookError("inclusion cycle: \(steps.joined(separator: " → ")); remove one of these inclusions",
                                at: SourceLocation(file: file, line: line, column: 1))
        }
        if links.count > maxInclusionDepth {
            throw PlaybookError("inclusions nest deeper than \(maxInclusionDepth) files (\(links.prefix(3).map { ($0.file as NSString).lastPathComponent }.joined(separator: " → ")) → …)",
                                at: SourceLocation(file: file, line: line, column: 1))
        }
        return try $chain.withValue(links, operation: body)
    }

    /// The roles path (`roles_path` of ansible.cfg, `ANSIBLE_ROLES_PATH`) of the playbook being read.
    @TaskLocal static var rolesPath: [String] = []

    /// Reads a playbook; roles not beside it are looked for in `rolesPath` (see `AnsibleConfig`).
    public static func load(_ path: String, rolesPath: [String]) throws -> Playbook {
        var book = try $rolesPath.withValue(rolesPath) { try load(path) }
        book.rolesPath = rolesPath
        return book
    }

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
            root = try compose(text, file: file, lines: lines)
        } catch let e as YamlError {
            throw yamlError(e, file: file, lines: lines)
        }
        guard let root, case .sequence(let plays) = root else {
            throw error("a playbook is a list of plays (each starting with `- hosts: …`)", root)
        }
        // The playbook's folder as an absolute path, as Ansible's basedir (`tests/test.yml` and its
        // `roles: [../..]` mean the same from any folder).
        let directory = normalised(path.hasPrefix("/") ? (path as NSString).deletingLastPathComponent
                                   : FileManager.default.currentDirectoryPath + "/" + (path as NSString).deletingLastPathComponent)
        let ctx = Context(file: file, lines: lines, playbookDirectory: directory)
        var parsed: [Play] = []
        for node in plays {
            // `- import_playbook: other.yml` stands for that playbook's plays.
            if case .mapping(let m) = node, let imported = m.first(where: { $0.key.string == "import_playbook" }) {
                guard let name = imported.value.string else { throw error("import_playbook names a file", imported.value) }
                let other = name.hasPrefix("/") ? name : "\(directory)/\(name)"
                guard FileManager.default.fileExists(atPath: other) else { throw error("import_playbook: no file \(other)", imported.value) }
                // Its tasks find their files next to it, not next to this playbook.
                let otherDirectory = (other as NSString).deletingLastPathComponent
                func anchored(_ t: TaskSpec) -> TaskSpec {
                    var t = t
                    if t.directory == nil { t.directory = otherDirectory }
                    t.block = t.block.map(anchored); t.rescue = t.rescue.map(anchored); t.always = t.always.map(anchored)
                    return t
                }
                parsed += try including(other, from: file, line: imported.value.mark?.line ?? 1) { try load(other) }.plays.map { play in
                    var play = play
                    play.tasks = play.tasks.map(anchored)
                    play.handlers = play.handlers.map(anchored)
                    return play
                }
                continue
            }
            parsed.append(try ctx.play(node))
        }
        try TemplateCheck.check(parsed, directory: directory)
        let book = Playbook(path: path, directory: directory, plays: parsed, contentHash: SHA256.hex(Array(data)))
        try refuseUnconditional(book)
        return book
    }

    /// A task parc cannot run that has no condition (its own, its block's, its include's or its
    /// role's) and whose failure nothing handles (ignore_errors, failed_when) would surely run and
    /// fail: refused now, before anything runs.
    static func refuseUnconditional(_ book: Playbook) throws {
        func walk(_ t: TaskSpec) throws {
            if let r = t.refusal, t.when.isEmpty, !t.ignoreErrors, t.ignoreErrorsExpression == nil, t.failedWhen.isEmpty { throw r }
            for list in [t.block, t.rescue, t.always] { try list.forEach(walk) }
        }
        for p in book.plays { try p.tasks.forEach(walk); try p.handlers.forEach(walk) }
    }

    /// Reads a YAML file of tasks (import_tasks, a role's tasks/main.yml).
    static func loadTaskFile(_ path: String, playbookDirectory: String, directory: String?) throws -> [TaskSpec] {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlaybookError("cannot read the tasks file \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let node: Node?
        do { node = try compose(text, file: path, lines: lines) } catch let e as YamlError { throw yamlError(e, file: path, lines: lines) }
        guard let node else { return [] }
        var ctx = Context(file: path, lines: lines, playbookDirectory: playbookDirectory)
        // The file's own folder: a relative include in it is also looked for there (Ansible's search).
        ctx.taskDirectory = (path as NSString).deletingLastPathComponent
        ctx.roleDirectory = directory
        return try ctx.tasks(node)
    }

    /// Ansible's `!unsafe`: text that is never rendered, whatever it holds — kept as a template
    /// that prints it as it is (a raw block; an `{% endraw %}` inside printed as a string).
    static func unsafeText(_ text: String) -> String {
        guard text.contains("{{") || text.contains("{%") || text.contains("{#") else { return text }
        let parts = text.components(separatedBy: "{% endraw %}")
        return parts.map { $0.isEmpty ? "" : "{% raw %}\($0){% endraw %}" }.joined(separator: "{{ '{% endraw %}' }}")
    }

    /// Loads a YAML file of variables (group_vars, vars_files, -e @file).
    public static func loadVars(_ path: String) throws -> [String: Value] {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlaybookError("cannot read the variables file \(path)") }
        return try loadVars(text: String(decoding: data, as: UTF8.self), named: path)
    }

    /// Variables from YAML (or JSON) text, `path` naming it in errors (`-e '{"a": 1}'`).
    public static func loadVars(text: String, named path: String) throws -> [String: Value] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let node: Node?
        do { node = try compose(text, file: path, lines: lines) } catch let e as YamlError { throw yamlError(e, file: path, lines: lines) }
        guard let node else { return [:] }
        // A file of nothing but `---` and comments (ansible-galaxy's skeleton) holds no variables.
        if case .scalar(let scalar) = node, scalar.string.isEmpty, node.tag.description == Tag.Name.null.rawValue || scalar.string.isEmpty { return [:] }
        guard case .mapping = node, case .map(let vars) = Context(file: path, lines: lines, playbookDirectory: ".").value(node) else {
            throw PlaybookError("a variables file is a mapping of names to values", at: SourceLocation(file: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1))
        }
        return vars.dictionary
    }

    /// A path with `.` and `..` resolved as text (`a/roles/../..` is `a/..`'s parent… without
    /// asking the disk whether `roles` exists).
    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", !path.hasPrefix("/") || !parts.isEmpty { parts.append(part) }
            else if part != ".." { parts.append(part) }
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// YAML text as a value (a YAML inventory); errors name `file`.
    static func loadYAMLText(_ text: String, file: String) throws -> Value {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        do {
            guard let node = try compose(text, file: file, lines: lines) else { return .null }
            return Context(file: file, lines: lines, playbookDirectory: (file as NSString).deletingLastPathComponent).value(node)
        } catch let e as YamlError { throw yamlError(e, file: file, lines: lines) }
    }

    /// Any YAML file as a value (a role's meta/main.yml).
    static func loadYAMLValue(_ path: String) throws -> Value {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlaybookError("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        do {
            guard let node = try compose(text, file: path, lines: lines) else { return .null }
            return Context(file: path, lines: lines, playbookDirectory: (path as NSString).deletingLastPathComponent).value(node)
        } catch let e as YamlError { throw yamlError(e, file: path, lines: lines) }
    }

    /// How many nodes a YAML file may stand for once its aliases are expanded. Anchors and aliases
    /// are fine (and common), but nine levels of nine aliases make a 600-byte file stand for
    /// 387 million nodes (a "billion laughs"): refused before anything walks it.
    static let maxExpandedNodes = 250_000

    /// The YAML document of `text`, refused when its aliases expand past `maxExpandedNodes`.
    /// (Nesting depth is bounded by libyaml itself, at 1,000 levels, with a located error.)
    static func compose(_ text: String, file: String, lines: [String]) throws -> Node? {
        guard let node = try Yams.compose(yaml: text) else { return nil }
        var budget = maxExpandedNodes
        func walk(_ n: Node) -> Bool {
            budget -= 1
            if budget < 0 { return false }
            switch n {
            case .scalar, .alias: return true
            case .sequence(let seq): return seq.allSatisfy(walk)
            case .mapping(let map): return map.allSatisfy { walk($0.key) && walk($0.value) }
            }
        }
        guard text.contains("*") else { return node }
        if !walk(node) {
            throw PlaybookError("YAML: this file's aliases (*name) expand to more than \(maxExpandedNodes) values; write the values out, or use fewer levels of aliases",
                                at: SourceLocation(file: file, line: 1, column: 1), sourceLine: lines.first)
        }
        return node
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

    /// `key=value key2="a b"` text as `module`'s arguments; the other words are the free-form
    /// command of command/shell (`_raw_params`), refused for a module that takes none.
    static func keyValues(_ text: String, module: ModuleSpec) throws -> [String: Value] {
        let parsed: (args: [String: Value], raw: [String])
        do {
            parsed = try AnsibleArgs.parse(text, freeForm: module.takesFreeForm,
                                           isKey: { $0 != "_raw_params" && (module.anyArguments || module.arguments.contains($0)) })
        } catch {
            throw PlaybookError("\(error)")
        }
        var args = parsed.args
        if !parsed.raw.isEmpty {
            let rest = AnsibleArgs.join(parsed.raw)
            guard module.takesFreeForm else { throw PlaybookError("\(module.name) takes key=value arguments; '\(rest)' is not one") }
            args["_raw_params"] = .string(rest)
        }
        return args
    }

    /// An argument `module` does not take (the first, by name), or a required one missing.
    static func argumentProblem(_ args: [String: Value], module: ModuleSpec, written: String? = nil) -> (key: String?, message: String)? {
        let unknown = module.anyArguments ? [] : args.keys.filter { !module.arguments.contains($0) }.sorted()
        if let key = unknown.first {
            // Ansible's words (AnsibleModule's check; shell's action plugin for the one argument of command it lacks).
            if module.name == "shell", unknown == ["expand_argument_vars"] { return (key, "Unsupported parameters for (shell) module: expand_argument_vars") }
            // The module's name as the task wrote it, or the one an action plugin hands on.
            let name = ["command": "ansible.legacy.command", "shell": "ansible.legacy.command", "copy": "ansible.legacy.copy",
                        "unarchive": "ansible.legacy.unarchive"][module.name] ?? written ?? module.name
            return (key, "Unsupported parameters for (\(name)) module: \(unknown.joined(separator: ", ")). "
                + "Supported parameters include: \(module.arguments.sorted().joined(separator: ", ")).")
        }
        if let key = module.required.sorted().first(where: { args[$0] == nil }) { return (nil, "\(module.name) needs the argument '\(key)'") }
        return nil
    }

    struct Context {
        let file: String
        let lines: [String]
        let playbookDirectory: String
        /// Where an import_tasks file is looked up (the including file's folder).
        var taskDirectory: String?
        /// The role whose tasks are being read (for files/ and templates/).
        var roleDirectory: String?

        init(file: String, lines: [String], playbookDirectory: String) {
            self.file = file
            self.lines = lines
            self.playbookDirectory = playbookDirectory
        }

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
                case "!unsafe": return .string(PlaybookLoader.unsafeText(scalar.string))
                default: return .string(scalar.string)
                }
            case .sequence(let seq): return .list(seq.map(value))
            case .mapping(let m):
                var out = OrderedMap()
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
            var play = Play(name: "", hosts: "", vars: [:], varsFiles: [], become: false, becomeUser: nil, remoteUser: nil, environment: [:],
                            serial: .all, maxFailPercentage: nil, gatherFacts: true, tasks: [], handlers: [], tags: [], roleDefaults: [:],
                            location: location(node))
            var sawHosts = false
            var pre: [TaskSpec] = [], main: [TaskSpec] = [], post: [TaskSpec] = [], roleTasks: [TaskSpec] = []
            var playDefaults: ModuleDefaults = [:]
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
                    play.vars = m.dictionary
                case "vars_files": play.varsFiles = try strings(v, what: "vars_files")
                case "become": play.become = try bool(v, what: "become"); play.becomeWritten = true
                case "become_user": play.becomeUser = value(v).string
                case "remote_user": play.remoteUser = value(v).string
                case "environment":
                    guard case .map(let m) = value(v) else { throw error("environment is a mapping of names to values", v) }
                    play.environment = m.dictionary
                case "module_defaults": playDefaults = try moduleDefaults(v)
                case "gather_facts": play.gatherFacts = try bool(v, what: "gather_facts"); play.gatherFactsWritten = true
                case "gather_subset":
                    play.gatherSubset = FactModules.names(value(v)) ?? ["all"]
                    do { _ = try AnsibleFacts.subset([:], play.gatherSubset) } catch let e as ModuleFailure { throw error(e.message, v) }
                case "gather_timeout", "fact_path": break  // parc's gathering has its own bound; local facts come from /etc/ansible/facts.d
                case "vars_prompt":
                    guard case .sequence(let entries) = v else { throw error("vars_prompt is a list of {name, prompt}", v) }
                    for e in entries {
                        guard case .map(let m) = value(e), let name = m["name"]?.string else { throw error("each vars_prompt names its variable (name:)", e) }
                        for k in m.keys where !["name", "prompt", "default", "private", "unsafe", "encrypt", "confirm", "salt_size", "salt"].contains(k) {
                            throw error("vars_prompt: '\(k)' is not supported by parc (name, prompt, default, private, encrypt, confirm, salt_size, salt are)", e)
                        }
                        var prompt = Prompt(name: name, prompt: m["prompt"]?.string ?? name, defaultValue: m["default"],
                                            isPrivate: m["private"]?.truthy ?? true, location: location(e))
                        if let scheme = m["encrypt"]?.string {
                            guard Prompt.schemes[scheme] != nil else {
                                throw error("vars_prompt: encrypt '\(scheme)' is not supported by parc (\(Prompt.schemes.keys.sorted().joined(separator: ", ")) are)", e)
                            }
                            prompt.encrypt = scheme
                        }
                        prompt.confirm = m["confirm"]?.truthy ?? false
                        prompt.saltSize = m["salt_size"].flatMap { Int($0.description) }
                        prompt.salt = m["salt"]?.string
                        play.prompts.append(prompt)
                    }
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
                case "tasks": main = try tasks(v)
                case "pre_tasks": pre = try tasks(v)
                case "post_tasks": post = try tasks(v)
                case "handlers": play.handlers += try tasks(v)
                case "roles":
                    guard case .sequence(let roles) = v else { throw error("roles is a list of role names", v) }
                    var seen = Set<String>()
                    for r in roles {
                        let (name, params, when, tags) = try roleReference(r)
                        let loaded = try role(name, params: params, at: r, seen: &seen)
                        roleTasks += loaded.tasks.map { $0.inheriting(when: when, tags: tags, vars: [:], become: nil, becomeUser: nil, environment: [:], directory: nil) }
                        play.handlers += loaded.handlers
                        play.roleDefaults = loaded.defaults.merging(play.roleDefaults) { first, _ in first }
                    }
                default:
                    if let what = PlaybookLoader.unsupported[key] { throw error("'\(key)': \(what) is not supported by parc yet", keyNode) }
                    throw error("unknown play keyword '\(key)'; parc supports \(PlaybookLoader.playKeys.sorted().joined(separator: ", "))", keyNode)
                }
            }
            guard sawHosts, !play.hosts.trimmed.isEmpty else { throw error("a play needs `hosts:` (a group, a device, or all)", node) }
            if play.name.isEmpty { play.name = play.hosts }
            // Roles and include_role bring handlers and defaults with their tasks.
            var allTasks: [TaskSpec] = []
            for section in [pre, roleTasks, main, post] where !section.isEmpty {
                allTasks += section
                allTasks.append(.flush(at: play.location))
            }
            for t in allTasks { collect(t, handlers: &play.handlers, defaults: &play.roleDefaults) }
            // The play's module_defaults, under what its blocks and tasks say.
            allTasks = allTasks.map { $0.withModuleDefaults(playDefaults) }
            play.handlers = play.handlers.map { $0.withModuleDefaults(playDefaults) }
            play.tasks = allTasks.map(stripped)
            play.handlers = play.handlers.map(stripped)
            return play
        }

        /// Handlers and defaults that include_role brought along (carried by its block until the play takes them).
        func collect(_ t: TaskSpec, handlers: inout [TaskSpec], defaults: inout [String: Value]) {
            for child in t.block + t.rescue + t.always { collect(child, handlers: &handlers, defaults: &defaults) }
            handlers += t.carriedHandlers
            defaults = t.carriedDefaults.merging(defaults) { first, _ in first }
        }

        func stripped(_ t: TaskSpec) -> TaskSpec {
            var x = t
            x.carriedHandlers = []
            x.carriedDefaults = [:]
            x.block = x.block.map(stripped)
            x.rescue = x.rescue.map(stripped)
            x.always = x.always.map(stripped)
            return x
        }

        func roleReference(_ node: Node) throws -> (String, [String: Value], [String], [String]) {
            switch value(node) {
            case .string(let name): return (name, [:], [], [])
            case .map(var m):
                guard let name = (m.removeValue(forKey: "role") ?? m.removeValue(forKey: "name"))?.string else {
                    throw error("a role entry names its role (`- role: name`)", node)
                }
                let when: [String] = m.removeValue(forKey: "when").map { $0.list?.map(\.description) ?? [$0.description] } ?? []
                let tags: [String] = m.removeValue(forKey: "tags").map { $0.list?.map(\.description) ?? [$0.description] } ?? []
                var params = m.removeValue(forKey: "vars")?.map ?? [:]
                for (k, v) in m { params[k] = v }
                return (name, params, when, tags)
            default: throw error("a role entry is a name or a mapping", node)
            }
        }

        /// A role: its tasks (with its vars and parameters), handlers and defaults, dependencies first.
        /// Where a role is, looked up as Ansible does: `roles/` beside the playbook, the roles path
        /// (`roles_path`, `ANSIBLE_ROLES_PATH`), the folder holding the role that depends on it, the
        /// playbook's folder, and last the name as a path from the current folder. Paths are
        /// normalised as text (`roles/../..` need not exist on disk). The name is the role's name as
        /// written (`role_name`), or the last part of a path found only from the current folder.
        func findRole(_ name: String, dependencyOf parent: String? = nil, at node: Node) throws -> (name: String, directory: String) {
            var searches = ["\(playbookDirectory)/roles"] + PlaybookLoader.rolesPath
            if let parent { searches.append((parent as NSString).deletingLastPathComponent) }
            searches.append(playbookDirectory)
            for base in searches {
                let dir = PlaybookLoader.normalised("\(base)/\(name)")
                if FileManager.default.fileExists(atPath: dir) { return (name, dir) }
            }
            let fromHere = PlaybookLoader.normalised(name.hasPrefix("/") ? name : FileManager.default.currentDirectoryPath + "/" + name)
            if FileManager.default.fileExists(atPath: fromHere) { return ((fromHere as NSString).lastPathComponent, fromHere) }
            throw error("the role '\(name)' was not found in \(searches.map(PlaybookLoader.normalised).joined(separator: ":"))", node)
        }

        func role(_ written: String, params: [String: Value], at node: Node, dependencyOf parent: String? = nil,
                  seen: inout Set<String>) throws -> (tasks: [TaskSpec], handlers: [TaskSpec], defaults: [String: Value]) {
            let (name, dir) = try findRole(written, dependencyOf: parent, at: node)
            func yaml(_ sub: String) -> String? {
                ["\(dir)/\(sub)/main.yml", "\(dir)/\(sub)/main.yaml"].first { FileManager.default.fileExists(atPath: $0) }
            }
            var tasks: [TaskSpec] = [], handlers: [TaskSpec] = [], defaults: [String: Value] = [:]
            // meta/main.yml dependencies run first, once each.
            if let meta = yaml("meta"), case .map(let m) = try PlaybookLoader.loadYAMLValue(meta), case .list(let deps)? = m["dependencies"] {
                for dep in deps {
                    var depName: String
                    var depParams: [String: Value] = [:]
                    switch dep {
                    case .string(let n): depName = n
                    case .map(var dm):
                        guard let n = (dm.removeValue(forKey: "role") ?? dm.removeValue(forKey: "name"))?.string else { continue }
                        depName = n
                        depParams = dm.dictionary
                    default: continue
                    }
                    let key = depName + depParams.description
                    if seen.contains(key) { continue }
                    seen.insert(key)
                    let d = try role(depName, params: depParams, at: node, dependencyOf: dir, seen: &seen)
                    tasks += d.tasks
                    handlers += d.handlers
                    defaults = d.defaults.merging(defaults) { first, _ in first }
                }
            }
            if let file = yaml("defaults") { defaults = defaults.merging(try PlaybookLoader.loadVars(file)) { _, own in own } }
            // Role vars are task-level; role parameters sit with include params (above set_fact).
            var vars = try yaml("vars").map { try PlaybookLoader.loadVars($0) } ?? [:]
            // Ansible's magic variables of a role's tasks.
            vars["role_name"] = .string(name)
            vars["ansible_role_name"] = .string(name)
            vars["role_path"] = .string(dir)
            if let file = yaml("tasks") {
                tasks += try PlaybookLoader.including(file, from: self.file, line: node.mark?.line ?? 1) {
                    try PlaybookLoader.loadTaskFile(file, playbookDirectory: playbookDirectory, directory: dir)
                }.map {
                    $0.inheriting(when: [], tags: [], vars: vars, become: nil, becomeUser: nil, environment: [:], directory: dir, includeParams: params)
                }
            }
            if let file = yaml("handlers") {
                handlers += try PlaybookLoader.including(file, from: self.file, line: node.mark?.line ?? 1) {
                    try PlaybookLoader.loadTaskFile(file, playbookDirectory: playbookDirectory, directory: dir)
                }.map {
                    $0.inheriting(when: [], tags: [], vars: vars, become: nil, becomeUser: nil, environment: [:], directory: dir, includeParams: params)
                }
            }
            return (tasks, handlers, defaults)
        }

        func tasks(_ node: Node) throws -> [TaskSpec] {
            guard case .sequence(let seq) = node else {
                if case .scalar = node, value(node) == .null { return [] }
                throw error("tasks are a list (each starting with `- name: …`)", node)
            }
            return try seq.flatMap(task)
        }

        /// One task as written; an import or include stands for the tasks it brings.
        func task(_ node: Node) throws -> [TaskSpec] {
            var t = TaskSpec(name: "", module: "", location: location(node))
            t.directory = roleDirectory
            var moduleNode: Node? = nil
            var rawArgs: Node? = nil
            var extraArgs: [String: Value] = [:]
            var include: (kind: String, node: Node, keyNode: Node)? = nil
            var argsNode: Node? = nil
            for (key, keyNode, v) in try pairs(node, what: "a task") {
                switch key {
                case "name": t.name = value(v).string ?? ""
                case "when":
                    switch value(v) {
                    case .list(let l): t.when = l.map(\.description)
                    case let other: t.when = [other.description]
                    }
                case "loop", "with_items", "with_list":
                    // with_items flattens one level, once its templates are rendered (the runner does it).
                    t.loop = value(v)
                    t.loopKind = key == "with_items" ? .withItems : key == "with_list" ? .withList : .loop
                case "with_dict":
                    // A list of {key, value}, in key order: turned into a loop when the dict is known.
                    t.loop = value(v)
                    t.loopKind = .withDict
                case "with_first_found", "with_nested", "with_together", "with_sequence", "with_subelements", "with_indexed_items":
                    t.loop = value(v)
                    t.loopKind = ["with_first_found": .withFirstFound, "with_nested": .withNested, "with_together": .withTogether,
                                  "with_sequence": .withSequence, "with_subelements": .withSubelements,
                                  "with_indexed_items": .withIndexedItems][key]!
                case "loop_control":
                    guard case .map(let m) = value(v) else { throw error("loop_control is a mapping (loop_var, label)", v) }
                    for k in m.keys where !["loop_var", "label", "index_var", "pause", "extended", "extended_allitems"].contains(k) {
                        throw error("loop_control: '\(k)' is not supported by parc yet (loop_var, label, index_var, pause, extended and extended_allitems are)", v)
                    }
                    if let lv = m["loop_var"]?.string { t.loopVar = lv }
                    t.loopPause = m["pause"].flatMap { Double($0.description) }
                    t.loopExtended = m["extended"]?.truthy ?? false
                    t.loopExtendedAllItems = m["extended_allitems"]?.truthy ?? true
                    t.loopLabel = m["label"]?.description
                    t.loopIndexVar = m["index_var"]?.string
                case "register": t.register = value(v).string
                case "changed_when": t.changedWhen = value(v).list?.map(\.description) ?? [value(v).description]
                case "failed_when": t.failedWhen = value(v).list?.map(\.description) ?? [value(v).description]
                case "ignore_errors":
                    if let text = value(v).string, text.contains("{{") { t.ignoreErrorsExpression = text }
                    else { t.ignoreErrors = try bool(v, what: "ignore_errors") }
                case "until":
                    t.until = value(v).list?.map(\.description) ?? [value(v).description]
                case "retries", "delay":
                    let given = value(v)
                    switch given {
                    case .int(let n) where n >= 0: break
                    case .double(let d) where d >= 0: break
                    case .string(let s) where s.contains("{{") || Double(s.trimmed) != nil: break
                    default: throw error("\(key) is a number (or a template giving one)", v)
                    }
                    if key == "retries" { t.retries = given } else { t.delay = given }
                case "notify": t.notify = try strings(v, what: "notify")
                case "listen": t.listen = try strings(v, what: "listen")
                case "become": t.become = try bool(v, what: "become")
                case "become_user": t.becomeUser = value(v).string
                case "remote_user": t.remoteUser = value(v).string
                case "environment":
                    guard case .map(let m) = value(v) else { throw error("environment is a mapping of names to values", v) }
                    t.environment = m.dictionary
                case "tags": t.tags = try strings(v, what: "tags")
                case "module_defaults": t.moduleDefaults = try moduleDefaults(v)
                case "no_log": t.noLog = try bool(v, what: "no_log")
                case "async":
                    guard case .int(let n) = value(v), n > 0 else { throw error("async is a number of seconds", v) }
                    t.asyncSeconds = n
                case "poll":
                    guard case .int(let n) = value(v) else { throw error("poll is a number of seconds", v) }
                    // Fire and forget: started in the background, async_status comes back to it.
                    t.pollZero = n == 0
                case "vars":
                    guard case .map(let m) = value(v) else { throw error("vars is a mapping of names to values", v) }
                    t.vars = m.dictionary
                case "args":
                    guard case .map(let m) = value(v) else { throw error("args is a mapping of arguments", v) }
                    extraArgs = m.dictionary
                    argsNode = v
                case "run_once": t.runOnce = try bool(v, what: "run_once")
                case "delegate_to":
                    guard let target = value(v).string, ["localhost", "127.0.0.1", "::1"].contains(target) else {
                        throw error("delegate_to: only localhost is supported by parc (the control node)", v)
                    }
                    t.delegateToLocal = true
                case "action":
                    if moduleNode != nil { throw error("a task runs one module; 'action' names a second one (\(t.module) came first)", keyNode) }
                    // `action: "{{ ansible_pkg_mgr }} name=x"`: the module is known when the task runs.
                    if case .scalar(let scalar) = v, scalar.string.trimmed.hasPrefix("{{"), scalar.string.contains("}}") {
                        let text = scalar.string.trimmed
                        let end = text.range(of: "}}")!.upperBound
                        t.moduleTemplate = String(text[..<end])
                        t.lateArgs = String(text[end...]).trimmed
                        moduleNode = keyNode
                        rawArgs = v
                        continue
                    }
                    // The old form: `action: module args` (or `action: {module: name, …}`).
                    let (name, args) = try actionForm(v)
                    guard Modules.registry[name] != nil else { throw error("action: unknown module '\(name)'", v) }
                    if moduleNode != nil { throw error("a task runs one module; 'action' names a second one (\(t.module) came first)", keyNode) }
                    t.module = name
                    moduleNode = keyNode
                    rawArgs = args
                case "timeout":
                    guard case .int(let n) = value(v), n > 0 else { throw error("timeout is a number of seconds", v) }
                    t.timeoutSeconds = n
                case "diff":
                    t.diffMode = try bool(v, what: "diff")
                case "check_mode":
                    if let text = value(v).string, text.contains("{{") { throw error("check_mode as a template is not supported by parc yet", v) }
                    t.checkMode = try bool(v, what: "check_mode")
                case "block": t.block = try tasks(v); t.kind = .block
                case "rescue": t.rescue = try tasks(v)
                case "always": t.always = try tasks(v)
                default:
                    let name = Modules.shortName(key)
                    if ["import_tasks", "include_tasks", "import_role", "include_role"].contains(name) {
                        include = (name, v, keyNode)
                        continue
                    }
                    if let what = PlaybookLoader.unsupported[key] { throw error("'\(key)': \(what) is not supported by parc yet", keyNode) }
                    let plainName = String(name.split(separator: ".").last ?? Substring(name))
                    if Modules.registry[name] == nil, PlaybookLoader.ansibleModules.contains(plainName) || plainName.hasPrefix("win_") {
                        // Refused now if it would always run; else when it runs (see `refusal`).
                        if moduleNode != nil { throw error("a task runs one module; '\(key)' is a second one (\(t.module) came first)", keyNode) }
                        t.refusal = error("module '\(key)' is not supported by parc yet; parc's modules are \(Modules.registry.keys.sorted().joined(separator: ", "))", keyNode)
                        t.module = name
                        moduleNode = keyNode
                        rawArgs = v
                        continue
                    }
                    guard Modules.registry[name] != nil || name == "meta" else {
                        throw error("unknown module or task keyword '\(key)'; modules are \(Modules.registry.keys.sorted().joined(separator: ", "))", keyNode)
                    }
                    if moduleNode != nil { throw error("a task runs one module; '\(key)' is a second one (\(t.module) came first)", keyNode) }
                    t.module = name
                    moduleNode = keyNode
                    rawArgs = v
                }
            }
            if let include { return try expand(include, task: t) }
            if t.kind == .block {
                guard moduleNode == nil else { throw error("a block holds tasks; it runs no module itself", node) }
                // Every task of the block carries the block's conditions, tags, vars and become.
                let inner = { (x: TaskSpec) in x.inheriting(when: t.when, tags: t.tags, vars: t.vars, become: t.become, becomeUser: t.becomeUser,
                                                           environment: t.environment, directory: t.directory, ignoreErrors: t.ignoreErrors,
                                                           moduleDefaults: t.moduleDefaults) }
                t.block = t.block.map(inner)
                t.rescue = t.rescue.map(inner)
                t.always = t.always.map(inner)
                if t.name.isEmpty { t.name = "block" }
                return [t]
            }
            if !t.rescue.isEmpty || !t.always.isEmpty { throw error("rescue and always go with a block", node) }
            guard let moduleNode, let rawArgs else { throw error("this task names no module (e.g. `copy:`, `command:`)", node) }
            if t.refusal != nil {
                if t.name.isEmpty { t.name = t.module }
                return [t]
            }
            if let template = t.moduleTemplate {
                // Checked when it runs: the module, then its arguments.
                t.args = extraArgs
                if t.name.isEmpty { t.name = template }
                return [t]
            }
            if t.module == "meta" {
                let action = value(rawArgs).string ?? ""
                switch action {
                case "flush_handlers":
                    var flush = TaskSpec.flush(at: t.location)
                    flush.when = t.when
                    return [flush]
                case "end_host", "end_play", "noop", "refresh_inventory", "clear_host_errors":
                    t.kind = .meta(action)
                    if t.name.isEmpty { t.name = "meta: \(action)" }
                    return [t]
                default:
                    throw error("meta: \(action) is not supported by parc (flush_handlers, end_host, end_play, noop, refresh_inventory and clear_host_errors are)", rawArgs)
                }
            }
            let module = Modules.registry[t.module]!
            switch value(rawArgs) {
            case .map(let m): t.args = m.dictionary
            case .null: t.args = [:]
            case .string(let s): t.args = try freeForm(s, module: module, node: rawArgs)
            default:
                throw error("the arguments of \(t.module) are a mapping or `key=value` text", rawArgs)
            }
            for (k, v) in extraArgs { t.args[k] = v }
            t.args = ModuleDefaultsRule.arguments(t.args, module: t.module, defaults: t.moduleDefaults)
            if let problem = PlaybookLoader.argumentProblem(t.args, module: module, written: moduleNode.string) {
                // The caret on that argument's own line (in `args:` or the module's mapping).
                var at = problem.key == nil ? moduleNode : rawArgs
                for candidate in [rawArgs, argsNode].compactMap({ $0 }) {
                    if case .mapping(let m) = candidate, let k = m.keys.first(where: { $0.string == problem.key }) { at = k }
                }
                t.refusal = error(problem.message, at)
            }
            if t.asyncSeconds != nil, Modules.withoutAsync.contains(t.module), t.refusal == nil {
                t.refusal = error("This action (\(moduleNode.string ?? t.module)) does not support async.", moduleNode)
            }
            if t.pollZero {
                guard t.asyncSeconds != nil else { throw error("poll: 0 goes with async (the most seconds the task may run)", node) }
                guard ["command", "shell"].contains(t.module), t.args["stdin"] == nil, !(t.module == "shell" && t.noLog), t.loop == nil else {
                    throw error("'poll: 0' (a task left running in the background) is not supported by parc for \(t.module) with these arguments; it is for command and shell without stdin, no_log or a loop", node)
                }
            }
            if t.name.isEmpty { t.name = t.module + (t.args["_raw_params"]?.string.map { " \($0)" } ?? "") }
            return [t]
        }

        /// An include_tasks read when it runs.
        func dynamicInclude(_ t: TaskSpec, name: String, base: String) -> TaskSpec {
            var d = t
            d.kind = .include(DynamicInclude(file: name, base: base, roleDirectory: roleDirectory))
            d.module = "include_tasks"
            if d.name.isEmpty { d.name = "include_tasks" }
            d.args = ["_raw_params": .string(name)]
            // include_tasks' vars are include params of the tasks it brings.
            d.includeParams = t.vars
            d.vars = [:]
            return d
        }

        /// import_tasks / include_tasks / import_role / include_role: the tasks they bring, carrying
        /// the including task's conditions, tags, vars and become (both kinds are read when the
        /// playbook is loaded, so mistakes in them are reported before anything runs).
        func expand(_ include: (kind: String, node: Node, keyNode: Node), task t: TaskSpec) throws -> [TaskSpec] {
            if t.loop != nil && include.kind != "include_tasks" { throw error("\(include.kind) with a loop is not supported by parc yet", include.keyNode) }
            var brought: [TaskSpec]
            switch include.kind {
            case "import_tasks", "include_tasks":
                var name: String
                switch value(include.node) {
                case .string(let s) where s.hasPrefix("file="): name = String(s.dropFirst(5)).trimmed  // the key=value form
                case .string(let s): name = s
                case .map(let m): guard let f = m["file"]?.string else { throw error("\(include.kind) names a file", include.node) }; name = f
                default: throw error("\(include.kind) names a file", include.node)
                }
                let base = roleDirectory.map { "\($0)/tasks" } ?? taskDirectory ?? playbookDirectory
                if include.kind == "import_tasks" && (name.contains("{{") || name.contains("{%")) {
                    // Ansible reads an import when the playbook is read: its name may use what is
                    // known then — here the role's and playbook's paths —, not a host's variables.
                    var known: [String: Value] = ["playbook_dir": .string(playbookDirectory)]
                    if let roleDirectory {
                        known["role_path"] = .string(roleDirectory)
                        known["role_name"] = .string((roleDirectory as NSString).lastPathComponent)
                        known["ansible_role_name"] = known["role_name"]
                    }
                    do { name = try TemplateEngine().render(name, vars: known, at: location(include.node)) } catch {
                        throw self.error("import_tasks: the file name '\(name)' uses what is not known when the playbook is read (parc knows role_path, role_name and playbook_dir then); include_tasks reads its file when it runs, with the host's variables", include.node)
                    }
                }
                let templated = name.contains("{{") || name.contains("{%")
                // In a role, a relative name is the role's tasks/ first, then beside the including file (Ansible's search).
                var path = name.hasPrefix("/") ? name : "\(base)/\(name)"
                if !name.hasPrefix("/"), !FileManager.default.fileExists(atPath: path), let here = taskDirectory,
                   FileManager.default.fileExists(atPath: "\(here)/\(name)") { path = "\(here)/\(name)" }
                if !templated { guard FileManager.default.fileExists(atPath: path) else { throw error("\(include.kind): no file \(path)", include.node) } }
                // Where a relative name was found (or, for a template, the role's tasks/ or the including file's folder).
                let folder = name.hasPrefix("/") || path == "\(base)/\(name)" ? base : (taskDirectory ?? base)
                if templated || t.loop != nil {
                    // Read when it runs: per item, with the facts known by then. A plain name is read
                    // now too, so that its mistakes are reported before anything runs.
                    if !templated {
                        _ = try PlaybookLoader.including(path, from: file, line: include.keyNode.mark?.line ?? 1) {
                            try PlaybookLoader.loadTaskFile(path, playbookDirectory: playbookDirectory, directory: roleDirectory)
                        }
                    }
                    return [dynamicInclude(t, name: name, base: folder)]
                }
                do {
                    brought = try PlaybookLoader.including(path, from: file, line: include.keyNode.mark?.line ?? 1) {
                        try PlaybookLoader.loadTaskFile(path, playbookDirectory: playbookDirectory, directory: roleDirectory)
                    }
                    .map { var x = $0; if roleDirectory == nil { x.directory = nil }; return x }
                } catch let e as PlaybookError where include.kind == "include_tasks" && !t.when.isEmpty && !e.message.contains("inclusion cycle") {
                    // include_tasks is dynamic in Ansible: the file is read only if the include runs
                    // (a Windows cleanup behind a condition). One parc cannot read is left to run
                    // time, named in a warning, and fails there if its condition holds.
                    var d = dynamicInclude(t, name: name, base: folder)
                    d.refusal = e
                    return [d]
                }
            default:
                guard case .map(var m) = value(include.node), let name = m.removeValue(forKey: "name")?.string else {
                    throw error("\(include.kind) needs `name:` (the role)", include.node)
                }
                let tasksFrom = m.removeValue(forKey: "tasks_from")?.string
                var params = m.removeValue(forKey: "vars")?.map ?? [:]
                for k in ["apply", "defaults_from", "vars_from", "handlers_from"] where m[k] != nil {
                    throw error("\(include.kind): '\(k)' is not supported by parc yet (name, tasks_from, vars and role parameters are)", include.node)
                }
                // public and allow_duplicates change nothing here: roles are resolved once, at load.
                for (k, v) in m where !["public", "allow_duplicates"].contains(k) { params[k] = v }
                var seen = Set<String>()
                var loaded = try role(name, params: params, at: include.node, seen: &seen)
                if let tasksFrom {
                    let dir = try findRole(name, at: include.node).directory
                    let file = ["\(dir)/tasks/\(tasksFrom)", "\(dir)/tasks/\(tasksFrom).yml"].first { FileManager.default.fileExists(atPath: $0) }
                    guard let file else { throw error("role \(name) has no tasks file \(tasksFrom)", include.node) }
                    loaded.tasks = try PlaybookLoader.including(file, from: self.file, line: include.keyNode.mark?.line ?? 1) {
                        try PlaybookLoader.loadTaskFile(file, playbookDirectory: playbookDirectory, directory: dir)
                    }
                        .map { $0.inheriting(when: [], tags: [], vars: [:], become: nil, becomeUser: nil, environment: [:], directory: dir, includeParams: params) }
                }
                brought = loaded.tasks
                if !loaded.handlers.isEmpty || !loaded.defaults.isEmpty {
                    var marker = TaskSpec(name: "role \(name)", module: "", location: t.location)
                    marker.kind = .block
                    marker.carriedHandlers = loaded.handlers
                    marker.carriedDefaults = loaded.defaults
                    marker.block = brought.map { $0.inheriting(when: t.when, tags: t.tags, vars: [:], become: t.become, becomeUser: t.becomeUser,
                                                               environment: t.environment, directory: nil, includeParams: t.vars,
                                                               moduleDefaults: t.moduleDefaults) }
                    return [marker]
                }
            }
            // import_tasks' vars are the imported tasks' own (task level); include_tasks' and
            // include_role's are include params (above the tasks' own vars and set_fact).
            let dynamic = include.kind == "include_tasks" || include.kind == "include_role"
            return brought.map { $0.inheriting(when: t.when, tags: t.tags, vars: dynamic ? [:] : t.vars, become: t.become, becomeUser: t.becomeUser,
                                              environment: t.environment, directory: nil, includeParams: dynamic ? t.vars : [:],
                                              moduleDefaults: t.moduleDefaults) }
        }

        /// `module_defaults`: a mapping of module names to their default arguments (or a list of
        /// such mappings, a later one's entry for a module replacing an earlier one's, as Ansible's
        /// dict update). Action groups (`group/…`) name collections' modules, none of which parc
        /// has: they are left aside.
        func moduleDefaults(_ node: Node) throws -> ModuleDefaults {
            let entries: [Node]
            switch node {
            case .sequence(let list): entries = Array(list)
            case .mapping: entries = [node]
            default: throw error("module_defaults is a mapping of module names to their default arguments (a template is not supported by parc yet)", node)
            }
            var out: ModuleDefaults = [:]
            for entry in entries {
                for (key, _, v) in try pairs(entry, what: "module_defaults") where !key.hasPrefix("group/") {
                    guard case .map(let m) = value(v) else { throw error("module_defaults: the defaults of \(key) are a mapping of arguments", v) }
                    out[Modules.shortName(key)] = m.dictionary
                }
            }
            return out
        }

        /// `key=value key2="a b"` text; what is left is the free-form command of command/shell.
        func freeForm(_ text: String, module: ModuleSpec, node: Node) throws -> [String: Value] {
            do { return try PlaybookLoader.keyValues(text, module: module) } catch let e as PlaybookError { throw error(e.message, node) }
        }

        /// Splits on spaces outside quotes and `{{ }}`, keeping the quotes.
        /// `action: copy src=a dest=b` → (copy, its free-form text as a YAML node); a mapping names
        /// its module under `module`.
        func actionForm(_ node: Node) throws -> (String, Node) {
            switch node {
            case .scalar(let scalar):
                let text = scalar.string.trimmed
                let name = Modules.shortName(String(text.prefix { $0 != " " }))
                let rest = String(text.drop { $0 != " " }).trimmed
                return (name, .scalar(.init(rest, Tag(.str), .plain, node.mark)))
            case .mapping(var m):
                guard let key = m.keys.first(where: { $0.string == "module" }), let name = m[key]?.string else {
                    throw error("action: name the module (`action: copy src=… dest=…` or `module:`)", node)
                }
                m[key] = nil
                return (Modules.shortName(name), .mapping(m))
            default: throw error("action: name the module (`action: copy src=… dest=…`)", node)
            }
        }
    }
}
