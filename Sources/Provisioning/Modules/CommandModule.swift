import Foundation
import ParcCore
import Templating

/// `command` (no shell: words are quoted) and `shell` (`/bin/sh -c`).
enum CommandModule {
    static let arguments: Set<String> = ["_raw_params", "cmd", "argv", "chdir", "creates", "removes", "stdin"]

    static let command = ModuleSpec(name: "command", arguments: arguments, required: [], takesFreeForm: true) { call in
        try await run(call, shell: false)
    }
    static let shell = ModuleSpec(name: "shell", arguments: arguments, required: [], takesFreeForm: true) { call in
        try await run(call, shell: true)
    }

    /// The command line sent to the host.
    ///
    /// `hidden` (a `no_log` task): the shell text runs in the staged script's own shell, in a
    /// subshell, rather than as `sh -c TEXT`, whose arguments the process list would show.
    static func line(args: [String: Value], shell: Bool, hidden: Bool = false) throws -> String {
        var body: String
        if let argv = args["argv"]?.list {
            body = argv.map { shellQuote($0.description) }.joined(separator: " ")
        } else if let text = args["cmd"]?.string ?? args["_raw_params"]?.string, !text.trimmed.isEmpty {
            if shell && hidden {
                body = "(\n\(text)\n)"
            } else if shell {
                body = "/bin/sh -c \(shellQuote(text))"
            } else {
                // No shell: each word reaches the program as it is (`|`, `>`, `$` are not special).
                body = PlaybookLoader.Context.splitArgs(text).map { word -> String in
                    var w = word
                    if w.count >= 2, let f = w.first, (f == "\"" || f == "'"), w.last == f { w = String(w.dropFirst().dropLast()) }
                    return shellQuote(w)
                }.joined(separator: " ")
            }
        } else {
            throw ModuleFailure("no command given (write `command: …`, or cmd / argv)")
        }
        if let dir = args["chdir"]?.string { body = "cd \(shellQuote(dir)) && " + body }
        return body
    }

    static func run(_ call: ModuleCall, shell: Bool) async throws -> ModuleResult {
        let line = try line(args: call.args, shell: shell, hidden: call.noLog)
        if let creates = call.string("creates"), try await call.run("test -e \(shellQuote(creates))").exitStatus == 0 {
            var r = ModuleResult(msg: "skipped, since \(creates) exists")
            r.rc = 0
            return r
        }
        if let removes = call.string("removes"), try await call.run("test -e \(shellQuote(removes))").exitStatus != 0 {
            var r = ModuleResult(msg: "skipped, since \(removes) does not exist")
            r.rc = 0
            return r
        }
        if call.check {
            var r = ModuleResult(msg: "command not run in check mode")
            r.skipped = true
            return r
        }
        let out = try await call.run(line, stdin: call.string("stdin").map { Array(($0 + "\n").utf8) })
        var r = ModuleResult(changed: true)
        r.rc = out.exitStatus
        r.stdout = out.stdoutText.hasSuffix("\n") ? String(out.stdoutText.dropLast()) : out.stdoutText
        r.stderr = out.stderrText.hasSuffix("\n") ? String(out.stderrText.dropLast()) : out.stderrText
        if !out.succeeded {
            r.failed = true
            r.msg = "non-zero return code \(out.exitStatus)"
        }
        return r
    }
}

enum DebugModule {
    static let spec = ModuleSpec(name: "debug", arguments: ["msg", "var", "verbosity"], required: [], takesFreeForm: false) { call in
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
    static let spec = ModuleSpec(name: "fail", arguments: ["msg"], required: [], takesFreeForm: false) { call in
        throw ModuleFailure(call.string("msg") ?? "Failed as requested from task")
    }
}
