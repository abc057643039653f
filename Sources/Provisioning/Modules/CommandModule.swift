import Foundation
import ParcCore
import Templating

/// `command` (no shell: words are quoted) and `shell` (`/bin/sh -c`).
enum CommandModule {
    static let arguments: Set<String> = ["_raw_params", "cmd", "argv", "chdir", "creates", "removes", "stdin", "executable", "expand_argument_vars", "stdin_add_newline", "strip_empty_ends"]

    static let command = ModuleSpec(name: "command", arguments: arguments, takesFreeForm: true) { try plan($0, shell: false) }
    /// shell's own argument spec lacks expand_argument_vars (the shell expands what it will).
    static let shell = ModuleSpec(name: "shell", arguments: arguments.subtracting(["expand_argument_vars"]), takesFreeForm: true) { try plan($0, shell: true) }

    /// The command line run in the device's shell (which reads it from the channel: no command
    /// line of a `no_log` task shows in the device's process list, except `shell`'s own `sh -c`).
    static func line(args: [String: Value], shell: Bool) throws -> String {
        var body: String
        // command's words: `~` and `$NAME` / `${NAME}` expanded on the device as Python's
        // expanduser and expandvars do (unless expand_argument_vars is false); nothing else.
        let expands = args["expand_argument_vars"]?.truthy ?? true
        let quoteWord = { (w: String) -> String in expands ? expandedWord(w) : shellQuote(w) }
        if let argv = args["argv"]?.list {
            body = argv.map { quoteWord($0.description) }.joined(separator: " ")
            if let first = argv.first { body = executableCheck(quoteWord(first.description)) + body }
        } else if let text = args["cmd"]?.string ?? args["_raw_params"]?.string, !text.trimmed.isEmpty {
            if shell {
                // executable: the shell that reads the text (`/bin/bash` for bash's syntax), as Ansible's.
                let executable = args["executable"]?.string.map(shellQuote) ?? "/bin/sh"
                body = "\(executable) -c \(shellQuote(text))"
            } else {
                // No shell: each word reaches the program as it is (`|`, `>` are not special; `$NAME`
                // and `~` are expanded as above).
                // Python's shlex.split, as Ansible's command module splits its text.
                let words: [String]
                do { words = try AnsibleArgs.shlex(text).map(quoteWord) } catch {
                    throw ModuleFailure("the command cannot be split into words: \(error) (\(text))")
                }
                body = (words.first.map(executableCheck) ?? "") + words.joined(separator: " ")
            }
        } else {
            throw ModuleFailure("no command given (write `command: …`, or cmd / argv)")
        }
        if let dir = args["chdir"]?.string { body = changingDirectory(dir) + body }
        return body
    }

