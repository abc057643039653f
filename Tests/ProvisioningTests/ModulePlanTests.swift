import Foundation
import Lab
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// Every module as data: the facts it asks for, and the steps it plans from given answers.
/// Planning has no I/O, so these need no device; the lab tests check the same modules on sshd.
struct Planner {
    var module: String
    var args: [String: Value]
    var check = false
    var diff = false
    var vars: [String: Value] = [:]
    var noLog = false
    var directory = "."

    init(_ module: String, _ args: [String: Value], check: Bool = false, diff: Bool = false) {
        self.module = module
        self.args = args
        self.check = check
        self.diff = diff
    }

    func context(_ known: [Fact: CommandResult], phase: Int = 0) -> ModuleContext {
        var c = ModuleContext(args: args, known: known)
        c.check = check
        c.diff = diff
        c.vars = vars
        c.noLog = noLog
        c.phase = phase
        c.playbookDirectory = directory
        return c
    }

    /// The facts the module asks for first.
    func asks() throws -> [Fact] {
        guard case .device(let body) = Modules.registry[module]!.behaviour else { return [] }
        do { _ = try body(context([:])); return [] } catch let need as NeedFacts { return need.facts }
    }

    /// Plans with each asked fact answered in turn from `answers` (stdout, exit 0 unless given as
    /// a CommandResult); the facts asked, in order, come back too.
    func plan(_ answers: [Any] = [], phase: Int = 0) throws -> (plan: Plan, asked: [Fact]) {
        guard case .device(let body) = Modules.registry[module]!.behaviour else { throw ModuleFailure("not a device module") }
        var known: [Fact: CommandResult] = [:]
        var asked: [Fact] = []
        var left = answers
        while true {
            do { return (try body(context(known, phase: phase)), asked) } catch let need as NeedFacts {
                for f in need.facts {
                    guard !left.isEmpty else { throw ModuleFailure("unanswered fact: \(f.script)") }
                    let a = left.removeFirst()
                    known[f] = (a as? CommandResult) ?? CommandResult(exitStatus: 0, stdout: Array((a as! String).utf8), stderr: [])
                    asked.append(f)
                }
            }
        }
    }

    func scripts(_ answers: [Any] = []) throws -> [String] { try plan(answers).plan.steps.map(\.script) }
}

/// The message a module fails with, or nil when it does not.
func failure(_ body: () throws -> Any) -> String? {
    do { _ = try body(); return nil } catch let f as ModuleFailure { return f.message } catch { return "\(error)" }
}

func failed(_ status: Int32 = 1, _ stderr: String = "") -> CommandResult { CommandResult(exitStatus: status, stdout: [], stderr: Array(stderr.utf8)) }

@Suite struct ModulePlanTests {
    @Test func commandAsksNothingPlansOneResultStepAndReadsItsOutput() throws {
        let p = try Planner("command", ["_raw_params": .string("echo a|b")]).plan().plan
        #expect(p.steps.map(\.script) == [CommandModule.executableCheck("echo") + "echo 'a|b'"] && p.steps[0].isResult && p.steps[0].touches == nil)
        var r = p.result
        p.finish?(&r, CommandResult(exitStatus: 2, stdout: Array("out\n".utf8), stderr: Array("err\n".utf8)))
        #expect(r.rc == 2 && r.stdout == "out" && r.stderr == "err" && r.failed && r.msg == "non-zero return code")
        // creates: a fact (a glob, as Ansible's); something there means nothing to do, in Ansible's words.
        let creates = Planner("shell", ["cmd": .string("make"), "creates": .string("/opt/x*.gz")])
        #expect(try creates.asks() == [CommandModule.matching("/opt/x*.gz")])
        // The pattern as sh reads it: glob characters live, the rest (a space, a quote) as written.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parc-glob-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        FileManager.default.createFile(atPath: folder + "/l'a b1.gz", contents: Data())
        func sh(_ script: String) throws -> String {
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            p.standardOutput = out
            try p.run()
            p.waitUntilExit()
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
        #expect(try sh(CommandModule.matching(folder + "/l'a b*.gz").script) == "yes\n")
        #expect(try sh(CommandModule.matching(folder + "/l'a b?.gz").script) == "yes\n")
        #expect(try sh(CommandModule.matching(folder + "/l'a *.txt").script) == "")
        #expect(try sh(CommandModule.matching(folder + "/l'a b1.gz").script) == "yes\n")
        let skipped = try creates.plan(["yes\n"]).plan
        #expect(skipped.steps.isEmpty && skipped.result.msg == "Did not run command since '/opt/x*.gz' exists" && skipped.result.stdout == "skipped, since /opt/x*.gz exists")
        #expect(try creates.scripts(["\n"]) == ["/bin/sh -c make"])
        // The command's own argument rules, in Ansible's words; command warns about executable.
        #expect(failure { try Planner("command", ["chdir": .string("/")]).plan() } == "one of the following is required: _raw_params, cmd, argv")
        #expect(failure { try Planner("command", ["_raw_params": .string("ls"), "argv": .list([.string("ls")])]).plan() }
                == "parameters are mutually exclusive: _raw_params|cmd|argv")
        #expect(try Planner("command", ["_raw_params": .string("ls"), "executable": .string("/bin/bash")]).plan().plan.result.warnings
                == ["As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '/bin/bash'."])
        // chdir into a folder that is not there: Ansible's message, not the command's failure.
        let moved = try Planner("command", ["_raw_params": .string("ls"), "chdir": .string("/nowhere")]).plan().plan
        var lost = moved.result
        moved.finish?(&lost, CommandResult(exitStatus: CommandModule.chdirFailed, stdout: [], stderr: Array("no such folder\n".utf8)))
        #expect(lost.failed && lost.rc == nil && lost.msg == "Unable to change directory before execution: /nowhere: no such folder")
        // Check mode: nothing runs.
        #expect(try Planner("command", ["_raw_params": .string("reboot")], check: true).plan().plan.steps.isEmpty)
        // stdin reaches the command on fd 3.
        let withInput = try Planner("command", ["_raw_params": .string("cat"), "stdin": .string("bonjour")]).plan().plan.steps[0]
        #expect(withInput.input == Array("bonjour\n".utf8) && withInput.script == "head -c 8 <&3 | { \(CommandModule.executableCheck("cat"))cat\n}")

