import Foundation
import ParcCore
import Templating

/// A module's refusal: the task fails with this message.
public struct ModuleFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// More of the failed result, as Ansible's module gives it (`details`, `path`).
    public var data: [String: Value] = [:]
    public init(_ message: String, data: [String: Value] = [:]) {
        self.message = message
        self.data = data
    }
    public var description: String { message }
}

/// What a module did (or, in check mode, would do).
public struct ModuleResult: Sendable {
    public var changed = false
    public var failed = false
    public var skipped = false
    public var msg: String?
    public var rc: Int32?
    public var stdout: String?
    public var stderr: String?
    public var diff: [FileDiff] = []
    /// Extra values for `register` (e.g. `backup_file`, `exists`).
    public var data: [String: Value] = [:]
    /// What Ansible's module would warn about: registered as `warnings`, shown after the task.
    public var warnings: [String] = []
    /// What Ansible's action shows as a warning without registering it (an argument it ignores).
    public var notices: [String] = []
    /// Whether the `ansible_facts` it sets were written by a person (include_vars of a file the
    /// run did not write): rendered as templates, not kept as data.
    public var authoredFacts = false

    public init(changed: Bool = false, msg: String? = nil) {
        self.changed = changed
        self.msg = msg
    }

    /// A failed result with its message.
    public init(failed message: String) {
        failed = true
        msg = message
    }

    public init(failure: ModuleFailure) {
        self.init(failed: failure.message)
        data = failure.data
    }

    /// The registered variable, as Ansible shapes it.
    public var registered: Value {
        var m = data
        m["changed"] = .bool(changed)
        // As Ansible's: `skipped` only in a skipped result (a rescue may test `'skipped' in r`),
        // which has no `failed`.
        if !skipped || failed { m["failed"] = .bool(failed) }
        if skipped { m["skipped"] = .bool(true) }
        if let msg { m["msg"] = .string(msg) }
        if !warnings.isEmpty { m["warnings"] = .list(warnings.map { .string($0) }) }
        if let rc { m["rc"] = .int(Int(rc)) }
        if let stdout {
            m["stdout"] = .string(stdout)
            m["stdout_lines"] = .list(stdout.split(separator: "\n").map { .string(String($0)) })
        }
        if let stderr {
            m["stderr"] = .string(stderr)
            m["stderr_lines"] = .list(stderr.split(separator: "\n").map { .string(String($0)) })
        }
        // With diff on, the changes as Ansible registers them (before / after and their headers).
        if !diff.isEmpty {
            m["diff"] = .list(diff.map { d in
                .map(["before": .string(d.before ?? ""), "after": .string(d.after ?? ""),
                      "before_header": .string("\(d.path) (content)"), "after_header": .string("\(d.path) (content)")])
            })
        }
        return .map(m)
    }
}

/// A module: its arguments and what it does — a plan of steps for the device from facts, or a
/// result computed on the control node alone (debug, set_fact, assert…).
public struct ModuleSpec: Sendable {
    public enum Behaviour: Sendable {
        /// Facts in, steps out: a pure function the runner calls again when it needs more facts.
        case device(@Sendable (ModuleContext) throws -> Plan)
        /// Runs on the control node; touches no device.
        case control(@Sendable (ModuleContext) throws -> ModuleResult)
    }

    public var name: String
    public var arguments: Set<String>
    public var required: Set<String>
    /// Whether it takes a free-form command (`command: ls -l`).
    public var takesFreeForm: Bool
    public var behaviour: Behaviour
    /// Whether any argument name is fine (`set_fact: {anything: …}`).
    public var anyArguments = false
    /// Whether its result sets facts the next tasks read (`setup`): it is never left to wait.
    public var setsFacts = false
    /// Its arguments of Ansible's `path` type, expanded on the device (`~`, `$NAME`) before it plans.
    public var pathArguments = Runner.pathArguments

    init(name: String, arguments: Set<String>, required: Set<String> = [], takesFreeForm: Bool = false, anyArguments: Bool = false,
         pathArguments: [String] = [], plan: @escaping @Sendable (ModuleContext) throws -> Plan) {
        self.init(name: name, arguments: arguments, required: required, takesFreeForm: takesFreeForm, anyArguments: anyArguments, behaviour: .device(plan))
        self.pathArguments += pathArguments
    }

