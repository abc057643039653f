import Foundation
import Lab
import Testing

/// The command line tried as an attacker, or a clumsy user, would.
@Suite struct SecurityCLITests {
    /// `-o` replaces a regular file atomically, writes a device or a FIFO in place (never turning
    /// it into a regular file), follows a link to its file, and `-o -` is standard output.
    @Test func outputFilesAreReplacedOnlyWhenTheyAreRegularFiles() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let dir = parc.dir.path + "/out"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

        // A character device of our own (the same as /dev/null): still a device afterwards.
        #expect(mknod(dir + "/null", S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0, "root is needed to make a device node")
        let toDevice = try await parc.run("export", "devices", "--csv", "-o", dir + "/null")
        #expect(toDevice.status == 0, "\(toDevice.stderr)")
        var st = stat()
        #expect(lstat(dir + "/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR, "the device node is still a device")

        // A FIFO: written in place, read by a reader at the other end.
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [dir + "/fifo"]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        let toFifo = try await parc.run("export", "devices", "--csv", "-o", dir + "/fifo")
        let read = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(toFifo.status == 0)
        #expect(read.hasPrefix("serial;") || read.hasPrefix("serial,"), "\(read.prefix(40))")
        #expect(lstat(dir + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)

        // A regular file, and a link to one: the link stays a link, its file gets the new text, mode kept.
        try "old\n".write(toFile: dir + "/report.csv", atomically: true, encoding: .utf8)
        chmod(dir + "/report.csv", 0o640)
        try FileManager.default.createSymbolicLink(atPath: dir + "/latest.csv", withDestinationPath: "report.csv")
        #expect(try await parc.run("export", "devices", "--csv", "-o", dir + "/latest.csv").status == 0)
        #expect(lstat(dir + "/latest.csv", &st) == 0 && st.st_mode & S_IFMT == S_IFLNK)
        #expect(lstat(dir + "/report.csv", &st) == 0 && st.st_mode & 0o777 == 0o640)
        #expect(try String(contentsOfFile: dir + "/report.csv", encoding: .utf8).contains("PF4NLV31"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.contains(".parc-") }, "no temporary left")

        // `-o -`: standard output; a folder: refused.
        let dash = try await parc.run("export", "devices", "--csv", "-o", "-")
        #expect(dash.stdout.contains("PF4NLV31") && !FileManager.default.fileExists(atPath: parc.dir.path + "/-"))
        let folder = try await parc.run("export", "devices", "--csv", "-o", dir)
        #expect(folder.status != 0 && folder.stderr.contains("it is a folder"))
    }
}

@Suite struct InputBoundsCLITests {
    @Test func hostileFieldsAreRefusedAndNeverReachTheTerminalRaw() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let address = try await parc.run("device", "edit", "PF4NLV31", "--address=-oProxyCommand=touch /tmp/parc-pwned")
        #expect(address.status != 0 && address.stderr.contains("an address is an IPv4 address"), "\(address.stderr)")
        let esc = try await parc.run("device", "edit", "PF4NLV31", "--model", "\u{1B}]0;pwned\u{7}\u{1B}[2J")
        #expect(esc.status != 0 && esc.stderr.contains("\\u{1B}]0;pwned\\u{7}") && !esc.stderr.contains("\u{1B}"))
        let long = try await parc.run("device", "add", "--kind", "laptop", "--serial", String(repeating: "S", count: 100_000), "--school", "0572113M", "--room", "BCD")
        #expect(long.status != 0 && long.stderr.contains("this field takes at most 64") && long.stderr.count < 1_000)
        // A file name with an escape sequence and a line break: shown as escapes, logged as text.
        let name = parc.dir.path + "/bl\u{1B}[31m\nforged.csv"
        try "serial,kind,school,room\nNEW-77,laptop,0572113M,BCD\nBAD\u{0}SN,laptop,0572113M,BCD\n".write(toFile: name, atomically: true, encoding: .utf8)
        let bad = try await parc.run("import", "devices", name)
        #expect(bad.status != 0 && bad.stderr.contains("bl\\u{1B}[31m\\nforged.csv:3: serial: 'BAD\\0SN'"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("\u{1B}") && !bad.stderr.contains("\u{0}"))
        #expect(try await parc.run("find", "NEW-77", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "nothing was imported")
        try "serial,kind,school,room\nNEW-77,laptop,0572113M,BCD\n".write(toFile: name, atomically: true, encoding: .utf8)
        #expect(try await parc.run("import", "devices", name).status == 0)
        let history = try await parc.run("history", "NEW-77")
        #expect(!history.stdout.contains("\u{1B}") && history.stdout.contains("\\u{1B}"), "\(history.stdout)")
    }
}

