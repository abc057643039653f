import Foundation
import Lab
import ParcCore
import Testing

/// `parc run` as someone used to ansible-playbook runs it: an existing inventory with -i, the
/// short flags, --list-hosts / --list-tasks / --start-at-task, one line per task and device.
@Suite(.serialized) struct AnsibleHabitsCLITests {
    /// An Ansible inventory of the lab's devices (with a group and its variables beside it), a
    /// playbook, and a HOME of its own (known_hosts).
    struct Files {
        let dir: String
        let home: String

        init(_ s: LabPingTests.Setup) throws {
            dir = s.parc.dir.appendingPathComponent("ansible").path
            home = s.parc.dir.appendingPathComponent("home").path
            try FileManager.default.createDirectory(atPath: dir + "/group_vars", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let lab = try s.lab
            var ini = "[salle_info]\n"
            for d in lab.devices {
                ini += "\(d.name) ansible_host=\(d.address) ansible_port=\(d.port) ansible_user=\(d.user) ansible_ssh_private_key_file=\(lab.clientKey)\n"
            }
            ini += "\n[ecole:children]\nsalle_info\n\n[vide]\n"
            try ini.write(toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
            try "motd_text: \"Salle {{ room }}\"\nroom: info\n".write(toFile: dir + "/group_vars/ecole.yml", atomically: true, encoding: .utf8)
            try """
                - name: Salle informatique
                  hosts: ecole
                  tasks:
                    - name: Message du jour
                      become: yes
                      copy: { content: "{{ motd_text }}\\n", dest: /etc/motd-ansible }
                      tags: [motd]
                    - name: Dire bonjour
                      debug: { msg: "Bonjour {{ inventory_hostname }}" }
                    - name: Deuxième partie
                      become: yes
                      copy: { content: "second\\n", dest: /etc/motd-second }
                """.write(toFile: dir + "/play.yml", atomically: true, encoding: .utf8)
        }

        var env: [String: String] { ["HOME": home, "NO_COLOR": "1"] }
    }

    @Test func anAnsibleInventoryRunsWithItsVariablesAndIsRecorded() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let f = try Files(s)
        // Nothing is known of these hosts' keys yet: strict refuses, accept-new records them in known_hosts.
        let strict = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/play.yml"], env: f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b })
        #expect(strict.status == 2, "\(strict.stderr)")
        let r = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/play.yml", "--host-key-policy", "accept-new", "-l", "salle_info"],
                                     env: f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("changed: [lab-01] Message du jour"), "one line per task and device: \(r.stderr)")
        #expect(r.stderr.contains("ok: [lab-02] Dire bonjour => {\n    \"msg\": \"Bonjour lab-02\"\n}"), "debug as Ansible shows it: \(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}["), "NO_COLOR: no colour")
        let motd = try String(contentsOfFile: try s.lab.devices[0].hostPath(of: "/etc/motd-ansible"), encoding: .utf8)
        #expect(motd == "Salle info\n", "group_vars beside the inventory, rendered")
        let known = try String(contentsOfFile: f.home + "/.ssh/known_hosts", encoding: .utf8)
        #expect(known.split(separator: "\n").count == 2 && known.contains("ssh-ed25519"))
        let again = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/play.yml", "--json"], env: f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b })
        #expect(again.status == 0, "strict now finds the keys in known_hosts: \(again.stderr)")
        let list = try await s.run("runs", "list")
        #expect(list.stdout.contains("-i \(f.dir)/hosts.ini"), "recorded as a run: \(list.stdout)")
    }

