import Foundation
import ParcCore
import Templating

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
        var out = location.map { "\(TextRules.visible($0.description, max: 1_000)): " } ?? ""
        out += message
        if let line = sourceLine, let location {
            // The offending line as text: a file's escape sequences never reach the terminal.
            out += "\n\n    \(TextRules.visible(line, max: 500, keepLineBreaks: true))\n    \(String(repeating: " ", count: max(0, location.column - 1)))^ here"
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
    /// The roles path it was read with (for the includes read when they run).
    public var rolesPath: [String] = []

    /// The folders of the roles the playbook's tasks and handlers come from.
    public var roleDirectories: Set<String> {
        var out = Set<String>()
        func walk(_ t: TaskSpec) {
            if let d = t.directory { out.insert(d) }
            for list in [t.block, t.rescue, t.always] { list.forEach(walk) }
            t.carriedHandlers.forEach(walk)
        }
        for p in plays { p.tasks.forEach(walk); p.handlers.forEach(walk) }
        return out
    }

    /// Tasks parc refuses to run, each conditional (the rest were refused when the playbook was read).
    public var refusals: [PlaybookError] {
        var out: [PlaybookError] = []
        func walk(_ t: TaskSpec) {
            if let r = t.refusal { out.append(r) }
            for list in [t.block, t.rescue, t.always] { list.forEach(walk) }
        }
        for p in plays { p.tasks.forEach(walk); p.handlers.forEach(walk) }
        return out
    }

    /// What the command line (`-b`) and ansible.cfg set for plays that do not say it themselves.
    public mutating func apply(_ defaults: PlayDefaults) {
        for i in plays.indices {
            if defaults.become && !plays[i].becomeWritten { plays[i].become = true }
            if plays[i].becomeUser == nil { plays[i].becomeUser = defaults.becomeUser }
            if defaults.gathering == .explicit && !plays[i].gatherFactsWritten { plays[i].gatherFacts = false }
        }
    }
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
    public var becomeUser: String?
    public var remoteUser: String?
    public var environment: [String: Value]
    public var serial: Serial
    public var maxFailPercentage: Int?
    public var gatherFacts: Bool
    /// pre_tasks, roles, tasks and post_tasks in order, with handler flushes between them.
    public var tasks: [TaskSpec]
    public var handlers: [TaskSpec]
    public var tags: [String]
    /// Defaults of the play's roles: the lowest-precedence variables.
    public var roleDefaults: [String: Value]
    public var location: SourceLocation
    /// `vars_prompt`: what to ask before the play, unless -e gives it.
    public var prompts: [Prompt] = []
    /// Whether the play says `become:` itself (else `-b` turns it on).
    public var becomeWritten = false
    /// Whether the play says `gather_facts:` itself (else ansible.cfg's `gathering` decides).
    public var gatherFactsWritten = false
    /// `gather_subset`: which of Ansible's fact groups the play gathers.
    public var gatherSubset: [String] = ["all"]
    /// The answers typed (data: never rendered), set by the runner.
    public var promptAnswers: [String: Value] = [:]
}

/// Settings for the plays that do not say them: `-b` and ansible.cfg's `become`, `become_user`,
/// `gathering`. A relay gets them with its work.
public struct PlayDefaults: Codable, Sendable, Equatable {
    /// Plays without `become:` become root.
    public var become = false
    /// Plays without `become_user:` become this user.
    public var becomeUser: String?
    /// explicit: plays without `gather_facts:` gather none.
    public var gathering: AnsibleConfig.Gathering = .implicit

    public init(become: Bool = false, becomeUser: String? = nil, gathering: AnsibleConfig.Gathering = .implicit) {
        self.become = become
        self.becomeUser = becomeUser
        self.gathering = gathering
    }
}

/// One `vars_prompt` entry.
public struct Prompt: Sendable {
    public var name: String
    public var prompt: String
    public var defaultValue: Value?
    public var isPrivate: Bool
    public var location: SourceLocation
    /// `encrypt`: the answer is stored hashed with this crypt scheme (md5_crypt, sha256_crypt, sha512_crypt).
    public var encrypt: String? = nil
    /// `confirm`: asked twice, the two answers must match.
    public var confirm = false
    public var saltSize: Int? = nil
    public var salt: String? = nil

    /// Ansible's encrypt schemes parc hashes (with openssl passwd), and their short names.
    public static let schemes = ["md5_crypt": "md5", "sha256_crypt": "sha256", "sha512_crypt": "sha512"]
}

/// One task (or handler, or block) as written, with what it inherits from its block, include or role.
/// `loop` (a list as it is), `with_list` (a list as it is, anything else a list of one — Ansible's
/// listify of a lookup's terms), `with_items` (flattened one level once rendered),
/// `with_dict` (one `{key, value}` item per key, in the mapping's order).
public enum LoopKind: Sendable, Equatable {
    case loop, withList, withItems, withDict, withFirstFound, withNested, withTogether, withSequence, withSubelements, withIndexedItems
}