/// `script` in /bin/sh with $PARC (a copy of the binary anyone may run), $PARC_DATABASE and $DIR.
func parcShell(_ parc: ParcRunner, _ script: String, env extra: [String: String] = [:]) async throws -> ParcRunner.Result {
    try await ParcRunner.offPool { try parcShellBlocking(parc, script, env: extra) }
}

/// A copy of `parc` that any user may run (the read-only test runs it as nobody), made once per
/// test process. Written through a close-on-exec descriptor: a process that other tests spawn
/// meanwhile must not inherit it open for writing, or running the copy fails (ETXTBSY, exit 126).
let sharedBinary: String = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-bin-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    chmod(dir, 0o755)
    let path = dir + "/parc"
    let bytes = [UInt8](FileManager.default.contents(atPath: ParcRunner.binary.path) ?? Data())
    let fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    if fd >= 0 {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, bytes.count) }
        fchmod(fd, 0o755)
        close(fd)
        rename(path + ".tmp", path)
    }
    atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("parc-bin-\(getpid())").path) }
    usleep(200_000)  // children forked while the file was open have exec'd by now
    return path
}()

func parcShellBlocking(_ parc: ParcRunner, _ script: String, env extra: [String: String] = [:]) throws -> ParcRunner.Result {
    let binary = sharedBinary
    chmod(parc.dir.path, 0o755)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script]
    var env = ProcessInfo.processInfo.environment
    env["PARC"] = binary
    env["PARC_DATABASE"] = parc.database
    env["DIR"] = parc.dir.path
    env.removeValue(forKey: "PARC_HOME")
    for (k, v) in extra { env[k] = v }
    p.environment = env
    p.currentDirectoryURL = ParcRunner.repo
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ParcRunner.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// The inventory file in the states a machine can leave it: written by a newer parc, read-only,
/// on a full disk. Reads work where they can; writes are refused saying why, and nothing is lost.
@Suite struct DatabaseStateTests {
    func shell(_ parc: ParcRunner, _ script: String) async throws -> ParcRunner.Result { try await parcShell(parc, script) }

