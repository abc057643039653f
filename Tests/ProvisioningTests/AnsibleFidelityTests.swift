import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// The rules of issue "run real-world Ansible unchanged" that are not about files on a device
/// (those are the differential fixtures): refusals and errors, the variable order, listings.
@Suite struct AnsibleFidelityTests {
    @Test func anUnknownArgumentIsShownOnItsOwnLine() throws {
        let path = try writePlaybook("- hosts: all\n  tasks:\n    - copy:\n        content: x\n        dest: /tmp/x\n        mdoe: \"0644\"\n")
        #expect {
            try PlaybookLoader.load(path)
        } throws: { error in
            let e = error as! PlaybookError
            return e.location?.line == 6 && e.sourceLine?.contains("mdoe") == true
        }
    }

    @Test func rolePathsAreNormalisedAsText() throws {
        let root = playbookScratch.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: root + "/kiosk/tasks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/kiosk/tests", withIntermediateDirectories: true)
        try "- name: kiosk task\n  debug: msg={{ role_name }}\n".write(toFile: root + "/kiosk/tasks/main.yml", atomically: true, encoding: .utf8)
        // tests/roles does not exist: `roles/../..` only resolves as text, as in Ansible.
        try "- hosts: all\n  roles:\n    - ../..\n".write(toFile: root + "/kiosk/tests/test.yml", atomically: true, encoding: .utf8)
        let book = try PlaybookLoader.load(root + "/kiosk/tests/test.yml")
        // role_name is the name as written, as ansible-playbook 2.17 and 2.19 give it ("../..").
        #expect(book.plays[0].tasks.contains { $0.name == "kiosk task" && $0.vars["role_name"] == .string("../..") && $0.vars["role_path"] == .string(root + "/kiosk") })
        #expect(PlaybookLoader.normalised("/a/b/roles/../../c/./d") == "/a/c/d")
    }

    @Test func aPromptWithoutTerminalOrDefaultStopsTheRunNamingItsLine() async throws {
        let r = try await run("- hosts: all\n  gather_facts: no\n  vars_prompt:\n    - name: wifi_psk\n      prompt: Clé Wi-Fi\n  tasks:\n    - debug: msg={{ wifi_psk }}\n",
                              hosts: hosts(1))
        #expect(r.aborted?.contains("vars_prompt 'wifi_psk' needs an answer") == true && r.aborted?.contains("play.yml:4") == true, "\(r.aborted ?? "")")
        #expect(r.records.isEmpty)
        // -e answers it; a typed answer is data.
        var options = RunOptions(extraVars: ["wifi_psk": .string("cle")])
        let given = try await run("- hosts: all\n  gather_facts: no\n  vars_prompt:\n    - name: wifi_psk\n      prompt: Clé\n  tasks:\n    - debug: msg={{ wifi_psk }}\n",
                                  hosts: hosts(1), options: options)
        #expect(given.records.first?.message == "cle")
        options = RunOptions()
        options.prompter = { _, isPrivate in isPrivate ? "{{ lookup('env', 'HOME') }}" : nil }
        let typed = try await run("- hosts: all\n  gather_facts: no\n  vars_prompt:\n    - name: wifi_psk\n      prompt: Clé\n  tasks:\n    - debug: msg={{ wifi_psk }}\n",
                                  hosts: hosts(1), options: options)
        #expect(typed.records.first?.message == "{{ lookup('env', 'HOME') }}", "what is typed is never a template")
    }

    @Test func promptsConfirmAndEncryptAsAnsible() async throws {
        let yaml = "- hosts: all\n  gather_facts: no\n  vars_prompt:\n    - name: pw\n      prompt: Mot de passe\n      encrypt: sha512_crypt\n      confirm: yes\n      salt_size: 10\n  tasks:\n    - debug: msg={{ pw }}\n"
        // A mistyped confirmation is asked again; the answer is stored hashed with a random salt.
        let answers = Answers(["secret", "secrte", "secret", "secret"])
        var options = RunOptions()
        options.prompter = { question, _ in answers.next(question) }
        let r = try await run(yaml, hosts: hosts(1), options: options)
        let hash = try #require(r.records.first?.message)
        #expect(hash.hasPrefix("$6$rounds=656000$") && hash.split(separator: "$")[2].count == 10, "\(hash)")
        #expect(answers.asked == ["Mot de passe", "confirm Mot de passe", "Mot de passe", "confirm Mot de passe"])
        let check = try LocalProcess.run(["/usr/bin/openssl", "passwd", "-6", "-salt", String(hash.split(separator: "$")[1...2].joined(separator: "$")), "-stdin"],
                                         stdin: Array("secret\n".utf8))
        #expect(check.stdoutText.trimmed == hash, "the hash is of what was typed")
        // Never matching: the run stops, naming the line.
        let wrong = Answers(["a", "b", "a", "c", "a", "d"])
        options.prompter = { question, _ in wrong.next(question) }
        let stopped = try await run(yaml, hosts: hosts(1), options: options)
        #expect(stopped.aborted?.contains("the two answers never matched") == true && stopped.records.isEmpty)
        // -e answers it: no question, no hashing (as Ansible).
        let none = Answers([])
        options = RunOptions(extraVars: ["pw": .string("given")])
        options.prompter = { question, _ in none.next(question) }
        let given = try await run(yaml, hosts: hosts(1), options: options)
        #expect(given.records.first?.message == "given" && none.asked.isEmpty)
        #expect(throws: PlaybookError.self) {
            try PlaybookLoader.load(try writePlaybook("- hosts: all\n  vars_prompt:\n    - name: pw\n      encrypt: bcrypt\n  tasks: []\n"))
        }
    }

    /// Scripted answers to prompts, and the questions asked.
    final class Answers: @unchecked Sendable {
        private var left: [String]
        private(set) var asked: [String] = []
        private let lock = NSLock()
        init(_ answers: [String]) { left = answers }
        func next(_ question: String) -> String? {
            lock.lock(); defer { lock.unlock() }
            asked.append(question)
            return left.isEmpty ? nil : left.removeFirst()
        }
    }

    @Test func pollZeroIsForCommandsAndAsyncLimitsTheTime() async throws {
        _ = try PlaybookLoader.load(try writePlaybook("- hosts: all\n  tasks:\n    - command: sleep 100\n      async: 10\n      poll: 0\n"))
        let copy = try writePlaybook("- hosts: all\n  tasks:\n    - copy: { content: x, dest: /tmp/x }\n      async: 10\n      poll: 0\n")
        #expect(throws: PlaybookError.self) { try PlaybookLoader.load(copy) }
        let r = try await run("- hosts: all\n  gather_facts: no\n  tasks:\n    - command: /bin/true\n      async: 5\n      poll: 1\n", hosts: hosts(1))
        #expect(r.records.first?.outcome == .changed, "a command is changed, as in Ansible")
    }

    @Test func anUnknownNameInHostsIsAnErrorAndLocalhostIsTheControlNode() throws {
        let book = try PlaybookLoader.load(try writePlaybook("- hosts: room_a:nosuch\n  tasks: []\n"))
        let runner = Runner(playbook: book, hosts: hosts(3), connector: ScriptedConnector(), options: RunOptions())
        #expect(throws: PlaybookError.self) { try runner.checkPatterns() }
        let local = try PlaybookLoader.load(try writePlaybook("- hosts: localhost\n  tasks: []\n"))
        let r2 = Runner(playbook: local, hosts: hosts(3), connector: ScriptedConnector(), options: RunOptions())
        try r2.checkPatterns()
        #expect(r2.hosts(of: local.plays[0]).map(\.name) == ["localhost"])
        // `all` does not take the implicit localhost, as in Ansible.
        let all = try PlaybookLoader.load(try writePlaybook("- hosts: all\n  tasks: []\n"))
        #expect(Runner(playbook: all, hosts: hosts(3), connector: ScriptedConnector(), options: RunOptions()).hosts(of: all.plays[0]).count == 3)
    }

    @Test func ansibleInventoriesReadAsAnsibleReadsThem() throws {
        let dir = playbookScratch.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir + "/group_vars/ecole", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/host_vars", withIntermediateDirectories: true)
        try """
            pc-lonely ansible_host=10.0.0.9
            [salle_info]
            pc[01:03] ansible_user=eleve
            pc02 seats=24 flag=True name='a b'
            [salle_info:vars]
            proxy=http://proxy:3128
            level=group
            [ecole:children]
            salle_info
            [ecole:vars]
            level=parent
            """.write(toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
        try "from_dir: yes\nlevel: ecole_file\n".write(toFile: dir + "/group_vars/ecole/main.yml", atomically: true, encoding: .utf8)
        try "level: host_file\n".write(toFile: dir + "/host_vars/pc03.yml", atomically: true, encoding: .utf8)
        let inv = try AnsibleInventory.load(dir + "/hosts.ini")
        let targets = Dictionary(uniqueKeysWithValues: try inv.targets().map { ($0.name, $0) })
        #expect(Set(targets.keys) == ["pc-lonely", "pc01", "pc02", "pc03"])
        #expect(targets["pc02"]?.vars["seats"] == .int(24) && targets["pc02"]?.vars["flag"] == .bool(true) && targets["pc02"]?.vars["name"] == .string("a b"))
        #expect(targets["pc01"]?.groups == ["all", "ecole", "salle_info"])
        #expect(targets["pc-lonely"]?.groups == ["all", "ungrouped"])
        // Ansible's VARIABLE_PRECEDENCE: every group's group_vars/ file over every group's vars in the
        // inventory file (`ansible-inventory --host pc01` says ecole_file).
        #expect(targets["pc01"]?.vars["level"] == .string("ecole_file"), "the parent's folder file over the child's inventory vars")
        #expect(targets["pc02"]?.vars["proxy"] == .string("http://proxy:3128"))
        #expect(targets["pc03"]?.vars["level"] == .string("host_file") && targets["pc01"]?.vars["from_dir"] == .bool(true))
        try "all:\n  children:\n    ecole:\n      hosts:\n        pc01: { ansible_port: 2222 }\n      vars: { level: yaml }\n".write(toFile: dir + "/hosts.yml", atomically: true, encoding: .utf8)
        let yaml = try AnsibleInventory.load(dir + "/hosts.yml").targets()
        #expect(yaml.count == 1 && yaml[0].vars["ansible_port"] == .int(2222) && yaml[0].groups.contains("ecole"))
        try "[bad\n".write(toFile: dir + "/bad.ini", atomically: true, encoding: .utf8)
        #expect { try AnsibleInventory.load(dir + "/bad.ini") } throws: { ($0 as? PlaybookError)?.location?.line == 1 }
    }
}