/// What a task is: a module call, a block, a `meta: flush_handlers`, or an `include_tasks` decided
/// when it runs (its file name is a template, or it loops).
public enum TaskKind: Sendable, Equatable {
    case module
    case block
    case flushHandlers
    case include(DynamicInclude)
    /// `meta:` end_host, end_play, noop, refresh_inventory, clear_host_errors.
    case meta(String)
}

/// An `include_tasks` run when it is reached: its file name rendered then (per loop item), its
/// tasks read then, from `base` (the including file's folder, or its role's `tasks/`).
public struct DynamicInclude: Sendable, Equatable {
    /// The file name as written (a template or plain text).
    public var file: String
    public var base: String
    /// The role whose tasks include it (for its files/ and templates/), if any.
    public var roleDirectory: String?

    public static func == (a: DynamicInclude, b: DynamicInclude) -> Bool { a.file == b.file && a.base == b.base && a.roleDirectory == b.roleDirectory }
}

public struct TaskSpec: Sendable {
    public var name: String
    /// What the task is; a module call's module is `module`.
    public var kind: TaskKind = .module
    /// The module's short name (`copy`), whatever prefix was written (`ansible.builtin.copy`).
    public var module: String
    public var args: [String: Value]
    /// Conditions, all of which must hold (templates without braces).
    public var when: [String]
    public var loop: Value?
    /// How the loop's value becomes items.
    public var loopKind: LoopKind = .loop
    /// `loop_control.loop_var` (default `item`) and `label`.
    public var loopVar: String
    public var loopLabel: String?
    /// loop_control's index_var: the name given to the item's index (from 0).
    public var loopIndexVar: String?
    /// loop_control's pause (seconds between items), extended (`ansible_loop`) and extended_allitems.
    public var loopPause: Double?
    public var loopExtended = false
    public var loopExtendedAllItems = true
    public var register: String?
    /// `changed_when` / `failed_when`: conditions that must all hold (one, or a list); empty when not given.
    public var changedWhen: [String] = []
    public var failedWhen: [String] = []
    public var ignoreErrors: Bool
    /// `ignore_errors: "{{ … }}"`: decided when the task runs.
    public var ignoreErrorsExpression: String?
    /// `until`: the conditions that end a retry loop (with `retries` and `delay`).
    public var until: [String] = []
    /// `retries` and `delay` as written (numbers or templates), rendered when the task runs.
    public var retries: Value?
    public var delay: Value?
    public var notify: [String]
    public var become: Bool?
    public var becomeUser: String?
    public var remoteUser: String?
    public var environment: [String: Value]
    public var tags: [String]
    public var noLog: Bool
    /// For handlers: the names it listens to (`listen`) besides its name.
    public var listen: [String]
    /// Task-level variables: the role's vars/main.yml, the enclosing blocks' vars and the task's own.
    public var vars: [String: Value]
    /// Role parameters and the `vars:` of the include_tasks / include_role that brought the task:
    /// above set_fact and registered values, below -e (Ansible's include params).
    public var includeParams: [String: Value] = [:]
    /// What parc cannot do in this task (a module it lacks, an argument it does not know): the
    /// task is refused at load when it would always run, else it fails only if it runs (as
    /// Ansible, which checks a module's arguments only when the task runs).
    public var refusal: PlaybookError?
    /// `action: "{{ ansible_pkg_mgr }} name=x"`: the module's name is a template, decided when
    /// the task runs (with its `key=value` text, `args`: checked then). Nil: `module` is known.
    public var moduleTemplate: String?
    /// The `key=value` text after a templated module name.
    public var lateArgs: String?
    /// Loop items of a dynamic include_tasks, for the tasks it brings: data, never rendered.
    public var includeData: [String: Value] = [:]
    /// Where `files/` and `templates/` are looked up (the role's folder for a role's tasks).
    public var directory: String?
    public var runOnce: Bool
    /// `delegate_to: localhost`.
    public var delegateToLocal: Bool
    /// `async` with `poll` above 0: the task's time limit, in seconds.
    public var asyncSeconds: Int?
    /// `check_mode:` yes runs this task in check mode, no runs it for real even under --check.
    public var checkMode: Bool?
    /// `diff:` yes shows this task's file changes, no hides them, whatever --diff says.
    public var diffMode: Bool?
    /// `timeout`: the most seconds the task may take (it fails after).
    public var timeoutSeconds: Int?
    /// `poll: 0`: started in the background, its job id registered for `async_status`.
    public var pollZero = false
    /// A block's parts.
    public var block: [TaskSpec]
    public var rescue: [TaskSpec]
    public var always: [TaskSpec]
    public var location: SourceLocation
    /// `module_defaults` of the task and of everything around it (block, include, play), by
    /// module: already merged under `args` for a known module; kept for what the task brings
    /// when it runs (include_tasks) and for a module named by a template.
    public var moduleDefaults: ModuleDefaults = [:]
    /// What an include_role brings to the play (taken by the loader).
    var carriedHandlers: [TaskSpec] = []
    var carriedDefaults: [String: Value] = [:]