        // A program that is not there, or cannot be run: looked up as execvp looks it up, before
        // anything runs; Ansible's "Error executing command." with the errno, no output (checked
        // against ansible-playbook 2.19: rc 2 for a missing program or a shell builtin, 13 for a file
        // without the execute bit or a folder).
        FileManager.default.createFile(atPath: folder + "/plain", contents: Data("echo hi\n".utf8))
        let status = { (words: String) throws -> String in
            let script = try Planner("command", ["_raw_params": .string(words)]).plan().plan.steps[0].script
            return try sh(script + "; echo \" status=$?\"")
        }
        #expect(try status("commandthatdoesnotexist --would-be-awkward") == " status=212\n")
        #expect(try status("cd /tmp") == " status=212\n")
        #expect(try status("'\(folder)/plain'") == " status=213\n")
        #expect(try status("'\(folder)'") == " status=213\n")
        #expect(try status("'\(folder)/nothere' x") == " status=212\n")
        #expect(try status("echo found") == "found\n status=0\n")
        #expect(try status("/bin/echo 'l'\"'\"'a b'") == "l'a b\n status=0\n")
        let missing = try Planner("command", ["_raw_params": .string("commandthatdoesnotexist --would-be-awkward 'a b'")]).plan().plan
        var notRun = missing.result
        missing.finish?(&notRun, CommandResult(exitStatus: CommandModule.programMissing, stdout: [], stderr: []))
        #expect(notRun.failed && notRun.rc == 2 && notRun.msg == "Error executing command." && notRun.stdout == "" && notRun.stderr == ""
                && notRun.data["cmd"] == .string("commandthatdoesnotexist --would-be-awkward 'a b'"))
        var refused = missing.result
        missing.finish?(&refused, CommandResult(exitStatus: CommandModule.programRefused, stdout: [], stderr: []))
        #expect(refused.rc == 13 && refused.msg == "Error executing command.")
        // A program's own status 212 with output is its own failure.
        var own = missing.result
        missing.finish?(&own, CommandResult(exitStatus: 212, stdout: Array("x\n".utf8), stderr: []))
        #expect(own.rc == 212 && own.msg == "non-zero return code")
        // shell's text goes to sh as it is: sh says what it cannot find.
        #expect(try Planner("shell", ["_raw_params": .string("nothere")]).plan().plan.steps[0].script == "/bin/sh -c nothere")
    }

    @Test func fileCopyTemplateAndLineinfileFromTheirFacts() throws {
        let dir = Planner("file", ["path": .string("/srv/x"), "state": .string("directory"), "mode": .string("0755")])
        #expect(try dir.asks() == [.path("/srv/x")])
        // Every folder made on the way gets the mode, as Ansible's file module.
        // After a change, the path's attributes are read for the result (Ansible's add_path_info), touching nothing.
        let read = { (path: String) in "stat -c '\(Modules.pathInfoFormat)' -- \(path) 2>/dev/null || :" }
        #expect(try dir.scripts(["absent\n"]) == ["d=/srv/x; set --; while [ ! -e \"$d\" ] && [ ! -L \"$d\" ]; do set -- \"$d\" \"$@\"; d=$(dirname -- \"$d\"); done; for x in \"$@\"; do mkdir -- \"$x\" && chmod 755 -- \"$x\" || exit 1; done", read("/srv/x")])
        #expect(try dir.scripts(["directory|755|root|root|4096\n\n"]).isEmpty)
        let made = try dir.plan(["absent\n"]).plan
        #expect(made.steps.dropLast().allSatisfy { $0.touches == ["/srv/x"] } && made.steps.last?.touches == [] && made.steps.last?.isResult == true)
        var after = made.result
        made.finish?(&after, CommandResult(exitStatus: 0, stdout: Array("0|0|root|root|755|4096|2|directory\n".utf8), stderr: []))
        #expect(after.data["mode"] == .string("0755") && after.data["state"] == .string("directory") && after.data["owner"] == .string("root") && after.data["uid"] == .int(0))
        // _diff_peek (Ansible's internal question before a diff): whether the head holds a NUL byte; the script run in sh.
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("parc-peek-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: binary, contents: Data([0x61, 0, 0x62]))
        defer { try? FileManager.default.removeItem(atPath: binary) }
        let peek = Planner("file", ["path": .string(binary), "_diff_peek": .bool(true)])
        let peekAnswer = try Spawn.run(["/bin/sh", "-c", try #require(try peek.asks().first?.script)]).output
        let peeked = try peek.plan([peekAnswer]).plan
        #expect(peeked.steps.isEmpty && peeked.result.data["appears_binary"] == .bool(true) && !peeked.result.changed && peeked.result.warnings.isEmpty)
        #expect(try Planner("file", ["path": .string("/etc/hostname"), "_diff_peek": .bool(true)]).plan(["0\n"]).plan.result.data["appears_binary"] == .bool(false))
        // With diff on, Ansible's file diff: state, a link's target, mode (checked against ansible-playbook 2.19's file target).
        let relinked = try Planner("file", ["src": .string("foo.txt"), "dest": .string("/srv/soft.txt"), "state": .string("link")], diff: true)
            .plan(["symbolic link|777|root|root|12|0|0|1\n/srv/foo.txt\n", "yes\n"]).plan
        #expect(relinked.result.data["diff"] == .map(["before": .map(["path": .string("/srv/soft.txt"), "src": .string("/srv/foo.txt")]),
                                                      "after": .map(["path": .string("/srv/soft.txt"), "src": .string("foo.txt")])]))
        let madeDir = try Planner("file", ["path": .string("/srv/d"), "state": .string("directory"), "mode": .string("0750")], diff: true).plan(["absent\n"]).plan
        #expect(madeDir.result.data["diff"] == .map(["before": .map(["path": .string("/srv/d"), "state": .string("absent")]),
                                                     "after": .map(["path": .string("/srv/d"), "state": .string("directory")])]))
        let chmodded = try Planner("file", ["path": .string("/srv/f"), "mode": .string("u+x")], diff: true).plan(["regular file|644|root|root|3|0|0|1\n\n"]).plan
        #expect(chmodded.result.data["diff"] == .map(["before": .map(["path": .string("/srv/f"), "mode": .string("0644")]),
                                                      "after": .map(["path": .string("/srv/f"), "mode": .string("0744")])]))
        #expect(try Planner("file", ["path": .string("/srv/f"), "mode": .string("u+x")]).plan(["regular file|644|root|root|3|0|0|1\n\n"]).plan.result.data["diff"] == nil)
        // A link to what is not there: refused without force, in Ansible's words (the target seen from the link's folder).
        let dangling = Planner("file", ["src": .string("none.txt"), "dest": .string("/srv/soft2.txt"), "state": .string("link")])
        #expect(failure { try dangling.plan(["absent\n", "no\n"]) } == "src file does not exist, use \"force=yes\" if you really want to create the link: /srv/none.txt")
        #expect((try? dangling.plan(["absent\n", "yes\n"]))?.asked.last == Fact("[ -e /srv/none.txt ] && echo yes || echo no", paths: ["/srv/none.txt"]))
        #expect(try Planner("file", ["src": .string("none.txt"), "dest": .string("/srv/soft2.txt"), "state": .string("link"), "force": .bool(true)]).plan(["absent\n"]).plan.steps.count == 2)
        // A link's mode: none to set (no lchmod on Linux), and its target left alone, dangling or not.
        #expect(try Planner("file", ["src": .string("/nowhere"), "dest": .string("/srv/soft3.txt"), "state": .string("link"), "force": .bool(true), "mode": .string("0644")])
            .plan(["symbolic link|777|root|root|8|0|0|1\n/nowhere\n", "absent\n"]).plan.steps.isEmpty)
        // follow (the default): a link's mode is its target's, set through the link; not with follow: no.
        let followLink = Planner("file", ["path": .string("/srv/test_follow_link"), "mode": .string("0644")])
        #expect(try followLink.scripts(["symbolic link|777|root|root|11|0|0|1\n./test_follow\n", "regular file|600|root|root|3|0|0|1\n"]).first
                == "chmod 644 -- /srv/test_follow_link")
        #expect(try followLink.plan(["symbolic link|777|root|root|11|0|0|1\n./test_follow\n", "regular file|644|root|root|3|0|0|1\n"]).plan.steps.isEmpty)
        #expect(try Planner("file", ["path": .string("/srv/test_follow_link"), "state": .string("link"), "mode": .string("0600"), "follow": .bool(false)])
            .plan(["symbolic link|777|root|root|11|0|0|1\n./test_follow\n"]).plan.steps.isEmpty, "the link's target left alone")
        // A new link with a mode: its target's mode (followed), when the target is there.
        #expect(try Planner("file", ["src": .string("/srv/t1"), "dest": .string("/srv/t1_link"), "state": .string("link"), "mode": .string("0700")])
            .scripts(["absent\n", "yes\n"]).prefix(2) == ["ln -sfn -- /srv/t1 /srv/t1_link", "[ ! -e /srv/t1_link ] || chmod 700 -- /srv/t1_link"])
        // A link over another kind of path: only with force, a folder only when empty (Ansible's words).
        let overDir = ["src": Value.string("/srv/t1"), "dest": .string("/srv/sub1"), "state": .string("link")]
        #expect(failure { try Planner("file", overDir).plan(["directory|755|root|root|4096|0|0|2\n\n", "yes\n"]) } == "refusing to convert from directory to symlink for /srv/sub1")
        #expect(failure { try Planner("file", ["src": .string("/srv/t1"), "dest": .string("/srv/f"), "state": .string("link")]).plan(["regular file|644|root|root|3|0|0|1\n\n", "yes\n"]) }
                == "refusing to convert from file to symlink for /srv/f")
        var forced = overDir
        forced["force"] = .bool(true)
        #expect(try Planner("file", forced).scripts(["directory|755|root|root|4096|0|0|2\n\n"]).prefix(2)
                == ["rmdir -- /srv/sub1 2>/dev/null || { echo 'the directory /srv/sub1 is not empty, refusing to convert it' >&2; exit 1; }", "ln -sfn -- /srv/t1 /srv/sub1"])
        // Ansible's argument checks, against the state the path has when none is given.
        #expect(failure { try Planner("file", ["path": .string("/srv/f"), "src": .string("/srv/g")]).plan(["regular file|644|root|root|3|0|0|1\n\n"]) }
                == "src option requires state to be 'link' or 'hard'")
        #expect(failure { try Planner("file", ["path": .string("/srv/f"), "recurse": .bool(true)]).plan(["regular file|644|root|root|3|0|0|1\n\n"]) }
                == "recurse option requires state to be 'directory'")
        // Unchanged: as the device gave them, without a step.
        let kept = try dir.plan(["directory|755|prof|staff|4096|1001|50|3\n\n"]).plan
        #expect(kept.steps.isEmpty && kept.result.data["mode"] == .string("0755") && kept.result.data["group"] == .string("staff") && kept.result.data["gid"] == .int(50))
        // Times as Ansible's file: touch always updates them (a change); access_time=now too;
        // a given time is compared with the path's as the device reads it.
        #expect(try Planner("file", ["path": .string("/srv/t"), "state": .string("touch")]).scripts(["regular file|644|root|root|0\n\n"]) == ["touch -- /srv/t", read("/srv/t")])
        #expect(try Planner("file", ["path": .string("/srv/t"), "access_time": .string("now")]).scripts(["regular file|644|root|root|0\n\n"]) == ["touch -a -- /srv/t", read("/srv/t")])
        let stamped = Planner("file", ["path": .string("/srv/t"), "modification_time": .string("202612071530.00")])
        #expect(try stamped.plan(["regular file|644|root|root|0\n\n", "1 1796000000\n1796000000\n"]).plan.steps.isEmpty)
        #expect(try stamped.scripts(["regular file|644|root|root|0\n\n", "1 1796000000\n1796003600\n"]) == ["touch -m -t 202612071530.00 -- /srv/t", read("/srv/t")])
        // With diff: Ansible's mtime / atime before and after (seconds since the epoch, the path's
        // with their fraction), in check mode too; none when the time is already the wanted one.
        let stampDiff = try Planner("file", ["path": .string("/srv/t"), "modification_time": .string("202612071530.00")], check: true, diff: true)
            .plan(["regular file|644|root|root|0\n\n", "1.5 1796000000.25\n1796003600\n"]).plan
        #expect(stampDiff.steps.map(\.script) == ["touch -m -t 202612071530.00 -- /srv/t"])
        #expect(stampDiff.result.data["diff"] == .map(["before": .map(["path": .string("/srv/t"), "mtime": .double(1796000000.25)]),
                                                    "after": .map(["path": .string("/srv/t"), "mtime": .double(1796003600)])]))
        let unmoved = try Planner("file", ["path": .string("/srv/t"), "modification_time": .string("202612071530.00")], diff: true)
            .plan(["regular file|644|root|root|0\n\n", "1.5 1796003600.000000000\n1796003600\n"]).plan
        #expect(unmoved.steps.isEmpty && unmoved.result.data["diff"] == .map(["before": .map(["path": .string("/srv/t")]), "after": .map(["path": .string("/srv/t")])]))
        #expect(failure { try Planner("file", ["path": .string("/srv/t"), "access_time": .string("tomorrow")]).plan(["regular file|644|root|root|0\n\n"]) }
                == "Error while obtaining timestamp for time tomorrow using format %Y%m%d%H%M.%S")
        // Attributes: Ansible's rule against lsattr's flags.
        #expect(FileModule.attributeChange("A", current: "--------------e-------") == "=A")
        #expect(FileModule.attributeChange("+A", current: "-------A--------------") == nil)
        #expect(FileModule.attributeChange("+A", current: "-------A------e-------") == "+A", "Ansible compares the whole set of flags")
        #expect(FileModule.attributeChange("-A", current: "----------------------") == "-A", "a removal is always applied, as Ansible's")
        #expect(FileModule.attributeChange("", current: "-------A--------------") == nil)
        let gone = try Planner("file", ["path": .string("/srv/x"), "state": .string("absent")]).plan(["directory|755|root|root|4096\n\n"]).plan
        #expect(gone.steps.first?.removesTree == true)
        // recurse: the tree's distinct attributes read once; only what differs is changed (links
        // get their owner, never a mode).
        let tree = Planner("file", ["path": .string("/srv/d"), "owner": .string("1235"), "mode": .string("u=rwX,go=rX"), "recurse": .bool(true), "follow": .bool(false)])
        let treeScripts = try tree.scripts(["directory|755|root|root|4096|0|0|2\n\n", "d|755|root|root|0|0\nf|600|root|root|0|0\nl|777|root|root|0|0\n"])
        #expect(treeScripts.contains("find /srv/d -mindepth 1 -exec chown -h 1235 -- {} +"))
        #expect(treeScripts.contains("find /srv/d -mindepth 1 ! -type l -exec chmod u=rwX,go=rX -- {} +"))
        // follow (the default): the links' targets too, linked folders walked (find -L).
        var followed = tree
        followed.args["follow"] = nil
        #expect(try followed.scripts(["directory|755|root|root|4096|0|0|2\n\n", "f|600|root|root|0|0\n"]).contains(
            "find -L /srv/d -mindepth 1 ! -type l -exec chown 1235 -- {} +; find /srv/d -mindepth 1 -type l -exec chown -h 1235 -- {} +"))
        let settled = try tree.scripts(["directory|755|1235|root|4096|1235|0|2\n\n", "d|755|x|root|1235|0\nf|644|x|root|1235|0\nl|777|x|root|1235|0\n"])
        #expect(!settled.contains { $0.contains("find /srv/d") }, "\(settled)")
        // Check mode: an owner or group the device does not know is a warning, kept when the task fails.
        let unknownOwner = Planner("file", ["path": .string("/tmp/nonexistent"), "owner": .string("111111"), "group": .string("staff")], check: true)
        #expect(throws: ModuleFailure.self) { try unknownOwner.plan(["no\n", "yes\n", "absent\n"]) }
        do { _ = try unknownOwner.plan(["no\n", "yes\n", "absent\n"]) } catch let f as ModuleFailure {
            #expect(f.data["warnings"] == .list([.string("failed to look up user with uid 111111. Create user up to this point in real play")]))
        }
        #expect(try Planner("file", ["path": .string("/srv/t"), "group": .string("nope"), "state": .string("touch")], check: true)
            .plan(["no\n", "regular file|644|root|root|0\n\n"]).plan.result.warnings == ["failed to look up group nope. Create group up to this point in real play"])
        // With diff, what a removed folder holds (Ansible's path_content); a file has none.
        let goneDiff = try Planner("file", ["path": .string("/srv/x"), "state": .string("absent")], check: true, diff: true)
            .plan(["directory|755|root|root|4096\n\n", "d/srv/x/sub\nf/srv/x/sub/a.txt\nf/srv/x/b.txt\n"]).plan
        #expect(goneDiff.result.data["diff"]?.map?["before"]?.map?["path_content"]
                == .map(["directories": .list([.string("/srv/x/sub")]), "files": .list([.string("/srv/x/sub/a.txt"), .string("/srv/x/b.txt")])]))
        let goneFile = try Planner("file", ["path": .string("/srv/f"), "state": .string("absent")], diff: true).plan(["regular file|644|root|root|3\n\n"]).plan
        #expect(goneFile.result.data["diff"]?.map?["before"]?.map?["path_content"] == nil)

        let content = "bonjour\n"
        let copy = Planner("copy", ["content": .string(content), "dest": .string("/etc/motd"), "mode": .string("0644")])
        #expect(try copy.asks() == [.checksum("/etc/motd")])
        let write = try copy.plan(["absent\n"]).plan
        // The write, then the file's owner, group and mode read for the result (as Ansible's).
        #expect(write.steps.count == 2 && write.result.changed && write.steps[1].isResult)
        // mode: preserve with content: Ansible's temporary file's mode, 0600 (checked with ansible-playbook 2.19).
        let preserved = try Planner("copy", ["content": .string(content), "dest": .string("/etc/motd"), "mode": .string("preserve")]).scripts(["absent\n"])
        #expect(preserved.first?.contains("chmod 600 ") == true, "\(preserved)")
        var written = write.result
        write.finish?(&written, CommandResult(exitStatus: 0, stdout: Array("0|4|root|adm|644|8|1|regular file\n".utf8), stderr: []))
        #expect(written.data["owner"] == .string("root") && written.data["group"] == .string("adm") && written.data["gid"] == .int(4)
                && written.data["mode"] == .string("0644") && written.data["size"] == .int(8))
        #expect(write.steps[0].kind == .write(path: "/etc/motd", mode: 0o644, owner: nil, group: nil, validate: nil))
        #expect(write.steps[0].input == Array(content.utf8))
        // The result's digests as Ansible's (`echo bonjour | sha1sum`, `| md5sum`).
        #expect(write.result.data["checksum"] == .string("e7bc546316d2d0ec13a2d3117b13468f5e939f95"))
        #expect(write.result.data["md5sum"] == .string("94baaad4d1347ec6e15ae35c88ee8bc8") && write.result.data["size"] == .int(8))
        let same = "\(SHA256.hex(Array(content.utf8)))\n0|0|root|root|644|8|1|regular file\n"
        let unchanged = try copy.plan([same]).plan
        #expect(unchanged.steps.isEmpty && unchanged.result.data["owner"] == .string("root") && unchanged.result.data["mode"] == .string("0644"))
        #expect(try copy.scripts(["\(SHA256.hex(Array(content.utf8)))\n0|0|root|root|600|8|1|regular file\n"])
                == ["chmod 644 -- /etc/motd", "stat -c '\(Modules.pathInfoFormat)' -- /etc/motd"])
        // backup and validate are steps of the same plan; a directory is refused.
        var guarded = Planner("copy", ["content": .string("x"), "dest": .string("/etc/sudoers.d/p"), "backup": .bool(true), "validate": .string("visudo -cf %s")])
        guarded.args["mode"] = .string("0440")
        let g = try guarded.plan(["abc\n0|0|root|root|440|3|1|regular file\n"]).plan
        #expect(g.steps.count == 3 && g.steps[0].script.hasPrefix("cp -p -n -- /etc/sudoers.d/p '/etc/sudoers.d/p.") && g.result.data["backup_file"] != nil)
        #expect(g.steps[1].script.contains("visudo -cf \"$t\"") && g.steps[1].script.hasSuffix("mv -f -- \"$t\" /etc/sudoers.d/p"))
        #expect(throws: ModuleFailure.self) { try copy.plan(["directory\n"]) }
        // diff mode asks the old content too.
        let diff = try Planner("copy", ["content": .string("b\n"), "dest": .string("/etc/motd")], diff: true).plan(["abc\n0|0|root|root|644|3|1|regular file\n", "regular file|644|root|root|2\n\na\n"])
        #expect(diff.asked == [.checksum("/etc/motd"), .file("/etc/motd")] && diff.plan.result.diff.first?.before == "a\n")

        // Ansible's action checks, in its words (checked against ansible-core 2.19's copy action).
        #expect(failure { try Planner("copy", ["src": .string(""), "dest": .string("/srv/")]).plan() } == "src (or content) is required")
        #expect(failure { try Planner("copy", ["content": .string("x"), "src": .string("a"), "dest": .string("/srv/x")]).plan() } == "src and content are mutually exclusive")
        #expect(failure { try Planner("copy", ["content": .string("x"), "dest": .string("/srv/")]).plan() } == "can not use content with a dir as dest")
        #expect(failure { try Planner("copy", ["content": .string("x"), "dest": .string("")]).plan() } == "dest is required")
        // A replaced file whose owner has no name on the device (a tar's uid) keeps it by number.
        let orphan = try Planner("copy", ["content": .string("b\n"), "dest": .string("/srv/x")]).plan(["abc\n1234|1235|UNKNOWN|UNKNOWN|644|3|1|regular file\n"]).plan
        #expect(orphan.steps.first?.kind == .write(path: "/srv/x", mode: 0o644, owner: "1234", group: "1235", validate: nil))

        let line = Planner("lineinfile", ["path": .string("/etc/environment"), "regexp": .string("^A="), "line": .string("A=1")])
        #expect(try line.asks() == [.file("/etc/environment")])
        let edited = try line.plan(["regular file|640|root|adm|4\n\nB=2\n"]).plan
        #expect(edited.steps.map(\.kind) == [.write(path: "/etc/environment", mode: 0o640, owner: "root", group: "adm", validate: nil)])
        #expect(edited.steps[0].input == Array("B=2\nA=1\n".utf8))
        #expect(edited.result.data["backup"] == .string(""), "as Ansible's result: no backup, an empty path")
        // The same content with another mode: only the mode changes, and that is a change (as Ansible).
        var moded = line
        moded.args["mode"] = .string("0600")
        let chmodOnly = try moded.plan(["regular file|644|root|root|4\n\nA=1\n"]).plan
        #expect(chmodOnly.steps.map(\.script) == ["chmod 600 -- /etc/environment"] && chmodOnly.result.changed)
        #expect(try moded.plan(["regular file|600|root|root|4\n\nA=1\n"]).plan.steps.isEmpty)
        #expect(try line.scripts(["regular file|644|root|root|4\n\nA=1\n"]).isEmpty)
        #expect(throws: ModuleFailure.self) { try line.plan(["absent\n"]) }
        // A vault-encrypted source is refused (parc has no vault) unless decrypt: no copies it as it is.
        let vaultDir = NSTemporaryDirectory() + "parc-vault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: vaultDir + "/files", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: vaultDir) }
        try "$ANSIBLE_VAULT;1.1;AES256\n6162\n".write(toFile: vaultDir + "/files/secret", atomically: true, encoding: .utf8)
        var vaulted = Planner("copy", ["src": .string("secret"), "dest": .string("/etc/secret")])
        vaulted.directory = vaultDir
        #expect(performing: { try vaulted.plan(["absent\n"]) }, throws: {
            ($0 as? ModuleFailure)?.message.hasSuffix("A vault password or secret must be specified to decrypt \(vaultDir)/files/secret") == true
        })
        // In a folder too, before anything is asked or sent: the first met as Ansible's walk meets
        // them (the folder's own files before its subfolders').
        try FileManager.default.createDirectory(atPath: vaultDir + "/files/aa", withIntermediateDirectories: true)
        try "$ANSIBLE_VAULT;1.1;AES256\n6162\n".write(toFile: vaultDir + "/files/aa/nested", atomically: true, encoding: .utf8)
        var vaultedFolder = Planner("copy", ["src": .string("files"), "dest": .string("/etc/")])
        vaultedFolder.directory = vaultDir
        #expect(performing: { try vaultedFolder.plan() }, throws: {
            ($0 as? ModuleFailure)?.message.hasSuffix("to decrypt \(vaultDir)/files/secret") == true
        })
        vaulted.args["decrypt"] = .bool(false)
        #expect(try vaulted.plan(["absent\n"]).plan.steps.first?.input == Array("$ANSIBLE_VAULT;1.1;AES256\n6162\n".utf8))
        // A validate command without %s: refused before anything is read, in Ansible's words (a rescue tests them).
        for module in ["lineinfile", "copy"] {
            var unnamed = module == "copy" ? Planner("copy", ["content": .string("x"), "dest": .string("/etc/x")]) : line
            unnamed.args["validate"] = .string("/some/path")
            #expect(performing: { try unnamed.plan(["regular file|644|root|root|4\n\nA=1\n"]) }, throws: { error in
                (error as? ModuleFailure)?.message == "validate must contain %s: /some/path"
            })
        }
        let created = try Planner("lineinfile", ["path": .string("/etc/new/x"), "line": .string("y"), "create": .bool(true)]).plan(["absent\n"]).plan
        #expect(created.steps.map(\.script).first == "mkdir -p -- /etc/new")
    }

    @Test func templateRendersLocallyAndPlansAWrite() throws {
        let dir = playbookScratch.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
        try "host={{ inventory_hostname }}\n".write(toFile: dir + "/templates/t.j2", atomically: true, encoding: .utf8)
        var t = Planner("template", ["src": .string("t.j2"), "dest": .string("/etc/t.conf")])
        t.directory = dir
        t.vars = ["inventory_hostname": .string("pc-1")]
        let p = try t.plan(["absent\n"]).plan
        #expect(p.steps.first?.input == Array("host=pc-1\n".utf8))
        #expect(try t.plan(["\(SHA256.hex(Array("host=pc-1\n".utf8)))\n0|0|root|root|644|10|1|regular file\n"]).plan.steps.isEmpty)
        // The destination's facts come first: a plan still waiting for them renders nothing (an
        // undefined variable shows only once the facts are there).
        var broken = t
        broken.vars = [:]
        #expect(try broken.asks() == [.checksum("/etc/t.conf")])
        #expect(throws: (any Error).self) { try broken.plan(["absent\n"]) }
        // output_encoding: the rendered text in the encoding Python's codecs name; empty is utf-8;
        // a character the encoding has no code for fails the task rather than being guessed.
        try "prix: 5 € à {{ inventory_hostname }}\n".write(toFile: dir + "/templates/t.j2", atomically: true, encoding: .utf8)
        t.args["output_encoding"] = .string("windows-1252")
        #expect(try t.plan(["absent\n"]).plan.steps.first?.input == Array("prix: 5 ".utf8) + [0x80, 0x20, 0xE0] + Array(" pc-1\n".utf8))
        t.args["output_encoding"] = .string("")
        #expect(try t.plan(["absent\n"]).plan.steps.first?.input == Array("prix: 5 € à pc-1\n".utf8))
        t.args["output_encoding"] = .string("latin-1")
        #expect(failure { try t.plan(["absent\n"]) }?.hasPrefix("'latin-1' codec can't encode character '€' in position 8") == true)
        t.args["output_encoding"] = .string("klingon")
        #expect(failure { try t.plan(["absent\n"]) } == "output_encoding: unknown encoding: klingon")
    }

    @Test func packagesServicesAndAccounts() throws {
        let apt = Planner("apt", ["name": .list([.string("vim"), .string("htop")])])
        let installed = "vim\tii \t2:9.0\n"
        let policy = "htop:\n  Installed: (none)\n  Candidate: 3.2.2-2\n"
        let planned = try apt.plan([installed, policy])
        #expect(planned.asked.count == 2 && planned.asked.allSatisfy { $0.paths == nil })
        #expect(planned.plan.steps.map(\.script) == ["DEBIAN_FRONTEND=noninteractive apt-get install -y -q -- htop"])
        #expect(try apt.scripts(["vim\tii \t2:9.0\nhtop\tii \t3.2.2-2\n"]).isEmpty)
        #expect(throws: ModuleFailure.self) { try apt.plan([installed, "htop:\n  Candidate: (none)\n"]) }
        // update_cache: phase 0 updates and plans again; check mode never updates.
        let update = Planner("apt", ["name": .string("vim"), "update_cache": .bool(true)])
        let first = try update.plan().plan
        #expect(first.again && first.steps.map(\.script) == ["DEBIAN_FRONTEND=noninteractive apt-get update -q"])
        #expect(try update.plan([installed], phase: 1).plan.steps.isEmpty)
        var checking = update
        checking.check = true
        #expect(try checking.plan([installed]).plan.again == false)
        #expect(try Planner("package", ["name": .string("vim"), "use": .string("apt")]).scripts([installed]).isEmpty)
        // cache_valid_time (also through package, which hands apt its arguments): no update while the
        // cache is younger than that; an update once it is older (it implies update_cache).
        let fresh = Planner("package", ["name": .string("vim"), "cache_valid_time": .int(3600)])
        #expect(try fresh.plan(["1796630000\n1796631000\n", installed]).plan.steps.isEmpty)
        let stale = try fresh.plan(["1796630000\n1796639000\n"]).plan
        #expect(stale.again && stale.steps.map(\.script) == ["DEBIAN_FRONTEND=noninteractive apt-get update -q"])
        // Values Ansible refuses are refused the same way.
        do {
            _ = try Planner("apt", ["name": .string("vim"), "state": .string("installed")]).plan([installed])
            Issue.record("state: installed should be refused")
        } catch let e as ModuleFailure {
            #expect(e.message == "value of state must be one of: absent, build-dep, fixed, latest, present, got: installed")
        }
        let held = try Planner("dpkg_selections", ["name": .string("vim"), "selection": .string("hold")]).plan(["vim\t\t\tinstall\n"]).plan
        #expect(held.steps.first?.input == Array("vim hold\n".utf8) && held.result.data["before"] == .string("install"))

        let service = Planner("service", ["name": .string("cups"), "state": .string("started"), "enabled": .bool(true)])
        #expect(try service.scripts(["inactive\ndisabled\nloaded\n"]) == ["systemctl enable -- cups", "systemctl start -- cups"])
        let running = try service.plan(["active\nenabled\nloaded\n"]).plan
        #expect(running.steps.isEmpty && running.result.data["state"] == .string("started") && running.result.data["enabled"] == .bool(true))
        #expect(failure { try service.plan(["inactive\n\nnot-found\n"]) } == "Could not find the requested service cups: host")
        // Arguments of other service managers: ignored with Ansible's warning.
        var patterned = service
        patterned.args["pattern"] = .string("cupsd")
        #expect(try patterned.plan(["active\nenabled\nloaded\n"]).plan.result.notices == ["Ignoring \"pattern\" as it is not used in \"systemd\""])
        #expect(throws: ModuleFailure.self) { try service.plan(["no-systemctl\n"]) }
        #expect(try Planner("systemd", ["daemon_reload": .bool(true)]).scripts() == ["systemctl daemon-reload"])

        let user = Planner("user", ["name": .string("eleve"), "password": .string("$6$s$h"), "groups": .string("audio")])
        // Two questions: the account (passwd, local line, shadow, memberships, own-name group,
        // `group`, useradd's home base, host name, each of `groups`), then its paths.
        let created = try user.plan(["\n\n\n\n\n\n/home\nlab\naudio:x:29:\n", "1\n0\n"]).plan
        // The account's changes, then its passwd entry read (reading only) for Ansible's result.
        #expect(created.steps.map(\.script) == ["useradd -G audio -m -- eleve", "head -c 13 <&3 | chpasswd -e", "getent passwd -- eleve | head -n 1"])
        #expect(created.steps[1].input == Array("eleve:$6$s$h\n".utf8), "the hash goes on fd 3, never on a command line")
        var account = created.result
        created.finish?(&account, CommandResult(exitStatus: 0, stdout: Array("eleve:x:1001:1002:Élève:/home/eleve:/bin/sh\n".utf8), stderr: []))
        #expect(account.data["uid"] == .int(1001) && account.data["group"] == .int(1002) && account.data["home"] == .string("/home/eleve")
                && account.data["shell"] == .string("/bin/sh") && account.data["comment"] == .string("Élève") && account.data["state"] == .string("present"))
        let unchanged = try user.plan(["eleve:x:1001:1001::/home/eleve:/bin/sh\n\neleve:$6$s$h:20000:0:99999:7:::\naudio:29 \n\n\n/home\nlab\naudio:x:29:\n", "1\n1\n"]).plan
        #expect(unchanged.steps.isEmpty && unchanged.result.data["home"] == .string("/home/eleve"))
        let group = Planner("group", ["name": .string("eleves")])
        #expect(try group.scripts([failed(2)]) == ["groupadd -- eleves", "getent group -- eleves | cut -d: -f3"])
        let made = try group.plan([failed(2)]).plan
        var madeResult = made.result
        made.finish?(&madeResult, CommandResult(exitStatus: 0, stdout: Array("1002\n".utf8), stderr: []))
        #expect(madeResult.changed && madeResult.data["gid"] == .int(1002), "the gid the device gave")
        #expect(try group.scripts(["eleves:x:1001:\n"]).isEmpty)
        #expect(try group.plan(["eleves:x:1001:\n"]).plan.result.data["gid"] == .int(1001))
        // A gid that differs is changed; non_unique needs a gid; a group is removed with force.
        #expect(try Planner("group", ["name": .string("eleves"), "gid": .int(1500), "non_unique": .bool(true)]).scripts(["eleves:x:1001:\n"]).first
                == "groupmod -g 1500 -o -- eleves")
        #expect(failure { try Planner("group", ["name": .string("eleves"), "non_unique": .bool(true)]).plan() } == "parameters are required together: gid, non_unique")
        #expect(try Planner("group", ["name": .string("eleves"), "state": .string("absent"), "force": .bool(true)]).scripts(["eleves:x:1001:\n"])
                == ["groupdel -f -- eleves"])
        let key = Planner("authorized_key", ["user": .string("prof"), "key": .string("ssh-ed25519 AAAA prof@cdi")])
        let keyed = try key.plan(["prof:x:1000:1000::/home/prof:/bin/bash\n", "absent\n", "absent\n"]).plan
        #expect(keyed.steps.first?.script == "mkdir -p -- /home/prof/.ssh && chown prof: /home/prof/.ssh && chmod 700 /home/prof/.ssh")
        #expect(keyed.steps.last?.kind == .write(path: "/home/prof/.ssh/authorized_keys", mode: 0o600, owner: "prof", group: "1000", validate: nil))
        #expect(throws: ModuleFailure.self) { try key.plan([failed(2)]) }
    }

    @Test func systemSettingsFromTheirFacts() throws {
        let host = Planner("hostname", ["name": .string("pc-cdi-01")])
        #expect(try host.scripts(["pc-cdi-01\npc-cdi-01\n0\n"]).isEmpty)
        #expect(try host.plan(["debian\ndebian\n0\n"]).plan.steps.count == 1, "/etc/hosts is left alone, as Ansible does")
        var named = host
        named.vars = ["parc_hostname_in_etc_hosts": .bool(true)]
        #expect(try named.plan(["pc-cdi-01\npc-cdi-01\n0\n"]).plan.steps.count == 1, "only /etc/hosts")
        let tz = Planner("timezone", ["name": .string("Europe/Paris")])
        #expect(try tz.scripts(["/usr/share/zoneinfo/Europe/Paris\nEurope/Paris\n"]).isEmpty)
        #expect(try tz.plan(["/usr/share/zoneinfo/UTC\nEtc/UTC\n"]).plan.steps.first?.touches == ["/etc/localtime", "/etc/timezone"])
        #expect(throws: ModuleFailure.self) { try tz.plan(["missing\n"]) }
        let locale = Planner("locale_gen", ["name": .string("fr_FR.UTF-8")])
        let gen = try locale.plan(["C\nC.utf8\nPOSIX\n", "regular file|644|root|root|20\n\n# fr_FR.UTF-8 UTF-8\n"]).plan
        #expect(gen.steps.map(\.script).last == "locale-gen" && gen.steps.first?.input == Array("fr_FR.UTF-8 UTF-8\n".utf8))
        #expect(try locale.scripts(["C\nfr_FR.utf8\n"]).isEmpty)
        let cron = Planner("cron", ["name": .string("sauvegarde"), "job": .string("/usr/local/bin/save"), "hour": .int(2), "minute": .int(0)])
        let cronPlan = try cron.plan([""]).plan
        #expect(cronPlan.steps.first?.input == Array("#Ansible: sauvegarde\n0 2 * * * /usr/local/bin/save\n".utf8))
        #expect(try cron.scripts(["#Ansible: sauvegarde\n0 2 * * * /usr/local/bin/save\n"]).isEmpty)
        #expect(throws: ModuleFailure.self) { try cron.plan(["parc-no-crontab\n"]) }
        let sysctl = Planner("sysctl", ["name": .string("vm.swappiness"), "value": .int(10), "sysctl_file": .string("/etc/sysctl.d/90-parc.conf")])
        #expect(try sysctl.plan(["absent\n"]).plan.steps.map(\.script).last == "sysctl -p /etc/sysctl.d/90-parc.conf >/dev/null")
        #expect(try sysctl.scripts(["regular file|644|root|root|16\n\nvm.swappiness=10\n"]).isEmpty)
        let mount = Planner("mount", ["path": .string("/mnt/partage"), "src": .string("//nas/partage"), "fstype": .string("cifs"), "state": .string("mounted")])
        let mounted = try mount.plan(["regular file|644|root|root|0\n\n", failed()]).plan
        #expect(mounted.steps.first?.input == Array("//nas/partage\t/mnt/partage\tcifs\tdefaults\t0\t0\n".utf8))
        #expect(mounted.steps.last?.script == "mkdir -p /mnt/partage && mount /mnt/partage")
        #expect(try mount.scripts(["regular file|644|root|root|0\n\n//nas/partage\t/mnt/partage\tcifs\tdefaults\t0\t0\n", "\n"]).isEmpty)
        let repo = Planner("apt_repository", ["repo": .string("deb http://deb.example/ bookworm main"), "filename": .string("example")])
        #expect(try repo.plan(["absent\n"]).plan.steps.map(\.script).last == "DEBIAN_FRONTEND=noninteractive apt-get update -q")
        #expect(try repo.scripts(["regular file|644|root|root|37\n\ndeb http://deb.example/ bookworm main\n"]).isEmpty)
        let deb822 = Planner("deb822_repository", ["name": .string("example"), "uris": .string("http://deb.example/"), "suites": .string("bookworm")])
        #expect(try deb822.plan(["absent\n"]).plan.steps.last?.kind == .write(path: "/etc/apt/sources.list.d/example.sources", mode: 0o644, owner: nil, group: nil, validate: nil))
        let ufw = Planner("ufw", ["rule": .string("allow"), "port": .string("22"), "proto": .string("tcp"), "state": .string("enabled")])
        #expect(try ufw.scripts(["Status: inactive\n--\n"]) == ["ufw allow 22/tcp", "ufw --force enable"])
        #expect(try ufw.scripts(["Status: active\n--\nufw allow 22/tcp\n"]).isEmpty)
    }

    @Test func readsTransfersWaitsAndReboot() throws {
        let stat = try Planner("stat", ["path": .string("/etc/motd")])
            .plan(["81a4|644|0|0|root|root|12|611|65024|1|1700000000.250000000|1700000001.000000000|1700000002.000000000|8|4096|0|0|regular file\nrw-\n\n\nabc\ntext/plain\nus-ascii\n1234 --------------e------- /etc/motd\n"]).plan
        let st = stat.result.data["stat"]?.map ?? [:]
        #expect(stat.steps.isEmpty && st["checksum"] == .string("abc") && st["mode"] == .string("0644") && st["isreg"] == .bool(true))
        #expect(st["atime"] == .double(1_700_000_000.25) && st["inode"] == .int(611) && st["nlink"] == .int(1) && st["block_size"] == .int(4096))
        #expect(st["rusr"] == .bool(true) && st["xusr"] == .bool(false) && st["roth"] == .bool(true) && st["isuid"] == .bool(false))
        #expect(st["readable"] == .bool(true) && st["executable"] == .bool(false) && st["mimetype"] == .string("text/plain"))
        #expect(st["attributes"] == .list([.string("extents")]) && st["version"] == .string("1234") && st["path"] == .string("/etc/motd"))
        let slurp = try Planner("slurp", ["src": .string("/etc/hostname")]).plan(["pc-1\n"]).plan
        #expect(slurp.steps.isEmpty && slurp.result.data["content"] == .string("cGMtMQo="))
        #expect(throws: ModuleFailure.self) { try Planner("slurp", ["src": .string("/none")]).plan([failed(1, "No such file")]) }
        // Ansible's words for what cannot be read, by the errno cat met (as Ansible's open() meets it).
        #expect(try Planner("slurp", ["src": .string("/none")]).asks() == [Fact("LC_ALL=C cat -- /none", paths: ["/none"])])
        #expect(failure { try Planner("slurp", ["src": .string("/none")]).plan([failed(1, "cat: /none: No such file or directory\n")]) } == "File not found: /none")
        #expect(failure { try Planner("slurp", ["src": .string("/etc")]).plan([failed(1, "cat: /etc: Is a directory\n")]) } == "Source is a directory and must be a file: /etc")
        #expect(failure { try Planner("slurp", ["src": .string("/root/x")]).plan([failed(1, "cat: /root/x: Permission denied\n")]) } == "File is not readable: /root/x")
        #expect(failure { try Planner("slurp", ["src": .string("/etc/hostname/x")]).plan([failed(1, "cat: /etc/hostname/x: Not a directory\n")]) }
                == "Unable to slurp file: [Errno 20] Not a directory: '/etc/hostname/x'")
        let get = Planner("get_url", ["url": .string("https://example.org/a"), "dest": .string("/opt/a"), "checksum": .string("sha256:abc")])
        #expect(try get.scripts(["abc\n"]).isEmpty)
        #expect(try get.plan(["\n"]).plan.steps.first?.script.contains("sha256sum") == true)
        #expect(try get.plan(["\n"]).plan.steps.first?.script.contains("curl -fsSL --compressed --max-time") == true, "certificates checked, compression undone by default")
        // headers and credentials: read from private files on descriptor 3, by curl (-K) or wget
        // (--config); never on a command line.
        let withToken = try Planner("get_url", ["url": .string("https://ent.local/a"), "dest": .string("/opt/a"),
                                                "headers": .map(["Authorization": .string("Bearer s3cret")])]).plan(["\n"]).plan.steps.first
        #expect(withToken?.input == Array("header = \"Authorization: Bearer s3cret\"\nheader = Authorization: Bearer s3cret\n".utf8))
        #expect(withToken?.script.contains("s3cret") == false)
        #expect(withToken?.script.contains("-K \"$h\"") == true && withToken?.script.contains("--config=\"$h.rc\"") == true)
        let withPassword = try Planner("get_url", ["url": .string("https://ent.local/a"), "dest": .string("/opt/a"), "url_username": .string("école"),
                                                   "url_password": .string("pa\"ss"), "force_basic_auth": .bool(true)]).plan(["\n"]).plan.steps.first
        #expect(withPassword?.input == Array("user = \"école:pa\\\"ss\"\nbasic\nuser = école\npassword = pa\"ss\nauth_no_challenge = on\n".utf8))
        #expect(withPassword?.script.contains("pa\"ss") == false && withPassword?.script.contains("école") == false)
        var raw = get
        raw.args["decompress"] = .bool(false)
        #expect(try raw.plan(["\n"]).plan.steps.first?.script.contains("curl -fsSL --max-time") == true, "decompress: no keeps the bytes as sent")
        // stdin_add_newline: no sends stdin as it is; service takes Ansible's daemon-reload alias.
        let piped = try Planner("command", ["_raw_params": .string("cat"), "stdin": .string("x"), "stdin_add_newline": .bool(false)]).plan().plan
        #expect(piped.steps.first?.input == Array("x".utf8))
        // strip_empty_ends: every trailing newline goes (Ansible's default), or none with no.
        var ends = piped.result
        piped.finish?(&ends, CommandResult(exitStatus: 0, stdout: Array("x\n\n".utf8), stderr: Array("w\r\n".utf8)))
        #expect(ends.stdout == "x" && ends.stderr == "w")
        let kept = try Planner("command", ["_raw_params": .string("cat"), "strip_empty_ends": .bool(false)]).plan().plan
        var unstripped = kept.result
        kept.finish?(&unstripped, CommandResult(exitStatus: 0, stdout: Array("x\n\n".utf8), stderr: []))
        #expect(unstripped.stdout == "x\n\n")
        #expect(try Planner("service", ["daemon-reload": .bool(true)]).scripts() == ["systemctl daemon-reload"])
        let selfSigned = Planner("get_url", ["url": .string("https://ent.local/a"), "dest": .string("/opt/a"), "validate_certs": .bool(false)])
        let fetch = try selfSigned.plan(["\n"]).plan.steps.first?.script ?? ""
        #expect(fetch.contains("curl -fsSL -k ") && fetch.contains("wget -q --no-check-certificate"), "validate_certs: no")
        #expect(try HostRunSequence.sequence("start=2 end=8 stride=3 format=pc%02d") == ["pc02", "pc05", "pc08"])
        #expect(try HostRunSequence.sequence("4-6/1:h%d") == ["h4", "h5", "h6"])
        #expect(try HostRunSequence.sequence("count=0").isEmpty)
        #expect(throws: PlaybookError.self) { try HostRunSequence.sequence("start=5 end=1") }
        let dir = playbookScratch.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir + "/files", withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/files/a.tar"))
        var archive = Planner("unarchive", ["src": .string("a.tar"), "dest": .string("/opt/a")])
        archive.directory = dir
        let compare = try archive.plan(["docs/\ndocs/a.txt\n==parc==\n"])
        #expect(compare.asked.first?.input == [1, 2, 3], "the archive is compared on the device through fd 3")
        #expect(compare.plan.steps.first?.input == [1, 2, 3] && compare.plan.steps.first?.removesTree == true && compare.plan.result.changed)
        #expect(try archive.plan(["docs/\n==parc==\nsame\n"]).plan.steps.isEmpty)
        #expect(performing: { try archive.plan(["parc-no-dest\n"]) }, throws: { ($0 as? ModuleFailure)?.message == "Destination '/opt/a' is not a directory" })
        // remote_src: the archive is on the device; list_files gives its members.
        let remote = Planner("unarchive", ["src": .string("/srv/a.tar.gz"), "dest": .string("/opt/a"), "remote_src": .bool(true), "list_files": .bool(true)])
        let onDevice = try remote.plan(["docs/\ndocs/a.txt\n==parc==\n"])
        #expect(onDevice.asked.first?.input == [] && onDevice.asked.first?.script.hasPrefix("a=/srv/a.tar.gz;") == true)
        #expect(onDevice.plan.result.data["files"] == .list([.string("docs/"), .string("docs/a.txt")]) && onDevice.plan.steps.first?.input == [])
        let wait = try Planner("wait_for", ["port": .int(22), "timeout": .int(5)]).plan().plan
        #expect(wait.steps.first?.isResult == true && wait.steps.first?.touches == [] && wait.result.changed == false)
        var r = wait.result
        wait.finish?(&r, CommandResult(exitStatus: 1, stdout: Array("5\n".utf8), stderr: []))
        #expect(r.failed && r.msg == "Timeout when waiting for 127.0.0.1:22" && r.data["elapsed"] == .int(5), "Ansible's words and elapsed")
        // search_regex: the device's loop shows the file once it matched; the groups are Python's.
        let found = try Planner("wait_for", ["path": .string("/tmp/k"), "search_regex": .string(#"completed (?P<foo>\w+) ([0-9]+)"#)]).plan().plan
        #expect(found.steps.first?.script.contains("grep -Pzq") == true)
        var fr = found.result
        found.finish?(&fr, CommandResult(exitStatus: 0, stdout: Array("3\nstart\ncompleted data 123\n".utf8), stderr: []))
        #expect(!fr.failed && fr.data["elapsed"] == .int(3) && fr.data["match_groups"] == .list([.string("data"), .string("123")]))
        #expect(fr.data["match_groupdict"] == .map(["foo": .string("data")]) && fr.data["search_regex"] == .string(#"completed (?P<foo>\w+) ([0-9]+)"#))
        var missed = found.result
        found.finish?(&missed, CommandResult(exitStatus: 1, stdout: Array("300\n".utf8), stderr: []))
        #expect(missed.msg == #"Timeout when waiting for search string completed (?P<foo>\w+) ([0-9]+) in /tmp/k"#)
        #expect(throws: ModuleFailure.self) { try Planner("wait_for", ["path": .string("/tmp/k"), "search_regex": .string("(")]).plan() }
        #expect(throws: ModuleFailure.self) { try Planner("wait_for", ["port": .string("22; reboot")]).plan() }
        let reboot = try Planner("reboot", ["msg": .string("mise à jour"), "reboot_timeout": .int(120)]).plan().plan
        #expect(reboot.steps.first?.kind == .reboot(message: "mise à jour", delay: 1, timeout: 120) && reboot.result.changed)
        #expect(try Planner("reboot", [:], check: true).plan().plan.steps.isEmpty, "check mode never reboots")
    }

    @Test func controlNodeModulesTouchNoDevice() throws {
        for name in ["debug", "fail", "set_fact", "include_vars", "assert"] {
            #expect(Modules.registry[name]?.touchesDevice == false, "\(name)")
        }
        for (name, spec) in Modules.registry where !["debug", "fail", "set_fact", "include_vars", "assert"].contains(name) {
            #expect(spec.touchesDevice, "\(name) plans steps for the device")
        }
    }

    @Test func factsParseAFileWithItsContent() {
        let f = FileFact.parse(CommandResult(exitStatus: 0, stdout: Array("regular file|640|root|adm|6\n\nA=1\nB\n".utf8), stderr: []))
        #expect(f.state.kind == .file && f.state.mode == "640" && f.state.group == "adm" && f.text == "A=1\nB\n")
        #expect(FileFact.parse(CommandResult(exitStatus: 0, stdout: Array("absent\n".utf8), stderr: [])).state.kind == .absent)
        let link = FileFact.parse(CommandResult(exitStatus: 0, stdout: Array("symbolic link|777|root|root|9\n/etc/motd\n".utf8), stderr: []))
        #expect(link.state.linkTarget == "/etc/motd" && link.content == nil)
    }
}

/// with_sequence's parser, as data.
enum HostRunSequence {
    static func sequence(_ text: String) throws -> [String] {
        try Runner.sequence(text, at: SourceLocation(file: "play.yml", line: 1, column: 1))
    }
}

/// The modules added for real roles and ansible-core's targets, planned from their facts.
@Suite struct MoreModulePlanTests {
    @Test func scriptIsSentAndRunThroughTheShell() throws {
        let dir = NSTemporaryDirectory() + "parc-script-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/files", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "#!/bin/sh\necho \"$@\"\n".write(toFile: dir + "/files/hello.sh", atomically: true, encoding: .utf8)
        var script = Planner("script", ["_raw_params": .string("hello.sh 'a b' $HOME")])
        script.directory = dir
        let p = try script.plan().plan
        let step = try #require(p.steps.first)
        #expect(step.isResult && step.input == Array("#!/bin/sh\necho \"$@\"\n".utf8), "the script travels on descriptor 3")
        #expect(step.script.range(of: #"/tmp/\.parc-script-[0-9a-z]+/hello\.sh 'a b' \$HOME 3<&- < /dev/null"#, options: .regularExpression) != nil,
                "the rest of the line is the shell's, as written: \(step.script)")
        // A quoted name (a space in it) keeps its quotes around the copy's path, as Ansible's.
        try FileManager.default.createDirectory(atPath: dir + "/files/space path", withIntermediateDirectories: true)
        try "#!/bin/sh\necho ok\n".write(toFile: dir + "/files/space path/t.sh", atomically: true, encoding: .utf8)
        var spaced = Planner("script", ["_raw_params": .string("'space path/t.sh' x")])
        spaced.directory = dir
        let spacedStep = try #require(try spaced.plan().plan.steps.first)
        #expect(spacedStep.script.range(of: #"'/tmp/\.parc-script-[0-9a-z]+/t\.sh' x 3<&-"#, options: .regularExpression) != nil, "\(spacedStep.script)")
        var r = p.result
        p.finish?(&r, CommandResult(exitStatus: 0, stdout: Array("a b /root\n".utf8), stderr: []))
        #expect(r.changed && r.stdout == "a b /root\n" && r.rc == 0, "its output as printed (Ansible does not strip a script's)")
        p.finish?(&r, CommandResult(exitStatus: 3, stdout: [], stderr: []))
        #expect(r.failed && r.msg == "non-zero return code")
        // creates: skipped in Ansible's words; check mode skips it; chdir must be absolute; a missing script is named.
        script.args["creates"] = .string("/opt/done")
        let skipped = try script.plan([CommandResult(exitStatus: 0, stdout: Array("file|644|root|root|1\n".utf8), stderr: [])]).plan
        #expect(skipped.steps.isEmpty && skipped.result.skipped && skipped.result.msg == "/opt/done exists, matching creates option")
        var checked = Planner("script", ["_raw_params": .string("hello.sh")], check: true)
        checked.directory = dir
        #expect(try checked.plan().plan.result.skipped)
        #expect(failure { try Planner("script", ["_raw_params": .string("hello.sh"), "chdir": .string("tmp")]).plan() }
                == "chdir tmp must be an absolute path for a Unix-aware remote node")
        #expect(failure { try Planner("script", ["_raw_params": .string("absent.sh")]).plan() }?.hasPrefix("cannot find absent.sh") == true)
    }

    @Test func getentReadsADatabaseIntoAFact() throws {
        let passwd = Planner("getent", ["database": .string("passwd"), "key": .string("root")])
        #expect(try passwd.asks().map(\.script) == ["getent -- passwd root"])
        let found = try passwd.plan(["root:x:0:0:root:/root:/bin/bash\n"]).plan.result
        #expect(found.data["ansible_facts"] == .map(["getent_passwd": .map(["root": .list(["x", "0", "0", "root", "/root", "/bin/bash"].map { .string($0) })])]))
        // Whitespace for other databases; an entry seen twice is a list of its lines; a missing key fails unless fail_key: no.
        let hosts = try Planner("getent", ["database": .string("hosts")]).plan(["127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.0.1 pc\n"]).plan.result
        #expect(hosts.data["ansible_facts"]?.map?["getent_hosts"]?.map?["127.0.0.1"] == .list([.list([.string("localhost")]), .list([.string("pc")])]))
        #expect(failure { try passwd.plan([failed(2)]) } == "One or more supplied key could not be found in the database.")
        var lenient = passwd
        lenient.args["fail_key"] = .bool(false)
        #expect(try lenient.plan([failed(2)]).plan.result.data["ansible_facts"] == .map(["getent_passwd": .map(["root": .null])]))
    }

    @Test func aptInstallsADebFileOnce() throws {
        let deb = Planner("apt", ["deb": .string("/tmp/hello.deb")])
        let fresh = try deb.plan(["hello\n2.10-3\n"]).plan
        #expect(fresh.result.changed && fresh.steps.first?.script.contains("dpkg --force-confdef --force-confold -i \"$f\"") == true)
        #expect(try deb.plan(["hello\n2.10-3\nii |2.10-3\n"]).plan.steps.isEmpty, "that version is installed: nothing to do")
        #expect(try deb.plan(["hello\n2.10-3\nii |2.9-1\n"]).plan.result.changed, "another version is replaced")
        #expect(failure { try deb.plan(["parc-no-deb\n"]) } == "Unable to install package: /tmp/hello.deb does not exist")
        var forced = deb
        forced.args["force"] = .bool(true)
        #expect(try forced.plan(["hello\n2.10-3\nii |2.10-3\n"]).plan.steps.first?.script.contains("--force-all -i") == true)
    }

    @Test func aptAutoremoveAndAutocleanReportWhatAptGetDid() throws {
        let clean = Planner("apt", ["autoremove": .bool(true), "autoclean": .bool(true), "purge": .bool(true)])
        let p = try clean.plan().plan
        #expect(p.steps.map(\.script) == ["DEBIAN_FRONTEND=noninteractive apt-get -y -q autoremove --purge && DEBIAN_FRONTEND=noninteractive apt-get -y -q autoclean"])
        var r = p.result
        p.finish?(&r, CommandResult(exitStatus: 0, stdout: Array("Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove\n".utf8), stderr: []))
        #expect(!r.changed, "nothing removed, nothing deleted")
        p.finish?(&r, CommandResult(exitStatus: 0, stdout: Array("The following packages will be REMOVED:\n  libfoo1*\n".utf8), stderr: []))
        #expect(r.changed)
        let dry = Planner("apt", ["autoclean": .bool(true)], check: true)
        #expect(try dry.plan(["Del hello 2.10-3 [56.2 kB]\n"]).plan.result.changed && dry.plan(["Del hello 2.10-3 [56.2 kB]\n"]).plan.steps.isEmpty)
    }

    /// policy_rc_d: tried for real in sh: the file says the code while apt works, the old one is back after.
    @Test func policyRcDIsSetWhileAptWorksAndPutBackAfter() throws {
        let script = AptModule.withPolicyRcD("cat /usr/sbin/policy-rc.d", 101).replacingOccurrences(of: "/usr/sbin/policy-rc.d", with: "$P")
        let folder = NSTemporaryDirectory() + "parc-rcd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "old\n".write(toFile: folder + "/policy-rc.d", atomically: true, encoding: .utf8)
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "P=\(folder)/policy-rc.d; (" + script + "); echo; cat \"$P\"; ls \(folder) | wc -l"]
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text == "#!/bin/sh\nexit 101\n\nold\n1\n", "\(text)")
        #expect(failure { try Planner("apt", ["name": .string("vim"), "policy_rc_d": .string("never")]).plan(["\n"]) } == "policy_rc_d is an exit code (0 to 255), not 'never'")
    }

    @Test func unarchiveIncludesAndExcludesMembers() throws {
        let base: [String: Value] = ["src": .string("/srv/a.tar.gz"), "dest": .string("/opt/a"), "remote_src": .bool(true)]
        var args = base
        args["exclude"] = .list([.string("skip/*.txt"), .string("b c")])
        let probe = try #require(try Planner("unarchive", args).asks().first?.script)
        #expect(probe.contains("\"$tar\" -tf \"$a\" --exclude='skip/*.txt' --exclude='b c'"))
        let extract = try Planner("unarchive", args).plan(["a/x\n==parc==\n"]).plan.steps.first?.script ?? ""
        #expect(extract.contains("tar -xf \"$a\" --exclude='skip/*.txt' --exclude='b c' -C /opt/a"))
        var only = base
        only["src"] = .string("/srv/a.zip")
        only["include"] = .list([.string("keep/*")])
        #expect(try Planner("unarchive", only).plan(["a/x\n==parc==\n"]).plan.steps.first?.script.contains("unzip -o -q \"$a\" 'keep/*' -d /opt/a") == true)
        args["include"] = .list([.string("x")])
        #expect(failure { try Planner("unarchive", args).plan() } == "parameters are mutually exclusive: include|exclude")
    }

    /// Not a zip: GNU tar reads it and knows its compression from its content (a .tar.zst, as
    /// Ansible's zstd handler). The probe run in sh on a real archive.
    @Test func aTarOfAnyCompressionIsListed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-zst-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/dest", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x".write(toFile: dir + "/foo.txt", atomically: true, encoding: .utf8)
        #expect(try Spawn.run(["/bin/tar", "--zstd", "-C", dir, "-cf", dir + "/a.tar.zst", "foo.txt"]).status == 0)
        let probe = try #require(try Planner("unarchive", ["src": .string(dir + "/a.tar.zst"), "dest": .string(dir + "/dest"), "remote_src": .bool(true)]).asks().first?.script)
        #expect(try Spawn.run(["/bin/sh", "-c", "cd /tmp; " + probe]).output == "foo.txt\n==parc==\n==parc==\n/tmp\n")
        // extra_opts reach tar, which is run by its path: its complaint is Ansible's listing failure.
        let odd = Planner("unarchive", ["src": .string(dir + "/a.tar.zst"), "dest": .string(dir + "/dest"), "remote_src": .bool(true),
                                        "extra_opts": .list([.string("--invalid-éxtra-optら")])])
        let refused = try Spawn.run(["/bin/sh", "-c", try #require(try odd.asks().first?.script)])
        #expect(refused.status == 5 && refused.output.contains("/usr/bin/tar: unrecognized option '--invalid-éxtra-optら'"), "\(refused)")
        #expect(failure { try odd.plan([failed(5, refused.output)]) }?.hasPrefix("Unable to list files in the archive: /usr/bin/tar: unrecognized option") == true)
    }

    /// mode / owner / group as Ansible's unarchive sets them: on each member (not on dest), a
    /// member whose content is the archive's but whose mode differs is changed in place, and a
    /// symbolic clause Ansible refuses is refused before anything runs. Probe and steps run in sh.
    @Test func unarchiveSetsItsMembersModesAsAsked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-mode-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/dest", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x".write(toFile: dir + "/foo.txt", atomically: true, encoding: .utf8)
        #expect(try Spawn.run(["/bin/chmod", "644", dir + "/foo.txt"]).status == 0)
        #expect(try Spawn.run(["/bin/tar", "-C", dir, "-czf", dir + "/a.tar.gz", "foo.txt"]).status == 0)
        #expect(try Spawn.run(["/bin/tar", "-C", dir + "/dest", "-xzf", dir + "/a.tar.gz"]).status == 0)
        #expect(try Spawn.run(["/bin/chmod", "600", dir + "/dest/foo.txt", dir + "/dest"]).status == 0)
        func run(_ step: Step) throws -> String {
            try Data(step.input).write(to: URL(fileURLWithPath: dir + "/input"))
            return try Spawn.run(["/bin/sh", "-c", "exec 3< \(dir)/input; " + step.script]).output
        }
        let wanted = Planner("unarchive", ["src": .string(dir + "/a.tar.gz"), "dest": .string(dir + "/dest"), "remote_src": .bool(true),
                                           "mode": .string("u+rwX,g-wx,o-wx,g+r,o+r")])
        let probe = try #require(try wanted.asks().first)
        #expect(try Spawn.run(["/bin/sh", "-c", "cd /tmp; " + probe.script]).output == "foo.txt\n==parc==\nsame\n==parc==\n/tmp\n", "the mode the task sets is no difference of content")
        // A relative dest is the login folder's, and said as Ansible says it.
        let relative = try Planner("unarchive", ["src": .string(dir + "/a.tar.gz"), "dest": .string("./x/../rel"), "remote_src": .bool(true)])
            .plan(["foo.txt\n==parc==\nsame\n==parc==\n/home/prof\n"]).plan
        #expect(relative.result.warnings == ["Relative destination path './x/../rel' was resolved to absolute path '/home/prof/rel'."])
        let fix = try wanted.plan(["foo.txt\n==parc==\nsame\n"]).plan
        #expect(fix.steps.count == 1)
        var r = fix.result
        fix.finish?(&r, CommandResult(exitStatus: 0, stdout: Array(try run(fix.steps[0]).utf8), stderr: []))
        let fooMode = try FileManager.default.attributesOfItem(atPath: dir + "/dest/foo.txt")[.posixPermissions] as? Int
        #expect(r.changed && fooMode == 0o644)
        let destMode = try FileManager.default.attributesOfItem(atPath: dir + "/dest")[.posixPermissions] as? Int
        #expect(destMode == 0o600, "dest itself is left alone")
        var again = fix.result
        fix.finish?(&again, CommandResult(exitStatus: 0, stdout: Array(try run(fix.steps[0]).utf8), stderr: []))
        #expect(!again.changed)
        // The top folder of members listed without it gets the attributes too.
        let nested = try Planner("unarchive", ["src": .string(dir + "/a.tar.gz"), "dest": .string(dir + "/dest"), "remote_src": .bool(true), "owner": .string("root")])
            .plan(["top/a.txt\ntop/b/c.txt\n==parc==\nsame\n"]).plan
        #expect(nested.steps.first?.input == Array("top/a.txt\ntop/b/c.txt\ntop\n".utf8))
        // Ansible's refusals (a or no one only alone; permissions among rwxXstugo), with its details.
        for bad in ["u=foo", "foo=r", "ufoo=r", "abc=r", "ao=r", "oa=r"] {
            let refused = Planner("unarchive", ["src": .string(dir + "/a.tar.gz"), "dest": .string(dir + "/dest"), "remote_src": .bool(true), "mode": .string(bad)])
            #expect(performing: { try refused.plan(["foo.txt\n==parc==\nsame\n"]) }, throws: {
                ($0 as? ModuleFailure)?.message == "mode must be in octal or symbolic form"
                    && ($0 as? ModuleFailure)?.data["details"] == .string("bad symbolic permission for mode: \(bad)")
            })
        }
        // Ansible's symbolic arithmetic: copying a class, X by the mode reached, the umask for no one.
        #expect(try Modules.symbolic("g=u,o=", current: 0o640, isDirectory: false) == 0o660)
        #expect(try Modules.symbolic("u+rwX-x,g-rwx,o=x", current: 0o644, isDirectory: false) == 0o601)
        #expect(try Modules.symbolic("u+rwX,g-rwx,o-rwx", current: 0o755, isDirectory: true) == 0o700)
        #expect(try Modules.symbolic("+w", current: 0o444, isDirectory: false) == 0o644)
    }

    /// Without unzip and zipinfo a zip cannot be read: Ansible's handler search names what is
    /// missing. The probe run in sh with a PATH where neither is.
    @Test func aZipWithoutItsToolsSaysWhichAreMissing() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("parc-\(UUID().uuidString).zip").path
        FileManager.default.createFile(atPath: file, contents: Data("PK".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let zip = Planner("unarchive", ["src": .string(file), "dest": .string("/opt/a"), "remote_src": .bool(true)])
        let probe = try #require(try zip.asks().first?.script)
        let p = Process(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "PATH=/nowhere; " + probe]
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 6 && said == "Unable to find required 'unzip' or 'zipinfo' binary in the path.\n", "\(p.terminationStatus) \(said)")
        #expect(failure { try zip.plan([failed(6, said)]) }
                == "Failed to find handler for \"\(file)\". Make sure the required command to extract the file is installed.\nUnable to find required 'unzip' or 'zipinfo' binary in the path.")
    }
}