    init(name: String, arguments: Set<String>, required: Set<String> = [], takesFreeForm: Bool = false, anyArguments: Bool = false,
         control: @escaping @Sendable (ModuleContext) throws -> ModuleResult) {
        self.init(name: name, arguments: arguments, required: required, takesFreeForm: takesFreeForm, anyArguments: anyArguments, behaviour: .control(control))
    }

    private init(name: String, arguments: Set<String>, required: Set<String>, takesFreeForm: Bool, anyArguments: Bool, behaviour: Behaviour) {
        self.name = name
        self.arguments = arguments
        self.required = required
        self.takesFreeForm = takesFreeForm
        self.behaviour = behaviour
        self.anyArguments = anyArguments
    }

    /// Whether it plans steps for a device.
    public var touchesDevice: Bool { if case .device = behaviour { true } else { false } }
}

/// The modules parc runs, by their Ansible names.
public enum Modules {
    /// Names in their first order, each once.
    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    public static let registry: [String: ModuleSpec] = {
        var all: [ModuleSpec] = [
            CommandModule.command, CommandModule.shell, ScriptModule.spec, PauseModule.spec, FileModule.spec, CopyModule.copy, CopyModule.template, LineInFileModule.spec,
            AptModule.spec, ServiceModule.service, ServiceModule.systemd, UserModule.spec, HostnameModule.spec, RebootModule.spec,
            DebugModule.spec, FailModule.spec,
            FactModules.setFact, FactModules.includeVars, FactModules.assert, FactModules.stat, FactModules.slurp, FactModules.package,
            FactModules.waitFor, FactModules.setup, FactModules.getent, FindModule.spec, FactModules.asyncStatus, FactModules.tempfile, FactModules.ping, SettingModules.group, SettingModules.authorizedKey, SettingModules.timezone, SettingModules.localeGen,
            SystemFileModules.cron, SystemFileModules.sysctl, SystemFileModules.mount, SystemFileModules.aptRepository,
            SystemFileModules.deb822Repository, TransferModules.getURL, TransferModules.unarchive, TransferModules.ufw, AptModule.dpkgSelections,
        ]
        all.sort { $0.name < $1.name }
        return Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    }()