    /// One word for sh, `~` and environment variables expanded as Python's
    /// `os.path.expandvars(os.path.expanduser(word))`: a leading `~` or `~user` is the home, a
    /// `$NAME` or `${NAME}` that is set is its value, one that is not stays as written; the rest is quoted.
    static func expandedWord(_ word: String) -> String {
        var out = ""
        var rest = Substring(word)
        if rest.hasPrefix("~") {
            let prefix = rest.prefix { $0 != "/" }
            if prefix.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
                out += prefix
                rest = rest.dropFirst(prefix.count)
            }
        }
        var literal = ""
        func flush() { if !literal.isEmpty { out += shellQuote(literal); literal = "" } }
        while let c = rest.first {
            if c == "$" {
                let after = rest.dropFirst()
                let name = after.prefix { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
                if !name.isEmpty, name.first.map({ !$0.isNumber }) ?? false {
                    flush()
                    out += "\"${\(name)-\\$\(name)}\""
                    rest = after.dropFirst(name.count)
                    continue
                }
                if after.first == "{", let close = after.firstIndex(of: "}") {
                    let inner = after[after.index(after: after.startIndex)..<close]
                    if let first = inner.first, !first.isNumber, inner.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) {
                        flush()
                        out += "\"${\(inner)-\\${\(inner)\\}}\""
                        rest = after[after.index(after: close)...]
                        continue
                    }
                }
            }
            literal.append(c)
            rest = rest.dropFirst()
        }
        flush()
        return out.isEmpty ? "''" : out
    }

    /// creates / removes are facts (globs, as Ansible's); the command is the plan's one step,
    /// whose output is the result (a non-zero status fails the task, as in Ansible). Check mode
    /// runs nothing. Messages and the result's keys are Ansible's.
    static func plan(_ c: ModuleContext, shell: Bool) throws -> Plan {
        let given = ["_raw_params", "cmd", "argv"].filter { key in
            guard let v = c.args[key], v != .null else { return false }
            return !(v.string?.trimmed.isEmpty ?? false) && v.list?.isEmpty != true
        }
        if given.isEmpty { throw ModuleFailure("one of the following is required: _raw_params, cmd, argv") }
        if given.count > 1 { throw ModuleFailure("parameters are mutually exclusive: _raw_params|cmd|argv") }
        let line = try line(args: c.args, shell: shell)
        var warnings: [String] = []
        if !shell, let executable = c.string("executable") {
            warnings.append("As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '\(executable)'.")
        }
        let would = c.check ? "Would" : "Did"
        func exists(_ pattern: String) throws -> Bool { try c.fact(matching(pattern)).stdoutText.hasPrefix("yes") }
        var skip: (msg: String, stdout: String)?
        if let creates = c.string("creates"), try exists(creates) {
            skip = ("\(would) not run command since '\(creates)' exists", "skipped, since \(creates) exists")
        } else if let removes = c.string("removes"), try !exists(removes) {
            skip = ("\(would) not run command since '\(removes)' does not exist", "skipped, since \(removes) does not exist")
        }
        if let skip {
            var p = Plan(changed: false, msg: skip.msg)
            p.result.rc = 0
            p.result.stdout = skip.stdout
            p.result.stderr = ""
            p.result.warnings = warnings
            return p
        }
        if c.check {
            // Ansible's partial check mode: skipped, unless creates/removes were asked (then "changed").
            let decided = c.args["creates"] != nil || c.args["removes"] != nil
            var p = Plan(changed: decided, msg: "Command would have run if not in check mode")
            p.result.rc = 0
            p.result.skipped = !decided
            p.result.warnings = warnings
            return p
        }
        var step = c.run(line, what: "the command")
        if shell && c.noLog && c.string("stdin") == nil, let text = c.args["cmd"]?.string ?? c.args["_raw_params"]?.string {
            // The script goes to sh on a descriptor, not as `sh -c TEXT`, which any user of the
            // device could read in the process list.
            step.input = Array(text.utf8)
            step.script = c.exports + (c.string("chdir").map(changingDirectory) ?? "") + "/bin/sh /dev/fd/3"
        } else if let stdin = c.string("stdin") {
            step.input = Array((stdin + ((c.args["stdin_add_newline"]?.truthy ?? true) ? "\n" : "")).utf8)
            step.script = c.exports + "head -c \(step.input.count) <&3 | { \(line)\n}"
        }
        step.isResult = true
        let stripEnds = c.args["strip_empty_ends"]?.truthy ?? true
        var p = Plan(steps: [step])
        p.result.warnings = warnings
        p.result.data["cmd"] = commandValue(c.args, shell: shell)
        p.finish = { r, out in
            r.rc = out.exitStatus
            // strip_empty_ends (Ansible's default): the output without its trailing newlines.
            let strip = { (text: String) -> String in
                guard stripEnds else { return text }
                var t = Substring(text)
                while let last = t.unicodeScalars.last, last == "\n" || last == "\r" { t = Substring(t.unicodeScalars.dropLast()) }
                return String(t)
            }
            r.stdout = strip(out.stdoutText)
            r.stderr = strip(out.stderrText)
            if out.exitStatus == chdirFailed, let dir = c.string("chdir") {
                r.failed = true
                r.rc = nil
                r.msg = "Unable to change directory before execution: \(dir): \(r.stderr ?? "")"
                r.stderr = ""
            } else if !shell, out.exitStatus == programMissing || out.exitStatus == programRefused, out.stdout.isEmpty, out.stderr.isEmpty {
                r.failed = true
                r.rc = out.exitStatus == programMissing ? 2 : 13
                r.msg = "Error executing command."
                // Ansible's _clean_args: the words joined again, each quoted as Python's shlex.quote.
                r.data["cmd"] = .string((commandValue(c.args, shell: false).list ?? []).map { AnsibleArgs.pythonQuote($0.description) }.joined(separator: " "))
            } else if !out.succeeded {
                r.failed = true
                r.msg = "non-zero return code"
            }
        }
        return p
    }

    /// The result's `cmd` as Ansible's: shell's text; command's words (argv, or the text split as
    /// shlex splits it).
    static func commandValue(_ args: [String: Value], shell: Bool) -> Value {
        if let argv = args["argv"]?.list { return .list(argv.map { .string($0.description) }) }
        let text = args["cmd"]?.string ?? args["_raw_params"]?.string ?? ""
        if shell { return .string(text) }
        return .list(((try? AnsibleArgs.shlex(text)) ?? [text]).map { .string($0) })
    }

    /// The statuses a command ends with when its program is missing (ENOENT) or cannot be run
    /// (EACCES: not executable, a folder): Python's exec fails before anything runs, and Ansible
    /// says "Error executing command." with the errno as `rc`, no output.
    static let programMissing: Int32 = 212, programRefused: Int32 = 213

    /// Before command's program runs, looked up as execvp looks it up (a name with a `/` as it is,
    /// else along `$PATH`, a file without the execute bit remembered as "refused"): a builtin of the
    /// device's shell (`cd`, `type`) is no program, as for Ansible.
    static func executableCheck(_ word: String) -> String {
        "( c=\(word); e=\(programMissing); case $c in */*) if [ -e \"$c\" ]; then [ -f \"$c\" ] && [ -x \"$c\" ] && exit 0; exit \(programRefused); fi; exit $e;; esac; "
            + "IFS=:; for d in ${PATH:-/usr/bin:/bin}; do if [ -f \"$d/$c\" ]; then [ -x \"$d/$c\" ] && exit 0; e=\(programRefused); fi; done; exit $e ) && "
    }

    /// The status a command's `chdir` ends with when the folder cannot be entered (the command
    /// did not run: Ansible's "Unable to change directory", not a command's own failure).
    static let chdirFailed: Int32 = 211

    /// `cd -P` into a command's `chdir` (the real folder, links resolved, as Python's os.chdir leaves `$PWD`), or
    /// the end of the script with ``chdirFailed``.
    static func changingDirectory(_ dir: String) -> String {
        "{ cd -P -- \(shellQuote(dir)) 2>/dev/null || { if [ -e \(shellQuote(dir)) ]; then echo 'not a folder it can enter' >&2; else echo 'no such folder' >&2; fi; exit \(chdirFailed); }; } && "
    }

    /// Whether anything matches a `creates` / `removes` pattern (a glob, as Python's glob.glob):
    /// `yes` when something does.
    static func matching(_ pattern: String) -> Fact {
        Fact("for p in \(globbed(pattern)); do if [ -e \"$p\" ] || [ -L \"$p\" ]; then echo yes; break; fi; done", paths: nil)
    }

    /// A path pattern for sh's `for`: glob characters live, the rest quoted (`/var/log/*.gz`).
    static func globbed(_ pattern: String) -> String {
        var out = "", literal = ""
        for ch in pattern {
            if "*?[]".contains(ch) {
                if !literal.isEmpty { out += shellQuote(literal); literal = "" }
                out.append(ch)
            } else { literal.append(ch) }
        }
        if !literal.isEmpty { out += shellQuote(literal) }
        return out.isEmpty ? "''" : out
    }
}

