import Foundation
import ParcCore
import Templating

/// A read-only question to a device: a command whose output a module reads (pyinfra's facts).
/// The answer is kept for the run, per device and per way of becoming, until a step changes
/// what it describes.
public struct Fact: Hashable, Sendable {
    public var script: String
    /// Bytes the command reads on file descriptor 3 (unarchive compares an archive it is sent).
    public var input: [UInt8]
    /// Paths the answer describes: a step touching one of them (or an ancestor or, for a
    /// removal, a descendant) makes it stale; a path ending in `/` is a whole tree, which any
    /// step under it makes stale. Nil: any change does (packages, users, services).
    public var paths: [String]?
    /// Stale after any change, whatever it touched: what `stat` reads (owner, mode, links) is the
    /// inode's, which another name of it (a hard link) changes too.
    public var staleAfterAnyChange = false
    /// Whether the run may ask it before its task plans (the play's first round trip): false for
    /// a question that costs or leaves something on the device (unarchive's download, kept for
    /// its extraction), which an earlier task's change would make the run ask again.
    public var askedAhead = true

    public init(_ script: String, input: [UInt8] = [], paths: [String]?, staleAfterAnyChange: Bool = false, askedAhead: Bool = true) {
        self.script = script
        self.input = input
        self.paths = paths
        self.staleAfterAnyChange = staleAfterAnyChange
        self.askedAhead = askedAhead
    }

    /// A command's answer about the system as a whole.
    public static func command(_ script: String, input: [UInt8] = []) -> Fact { Fact(script, input: input, paths: nil) }

    /// A path's kind, mode, owner and link target (``PathState``).
    public static func path(_ path: String) -> Fact { Fact(PathState.command(path), paths: [path]) }

    /// A path's state and, for a regular file, its content (``FileFact``).
    public static func file(_ path: String) -> Fact {
        let p = shellQuote(path)
        return Fact("if [ -e \(p) ] || [ -L \(p) ]; then stat -c '%F|%a|%U|%G|%s' -- \(p); if [ -L \(p) ]; then readlink -- \(p); else echo; fi; if [ -f \(p) ]; then cat -- \(p); fi; else echo absent; fi",
                    paths: [path])
    }

    /// A file's SHA-256 (`HASH  -`: read from standard input, so that no name is echoed), then its
    /// owner, mode and size as ``Modules/pathInfo(_:)`` reads them, or that it is a folder or
    /// absent (copy, template).
    public static func checksum(_ path: String) -> Fact {
        let d = shellQuote(path)
        return Fact("if [ -d \(d) ]; then echo directory; elif [ -e \(d) ]; then sha256sum < \(d); stat -c '\(Modules.pathInfoFormat)' -- \(d); else echo absent; fi",
                    paths: [path])
    }
}

/// A file as ``Fact/file(_:)`` reads it.
public struct FileFact: Equatable, Sendable {
    public var state: PathState
    /// The content of a regular file (nil otherwise).
    public var content: [UInt8]?

    public init(state: PathState, content: [UInt8]?) {
        self.state = state
        self.content = content
    }

    public var text: String? { content.map { String(decoding: $0, as: UTF8.self) } }

    public static func parse(_ r: CommandResult) -> FileFact {
        let bytes = r.stdout
        guard let first = bytes.firstIndex(of: 10) else { return FileFact(state: PathState(kind: .absent), content: nil) }
        let head = String(decoding: bytes[..<first], as: UTF8.self)
        if head == "absent" { return FileFact(state: PathState(kind: .absent), content: nil) }
        let rest = bytes[(first + 1)...]
        let second = rest.firstIndex(of: 10) ?? bytes.count
        let link = String(decoding: rest[rest.startIndex..<second], as: UTF8.self)
        let state = PathState.parse(head + "\n" + link + "\n")
        let content = state.kind == .file ? Array(bytes[min(bytes.count, second + 1)...]) : nil
        return FileFact(state: state, content: content)
    }
}

/// A module's plan needs answers not known yet: the runner asks the device, then plans again.
struct NeedFacts: Error {
    var facts: [Fact]
}