/// A transport whose every command takes `seconds`.
struct SlowConnector: Connector {
    let seconds: Double
    func connect(_ host: HostTarget) async throws -> any Transport {
        let wait = seconds
        return SlowTransport(host: host.name, seconds: wait)
    }
}

final class SlowTransport: Transport, @unchecked Sendable {
    let host: String
    let seconds: Double
    init(host: String, seconds: Double) { self.host = host; self.seconds = seconds }
    func run(_ command: String, stdin: [UInt8]?, become: Become, timeout: Duration?) async throws -> CommandResult {
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        return CommandResult(exitStatus: 0, stdout: [], stderr: [])
    }
    func close() async {}
}

@Suite struct TemplateReachTests {
    @Test func asyncFailsATaskPastItsTime() async throws {
        let book = try PlaybookLoader.load(try writePlaybook("- hosts: all\n  gather_facts: no\n  tasks:\n    - name: slow\n      command: /bin/sleep 5\n      async: 1\n      poll: 1\n"))
        let r = await Runner(playbook: book, hosts: hosts(1), connector: SlowConnector(seconds: 3), options: RunOptions()).run()
        #expect(r.records.first?.outcome == .failed)
        #expect(r.records.first?.message == "async task did not complete within the requested time - 1s")
    }

    /// A templated `action:` is decided before the task's condition, as Ansible does: a name that
    /// cannot be rendered, or names no module of parc's, fails the task (the next tasks still load).
    @Test func aTemplatedActionIsDecidedWhenTheTaskRuns() async throws {
        let book = try PlaybookLoader.load(try writePlaybook("""
            - hosts: all
              gather_facts: no
              vars: { editor: nosuchmodule }
              tasks:
                - name: undefined
                  action: "{{ nosuch }} x=1"
                  when: false
                  ignore_errors: yes
                - name: unknown
                  action: "{{ editor }} path=/x"
                  ignore_errors: yes
                - name: bad argument
                  action: "{{ 'debug' }} colour=red"
            """))
        let r = await Runner(playbook: book, hosts: hosts(1), connector: SlowConnector(seconds: 0), options: RunOptions()).run()
        let byName = Dictionary(r.records.map { ($0.task, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["undefined"]?.outcome == .failed && byName["undefined"]?.message?.contains("'nosuch' is undefined") == true)
        #expect(byName["unknown"]?.message?.contains("names the module 'nosuchmodule', which parc does not have") == true)
        #expect(byName["bad argument"]?.message?.contains("debug takes key=value arguments; 'colour=red' is not one") == true, "\(byName["bad argument"]?.message ?? "")")
    }

    /// lookup('password'): kept in its file on the control node (mode 0600), drawn as Ansible's
    /// random_password draws it — with a seed, the same characters as Python's Random(seed) (the
    /// oracle: python3) —, never kept for /dev/null.
    @Test func passwordLookupKeepsItsPasswordAndDrawsAsAnsible() throws {
        let dir = playbookScratch.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let engine = TemplateEngine()
        let vars: [String: Value] = ["parc_playbook_dir": .string(dir)]
        let first = try engine.render("{{ lookup('password', 'credentials/pc-1 length=12 chars=ascii_lowercase,digits') }}", vars: vars)
        #expect(first.count == 12 && first.allSatisfy { $0.isLowercase || $0.isNumber })
        #expect(try engine.render("{{ lookup('password', 'credentials/pc-1 length=12') }}", vars: vars) == first, "kept in its file")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/credentials/pc-1")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: dir + "/credentials/pc-1", encoding: .utf8) == first + "\n")
        #expect(try engine.render("{{ lookup('password', '/dev/null') }}", vars: vars).count == 20)
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import random, string\nr = random.Random('salle-2')\nprint(''.join(r.choice(string.ascii_letters + string.digits + '.,:-_') for _ in range(20)))\n"
                       + "r = random.Random('x')\nprint(''.join(r.choice('ab,' + string.digits) for _ in range(8)))"]
        p.standardOutput = out
        try p.run()
        let answers = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        p.waitUntilExit()
        try #require(answers.count == 2)
        #expect(try engine.render("{{ lookup('password', '/dev/null seed=salle-2') }}", vars: vars) == answers[0])
        #expect(try engine.render("{{ lookup('password', '/dev/null', seed='x', length=8, chars=['ab,,', 'digits']) }}", vars: vars) == answers[1])
        #expect(throws: PlaybookError.self) { try engine.render("{{ lookup('password', '/dev/null encrypt=sha512_crypt') }}", vars: vars) }
        // Never outside the playbook's tree: a name from the inventory cannot lead out of it.
        #expect(throws: PlaybookError.self) { try engine.render("{{ lookup('password', 'credentials/../../x') }}", vars: vars) }
        #expect(throws: PlaybookError.self) { try engine.render("{{ lookup('password', '/tmp/parc-pw-outside') }}", vars: vars) }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/parc-pw-outside"))
        #expect(try engine.render("{{ lookup('password', '\(dir)/inside length=5') }}", vars: vars).count == 5)
        // pipe is refused, at load too, with its reason: it would run a command on the control node.
        #expect(throws: PlaybookError.self) { try engine.render("{{ lookup('pipe', 'id') }}", vars: vars) }
        #expect(performing: { try engine.check("{{ lookup('pipe', 'id') }}", at: nil) }, throws: { "\($0)".contains("by design") })
        try engine.check("{{ lookup('password', '/dev/null') }}", at: nil)
    }

    @Test func includeAndTemplateLookupReadThePlaybooksTemplates() throws {
        let dir = playbookScratch.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
        try "[{{ who }}]".write(toFile: dir + "/templates/part.j2", atomically: true, encoding: .utf8)
        let engine = TemplateEngine()
        let vars: [String: Value] = ["who": .string("cdi"), "parc_playbook_dir": .string(dir)]
        #expect(try engine.render("a{% include 'part.j2' %}b", vars: vars, options: .file) == "a[cdi]b")
        #expect(try engine.render("{{ lookup('template', 'part.j2') }}", vars: vars) == "[cdi]")
        #expect(throws: PlaybookError.self) { try engine.render("{% include 'none.j2' %}", vars: vars, options: .file) }
        #expect(try engine.render("x{% include 'none.j2' ignore missing %}", vars: vars, options: .file) == "x")
        // The lookup takes the template module's Jinja options and template_vars; a template that
        // prints nothing gives None (as ansible-core 2.19's lookup_template target checks).
        try "Hello [% who %]!\n[# note #]".write(toFile: dir + "/templates/square.txt", atomically: true, encoding: .utf8)
        try "{# nothing #}\n".write(toFile: dir + "/templates/none.j2", atomically: true, encoding: .utf8)
        #expect(try engine.evaluate(.string("{{ lookup('template', 'square.txt', variable_start_string='[%', variable_end_string='%]', comment_start_string='[#', comment_end_string='#]') }}"), vars: vars) == .string("Hello cdi!\n"))
        #expect(try engine.evaluate(.string("{{ lookup('template', 'part.j2', template_vars={'who': 'salle 2'}) }}"), vars: vars) == .string("[salle 2]"))
        #expect(try engine.condition("lookup('template', 'none.j2') is none", vars: vars))
        // import / from-import: another template's macros and top-level names; its variables
        // are the importer's only `with context`; private names (`_x`) stay in it.
        try "{% set motto = 'liberté' %}{% set _hidden = 1 %}{% macro hello(n) %}bonjour {{ n }}{% endmacro %}{% macro me() %}{{ who }}{% endmacro %}ignored"
            .write(toFile: dir + "/templates/m.j2", atomically: true, encoding: .utf8)
        #expect(try engine.render("{% import 'm.j2' as m %}{{ m.hello('parc') }}, {{ m.motto }}", vars: vars, options: .file) == "bonjour parc, liberté")
        #expect(try engine.render("{% from 'm.j2' import hello as h, me with context %}{{ h('x') }}/{{ me() }}", vars: vars, options: .file) == "bonjour x/cdi")
        #expect(throws: PlaybookError.self) { try engine.render("{% from 'm.j2' import me %}{{ me() }}", vars: vars, options: .file) }
        #expect(throws: PlaybookError.self) { try engine.render("{% from 'm.j2' import _hidden %}", vars: vars, options: .file) }
        #expect(throws: PlaybookError.self) { try engine.render("{% import 'absent.j2' as a %}", vars: vars, options: .file) }
    }
}