/// `script`: a script of the control node (the role's files/, else beside the playbook) sent to
/// the device and run there with the rest of the line as its arguments, as Ansible's: through
/// the device's shell (the line's `$VARS` and quotes are the shell's), from a private temporary
/// folder removed afterwards, `executable` in front when given; `creates`/`removes` decide first.
enum ScriptModule {
    static let spec = ModuleSpec(name: "script", arguments: ["_raw_params", "cmd", "creates", "removes", "chdir", "executable", "decrypt"],
                                 takesFreeForm: true) { c in
        guard let raw = (c.string("cmd") ?? c.string("_raw_params"))?.trimmed, !raw.isEmpty else {
            throw ModuleFailure("one of the following is required: _raw_params, cmd")
        }
        if c.args["cmd"] != nil && c.args["_raw_params"] != nil { throw ModuleFailure("parameters are mutually exclusive: _raw_params|cmd") }
        if let chdir = c.string("chdir"), !chdir.hasPrefix("/") {
            throw ModuleFailure("chdir \(chdir) must be an absolute path for a Unix-aware remote node")
        }
        if let creates = c.string("creates"), try c.fact(.path(creates)).stdoutText != "absent\n" {
            var p = Plan(changed: false, msg: "\(creates) exists, matching creates option")
            p.result.skipped = true
            return p
        }
        if let removes = c.string("removes"), try c.fact(.path(removes)).stdoutText == "absent\n" {
            var p = Plan(changed: false, msg: "\(removes) does not exist, matching removes option")
            p.result.skipped = true
            return p
        }
        // The first word is the script (as Python's shlex reads it); its text in the line is
        // replaced by the copy on the device, the rest goes to the shell as written.
        let name: String
        do { name = try AnsibleArgs.shlex(raw).first ?? raw } catch { throw ModuleFailure("script: the line cannot be split into words: \(error) (\(raw))") }
        let source = try CopyModule.localFile(name, in: c.searchDirectories, folder: "files")
        let bytes = Array(FileManager.default.contents(atPath: source) ?? Data())
        if c.args["decrypt"]?.truthy ?? true, bytes.starts(with: Array("$ANSIBLE_VAULT;".utf8)) {
            throw ModuleFailure("\(name) is encrypted with Ansible Vault, which parc does not support yet")
        }
        if c.check {
            if c.args["creates"] != nil || c.args["removes"] != nil { return Plan(changed: true) }
            var p = Plan(changed: false, msg: "Check mode is not supported for this task.")
            p.result.skipped = true
            return p
        }
        // A private folder named now (made exclusively on the device, or the step fails): the
        // copy's path is plain text, so the line may quote it as it quoted the script's name.
        let folder = "/tmp/.parc-script-\(String(UInt64.random(in: 0..<UInt64.max), radix: 36))"
        let copy = folder + "/" + (source as NSString).lastPathComponent
        // As Ansible's: every occurrence of the script's name in the line becomes the copy's path.
        let line = raw.replacingOccurrences(of: name, with: copy)
        var script = "d=\(shellQuote(folder)); mkdir -m 0700 -- \"$d\" || exit 1; trap 'rm -rf -- \"$d\"' EXIT\n"
        script += "cat <&3 > \(shellQuote(copy)) && chmod 0700 \(shellQuote(copy)) || exit 1\n"
        script += c.exports + (c.string("chdir").map { "cd \(shellQuote($0)) || exit 1; " } ?? "")
        script += (c.string("executable").map { $0 + " " } ?? "") + line + " 3<&- < /dev/null"
        var step = Step.run(script, input: bytes, what: "the script \(name)")
        step.isResult = true
        var p = Plan(steps: [step])
        p.finish = { r, out in
            // As Ansible's: the output as the device gave it, changed whatever it did.
            r.rc = out.exitStatus
            r.stdout = out.stdoutText
            r.stderr = out.stderrText
            if !out.succeeded {
                r.failed = true
                r.msg = "non-zero return code"
            }
        }
        return p
    }
}

