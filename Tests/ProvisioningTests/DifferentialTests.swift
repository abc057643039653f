import Foundation
import Lab
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// Ansible is the oracle. Each folder of `Fixtures/differential` is a playbook set (play.yml,
/// roles, templates, group_vars, an `inventory.ini` of groups) run twice by `ansible-playbook`
/// on one lab device and twice by parc on another, from the same inventory file read by parc's
/// own Ansible-inventory reader. Compared: every path listed in `compare` (bytes, mode, owner;
/// a folder recursively), the changed count of each run, and which tasks failed.
/// Optional files: `extra-vars.yml` (given as `-e @extra-vars.yml` to both), `check` (both run in
/// check mode), `limit` (a pattern both runs are limited to, after the device).
///
/// Ansible spends half a second of the device's CPU on each task (its Python, on the device), the
/// whole of a fixture's time: two fixtures at a time keep this machine's two cores busy without
/// crowding the rest of the suite.
@Suite struct DifferentialTests {
    static let gate = Gate(width: 2)

    /// At most `width` bodies at a time; the others wait without holding a thread.
    actor Gate {
        private var free: Int
        private var waiting: [CheckedContinuation<Void, Never>] = []
        init(width: Int) { free = width }

        func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
            if free > 0 { free -= 1 } else { await withCheckedContinuation { waiting.append($0) } }
            defer { if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() } }
            return try await body()
        }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/differential").path

    static var fixtures: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// What one tool did in one run.
    struct Outcome: Equatable, CustomStringConvertible {
        var changed: Int
        var failedTasks: [String]
        var description: String { "changed=\(changed) failed=\(failedTasks)" }
    }

    @Test(arguments: fixtures) func parcDoesWhatAnsibleDoes(_ name: String) async throws {
        try await Self.gate.run { try await compare(name) }
    }

    func compare(_ name: String) async throws {
        guard let tool = SyntaxAgreementTests.ansiblePlaybook else {
            Issue.record("ansible-playbook is needed: run scripts/setup-ansible (scripts/test does)")
            return
        }
        let lab = try await LabRun.start(devices: 2)
        let work = lab.dir + "/fixture"
        try FileManager.default.copyItem(atPath: Self.root + "/" + name, toPath: work)
        let file = { (f: String) in FileManager.default.fileExists(atPath: work + "/" + f) }
        // One inventory for both tools: the devices' connection, then the fixture's groups.
        var ini = "[lab]\n"
        for d in lab.lab.devices {
            ini += "\(d.name) ansible_host=\(d.address) ansible_port=\(d.port) ansible_user=\(d.user) ansible_ssh_private_key_file=\(lab.lab.clientKey)\n"
        }
        if file("inventory.ini") { ini += "\n" + (try String(contentsOfFile: work + "/inventory.ini", encoding: .utf8)) }
        // With an `inventory/` folder, the inventory (and its group_vars/) is there, the playbook's own beside play.yml.
        let hostsFile = work + (file("inventory") ? "/inventory/hosts.ini" : "/hosts.ini")
        try ini.write(toFile: hostsFile, atomically: true, encoding: .utf8)
        // With an `ansible.cfg`, both tools read it (ANSIBLE_CONFIG): roles_path, gathering, become.
        let config = file("ansible.cfg")
            ? try AnsibleConfig.discover(environment: ["ANSIBLE_CONFIG": work + "/ansible.cfg"], directory: work, home: lab.dir + "/ansible-home")
            : AnsibleConfig.defaults(home: lab.dir + "/ansible-home")
        let check = file("check")
        let limit = file("limit") ? (try String(contentsOfFile: work + "/limit", encoding: .utf8)).trimmed : nil
        let compare = file("compare") ? (try String(contentsOfFile: work + "/compare", encoding: .utf8)).split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty && !$0.hasPrefix("#") } : []

        // Ansible on lab-02.
        var args = ["-i", hostsFile, "-l", "lab-02" + (limit.map { ":&\($0)" } ?? ""), work + "/play.yml"]
        if file("extra-vars.yml") { args += ["-e", "@" + work + "/extra-vars.yml"] }
        if check { args.append("--check") }
        var theirs: [Outcome] = []
        for run in 1...2 {
            let (status, out, err) = try await Self.ansible(tool, args, home: lab.dir + "/ansible-home", config: config.file)
            let outcome = try #require(Self.outcome(ofAnsible: out, host: "lab-02"), "ansible-playbook run \(run) gave no JSON (status \(status)):\n\(out)\n\(err)")
            theirs.append(outcome)
        }

        // parc on lab-01, from the same inventory file.
        let inventory = try AnsibleInventory.load(hostsFile)
        var book = try PlaybookLoader.load(work + "/play.yml", rolesPath: config.rolesPath.value)
        book.apply(PlayDefaults(become: config.become?.value ?? false, becomeUser: config.becomeUser?.value, gathering: config.gathering?.value ?? .implicit))
        var options = RunOptions(check: check)
        options.limit = "lab-01" + (limit.map { ":&\($0)" } ?? "")
        if file("extra-vars.yml") { options.extraVars = try PlaybookLoader.loadVars(work + "/extra-vars.yml") }
        options.knownNames = inventory.names
        var ours: [Outcome] = []
        var messages: [String] = []
        for _ in 1...2 {
            let runner = Runner(playbook: book, hosts: try inventory.targets(playbookDirectory: book.directory), connector: LabRun.LabConnector(lab: lab.lab), options: options)
            try runner.checkPatterns()
            let r = await runner.run()
            var failed: [String] = []
            for rec in r.records where rec.host == "lab-01" && rec.outcome == .failed && !failed.contains(rec.task) { failed.append(rec.task) }
            ours.append(Outcome(changed: r.recap["lab-01"]?.changed ?? 0, failedTasks: failed))
            messages += r.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" }
        }
        #expect(ours == theirs, "\(name): ansible-playbook \(theirs), parc \(ours)\nparc's failures: \(messages)")

        for path in compare {
            let script = "p=\(shellQuote(path)); if [ -d \"$p\" ]; then cd \"$p\" && find . -printf '%p %m %u %g %y\\n' | sort && find . -type f | sort | xargs -r sha256sum; "
                + "elif [ -e \"$p\" ]; then stat -c '%a %U %G' \"$p\"; cat \"$p\"; else echo absent; fi"
            let a = try await lab.sh(script, on: "lab-02"), p = try await lab.sh(script, on: "lab-01")
            #expect(p == a, "\(name): \(path): ansible-playbook left \(a.debugDescription), parc \(p.debugDescription)")
        }
    }

    static func ansible(_ tool: String, _ args: [String], home: String, config: String? = nil) async throws -> (Int32, String, String) {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\"$0\" \"$@\" > \"$HOME/out.json\" 2> \"$HOME/err.txt\"", tool] + args
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = home
        env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
        // ssh writes to the passwd home's known_hosts whatever HOME says: keep lab keys out of it.
        env["ANSIBLE_SSH_COMMON_ARGS"] = "-o UserKnownHostsFile=/dev/null"
        env["ANSIBLE_NOCOLOR"] = "1"
        env["ANSIBLE_LOCAL_TEMP"] = home + "/tmp"
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        env["ANSIBLE_RETRY_FILES_ENABLED"] = "False"
        // One SSH round trip per task instead of four (the lab's sudo needs no tty): the same modules
        // and results, in half the time.
        env["ANSIBLE_PIPELINING"] = "True"
        if let config { env["ANSIBLE_CONFIG"] = config }
        p.environment = env
        try p.run()
        nonisolated(unsafe) let running = p
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in Thread { running.waitUntilExit(); c.resume() }.start() }
        let out = (try? String(contentsOfFile: home + "/out.json", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: home + "/err.txt", encoding: .utf8)) ?? ""
        return (p.terminationStatus, out, err)
    }

    /// The changed count and the failed tasks of `host` in the json callback's output.
    static func outcome(ofAnsible json: String, host: String) -> Outcome? {
        guard let start = json.firstIndex(of: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(json[start...].utf8)) as? [String: Any] else { return nil }
        let stats = (object["stats"] as? [String: Any])?[host] as? [String: Any]
        var failed: [String] = []
        for play in object["plays"] as? [[String: Any]] ?? [] {
            for task in play["tasks"] as? [[String: Any]] ?? [] {
                guard let result = (task["hosts"] as? [String: Any])?[host] as? [String: Any] else { continue }
                let name = (task["task"] as? [String: Any])?["name"] as? String ?? ""
                if (result["failed"] as? Bool) == true, !failed.contains(name) { failed.append(name) }
            }
        }
        return Outcome(changed: (stats?["changed"] as? Int) ?? 0, failedTasks: failed)
    }
}