    @Test func shortFlagsListingsAndStartAtTask() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let f = try Files(s)
        let env = f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b }
        let hosts = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/play.yml", "--list-hosts"], env: env)
        #expect(hosts.status == 0 && hosts.stdout.contains("hosts (1):\n      lab-01"), "\(hosts.stdout)\(hosts.stderr)")
        let tasks = try await s.parc.run(["run", f.dir + "/play.yml", "--list-tasks"], env: env)
        #expect(tasks.stdout.contains("Message du jour\tTAGS: [motd]") && tasks.stdout.contains("Dire bonjour\tTAGS: []"), "\(tasks.stdout)")
        let start = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/play.yml", "--host-key-policy", "accept-new",
                                          "--start-at-task", "Deux*", "-C", "-D", "-f", "1", "-u", "nobody"], env: env)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(!start.stderr.contains("Message du jour") && start.stderr.contains("changed: [lab-01] Deuxième partie"), "\(start.stderr)")
        #expect(start.stderr.contains("--- [lab-01] Deuxième partie: /etc/motd-second"), "the diff is headed by device and task: \(start.stderr)")
        // A template mistake is found when the playbook is read, with its line and a caret.
        try "- hosts: all\n  tasks:\n    - debug:\n        msg: \"{{ x | }}\"\n".write(toFile: f.dir + "/broken.yml", atomically: true, encoding: .utf8)
        let broken = try await s.parc.run(["run", "--syntax-check", f.dir + "/broken.yml"], env: env)
        #expect(broken.status != 0 && broken.stderr.contains("broken.yml:3") && broken.stderr.contains("^ here"), "\(broken.stderr)")
        let tagged = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/play.yml", "--host-key-policy", "accept-new", "-t", "motd", "-C"], env: env)
        #expect(tagged.stderr.contains("Message du jour") && !tagged.stderr.contains("Dire bonjour"), "\(tagged.stderr)")
    }

    @Test func becomeFromTheFlagOrTheInventoryAndVerboseOutput() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let f = try Files(s)
        let env = f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b }
        try "- hosts: all\n  gather_facts: no\n  tasks:\n    - name: Write as root\n      shell: echo rooted > /etc/parc-b && id -un\n"
            .write(toFile: f.dir + "/root.yml", atomically: true, encoding: .utf8)
        let plain = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/root.yml", "--host-key-policy", "accept-new"], env: env)
        #expect(plain.status == 2, "without become the login user cannot write /etc: \(plain.stderr)")
        let b = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/root.yml", "-b", "-v"], env: env)
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stderr.contains("changed: [lab-01] Write as root\n    root"), "-v shows the task's output: \(b.stderr)")
        // ansible_become in the inventory wins over the play, as in Ansible.
        let ini = try String(contentsOfFile: f.dir + "/hosts.ini", encoding: .utf8)
        try (ini + "\n[salle_info:vars]\nansible_become=true\n").write(toFile: f.dir + "/become.ini", atomically: true, encoding: .utf8)
        let inventory = try await s.parc.run(["run", "-i", f.dir + "/become.ini", f.dir + "/root.yml"], env: env)
        #expect(inventory.status == 0, "\(inventory.stderr)")
    }

    /// A project's ansible.cfg, found as ansible-playbook finds it (the current folder, or
    /// ANSIBLE_CONFIG naming a folder): its inventory, roles_path, become and forks apply, and
    /// host_key_checking = False is said to be parc's accept-new. A role's own `tests/test.yml`,
    /// run from the role's folder by a relative path, finds the role as `../..`.
    @Test func aProjectsAnsibleCfgIsReadAsAnsibleReadsIt() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let f = try Files(s)
        let env = f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b }
        let shared = s.parc.dir.appendingPathComponent("shared-roles").path
        try FileManager.default.createDirectory(atPath: shared + "/motd/tasks", withIntermediateDirectories: true)
        try "- name: Message du rôle\n  copy: { content: \"{{ role_name }} {{ ansible_role_name }}\\n\", dest: /etc/motd-role }\n"
            .write(toFile: shared + "/motd/tasks/main.yml", atomically: true, encoding: .utf8)
        try """
            [defaults]
            inventory = hosts.ini
            roles_path = ../shared-roles   ; beside the project
            host_key_checking = False
            forks = 1

            [privilege_escalation]
            become = True
            """.write(toFile: f.dir + "/ansible.cfg", atomically: true, encoding: .utf8)
        try "- hosts: ecole\n  roles: [motd]\n".write(toFile: f.dir + "/site.yml", atomically: true, encoding: .utf8)
        let r = try await s.parc.run(["run", "site.yml"], cwd: URL(fileURLWithPath: f.dir), env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("ansible.cfg:2: inventory = \(f.dir)/hosts.ini: running on that Ansible inventory"), "\(r.stderr)")
        #expect(r.stderr.contains("ansible.cfg:4: host_key_checking = False: parc still checks host keys"), "\(r.stderr)")
        #expect(try String(contentsOfFile: try s.lab.devices[0].hostPath(of: "/etc/motd-role"), encoding: .utf8) == "motd motd\n",
                "the role from roles_path, run as root (become = True)")

        // A role's test playbook, from the role's folder, with the project's settings through ANSIBLE_CONFIG.
        let role = f.dir + "/kiosk"
        try FileManager.default.createDirectory(atPath: role + "/tasks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: role + "/tests", withIntermediateDirectories: true)
        try "- copy: { content: \"{{ role_name }}\\n\", dest: /etc/kiosk-role }\n".write(toFile: role + "/tasks/main.yml", atomically: true, encoding: .utf8)
        try "- hosts: all\n  roles: ['../..']\n".write(toFile: role + "/tests/test.yml", atomically: true, encoding: .utf8)
        let local = try await s.parc.run(["run", "tests/test.yml"], cwd: URL(fileURLWithPath: role),
                                         env: env.merging(["ANSIBLE_CONFIG": f.dir]) { _, b in b })
        #expect(local.status == 0, "\(local.stderr)")
        #expect(try String(contentsOfFile: try s.lab.devices[0].hostPath(of: "/etc/kiosk-role"), encoding: .utf8) == "../..\n",
                "role_name is the name as written, as Ansible's")

        // What parc cannot do is refused by its origin, before anything runs.
        let su = try await s.parc.run(["run", "site.yml"], cwd: URL(fileURLWithPath: f.dir), env: env.merging(["ANSIBLE_BECOME_METHOD": "su"]) { _, b in b })
        #expect(su.status != 0 && su.stderr.contains("ANSIBLE_BECOME_METHOD: become_method = su: parc becomes root with sudo only"), "\(su.stderr)")
        let missing = try await s.parc.run(["run", "--syntax-check", "site.yml"], cwd: URL(fileURLWithPath: f.dir),
                                           env: env.merging(["ANSIBLE_ROLES_PATH": "/nonexistent"]) { _, b in b })
        #expect(missing.status != 0 && missing.stderr.contains("the role 'motd' was not found in \(f.dir)/roles:/nonexistent:\(f.dir)"),
                "ANSIBLE_ROLES_PATH over the file, every place named: \(missing.stderr)")
    }

    @Test func oneRuleForPatterns() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let f = try Files(s)
        let env = f.env.merging(["PARC_LAB_DIR": s.labDir]) { _, b in b }
        try "- hosts: nosuchgroup\n  tasks:\n    - debug: msg=x\n".write(toFile: f.dir + "/unknown.yml", atomically: true, encoding: .utf8)
        let unknown = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/unknown.yml"], env: env)
        #expect(unknown.status != 0 && unknown.stderr.contains("'nosuchgroup'") && unknown.stderr.contains("unknown.yml:1"), "\(unknown.stderr)")
        // The same name refused by ping, and in parc's own inventory.
        let ping = try await s.run("ping", "nosuchgroup")
        #expect(ping.status != 0 && ping.stderr.contains("nosuchgroup"))
        let own = try await s.parc.run(["run", f.dir + "/unknown.yml"], env: env)
        #expect(own.status != 0 && own.stderr.contains("'nosuchgroup'"), "\(own.stderr)")
        // A known group without hosts: a warning, nothing run, exit 0.
        try "- hosts: vide\n  tasks:\n    - debug: msg=x\n".write(toFile: f.dir + "/empty.yml", atomically: true, encoding: .utf8)
        let empty = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/empty.yml", "--host-key-policy", "accept-new"], env: env)
        #expect(empty.status == 0 && empty.stderr.contains("[WARNING]: play"), "\(empty.stderr)")
        // The implicit localhost: the control node.
        try "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - copy: { content: \"here\\n\", dest: \"\(f.dir)/local.txt\" }\n"
            .write(toFile: f.dir + "/local.yml", atomically: true, encoding: .utf8)
        let local = try await s.parc.run(["run", "-i", f.dir + "/hosts.ini", f.dir + "/local.yml"], env: env)
        #expect(local.status == 0, "\(local.stderr)")
        #expect((try? String(contentsOfFile: f.dir + "/local.txt", encoding: .utf8)) == "here\n")
    }
}