/// `pause` for a time (`seconds`, `minutes`): the device waits in its queue, so the tasks before
/// and after keep their order and the others' devices wait alike. A `prompt` needs a terminal
/// parc's runs do not have: refused plainly.
enum PauseModule {
    static let spec = ModuleSpec(name: "pause", arguments: ["seconds", "minutes", "prompt", "echo"]) { c in
        if c.args["prompt"] != nil || (c.args["seconds"] == nil && c.args["minutes"] == nil) {
            throw ModuleFailure("pause: waiting for someone to press a key (prompt) is not supported by parc; give seconds or minutes")
        }
        let amount = c.args["seconds"] ?? c.args["minutes"]!
        guard let n = Double(amount.description), n >= 0 else {
            throw ModuleFailure("pause: \(c.args["seconds"] != nil ? "seconds" : "minutes") must be a number, not '\(amount.description)'")
        }
        let seconds = c.args["seconds"] != nil ? n : n * 60
        var p = Plan(steps: c.check ? [] : [.run("sleep \(seconds)", what: "pausing \(seconds) s", touches: [])], changed: false)
        p.result.data["delta"] = .int(Int(seconds))
        p.result.data["user_input"] = .string("")
        p.result.data["echo"] = .bool(c.args["echo"]?.truthy ?? true)
        p.result.msg = "Paused for \(c.args["seconds"] != nil ? "\(amount.description) seconds" : "\(amount.description) minutes")"
        p.result.stdout = p.result.msg
        return p
    }
}

