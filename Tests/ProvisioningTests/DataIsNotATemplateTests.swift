import Foundation
import Lab
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// A laptop a pupil tampered with, or an inventory field typed by anyone, must never make the
/// control node evaluate a template: what comes from a device or the database is data, written
/// verbatim wherever it flows. Each path gets a canary: a secret file and an environment variable
/// on the control node that a rendered lookup would leak into the device's file.
@Suite(.serialized) struct DataIsNotATemplateTests {
    // A variable the test process already has: setting one while other tests start processes
    // races their spawns (`environ` is reallocated under them).
    static let envName = "PATH"
    static let envSecret = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"

    /// The lab, a secret file on the control node, and the hostile text pointing at both.
    func setUp() throws -> (lab: LabRun, secretFile: String, fileSecret: String, hostileFile: String, hostileEnv: String) {
        let lab = try LabRun()
        let secretFile = lab.dir + "/parc_ed25519"
        let fileSecret = "PRIVATE-KEY-\(UUID().uuidString.prefix(8))"
        try fileSecret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        return (lab, secretFile, fileSecret, "{{ lookup(\"file\", \"\(secretFile)\") }}", "{{ lookup('env','\(Self.envName)') }}")
    }

    func expectVerbatim(_ lab: LabRun, _ path: String, _ expected: String, secrets: [String], _ r: RunResult,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        #expect(r.exitCode == 0, "\(r.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })", sourceLocation: sourceLocation)
        let content = try await lab.sh("cat \(path)")
        #expect(content == expected, sourceLocation: sourceLocation)
        for s in secrets { #expect(!content.contains(s), "the device received a secret of the control node", sourceLocation: sourceLocation) }
        for record in r.records {
            for s in secrets {
                #expect(!(record.output ?? "").contains(s) && !(record.message ?? "").contains(s), sourceLocation: sourceLocation)
            }
        }
    }

    @Test func registeredOutputIsWrittenVerbatimByATaskWithVars() async throws {
        let (lab, _, fileSecret, hostile, _) = try setUp()
        try await lab.write(hostile, to: "/etc/pupil/name")
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - command: cat /etc/pupil/name
                  register: out
                - name: write it back, in a task that has vars (the exploit)
                  vars: { where: /etc/pupil/copy }
                  copy: { content: "{{ out.stdout }}", dest: "{{ where }}" }
                - name: a task var that names the registered value
                  vars: { again: "{{ out.stdout }}" }
                  copy: { content: "{{ again }}", dest: /etc/pupil/again }
            """)
        try await expectVerbatim(lab, "/etc/pupil/copy", hostile, secrets: [fileSecret], r)
        try await expectVerbatim(lab, "/etc/pupil/again", hostile, secrets: [fileSecret], r)
    }

    @Test func setFactChainsLoopsAndTemplatesKeepDeviceTextAsData() async throws {
        let (lab, _, fileSecret, hostile, hostileEnv) = try setUp()
        try await lab.write("\(hostile)\n\(hostileEnv)\n", to: "/etc/pupil/lines")
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              vars:
                first_line: "{{ out.stdout_lines[0] }}"
              tasks:
                - command: cat /etc/pupil/lines
                  register: out
                - set_fact: { a: "{{ out.stdout_lines[0] }}" }
                - set_fact: { b: "[{{ a }}]" }
                - name: set_fact chain, in a task with vars
                  vars: { c: "{{ b }}" }
                  copy: { content: "{{ c }}", dest: /etc/pupil/chain }
                - name: a play var naming the registered value
                  copy: { content: "{{ first_line }}", dest: /etc/pupil/playvar }
                - name: each line in a loop, with task vars
                  vars: { suffix: "-item" }
                  lineinfile: { path: /etc/pupil/loop, line: "{{ item }}{{ suffix }}", create: yes }
                  loop: "{{ out.stdout_lines }}"
                - name: a template that prints the fact
                  template: { src: t.j2, dest: /etc/pupil/template }
            """, templates: ["t.j2": "b={{ b }}\n"])
        try await expectVerbatim(lab, "/etc/pupil/chain", "[\(hostile)]", secrets: [fileSecret, Self.envSecret], r)
        try await expectVerbatim(lab, "/etc/pupil/playvar", hostile, secrets: [fileSecret, Self.envSecret], r)
        try await expectVerbatim(lab, "/etc/pupil/loop", "\(hostile)-item\n\(hostileEnv)-item\n", secrets: [fileSecret, Self.envSecret], r)
        try await expectVerbatim(lab, "/etc/pupil/template", "b=[\(hostile)]\n", secrets: [fileSecret, Self.envSecret], r)
    }