/// Groups of the technician's own in parc's inventory.
@Suite(.serialized) struct UserGroupCLITests {
    @Test func aGroupOfOnesOwnIsAPatternWithVariables() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let serial = try s.lab.devices[1].serial
        #expect(try await s.run("group", "add", "salle_info_2").status == 0)
        let reserved = try await s.run("group", "add", "school_x")
        #expect(reserved.status != 0 && reserved.stderr.contains("parc's own groups"), "\(reserved.stderr)")
        #expect(try await s.run("group", "add-device", "salle_info_2", serial).status == 0)
        #expect(try await s.run("group", "var", "salle_info_2", "motd=Bonjour {{ x }}", "room=info").status == 0)
        let list = try await s.run("group", "list", "--json")
        #expect(list.stdout.contains("\"salle_info_2\"") && list.stdout.contains(serial), "\(list.stdout)")
        #expect(try await s.run("groups").stdout.contains("salle_info_2"))
        let dir = s.parc.dir.appendingPathComponent("books").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "- hosts: salle_info_2\n  become: yes\n  gather_facts: no\n  tasks:\n    - copy: { content: \"{{ motd }}|{{ room }}\\n\", dest: /etc/motd-group }\n"
            .write(toFile: dir + "/g.yml", atomically: true, encoding: .utf8)
        let run = try await s.run("run", dir + "/g.yml")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("changed: [lab-02]") && !run.stderr.contains("[lab-01]"), "only the group's device: \(run.stderr)")
        // A group variable is a value: its braces are text.
        let written = try String(contentsOfFile: try s.lab.devices[1].hostPath(of: "/etc/motd-group"), encoding: .utf8)
        #expect(written == "Bonjour {{ x }}|info\n")
        // Each change is in the audit log.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [s.parc.database, "SELECT action, entityKey FROM event WHERE entity = 'group' ORDER BY id"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let events = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(events == "create|salle_info_2\nupdate|salle_info_2\nupdate|salle_info_2\n", "\(events)")
        // Taken out of the group, then the group removed: the pattern no longer names it.
        #expect(try await s.run("group", "remove-device", "salle_info_2", serial).status == 0)
        #expect(try await s.run("group", "list", "--json").stdout.contains("\"devices\": []"))
        #expect(try await s.run("group", "remove", "salle_info_2").status == 0)
        let gone = try await s.run("run", dir + "/g.yml")
        #expect(gone.status != 0 && gone.stderr.contains("'salle_info_2'"), "\(gone.stderr)")
    }
}