    /// `ansible.builtin.copy` → `copy`; the collection modules parc implements under their
    /// collection names too (`ansible.posix.sysctl`, `community.general.ufw`).
    public static func shortName(_ key: String) -> String {
        for prefix in ["ansible.builtin.", "ansible.legacy."] where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            return aliases[name] ?? name
        }
        return collectionModules[key] ?? aliases[key] ?? key
    }

    /// What Ansible adds to a result that names an existing path (add_path_info): its owner,
    /// group, mode, size and kind, from `stat -c '%u|%g|%U|%G|%a|%s|%h|%F'`; nothing when it is gone.
    static let pathInfoFormat = "%u|%g|%U|%G|%a|%s|%h|%F"

    /// The permission flags of Ansible's stat and find results, by their bits.
    static let permissionBits = [("rusr", 0o400), ("wusr", 0o200), ("xusr", 0o100), ("rgrp", 0o40), ("wgrp", 0o20), ("xgrp", 0o10),
                                 ("roth", 0o4), ("woth", 0o2), ("xoth", 0o1), ("isuid", 0o4000), ("isgid", 0o2000)]

    static func pathInfo(_ statLine: String) -> [String: Value] {
        let f = statLine.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 8, let uid = Int(f[0]), let gid = Int(f[1]), let mode = Int(f[4], radix: 8) else { return [:] }
        let kind = f[7] == "symbolic link" ? "link" : f[7] == "directory" ? "directory" : (Int(f[6]) ?? 1) > 1 ? "hard" : "file"
        return ["uid": .int(uid), "gid": .int(gid), "owner": .string(f[2] == "UNKNOWN" ? f[0] : f[2]), "group": .string(f[3] == "UNKNOWN" ? f[1] : f[3]),
                "mode": .string("0" + String(repeating: "0", count: max(0, 3 - String(mode, radix: 8).count)) + String(mode, radix: 8)), "size": .int(Int(f[5]) ?? 0), "state": .string(kind)]
    }

    /// The modules Ansible runs through an action plugin of its own that takes no `async` (its
    /// ActionBase refuses: "This action (script) does not support async."); the others (command,
    /// shell, package, service, apt, user, …) run in the background as modules.
    static let withoutAsync: Set<String> = ["assert", "async_status", "copy", "debug", "fail", "include_vars", "pause", "reboot",
                                            "script", "set_fact", "template", "unarchive"]

    /// Other names Ansible gives the same module (`systemd_service` is systemd's current name).
    static let aliases = ["systemd_service": "systemd"]

    static let collectionModules = [
        "ansible.posix.sysctl": "sysctl", "ansible.posix.mount": "mount", "ansible.posix.authorized_key": "authorized_key",
        "community.general.ufw": "ufw", "community.general.timezone": "timezone", "community.general.locale_gen": "locale_gen",
    ]

    /// A file mode as chmod reads it: YAML's bare `0644` (read as the integer 420), `'0644'`, `'644'`,
    /// or symbolic (`u=rw,g=r,o=`, `u+x`), applied to the current mode (`current`, octal text).
    static func mode(_ value: Value?, current: String? = nil, isDirectory: Bool = false) throws -> String? {
        guard let value, value != .null else { return nil }
        switch value {
        case .int(let i): return String(i, radix: 8)
        case .string(let s):
            let t = s.trimmed
            if !t.isEmpty, t.allSatisfy({ ("0"..."7").contains($0) }) {
                let trimmed = String(t.drop { $0 == "0" })
                return trimmed.isEmpty ? "0" : trimmed
            }
            return String(try symbolic(t, current: UInt32(current ?? "0", radix: 8) ?? 0, isDirectory: isDirectory), radix: 8)
        default: throw ModuleFailure("mode: give an octal mode such as '0644' or a symbolic one such as 'u=rw,go=r'")
        }
    }

    /// Symbolic modes as Ansible's `_symbolic_mode_to_octal` reads them (`u=rw,g=r,o=`, `u+rwX-x`,
    /// `g=u`): clauses split on the operators, `a` or no one meaning `ugo` (no one: within the
    /// umask, 022 on the devices), permissions copied from another class (`u`, `g`, `o`), `X` by
    /// the mode reached so far. A clause Ansible refuses fails as its module fails.
    static func symbolic(_ text: String, current: UInt32, isDirectory: Bool, umask: UInt32 = 0o022) throws -> UInt32 {
        var mode = current & 0o7777
        for clause in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bad = ModuleFailure("mode must be in octal or symbolic form", data: ["details": .string("bad symbolic permission for mode: \(clause)")])
            var parts: [Substring] = [], operators: [Character] = []
            var piece = Substring()
            for c in clause {
                if "+-=".contains(c) { parts.append(piece); operators.append(c); piece = Substring() } else { piece.append(c) }
            }
            parts.append(piece)
            var users = String(parts.removeFirst())
            let withinUmask = users.isEmpty
            if users == "a" || users.isEmpty { users = "ugo" }
            guard users.allSatisfy({ "ugo".contains($0) }) else { throw bad }
            for (op, perms) in zip(operators, parts) {
                guard perms.allSatisfy({ "rwxXstugo".contains($0) }) else { throw bad }
                for user in users {
                    let shift: UInt32 = user == "u" ? 6 : user == "g" ? 3 : 0
                    let allowed: UInt32 = withinUmask ? ~umask & 0o7777 : 0o7777
                    var bits: UInt32 = 0
                    for p in perms {
                        switch p {
                        case "r": bits |= (0o4 << shift) & allowed
                        case "w": bits |= (0o2 << shift) & allowed
                        case "x": bits |= (0o1 << shift) & allowed
                        case "X": if isDirectory || mode & 0o111 != 0 { bits |= 0o1 << shift }
                        case "s": bits |= user == "u" ? 0o4000 : user == "g" ? 0o2000 : 0
                        case "t": bits |= user == "o" ? 0o1000 : 0
                        default:  // u, g, o: that class's bits, moved to this one's place
                            let from: UInt32 = p == "u" ? 6 : p == "g" ? 3 : 0
                            bits |= ((mode >> from) & 0o7) << shift
                        }
                    }
                    switch op {
                    case "=":
                        let mask: UInt32 = user == "u" ? 0o4700 : user == "g" ? 0o2070 : 0o1007
                        mode = (mode & ~mask & 0o7777) | bits
                    case "+": mode |= bits
                    default: mode &= ~bits
                    }
                }
            }
        }
        return mode
    }
}