    @Test func gatheredFactsAreData() async throws {
        let (lab, _, _, _, hostile) = try setUp()
        let release = try await lab.sh("grep -v '^PRETTY_NAME=' /etc/os-release")
        try await lab.write(release + "PRETTY_NAME=\"\(hostile)\"\n", to: "/etc/os-release")
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: yes
              tasks:
                - name: the OS name as facts give it, in a task with vars
                  vars: { os: "{{ ansible_os_name }}" }
                  copy: { content: "{{ os }}", dest: /etc/os-name-copy }
                - name: through ansible_facts and hostvars
                  vars: { via: "{{ hostvars[inventory_hostname]['parc_school'] }}/{{ ansible_facts['os_name'] }}" }
                  copy: { content: "{{ via }}", dest: /etc/os-name-via }
            """)
        try await expectVerbatim(lab, "/etc/os-name-copy", hostile, secrets: [Self.envSecret], r)
        try await expectVerbatim(lab, "/etc/os-name-via", "0572113M/\(hostile)", secrets: [Self.envSecret], r)
    }

    @Test func inventoryFieldsAreDataInEveryTaskAndThroughHostvars() async throws {
        let (lab, _, fileSecret, hostile, hostileEnv) = try setUp()
        lab.fields = ["parc_school_name": .string(hostileEnv), "parc_serial": .string(hostile)]
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              vars:
                school_line: "school={{ parc_school_name }}"
                control: "{{ lookup('env', '\(Self.envName)') }}"
              tasks:
                - name: a play var built on an inventory field
                  copy: { content: "{{ school_line }}", dest: /etc/school }
                - name: a task var, and hostvars
                  vars: { serial: "{{ hostvars[inventory_hostname].parc_serial }}" }
                  copy: { content: "{{ serial }}", dest: /etc/serial }
                - name: the lookup a person wrote still works (the control)
                  copy: { content: "{{ control }}", dest: /etc/control }
            """)
        try await expectVerbatim(lab, "/etc/school", "school=\(hostileEnv)", secrets: [Self.envSecret], r)
        try await expectVerbatim(lab, "/etc/serial", hostile, secrets: [fileSecret], r)
        try await expectVerbatim(lab, "/etc/control", Self.envSecret, secrets: [], r)
    }

    @Test func includeVarsOfAFileTheRunFetchedIsData() async throws {
        let (lab, _, fileSecret, hostile, _) = try setUp()
        let fetched = lab.dir + "/fetched-\(UUID().uuidString.prefix(6)).yml"
        try await lab.write("planted: '\(hostile)'\n", to: "/etc/planted.yml")
        let person = lab.dir + "/person-vars.yml"
        try "written: \"{{ lookup('env', '\(Self.envName)') }}\"\n".write(toFile: person, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(20))
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - slurp: { src: /etc/planted.yml }
                  register: s
                - copy: { content: "{{ s.content | b64decode }}", dest: \(fetched) }
                  delegate_to: localhost
                - include_vars: \(fetched)
                - include_vars: \(person)
                - vars: { v: "{{ planted }}" }
                  copy: { content: "{{ v }}", dest: /etc/planted-copy }
                - copy: { content: "{{ written }}", dest: /etc/person-copy }
            """)
        try await expectVerbatim(lab, "/etc/planted-copy", hostile, secrets: [fileSecret], r)
        // A vars file a person wrote is still a template.
        try await expectVerbatim(lab, "/etc/person-copy", Self.envSecret, secrets: [], r)
    }

    @Test func assertConditionsAreNotTakenFromData() async throws {
        let (lab, _, _, _, _) = try setUp()
        // Evaluated as an expression, the device's text is true (and reads the control node's
        // environment); as the data it is, a string that is not a boolean, it is false.
        let r = try await lab.run("""
            - hosts: all
              gather_facts: no
              tasks:
                - command: echo "lookup('env', '\(Self.envName)') != 'nope'"
                  register: out
                - assert: { that: "out.stdout | length > 10" }
                - assert: { that: "{{ out.stdout }}" }
            """)
        let failed = r.records.filter { $0.outcome == .failed }
        #expect(failed.count == 1 && failed.first?.task.hasPrefix("assert") == true, "\(r.records.map { "\($0.task): \($0.message ?? "")" })")
    }
}

/// Values that reach a system file from a school's name or a device must keep to the file's format.
@Suite(.serialized) struct FileFormatLabTests {
    @Test func mountAndLocaleGenKeepToTheirFilesFormats() async throws {
        let lab = try LabRun()
        lab.fields = ["parc_school_name": .string("École Jean Moulin\n//evil/share /mnt/evil cifs defaults 0 0")]
        try await lab.write("# fstab\n", to: "/etc/fstab")
        let before = try await lab.sh("cat /etc/locale.gen 2>/dev/null; echo")
        let bad = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - mount: { path: "/mnt/{{ parc_school_name }}", src: "//nas/partage", fstype: cifs, state: present }
                  ignore_errors: yes
                - locale_gen: { name: "fr_FR.UTF-8\\nen_US ISO-8859-1" }
                  ignore_errors: yes
                - mount: { path: /mnt/b, src: "//nas/b", fstype: cifs, opts: "guest ro", state: present }
                  ignore_errors: yes
            """)
        let failures = bad.records.filter { $0.outcome == .failed }.map { $0.message ?? "" }
        #expect(failures.count == 3, "\(failures)")
        #expect(failures.first?.contains("control character") == true)
        #expect(failures.dropFirst().first?.contains("is not a locale name") == true)
        #expect(failures.last?.contains("cannot hold blanks") == true)
        #expect(try await lab.sh("cat /etc/fstab") == "# fstab\n", "nothing was written")
        #expect(try await lab.sh("cat /etc/locale.gen 2>/dev/null; echo") == before)

        // A space is written as fstab's escape, as Ansible does; a second run changes nothing.
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - mount: { path: "/mnt/Salle info", src: "//nas/Salle info", fstype: cifs, opts: "guest,ro", state: present }
            """
        let good = try await lab.run(yaml)
        #expect(good.exitCode == 0 && counts(good).changed == 1)
        #expect(try await lab.sh("cat /etc/fstab") == "# fstab\n//nas/Salle\\040info\t/mnt/Salle\\040info\tcifs\tguest,ro\t0\t0\n")
        #expect(counts(try await lab.run(yaml)).changed == 0)
    }
}

/// Ansible is the oracle: the same hostile play, run by `ansible-playbook` on one lab device and by
/// parc on another, leaves the same files (bytes, mode, owner) and the same changed count. Device
/// text stays text in both; play vars rank above facts in both.
@Suite(.serialized) struct DataDifferentialTests {
    @Test func ansibleAndParcLeaveTheSameFilesWhenDevicesPrintTemplates() async throws {
        guard let tool = SyntaxAgreementTests.ansiblePlaybook else {
            Issue.record("ansible-playbook is needed: run scripts/setup-ansible (scripts/test does)")
            return
        }
        let lab = try LabRun(devices: 2)
        let secretFile = lab.dir + "/secret.txt"
        try "secret-in-file\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        let play = lab.dir + "/diff.yml"
        try """
            - hosts: all
              become: yes
              gather_facts: yes
              vars:
                ansible_os_family: PlayValue
                first: "{{ out.stdout_lines[0] }}"
              tasks:
                - name: the device holds text that looks like templates (plain text around expressions)
                  copy:
                    dest: /etc/pupil-src
                    content: "{{ '{{' }} lookup('file', '\(secretFile)') }}\\n{{ '{{' }} lookup('env', 'PATH') }}\\n"
                - command: cat /etc/pupil-src
                  register: out
                - name: registered output written back by a task with vars
                  vars: { where: /etc/pupil-copy }
                  copy: { content: "{{ out.stdout }}", dest: "{{ where }}", mode: "0640" }
                - set_fact: { a: "{{ out.stdout_lines[1] }}" }
                - set_fact: { b: "[{{ a }}]" }
                - vars: { c: "{{ b }}" }
                  copy: { content: "{{ c }}|{{ first }}", dest: /etc/pupil-chain }
                - copy: { content: "{{ ansible_os_family }}", dest: /etc/pupil-precedence }
            """.write(toFile: play, atomically: true, encoding: .utf8)

        // Ansible on lab-02.
        let device = try #require(lab.lab.device("lab-02"))
        try "lab-02 ansible_host=\(device.address) ansible_port=\(device.port) ansible_user=\(device.user) ansible_ssh_private_key_file=\(lab.lab.clientKey)\n"
            .write(toFile: lab.dir + "/hosts.ini", atomically: true, encoding: .utf8)
        let (status, ansibleOut, ansibleErr) = try await DifferentialTests.ansible(tool, ["-i", lab.dir + "/hosts.ini", play], home: lab.dir + "/ansible-home")
        #expect(status == 0, "\(ansibleOut)\(ansibleErr)")
        let theirs = DifferentialTests.outcome(ofAnsible: ansibleOut, host: "lab-02")

        // parc on lab-01.
        let book = try PlaybookLoader.load(play)
        let r = await Runner(playbook: book, hosts: lab.hosts.filter { $0.name == "lab-01" }, connector: LabRun.LabConnector(lab: lab.lab),
                             options: RunOptions()).run()
        #expect(r.exitCode == 0, "\(r.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })")

        // The same files, byte for byte, with the same mode and owner; the same changed count.
        for path in ["/etc/pupil-src", "/etc/pupil-copy", "/etc/pupil-chain", "/etc/pupil-precedence"] {
            let q = shellQuote(path)
            let theirs = try await lab.sh("stat -c '%a %U %G' \(q); cat \(q)", on: "lab-02")
            let ours = try await lab.sh("stat -c '%a %U %G' \(q); cat \(q)", on: "lab-01")
            #expect(ours == theirs, "\(path): ansible-playbook wrote \(theirs.debugDescription), parc \(ours.debugDescription)")
            #expect(!ours.contains("secret-in") && !ours.contains(DataIsNotATemplateTests.envSecret), "no secret of the control node reached the device")
        }
        #expect(theirs?.changed == r.recap["lab-01"]?.changed, "\(ansibleOut)")
    }
}