    public init(name: String, module: String, location: SourceLocation) {
        self.name = name
        self.module = module
        self.location = location
        args = [:]
        when = []
        loop = nil
        loopVar = "item"
        loopLabel = nil
        loopIndexVar = nil
        register = nil
        ignoreErrors = false
        notify = []
        become = nil
        becomeUser = nil
        remoteUser = nil
        environment = [:]
        tags = []
        noLog = false
        listen = []
        vars = [:]
        directory = nil
        runOnce = false
        delegateToLocal = false
        block = []
        rescue = []
        always = []
    }

    /// A `meta: flush_handlers` marker.
    static func flush(at location: SourceLocation) -> TaskSpec {
        var t = TaskSpec(name: "flush handlers", module: "", location: location)
        t.kind = .flushHandlers
        return t
    }

    /// What a task inherits from its block, include or role: conditions, tags, vars, become…
    func inheriting(when: [String], tags: [String], vars: [String: Value], become: Bool?, becomeUser: String?,
                    environment: [String: Value], directory: String?, ignoreErrors: Bool? = nil, includeParams: [String: Value] = [:],
                    includeData: [String: Value] = [:], moduleDefaults: ModuleDefaults = [:]) -> TaskSpec {
        var t = self
        t.when = when + t.when
        t.tags = Array(Set(tags + t.tags)).sorted()
        t.vars = vars.merging(t.vars) { _, own in own }
        // An inner include's parameters win over an outer one's.
        t.includeParams = includeParams.merging(t.includeParams) { _, own in own }
        t.includeData = includeData.merging(t.includeData) { _, own in own }
        t.become = t.become ?? become
        t.becomeUser = t.becomeUser ?? becomeUser
        t.environment = environment.merging(t.environment) { _, own in own }
        if t.directory == nil { t.directory = directory }
        if let ignoreErrors, ignoreErrors { t.ignoreErrors = true }
        // A block's own conditions reach every task in it (the runner does not test the block itself).
        let inner = { (x: TaskSpec) in x.inheriting(when: when, tags: tags, vars: vars, become: become, becomeUser: becomeUser,
                                                   environment: environment, directory: directory, ignoreErrors: ignoreErrors, includeParams: includeParams,
                                                   includeData: includeData) }
        t.block = t.block.map(inner)
        t.rescue = t.rescue.map(inner)
        t.always = t.always.map(inner)
        return t.withModuleDefaults(moduleDefaults)
    }

    /// The task under `module_defaults` of something around it, as Ansible's: for each module, the
    /// nearest defaults that name it replace the farther ones whole (they are not merged argument
    /// by argument); the task's own arguments win over them. `package` and `service` also take
    /// the defaults of the module they hand the work to (apt, systemd), under their own.
    func withModuleDefaults(_ outer: ModuleDefaults) -> TaskSpec {
        guard !outer.isEmpty else { return self }
        var t = self
        let fresh = outer.filter { t.moduleDefaults[$0.key] == nil }
        for (module, args) in fresh { t.moduleDefaults[module] = args }
        t.block = t.block.map { $0.withModuleDefaults(outer) }
        t.rescue = t.rescue.map { $0.withModuleDefaults(outer) }
        t.always = t.always.map { $0.withModuleDefaults(outer) }
        guard t.kind == .module, t.moduleTemplate == nil, let spec = Modules.registry[t.module] else { return t }
        let merged = ModuleDefaultsRule.arguments(t.args, module: t.module, defaults: fresh)
        guard merged != t.args || t.refusal != nil else { return t }
        t.args = merged
        // A missing argument the defaults give is no longer missing; one the module does not take
        // is refused as if the task said it.
        let problem = PlaybookLoader.argumentProblem(t.args, module: spec)
        if problem == nil { t.refusal = nil } else if problem?.message != t.refusal?.message { t.refusal = PlaybookError(problem!.message, at: t.location) }
        return t
    }
}

/// `module_defaults` by module name (short names: `ansible.builtin.file` is `file`).
public typealias ModuleDefaults = [String: [String: Value]]

enum ModuleDefaultsRule {
    /// The module Ansible's action hands a task to on the devices parc runs (Debian's apt, systemd).
    static let backends = ["package": "apt", "service": "systemd"]

    /// A task's arguments with the defaults for its module (and its backend's) under them.
    static func arguments(_ own: [String: Value], module: String, defaults: ModuleDefaults) -> [String: Value] {
        var args = own
        for name in [module, backends[module]].compactMap({ $0 }) {
            for (k, v) in defaults[name] ?? [:] where args[k] == nil { args[k] = v }
        }
        return args
    }
}