enum DebugModule {
    static let spec = ModuleSpec(name: "debug", arguments: ["msg", "var", "verbosity"]) { (call: ModuleContext) -> ModuleResult in
        if let name = call.string("var") {
            let value = TemplateEngine.lookup(name, in: call.vars) ?? .string("VARIABLE IS NOT DEFINED!")
            var r = ModuleResult(msg: "\(name): \(value.description)")
            r.data[name] = value
            return r
        }
        return ModuleResult(msg: call.args["msg"]?.description ?? "Hello world!")
    }
}

/// `fail`: fails the host with a message (for checks in playbooks).
enum FailModule {
    static let spec = ModuleSpec(name: "fail", arguments: ["msg"]) { (call: ModuleContext) -> ModuleResult in
        throw ModuleFailure(call.string("msg") ?? "Failed as requested from task")
    }
}

/// `poll: 0`: a command started in the background on the device, under `timeout`, its status,
/// output and errors left in the become user's `~/.ansible_async` for `async_status`.
enum AsyncJobs {
    static let directory = "${HOME:-/root}/.ansible_async"

    /// The plan that starts `plan`'s command in the background instead of waiting for it.
    static func launching(_ plan: Plan, seconds: Int) -> Plan {
        guard let command = plan.steps.last(where: { $0.isResult }) else { return plan }
        var rng = SystemRandomNumberGenerator()
        let jid = "j\(rng.next(upperBound: UInt64(1_000_000_000_000))).\(rng.next(upperBound: UInt64(100_000)))"
        // The job writes its status last, through a rename: async_status never reads half of it.
        let job = "timeout -s KILL \(seconds) /bin/sh -c \"$2\" > \"$0/$1.out\" 2> \"$0/$1.err\" < /dev/null; "
            + "echo $? > \"$0/$1.rc.tmp\" && mv \"$0/$1.rc.tmp\" \"$0/$1.rc\""
        let script = "d=\"\(directory)\"; mkdir -p \"$d\" && chmod 700 \"$d\" && : > \"$d/\(jid).out\" && "
            + "(nohup /bin/sh -c \(shellQuote(job)) \"$d\" \(jid) \(shellQuote(command.script)) > /dev/null 2>&1 < /dev/null &) && echo \"$d/\(jid)\""
        var step = Step.run(script, what: "starting the command in the background")
        step.isResult = true
        var p = Plan(steps: plan.steps.filter { !$0.isResult } + [step])
        p.finish = { r, out in
            guard out.succeeded else {
                r.failed = true
                r.msg = "could not start the job: \(out.stderrText.trimmed)"
                return
            }
            r.changed = true
            r.data["ansible_job_id"] = .string(jid)
            r.data["results_file"] = .string(out.stdoutText.trimmed)
            r.data["started"] = .bool(true)
            r.data["finished"] = .bool(false)
        }
        return p
    }
}