    @Test func aDatabaseFromANewerParcIsReadButNeverWritten() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        #expect(try await shell(parc, "sqlite3 \"$PARC_DATABASE\" \"INSERT INTO grdb_migrations VALUES ('v99-from-the-future')\"").status == 0)
        let list = try await parc.run("device", "list", "--json")
        let listed = try ParcRunner.json(list.stdout) as? [Any]
        #expect(list.status == 0 && listed?.count == 18)
        let add = try await parc.run("device", "add", "--kind", "laptop", "--serial", "NEW-1", "--school", "0572113M", "--room", "BCD")
        #expect(add.status != 0 && add.stderr.contains("written by a newer parc") && add.stderr.contains("v99-from-the-future")
                && add.stderr.contains("nothing was written"), "\(add.stderr)")
        let migrations = try await shell(parc, "sqlite3 \"$PARC_DATABASE\" 'SELECT count(*) FROM grdb_migrations'")
        let before = try await shell(parc, "sqlite3 \"$PARC_DATABASE\" 'SELECT count(*) FROM device'")
        #expect(before.stdout == "18\n" && !migrations.stdout.isEmpty)
        #expect(try await parc.run("init").status != 0, "init does not migrate it either")
    }

    @Test func aReadOnlyFileIsReadAndChangesAreRefusedPlainly() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        // As a user who may not write the file nor its folder (root writes anything).
        let r = try await shell(parc, """
            chmod 0444 "$PARC_DATABASE"
            as() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
            as "$PARC" device list --json > "$DIR/list.json"; echo "list=$?"
            as "$PARC" device status PF4NLV31 inRepair; echo "edit=$?"
            """)
        #expect(r.stdout.contains("list=0") && r.stdout.contains("edit=1"), "\(r.stdout) \(r.stderr)")
        let rows = try ParcRunner.json(String(contentsOfFile: parc.dir.path + "/list.json", encoding: .utf8)) as? [Any]
        #expect(rows?.count == 18)
        #expect(r.stderr.contains("the file is read-only for this user") && r.stderr.contains("nothing was written"), "\(r.stderr)")
        #expect(!r.stderr.contains("is it an SQLite file"), "no misleading hint")
    }

    @Test func aFullDiskSaysSoAndLosesNothing() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        // A small disk of its own (tmpfs in a private mount namespace), filled up.
        let r = try await shell(parc, """
            mkdir -p "$DIR/small"
            exec unshare -m sh -c '
              mount -t tmpfs -o size=2m parc-full "$DIR/small" || exit 99
              cp "$PARC_DATABASE" "$DIR/small/p.sqlite"
              export PARC_DATABASE="$DIR/small/p.sqlite"
              "$PARC" device list --json | grep -o "\\"serial\\"" | wc -l
              dd if=/dev/zero of="$DIR/small/fill" bs=4k count=350 2>/dev/null
              seq 1 300 | sed "s/^/BIG-/; s/$/,laptop,0572113M,BCD,$(head -c 3000 /dev/zero | tr "\\\\0" x)/" | sed "1i serial,kind,school,room,notes" > "$DIR/big.csv"
              "$PARC" import devices "$DIR/big.csv"; echo "import=$?"
              rm -f "$DIR/small/fill"
              "$PARC" device list --json | grep -o "\\"serial\\"" | wc -l
            '
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first == "18" && lines.contains("import=1") && lines.last == "18", "\(r.stdout)")
        #expect(r.stderr.contains("the disk holding it is full; nothing was written") && !r.stderr.contains("SQLite error 13"), "\(r.stderr)")
    }
}

/// Secrets given to a run: never on the device's process list, never in the record, read from a
/// private file or a prompt rather than the command line.
@Suite(.serialized) struct SecretsCLITests {
    @Test func secretsComeFromAPrivateFileOrAPromptAndStayOutOfProcessListsAndRecords() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let dir = s.parc.dir.path
        let secret = "Wifi-\(UUID().uuidString.prefix(8))"
        try """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: a hidden command that takes a while
                  shell: "printf '%s|%s' {{ wifi_psk | quote }} {{ from_file | quote }} > /etc/parc-secret; sleep 3"
                  no_log: yes
                - name: the command's own input
                  command: cat
                  register: cat_out
                - copy: { content: "{{ cat_out.stdout }}", dest: /etc/parc-cat }
            """.write(toFile: dir + "/secret.yml", atomically: true, encoding: .utf8)
        try "from_file: \(secret)-file\n".write(toFile: dir + "/secrets.yml", atomically: true, encoding: .utf8)

        // A vars file other users may read is refused, before anything runs.
        chmod(dir + "/secrets.yml", 0o644)
        let open = try await s.run("run", dir + "/secret.yml", "-e", "@" + dir + "/secrets.yml", "--limit", "lab-01")
        #expect(open.status != 0 && open.stderr.contains("chmod 600"), "\(open.stderr)")
        chmod(dir + "/secrets.yml", 0o600)

        // The run, with the Wi-Fi key on standard input (--ask-vars) and a become password sudo
        // does not ask for; the process list is watched while the hidden task runs.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", "end=$(($(date +%s) + 8)); while [ $(date +%s) -lt $end ]; do ps -eo args; sleep 0.2; done > \(dir)/ps.txt"]
        try watcher.run()
        let r = try await parcShell(s.parc, "printf '%s\\n' \"$PSK\" | \"$PARC\" run \"$DIR/secret.yml\" -e @\"$DIR/secrets.yml\" --ask-vars wifi_psk --limit lab-01 --json",
                              env: ["PSK": secret, "PARC_LAB_DIR": s.labDir, "PARC_BECOME_PASSWORD": "Directrice-\(secret)"])
        nonisolated(unsafe) let watching = watcher
        try await ParcRunner.offPool { watching.waitUntilExit() }
        #expect(r.status == 0, "\(r.stderr)")
        let ps = try String(contentsOfFile: dir + "/ps.txt", encoding: .utf8)
        #expect(ps.contains("sleep 3"), "the watcher saw the task run")
        #expect(!ps.contains(secret), "a no_log command is not on the process list")
        let device = try s.lab.devices[0]
        #expect(try String(contentsOfFile: device.hostPath(of: "/etc/parc-secret"), encoding: .utf8) == "\(secret)|\(secret)-file")
        #expect(try String(contentsOfFile: device.hostPath(of: "/etc/parc-cat"), encoding: .utf8) == "", "sudo asked nothing: the password did not reach the command")
        let runs = try await s.run("runs", "show", "1", "--json")
        #expect(!runs.stdout.contains(secret) && !r.stdout.contains(secret) && !r.stderr.contains(secret))
        // (Lab devices share the machine's /tmp, where other tests' runs stage their own scripts:
        // look for this run's, by the secret they held.)
        let staged = try await parcShell(s.parc, "grep -l -s -- \"$PSK\" \(device.hostPath(of: "/tmp"))/.parc-* | wc -l", env: ["PSK": secret])
        #expect(staged.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the hidden script is removed")
    }
}

/// Inventory fields reach playbooks as data through the command line's own path too.
@Suite(.serialized) struct InventoryDataCLITests {
    @Test func aSchoolNameThatLooksLikeATemplateIsWrittenAsText() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let hostile = "{{ lookup('env', 'PARC_CANARY') }}"
        #expect(try await s.run("school", "edit", "0572113M", "--name", hostile).status == 0)
        try """
            - hosts: all
              become: yes
              gather_facts: no
              vars:
                line: "école={{ parc_school_name }}"
              tasks:
                - vars: { where: /etc/parc-school }
                  copy: { content: "{{ line }}", dest: "{{ where }}" }
            """.write(toFile: s.parc.dir.path + "/school.yml", atomically: true, encoding: .utf8)
        let r = try await s.parc.run(["run", s.parc.dir.path + "/school.yml", "--limit", "lab-01"], env: ["PARC_LAB_DIR": s.labDir, "PARC_CANARY": "leaked-secret"])
        #expect(r.status == 0, "\(r.stderr)")
        let written = try String(contentsOfFile: try s.lab.devices[0].hostPath(of: "/etc/parc-school"), encoding: .utf8)
        #expect(written == "école=\(hostile)")
    }

    /// A device's output carries escape sequences (a pupil's prank, or worse: rewriting the
    /// technician's terminal): the progress parc prints shows them as text.
    @Test func aDevicesEscapeSequencesNeverReachTheTerminal() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        try """
            - hosts: all
              gather_facts: no
              tasks:
                - shell: "printf '\\\\033]0;pwned\\\\007\\\\033[2J'; printf 'bad\\\\033[31m' >&2"
                  register: out
                - fail: { msg: "the device said {{ out.stdout }} / {{ out.stderr }}" }
            """.write(toFile: s.parc.dir.path + "/escape.yml", atomically: true, encoding: .utf8)
        let r = try await s.parc.run(["run", s.parc.dir.path + "/escape.yml", "--limit", "lab-01"], env: ["PARC_LAB_DIR": s.labDir])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}") && !r.stdout.contains("\u{1B}"), "no raw escape reaches the terminal")
        #expect(r.stderr.contains("the device said \\u{1B}]0;pwned\\u{7}"), "\(r.stderr)")
        let shown = try await s.run("runs", "show", "1")
        #expect(!shown.stdout.contains("\u{1B}") && !shown.stderr.contains("\u{1B}"), "nor through the run's record")
    }
}

/// `no_log` hides a task's output, diff, item labels, error messages and registered values from
/// every store and stream: the terminal (with --diff and -v), the run record, `runs show --json`
/// and the database file itself, for tasks whose steps are batched with later ones and for those
/// that run alone.
@Suite(.serialized) struct NoLogCLITests {
    @Test func noLogHidesTheSecretFromEveryOutputAndTheDatabaseWithDiffAndVerbose() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let dir = s.parc.dir.path
        let secret = "psk-\(UUID().uuidString.prefix(12))"
        try """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: Wi-Fi profile (batched with the next tasks)
                  copy: { content: "[wifi]\\npsk={{ psk }}\\n", dest: /etc/parc-wifi.conf, mode: "0600" }
                  no_log: yes
                - name: a line holding the key (batched)
                  lineinfile: { path: /etc/parc-wifi-line.conf, line: "psk={{ psk }}", create: yes }
                  no_log: yes
                - name: looped over the key
                  copy: { content: "{{ item }}", dest: /etc/parc-wifi-loop.conf }
                  loop: ["{{ psk }}"]
                  no_log: yes
                - name: registered
                  command: "echo {{ psk }}"
                  register: echoed
                  no_log: yes
                - name: a failure whose message would say the key
                  shell: "echo {{ psk }} >&2; exit 3"
                  no_log: yes
                  ignore_errors: yes
                - name: a failure whose message is the key
                  fail: { msg: "wrong key {{ psk }}" }
                  no_log: yes
                  ignore_errors: yes
                - name: after them
                  file: { path: /etc/parc-after, state: touch }
            """.write(toFile: dir + "/wifi.yml", atomically: true, encoding: .utf8)
        try "psk: \(secret)\n".write(toFile: dir + "/secrets.yml", atomically: true, encoding: .utf8)
        chmod(dir + "/secrets.yml", 0o600)

        var outputs: [String] = []
        let first = try await s.run("run", dir + "/wifi.yml", "-e", "@" + dir + "/secrets.yml", "--diff", "-v")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let progress = first.stdout + first.stderr
        #expect(progress.contains("Wi-Fi profile") && progress.contains("changed"), "the tasks are shown, not their content: \(progress)")
        outputs += [first.stdout, first.stderr]
        // The same in check mode (diffs of files that would change), and as JSON.
        let check = try await s.run("run", dir + "/wifi.yml", "-e", "@" + dir + "/secrets.yml", "--limit", "lab-01", "--check", "--diff", "-vv")
        outputs += [check.stdout, check.stderr]
        let json = try await s.run("run", dir + "/wifi.yml", "-e", "@" + dir + "/secrets.yml", "--diff", "--json")
        outputs += [json.stdout, json.stderr]
        for id in 1...3 {
            let shown = try await s.run("runs", "show", String(id), "--json")
            #expect(shown.status == 0)
            outputs += [shown.stdout, try await s.run("runs", "show", String(id)).stdout]
        }
        for (i, text) in outputs.enumerated() { #expect(!text.contains(secret), "output \(i) shows the secret:\n\(text)") }
        // The database file (and its journal) never held it.
        for file in [s.parc.database, s.parc.database + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the secret")
        }
        // The tasks did run with the key.
        let device = try s.lab.devices[0]
        #expect(try String(contentsOfFile: device.hostPath(of: "/etc/parc-wifi.conf"), encoding: .utf8) == "[wifi]\npsk=\(secret)\n")
        #expect(try String(contentsOfFile: device.hostPath(of: "/etc/parc-wifi-loop.conf"), encoding: .utf8) == secret)
    }
}

/// A run whose process is killed (`kill -9` of `parc serve` or of `parc run`) does not stay
/// "in progress" forever: the server ends it as interrupted at start (and periodically), and its
/// devices are owed the playbook again.
@Suite(.serialized) struct InterruptedRunCLITests {
    @Test func aRunWhoseProcessWasKilledIsEndedAsInterruptedWithPendingWork() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let dir = s.parc.dir.path
        try """
            - hosts: all
              gather_facts: no
              tasks:
                - command: sleep 30
            """.write(toFile: dir + "/slow.yml", atomically: true, encoding: .utf8)
        let (runner, _, _) = try s.parc.start(["run", dir + "/slow.yml", "--limit", "lab-01"], env: ["PARC_LAB_DIR": s.labDir])
        defer { if runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
        var running = false
        for _ in 0..<100 where !running {
            try await Task.sleep(for: .milliseconds(100))
            let list = try await s.run("runs", "list", "--json")
            running = ((try? ParcRunner.json(list.stdout)) as? [[String: Any]])?.first.map { $0["endedAt"] == nil || $0["endedAt"] is NSNull } ?? false
        }
        try #require(running, "the run started")
        kill(runner.processIdentifier, SIGKILL)
        try await ParcRunner.offPool { runner.waitUntilExit() }
        // Still "in progress" in the record: nobody ended it.
        let before = try ParcRunner.json(try await s.run("runs", "show", "1", "--json").stdout) as? [String: Any]
        #expect((before?["run"] as? [String: Any])?["endedAt"] == nil)

        // A server starting on this inventory ends it.
        let port = try Lab.freePort()
        let (server, _, _) = try s.parc.start(["serve", "--listen", "127.0.0.1:\(port)"], env: ["PARC_LAB_DIR": s.labDir])
        defer { if server.isRunning { server.terminate() } }
        var ended: [String: Any]? = nil
        for _ in 0..<100 where ended == nil {
            try await Task.sleep(for: .milliseconds(100))
            let run = (try? ParcRunner.json(try await s.run("runs", "show", "1", "--json").stdout)) as? [String: Any]
            if let r = run?["run"] as? [String: Any], r["endedAt"] != nil { ended = r }
        }
        let run = try #require(ended, "the server ended the interrupted run")
        #expect(run["exitCode"] as? Int == 2)
        #expect((run["aborted"] as? String ?? "").contains("interrupted") && (run["aborted"] as? String ?? "").contains("pid \(runner.processIdentifier)"), "\(run)")
        let pending = try await s.run("pending")
        #expect(pending.stdout.contains("lab-01") && pending.stdout.contains("slow.yml"), "\(pending.stdout)")
        // Its device is free for the next run.
        #expect(try await s.run("run", dir + "/slow.yml", "--limit", "lab-01", "--check").status == 0)
    }
}