/// A change a module asks for; the runner's applier runs it (never in check mode).
public struct Step: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A shell script that must succeed.
        case run
        /// A file put in place atomically (temporary in the same folder, fsync, rename).
        case write(path: String, mode: UInt32, owner: String?, group: String?, validate: String?)
        /// Restart the device and wait for it (`reboot`).
        case reboot(message: String, delay: Int, timeout: Int)
    }

    public var kind: Kind
    public var script: String
    /// What file descriptor 3 reads (a file's new content, chpasswd's line…).
    public var input: [UInt8]
    /// What it does, for the message when it fails.
    public var what: String
    /// Paths it changes; nil: anything may change (every fact is stale after it).
    public var touches: [String]?
    /// Whether it removes or replaces whole trees under its paths.
    public var removesTree = false
    /// Its output is the module's result (command, shell): a non-zero status is data for the module.
    public var isResult = false
    /// Its output goes into the result (`stdout`, `stderr`, and `rc` when it fails), as Ansible's
    /// modules give run_command's (apt's apt-get).
    public var reportsOutput = false
    public var timeout: Duration?

    /// A command that must succeed.
    public static func run(_ script: String, input: [UInt8] = [], what: String, touches: [String]? = nil, removesTree: Bool = false) -> Step {
        var s = Step(kind: .run, script: script, input: input, what: what, touches: touches)
        s.removesTree = removesTree
        return s
    }

    /// `contents` written to `path` atomically with its mode and owner; `validate` (with `%s`)
    /// checks the new file before it replaces the old one.
    /// `ownerIsKept`: the owner and group are the replaced file's, not asked for — as Ansible's
    /// atomic_move, a user who may not give them (an unprivileged become) writes the file as its own.
    public static func write(_ path: String, _ contents: [UInt8], mode: UInt32, owner: String? = nil, group: String? = nil,
                             validate: String? = nil, ownerIsKept: Bool = false) -> Step {
        Step(kind: .write(path: path, mode: mode, owner: owner, group: group, validate: validate),
             script: writeScript(path, size: contents.count, mode: mode, owner: owner, group: group, validate: validate, ownerIsKept: ownerIsKept),
             input: contents, what: "writing \(path)", touches: [path])
    }

    init(kind: Kind, script: String, input: [UInt8] = [], what: String, touches: [String]?) {
        self.kind = kind
        self.script = script
        self.input = input
        self.what = what
        self.touches = touches
    }

    /// The script of an atomic write: a new file with an unguessable name in the destination's
    /// folder (exclusive create, owner and mode set while it is still empty), the content from
    /// fd 3 written and synced to disk by one `dd`, whose record count tells a complete content
    /// from a short one (a dropped connection); then `validate`, then a rename over the old file.
    /// On any failure the temporary file is removed and the old file stays as it was; the new file
    /// keeps the old one's ACLs and extended attributes.
    static func writeScript(_ path: String, size: Int, mode: UInt32, owner: String?, group: String?, validate: String?, ownerIsKept: Bool = false) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temp = "\(directory.isEmpty ? "." : directory)/.parc-tmp-\(name.prefix(40))-\(String(UInt64.random(in: 0..<UInt64.max), radix: 36))"
        // The trap removes the temporary file only when it is still there (a failure): no `rm`
        // process after every successful write; the exclusive create without a subshell.
        var s = "umask 077; t=\(shellQuote(temp)); trap '[ ! -e \"$t\" ] || rm -f -- \"$t\"' EXIT\n"
        s += "set -C; : > \"$t\" || exit 1; set +C\n"
        // A file replaced keeps its ACLs and extended attributes (as Ansible's atomic_move copies
        // them with copystat); the mode and owner asked for are set after.
        s += "[ ! -f \(shellQuote(path)) ] || cp --attributes-only --preserve=mode,xattr -- \(shellQuote(path)) \"$t\" 2>/dev/null || :\n"
        if owner != nil || group != nil {
            let who = shellQuote("\(owner ?? ""):\(group ?? "")".replacingOccurrences(of: ":$", with: "", options: .regularExpression))
            s += ownerIsKept ? "chown \(who) \"$t\" 2>/dev/null || :\n" : "chown \(who) \"$t\" || exit 1\n"
        }
        s += "chmod \(String(mode, radix: 8)) \"$t\" || exit 1\n"
        let short = "{ echo 'the new content arrived incomplete' >&2; exit 1; }"
        if size == 0 {
            s += "sync -- \"$t\" || exit 1\n"
        } else if size <= 8 << 20 {
            s += "r=$(LC_ALL=C dd of=\"$t\" bs=\(size) count=1 iflag=fullblock conv=fsync,notrunc <&3 2>&1) || exit 1\n"
            s += "case \"$r\" in '1+0 records in'*) ;; *) \(short) ;; esac\n"
        } else {
            s += "LC_ALL=C dd of=\"$t\" bs=1M iflag=fullblock conv=fsync,notrunc status=none <&3 || exit 1\n"
            s += "[ \"$(stat -c %s -- \"$t\")\" = \(size) ] || \(short)\n"
        }
        if let validate {
            s += "\(validate.replacingOccurrences(of: "%s", with: "\"$t\"")) || { s=$?; echo \(shellQuote("validation of \(path) failed (\(validate)); the file was not changed")) >&2; exit $s; }\n"
        }
        s += "mv -f -- \"$t\" \(shellQuote(path))"
        return s
    }
}

/// What a module decided: the steps to apply, and its result as it will be once they ran.
public struct Plan: Sendable {
    public var steps: [Step] = []
    public var result = ModuleResult()
    /// Plan again once these steps ran (a later phase reads what they change).
    public var again = false
    /// Fills the result from the output of the step marked ``Step/isResult``.
    public var finish: (@Sendable (inout ModuleResult, CommandResult) -> Void)?

    public init(steps: [Step] = [], changed: Bool? = nil, msg: String? = nil) {
        self.steps = steps
        result.changed = changed ?? !steps.isEmpty
        result.msg = msg
    }

    /// Nothing to do.
    public static var none: Plan { Plan() }
}

/// What a module gets to plan one task on one host: its arguments, the facts known so far (a
/// missing one is asked for by throwing), and the run's settings. Planning has no I/O.
public struct ModuleContext: Sendable {
    public var args: [String: Value]
    public var check = false
    public var diff = false
    /// The playbook's folder (for `files/` and `templates/`).
    public var playbookDirectory = "."
    public var vars: [String: Value] = [:]
    /// Where a file of the control node named by a task is looked for, as Ansible's search path:
    /// the task's own folder (a role's), then the playbook's.
    public var searchDirectories: [String] {
        let playbook = vars["parc_playbook_dir"]?.string
        return [playbookDirectory] + (playbook.map { $0 == playbookDirectory ? [] : [$0] } ?? [])
    }
    public var templates = TemplateEngine()
    public var location = SourceLocation(file: "", line: 0, column: 0)
    /// When the run started: a local file changed since then was written by the run (data).
    public var runStarted: Date = .distantPast
    /// The answers the device gave so far.
    public var known: [Fact: CommandResult] = [:]
    /// How many times the module planned again (``Plan/again``).
    public var phase = 0
    /// `environment:` of the play and task, exported before each command.
    public var environment: [String: Value] = [:]
    /// `no_log`: nothing of the task may show, the device's process list included.
    public var noLog = false
    /// The module's arguments of Ansible's `path` type (``ModuleSpec/pathArguments``).
    public var pathArguments = Runner.pathArguments

    public init(args: [String: Value], known: [Fact: CommandResult] = [:]) {
        self.args = args
        self.known = known
    }

    func string(_ key: String) -> String? { args[key].flatMap { $0 == .null ? nil : $0.string } }

    /// A required argument as text (a number given is its text); missing or null fails the task
    /// in Ansible's words, never the run.
    func required(_ key: String) throws -> String {
        guard let v = args[key], v != .null else { throw ModuleFailure("missing required arguments: \(key)") }
        return v.string ?? v.description
    }
    func bool(_ key: String, default value: Bool = false) -> Bool { args[key].map(\.truthy) ?? value }

    /// The answer to `fact`, or a request for it.
    func fact(_ fact: Fact) throws -> CommandResult {
        guard let r = known[fact] else { throw NeedFacts(facts: [fact]) }
        return r
    }

    /// Several answers at once (one round trip for those missing).
    func facts(_ list: [Fact]) throws -> [CommandResult] {
        let missing = list.filter { known[$0] == nil }
        if !missing.isEmpty { throw NeedFacts(facts: missing) }
        return list.map { known[$0]! }
    }

    /// `export NAME=value; ` for the task's environment, before a command.
    var exports: String {
        environment.keys.sorted().map { "export \($0)=\(shellQuote(environment[$0]!.description)); " }.joined()
    }

    /// A command step, with the task's environment.
    func run(_ script: String, input: [UInt8] = [], what: String, touches: [String]? = nil) -> Step {
        .run(exports + script, input: input, what: what, touches: touches)
    }
}
