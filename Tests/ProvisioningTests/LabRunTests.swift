import Foundation
import Lab
import ParcCore
@testable import Provisioning
import Templating
import SSHTransport
import Testing

/// Lab devices (real sshd, each with its own /etc, /home, /var, /usr) to run playbooks on.
final class LabRun: @unchecked Sendable {
    let lab: Lab
    let dir: String

    init(devices: Int = 1) throws {
        if let why = Lab.unavailableReason() { Issue.record("sshd is needed: \(why)") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-labrun-\(UUID().uuidString.prefix(8))").path
        lab = try Lab.up(count: devices, in: dir)
    }

    deinit { lab.down() }

    /// A lab started on a thread of its own: starting sshd blocks, and the cooperative pool of
    /// a parallel test run has two threads here.
    static func start(devices: Int = 1) async throws -> LabRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try LabRun(devices: devices) }) }.start()
        }
    }

    struct LabConnector: Connector {
        let lab: Lab
        func connect(_ host: HostTarget) async throws -> any Transport {
            guard let d = lab.device(host.name) else { throw TransportError.unreachable(host: host.name, reason: "no such lab device") }
            // The inventory's (or a remote_user's) login user, else the lab's.
            let user = host.variable("ansible_user")?.string ?? d.user
            return try await SSHConnection.connect(SSHOptions(name: d.name, address: d.address, port: d.port, user: user,
                                                              credentials: [.keyFile(lab.clientKey)],
                                                              hostKeyPolicy: HostKeyPolicy(mode: .strict, pinned: try lab.hostKey(d.name)),
                                                              connectTimeout: .seconds(5)))
        }
    }

    /// More inventory fields (data) for every device.
    var fields: [String: Value] = [:]

    var hosts: [HostTarget] {
        lab.devices.map { d in
            HostTarget(name: d.name, serial: d.serial, groups: ["kind_laptop", "lab"],
                       data: ["inventory_hostname": .string(d.name), "parc_hostname": .string(d.name), "parc_serial": .string(d.serial),
                              "parc_school": .string("0572113M")].merging(fields) { _, new in new })
        }
    }

    /// Writes the playbook (and its files/ and templates/) and runs it.
    /// `links`: symbolic links made in files/ (name → target).
    func run(_ yaml: String, files: [String: String] = [:], templates: [String: String] = [:], links: [String: String] = [:],
             options: RunOptions = RunOptions()) async throws -> RunResult {
        let book = dir + "/book-\(UUID().uuidString.prefix(6))"
        let fm = FileManager.default
        for (folder, entries) in [("files", files), ("templates", templates)] {
            try fm.createDirectory(atPath: "\(book)/\(folder)", withIntermediateDirectories: true)
            for (name, text) in entries {
                let path = "\(book)/\(folder)/\(name)"
                try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
        for (name, target) in links {
            let path = "\(book)/files/\(name)"
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: path, withDestinationPath: target)
        }
        try yaml.write(toFile: book + "/play.yml", atomically: true, encoding: .utf8)
        return await Runner(playbook: try PlaybookLoader.load(book + "/play.yml"), hosts: hosts, connector: LabConnector(lab: lab), options: options).run()
    }

    /// Writes a file on a device, as root (text of any kind: no shell quoting involved).
    func write(_ text: String, to path: String, on name: String = "lab-01") async throws {
        let c = try await LabConnector(lab: lab).connect(hosts.first { $0.name == name }!)
        do {
            let bytes = Array(text.utf8)
            _ = try await c.run("mkdir -p \(shellQuote((path as NSString).deletingLastPathComponent))", stdin: nil, become: .sudo, timeout: .seconds(30))
            let wrote = try await c.shell(Step.write(path, bytes, mode: 0o644).script, input: bytes, become: .sudo, timeout: .seconds(30))
            guard wrote.succeeded else { throw TransportError.channelFailure(host: name, reason: wrote.stderrText) }
        } catch { await c.close(); throw error }
        await c.close()
    }

    /// A command's output on a device, as root.
    func sh(_ command: String, on name: String = "lab-01") async throws -> String {
        let c = try await LabConnector(lab: lab).connect(hosts.first { $0.name == name }!)
        let out: String
        do { out = try await c.run(command, stdin: nil, become: .sudo, timeout: .seconds(30)).stdoutText } catch { await c.close(); throw error }
        await c.close()
        return out
    }
}

/// Each record's task, outcome and message: what an expectation about a run shows when it fails.
func described(_ r: RunResult) -> Comment {
    Comment(rawValue: "\(r.records.map { "\($0.task): \($0.outcome) \($0.message ?? "")" })")
}

func counts(_ r: RunResult, _ host: String = "lab-01") -> (changed: Int, failed: Int) {
    (r.recap[host]?.changed ?? -1, r.recap[host]?.failed ?? -1)
}

@Suite(.serialized) struct ModuleLabTests {
    /// Check mode reports changes and makes none; the first run makes them; the second finds nothing to do.
    func checkThenApplyThenIdempotent(_ lab: LabRun, _ yaml: String, files: [String: String] = [:], templates: [String: String] = [:],
                                      expectChanged: Int, verify: () async throws -> Void, untouched: () async throws -> Void) async throws {
        let dry = try await lab.run(yaml, files: files, templates: templates, options: RunOptions(check: true, diff: true))
        #expect(dry.exitCode == 0, "\(dry.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })")
        #expect(counts(dry).changed == expectChanged, "check mode reports what would change")
        try await untouched()
        let first = try await lab.run(yaml, files: files, templates: templates, options: RunOptions(diff: true))
        #expect(first.exitCode == 0, "\(first.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })")
        #expect(counts(first).changed == expectChanged)
        try await verify()
        let second = try await lab.run(yaml, files: files, templates: templates)
        #expect(counts(second) == (0, 0), "second run: \(second.records.filter { $0.outcome == .changed }.map(\.task))")
    }

    @Test func fileCopyTemplateAndLineinfileAreIdempotentHonestInCheckModeAndDiffed() async throws {
        let lab = try LabRun()
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              vars:
                ent_url: https://ariane57.example/
              tasks:
                - name: folder
                  file: { path: /etc/parc-test, state: directory, mode: "0750" }
                - name: from files/
                  copy: { src: motd.txt, dest: /etc/parc-test/motd, mode: "0644", owner: root, group: root }
                - name: content
                  copy: { content: "clé=valeur\\n", dest: /etc/parc-test/inline.conf, mode: 0600 }
                - name: template
                  template: { src: home.j2, dest: /etc/parc-test/home.conf }
                - name: line
                  lineinfile: { path: /etc/parc-test/lines.conf, regexp: "^clé=", line: "clé=nouvelle", create: yes }
                - name: link
                  # force: in check mode the target is not there yet, and Ansible refuses a link to nothing without it.
                  file: { path: /etc/parc-test/current, src: /etc/parc-test/motd, state: link, force: yes }
                - name: touch
                  # Ansible's touch updates the times (a change) on every run unless told to preserve them.
                  file: { path: /etc/parc-test/flag, state: touch, access_time: preserve, modification_time: preserve }
            """
        try await checkThenApplyThenIdempotent(lab, yaml, files: ["motd.txt": "Bienvenue à l'école\n"],
                                               templates: ["home.j2": "home={{ ent_url }}\nhost={{ inventory_hostname }}\n"], expectChanged: 7,
            verify: {
                let out = try await lab.sh("stat -c '%a %U' /etc/parc-test; cat /etc/parc-test/motd /etc/parc-test/home.conf /etc/parc-test/inline.conf /etc/parc-test/lines.conf; stat -c %a /etc/parc-test/inline.conf; readlink /etc/parc-test/current")
                #expect(out == "750 root\nBienvenue à l'école\nhome=https://ariane57.example/\nhost=lab-01\nclé=valeur\nclé=nouvelle\n600\n/etc/parc-test/motd\n")
            },
            untouched: { () async throws in #expect(try await lab.sh("test -e /etc/parc-test && echo yes || echo no") == "no\n") })
        #expect(!FileManager.default.fileExists(atPath: "/etc/parc-test"), "the machine itself is untouched")

        // Diff of a changed file, in check mode.
        let dry = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - lineinfile: { path: /etc/parc-test/lines.conf, regexp: "^clé=", line: "clé=autre" }
            """, options: RunOptions(check: true, diff: true))
        let diff = try #require(dry.records.first?.diff.first)
        #expect(diff.unified.contains("-clé=nouvelle\n+clé=autre"))
        #expect(try await lab.sh("cat /etc/parc-test/lines.conf") == "clé=nouvelle\n")
    }

    @Test func userHostnameServiceAndAptOnADevice() async throws {
        let lab = try LabRun()
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: account
                  user: { name: eleve, shell: /bin/bash, groups: [audio], password: "$6$parc$8Z1fJ0pmKkYfX2m1wO1Q0z3vO1s1q1hXUy0a1m2n3b4v5c6x7z8l9k0j1h2g3f4d5s6a7p8o9i0u1y2t3r4e5w6q7" }
                - name: host name
                  hostname: { name: salle-cm2-01 }
                - name: service
                  service: { name: cups, state: started, enabled: yes }
                - name: packages already there
                  apt: { name: [coreutils, sed], state: present }
            """
        try await checkThenApplyThenIdempotent(lab, yaml, expectChanged: 3,
            verify: {
                let out = try await lab.sh("id -nG eleve; getent passwd eleve | cut -d: -f7; hostname; cat /etc/hostname; systemctl is-active cups; systemctl is-enabled cups; getent shadow eleve | cut -d: -f2 | cut -c1-7")
                #expect(out == "eleve audio\n/bin/bash\nsalle-cm2-01\nsalle-cm2-01\nactive\nenabled\n$6$parc\n")
            },
            untouched: { () async throws in #expect(try await lab.sh("getent passwd eleve || echo none; hostname") == "none\nlab-01\n") })
        // A missing package in check mode: reported, not installed.
        let dry = try await lab.run("- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt: { name: cowsay }\n", options: RunOptions(check: true))
        #expect(counts(dry).changed == 1)
        #expect(dry.records.first?.message?.contains("apt-get install") == true)
        #expect(try await lab.sh("dpkg-query -W cowsay >/dev/null 2>&1 && echo yes || echo no") == "no\n")
    }

    @Test func userAccountsExpiryLockKeysAndHomesAsAnsibleManagesThem() async throws {
        let lab = try LabRun()
        let hash = "$6$rounds=656000$TT4O7jz2M57npccl$33LF6FcUMSW11qrESXL1HX0BS.bsiT6aenFLLiVpsQh6hDtI9pJh5iY7x8J7ePkN4fP8hmElidHXaeD51pbGS."
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: account
                  user:
                    name: eleve
                    password: "\(hash)"
                    password_lock: yes
                    expires: 2529881062
                    password_expire_max: 10
                    password_expire_warn: 28
                    generate_ssh_key: yes
                    ssh_key_passphrase: s3cret-phrase
                  register: made
                - name: keep the result
                  copy: { content: "{{ (made.ssh_public_key | default('')).startswith('ssh-rsa ') }} {{ made.ssh_key_file | default('') }} {{ made.uid | default(0) > 999 }}\\n", dest: /var/tmp/made }
            """
        try await checkThenApplyThenIdempotent(lab, yaml, expectChanged: 2,
            verify: {
                // Locked with the hash, expiring on 2050-03-03 (day 29281), ageing set; the key's
                // passphrase opens it and it is the user's.
                let shadow = try await lab.sh("getent shadow eleve | cut -d: -f2,5,6,8")
                #expect(shadow == "!\(hash):10:28:29281\n")
                #expect(try await lab.sh("ssh-keygen -y -P s3cret-phrase -f /home/eleve/.ssh/id_rsa >/dev/null && echo opens; ssh-keygen -y -P wrong -f /home/eleve/.ssh/id_rsa >/dev/null 2>&1 || echo refuses; stat -c '%U %a' /home/eleve/.ssh /home/eleve/.ssh/id_rsa")
                        == "opens\nrefuses\neleve 700\neleve 600\n")
                #expect(try await lab.sh("cat /var/tmp/made") == "True /home/eleve/.ssh/id_rsa True\n")
            },
            untouched: { () async throws in #expect(try await lab.sh("getent passwd eleve || echo none") == "none\n") })
        // Unlocked and never expiring; a home removed by hand comes back from the skeleton.
        _ = try await lab.sh("rm -rf /home/eleve")
        // getent's fact is under ansible_facts too (set_fact's is not); a path given a mapping is
        // its Python text, as Ansible's `path` type makes it (the user target's clean-up loop).
        let again = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - user: { name: eleve, password_lock: no, expires: -1 }
                - getent: { database: shadow, key: eleve }
                - set_fact: { mine: 1 }
                - assert:
                    that:
                      - ansible_facts.getent_shadow['eleve'][6] == ''
                      - getent_shadow == ansible_facts.getent_shadow
                      - ansible_facts.mine is not defined
                - file: { path: "{{ item }}", state: absent }
                  loop: [{ path: /nowhere }]
            """)
        #expect(counts(again) == (1, 0), described(again))
        #expect(again.records.map(\.outcome) == [.changed, .ok, .ok, .ok, .ok], described(again))
        #expect(try await lab.sh("getent shadow eleve | awk -F: '{ print substr($2, 1, 3), $8 == \"\" }'; stat -c '%U %a' /home/eleve /home/eleve/.bashrc")
                == "$6$ 1\neleve 755\neleve 644\n")
    }

    @Test func aHeldPackageIsRemovedOnlyWithAllowChangeHeldPackages() async throws {
        let lab = try LabRun()
        // wrk: installed here by scripts/setup-system, nothing depends on it; the device's /usr
        // and /var are its own, so removing it there leaves this machine's.
        #expect(try await lab.sh("apt-mark hold wrk") == "wrk set on hold.\n")
        let play = { (allow: Bool) in "- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt: { name: wrk, state: absent, allow_change_held_packages: \(allow) }\n      register: r\n      ignore_errors: yes\n    - copy: { content: \"{{ r.failed }} {{ '--allow-change-held-packages' in (r.stderr | default('')) }}\", dest: /var/tmp/held }\n" }
        let refused = try await lab.run(play(false))
        let kept = try await lab.sh("cat /var/tmp/held; dpkg-query -W -f='${db:Status-Abbrev}' wrk")
        #expect(kept == "True Truehi ", "\(kept) \(described(refused))")
        let removed = try await lab.run(play(true))
        #expect(removed.records.first?.outcome == .changed, described(removed))
        #expect(try await lab.sh("cat /var/tmp/held; dpkg-query -W -f='${db:Status-Abbrev}' wrk 2>/dev/null || echo gone") == "False Falsegone\n")
        #expect(FileManager.default.fileExists(atPath: "/usr/bin/wrk"), "this machine keeps its own")
    }

    @Test func waitForDrainedCountsTheActiveConnectionsOfAPort() async throws {
        let lab = try LabRun()
        let address = try #require(lab.lab.devices.first?.address)
        #expect(FactModules.procAddress("127.0.0.1") == "0100007F" && FactModules.procAddress("::1") == "00000000000000000000000001000000")
        #expect(FactModules.procAddress("0.0.0.0") == "00000000" && FactModules.procAddress("a-name") == nil)
        // The run's own SSH session is an established connection to the device's port 22: it never
        // drains, unless its far end is excluded; a port nobody uses is drained at once.
        let run = try await lab.run("""
            - hosts: all
              gather_facts: no
              tasks:
                - wait_for: { host: "\(address)", port: 22, state: drained, timeout: 2 }
                  register: busy
                  ignore_errors: yes
                - wait_for: { host: "\(address)", port: 22, state: drained, timeout: 20, exclude_hosts: ["127.0.0.1", "\(address)"] }
                  register: excluded
                - wait_for: { host: "\(address)", port: 9, state: drained }
                  register: idle
                - copy: { content: "{{ busy.msg }} {{ busy.elapsed >= 2 }} {{ excluded.state }} {{ excluded.elapsed < 5 }} {{ idle.port }}", dest: /var/tmp/drained }
            """)
        #expect(run.records.map(\.outcome) == [.failed, .ok, .ok, .changed] && run.exitCode == 0, described(run))
        #expect(try await lab.sh("cat /var/tmp/drained") == "Timeout when waiting for \(address):22 to drain True drained True 9", described(run))
    }

    @Test func commandShellRegisterAndHandlersOnADevice() async throws {
        let lab = try LabRun()
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: make a marker once
                  command: touch /var/tmp/marker creates=/var/tmp/marker
                  notify: restart cups
                - name: read it
                  shell: ls /var/tmp | grep -c marker
                  register: found
                  changed_when: false
                - name: say
                  debug: msg="{{ found.stdout }} marker"
              handlers:
                - name: restart cups
                  service: { name: cups, state: restarted }
            """
        let first = try await lab.run(yaml)
        #expect(first.records.map(\.outcome) == [.changed, .ok, .ok, .changed])
        #expect(first.records[2].message == "1 marker")
        #expect(try await lab.sh("cat /var/lib/parc-lab/units/cups.starts | wc -l") == "1\n")
        let second = try await lab.run(yaml)
        #expect(second.records.map(\.outcome) == [.ok, .ok, .ok], "creates= skips; no change, no handler")
        #expect(try await lab.sh("cat /var/lib/parc-lab/units/cups.starts | wc -l") == "1\n")
    }

    @Test func aSwitchedOffDeviceIsUnreachableWhileTheOthersFinish() async throws {
        let lab = try LabRun(devices: 3)
        lab.lab.stop("lab-02")
        let r = try await lab.run("- hosts: all\n  gather_facts: no\n  tasks:\n    - command: hostname\n")
        #expect(r.exitCode == 4)
        #expect(r.unreachableHosts == [lab.lab.device("lab-02")!.serial])
        #expect(r.recap["lab-01"]?.changed == 1 && r.recap["lab-03"]?.changed == 1)
    }

    /// A device that goes off in the middle of a run is unreachable (exit 4), like one that was
    /// off from the start, not failed: its remaining work is owed to it.
    @Test func aDeviceThatDropsDuringTheRunIsUnreachableNotFailed() async throws {
        let lab = try LabRun(devices: 2)
        let stopper = Task {
            try await Task.sleep(for: .milliseconds(1_500))
            lab.lab.powerOff("lab-02")
        }
        let r = try await lab.run("""
            - hosts: all
              gather_facts: no
              tasks:
                - command: hostname
                - command: "sleep {{ 6 if inventory_hostname == 'lab-02' else 0 }}"
                - command: hostname
            """)
        _ = try await stopper.value
        let gone = lab.lab.device("lab-02")!.serial
        #expect(r.exitCode == 4, "\(r.records.map { "\($0.host) \($0.task): \($0.outcome) \($0.message ?? "")" })")
        #expect(r.unreachableHosts == [gone] && r.failedHosts.isEmpty)
        #expect(r.recap["lab-02"]?.unreachable == 1 && r.recap["lab-02"]?.failed == 0 && r.recap["lab-02"]?.changed == 1)
        #expect(r.recap["lab-01"]?.changed == 3)
        let dropped = r.records.first { $0.host == "lab-02" && $0.outcome == .unreachable }
        #expect(dropped?.message?.contains("the connection dropped") == true, "\(dropped?.message ?? "")")
    }

    @Test func gatheredFactsComeFromTheDevice() async throws {
        let lab = try LabRun()
        let r = try await lab.run("- hosts: all\n  tasks:\n    - debug: msg=\"{{ ansible_hostname }}/{{ ansible_os_family }}\"\n")
        #expect(r.records.first?.message == "lab-01/Debian")
    }
}

@Suite(.serialized) struct ShippedPlaybookTests {
    static let playbooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("playbooks")

    func run(_ lab: LabRun, _ name: String, _ options: RunOptions) async throws -> RunResult {
        let book = try PlaybookLoader.load(Self.playbooks.appendingPathComponent(name).path)
        return await Runner(playbook: book, hosts: lab.hosts, connector: LabRun.LabConnector(lab: lab.lab), options: options).run()
    }

    @Test func theBaselineConfiguresALaptopAndASecondRunChangesNothing() async throws {
        let lab = try LabRun(devices: 2)
        // Packages would be downloaded from Debian's mirror: the test keeps to the configuration.
        var options = RunOptions(skipTags: ["packages"])
        options.extraVars = ["proxy_url": .string("http://proxy.ecole.example:3128"), "parc_hostname": .string("NLV-CM2-01")]
        let first = try await run(lab, "baseline.yml", options)
        #expect(first.exitCode == 0, "\(first.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })")
        let out = try await lab.sh("hostname; readlink /etc/localtime; cat /etc/timezone; grep proxy /etc/environment; getent passwd eleve | cut -d: -f1; cat /etc/firefox/policies/policies.json")
        #expect(out.hasPrefix("nlv-cm2-01\n/usr/share/zoneinfo/Europe/Paris\nEurope/Paris\nhttp_proxy=http://proxy.ecole.example:3128\nhttps_proxy=http://proxy.ecole.example:3128\neleve\n"))
        let policies = try #require(try JSONSerialization.jsonObject(with: Data(out.split(separator: "\n").dropFirst(6).joined(separator: "\n").utf8)) as? [String: Any])
        let homepage = ((policies["policies"] as? [String: Any])?["Homepage"] as? [String: Any])?["URL"] as? String
        #expect(homepage == "https://ariane57.monbureaunumerique.fr/")
        let second = try await run(lab, "baseline.yml", options)
        #expect(second.recap.values.allSatisfy { $0.changed == 0 && $0.failed == 0 })
    }

    @Test func wifiNeedsItsSecretAndWritesAPrivateConnectionFile() async throws {
        let lab = try LabRun()
        let missing = try await run(lab, "wifi.yml", RunOptions())
        #expect(missing.exitCode == 2)
        #expect(missing.records.first?.message?.contains("wifi_psk is not set") == true)
        var options = RunOptions()
        options.extraVars = ["wifi_psk": .string("Ecole-Norroy-2026")]
        let r = try await run(lab, "wifi.yml", options)
        #expect(r.exitCode == 0)
        let out = try await lab.sh("stat -c '%a %U' /etc/NetworkManager/system-connections/ecole.nmconnection; grep -E '^(ssid|psk)=' /etc/NetworkManager/system-connections/ecole.nmconnection; systemctl is-active NetworkManager")
        #expect(out == "600 root\nssid=ECOLE-0572113M\npsk=Ecole-Norroy-2026\nactive\n")
        #expect(!r.records.contains { ($0.output ?? "").contains("Ecole-Norroy") || ($0.message ?? "").contains("Ecole-Norroy") || $0.diff.contains { ($0.after ?? "").contains("Ecole-Norroy") } })
    }

    @Test func updatesRunsInCheckModeWithoutTouchingPackages() async throws {
        let lab = try LabRun(devices: 2)
        let r = try await run(lab, "updates.yml", RunOptions(check: true))
        #expect(r.exitCode == 0, "\(r.records.filter { $0.outcome == .failed }.map { "\($0.task): \($0.message ?? "")" })")
        #expect(r.records.contains { $0.task == "Upgrade every package" && $0.message?.contains("package(s) to upgrade") == true })
    }
}

/// What a run reports, in the order and with the words ansible-playbook uses.
@Suite(.serialized) struct RunOutputTests {
    @Test func recordsComeInPlaybookOrderAndAsAnsibleCountsThem() async throws {
        let lab = try await LabRun.start(devices: 1)
        // The first task's steps wait to travel with the next; the next fails on the control node
        // (an undefined variable): the first's outcome is still reported first.
        let r = try await lab.run("""
            - hosts: all
              gather_facts: no
              become: yes
              tasks:
                - name: first
                  copy: { content: "x\\n", dest: /etc/order-test }
                - name: second
                  copy: { content: "{{ nope }}", dest: /etc/order-test-2 }
            """)
        #expect(r.records.map { "\($0.task) \($0.outcome)" } == ["first changed", "second failed"])
        // A failed device step before a control-node failure: the later task never ran, so it has no record.
        let stopped = try await lab.run("""
            - hosts: all
              gather_facts: no
              tasks:
                - name: fails on the device
                  command: /bin/false
                - name: never runs
                  copy: { content: "{{ nope }}", dest: /tmp/never }
            """)
        #expect(stopped.records.map { "\($0.task) \($0.outcome)" } == ["fails on the device failed"])
        // A loop over nothing prints `skipping`; an ignored failure counts as ok and ignored (Ansible's recap).
        let loops = try await lab.run("""
            - hosts: all
              gather_facts: no
              tasks:
                - debug: msg=hi
                  when: nothere.x == 1
                  ignore_errors: yes
                - debug: msg="{{ item }}"
                  loop: []
            """)
        #expect(loops.records.map { "\($0.outcome) \($0.message ?? "")" }.last == "skipped No items in the list")
        #expect(loops.records.first?.message?.contains("the condition 'nothere.x == 1': 'nothere' is undefined") == true, "the condition as written")
        #expect(loops.recap["lab-01"] == HostRecap(ok: 1, changed: 0, failed: 0, skipped: 1, unreachable: 0, ignored: 1, rescued: 0))
    }
}

/// Keywords and forms real roles use: tempfile, the old `action:` form, per-task check_mode, an
/// include of another system's tasks behind a condition (read only if it runs), meta: end_host.
@Suite(.serialized) struct RoleHabitsTests {
    @Test func theFormsRealRolesUseRunAsInAnsible() async throws {
        let lab = try await LabRun.start(devices: 1)
        let book = lab.dir + "/habits"
        try FileManager.default.createDirectory(atPath: book, withIntermediateDirectories: true)
        try "- name: Windows cleanup\n  win_file: { path: C:\\\\temp, state: absent }\n".write(toFile: book + "/windows.yml", atomically: true, encoding: .utf8)
        try """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: a folder of its own
                  tempfile: { state: directory, suffix: .habits }
                  register: tmp
                - name: the old action form
                  action: copy content="x\\n" dest={{ tmp.path }}/a
                - name: checked only
                  copy: { content: "y\\n", dest: "{{ tmp.path }}/b" }
                  check_mode: yes
                  diff: yes
                - name: another system's cleanup
                  include_tasks: windows.yml
                  when: ansible_os_family | default('Debian') == 'Windows'
                - name: the end for this host
                  meta: end_host
                  when: tmp.path is defined
                - name: never reached
                  copy: { content: "z\\n", dest: "{{ tmp.path }}/c" }
            """.write(toFile: book + "/play.yml", atomically: true, encoding: .utf8)
        let loaded = try PlaybookLoader.load(book + "/play.yml")
        #expect(loaded.refusals.map(\.message).first?.contains("module 'win_file' is not supported by parc yet") == true, "named, not refused")
        let r = await Runner(playbook: loaded, hosts: lab.hosts, connector: LabRun.LabConnector(lab: lab.lab), options: RunOptions()).run()
        #expect(r.exitCode == 0, "\(r.records.map { "\($0.task) \($0.outcome) \($0.message ?? "")" })")
        let folder = try await lab.sh("ls -d /tmp/*.habits | head -n 1").trimmed
        #expect(folder.hasPrefix("/tmp/ansible.") && folder.hasSuffix(".habits"), "tempfile's name: \(folder)")
        #expect(try await lab.sh("ls \(folder)").split(separator: "\n") == ["a"], "a written, b only checked, c never reached")
        #expect(r.records.map { "\($0.task) \($0.outcome)" } == ["a folder of its own changed", "the old action form changed", "checked only changed",
                                                                 "Windows cleanup skipped"])
        #expect(!(r.records.first { $0.task == "checked only" }?.diff.isEmpty ?? true), "diff: yes shows this task's change")
        #expect(r.records.first { $0.task == "the old action form" }?.diff.isEmpty == true, "the others show none (no --diff)")
        // A file parc cannot read (a module it does not know at all) behind a condition: loaded, skipped.
        try "- name: custom\n  my_site_module: { x: 1 }\n".write(toFile: book + "/custom.yml", atomically: true, encoding: .utf8)
        try "- hosts: all\n  gather_facts: no\n  tasks:\n    - include_tasks: custom.yml\n      when: false\n".write(toFile: book + "/custom-play.yml", atomically: true, encoding: .utf8)
        let custom = try PlaybookLoader.load(book + "/custom-play.yml")
        #expect(custom.refusals.first?.message.contains("my_site_module") == true)
        let skipped = await Runner(playbook: custom, hosts: lab.hosts, connector: LabRun.LabConnector(lab: lab.lab), options: RunOptions()).run()
        #expect(skipped.exitCode == 0 && skipped.records.map(\.outcome) == [.skipped])
        // Without a condition, the same include is refused before anything runs.
        try "- hosts: all\n  tasks:\n    - include_tasks: windows.yml\n".write(toFile: book + "/bare.yml", atomically: true, encoding: .utf8)
        #expect(throws: PlaybookError.self) { try PlaybookLoader.load(book + "/bare.yml") }
        _ = try await lab.sh("rm -rf \(folder)")
    }

    @Test func aTaskTimeoutFailsItAndTheNextTaskStillRuns() async throws {
        let lab = try await LabRun.start(devices: 1)
        let r = try await lab.run("""
            - hosts: all
              gather_facts: no
              tasks:
                - name: too slow
                  command: sleep 5
                  timeout: 1
                  ignore_errors: yes
                - name: after
                  command: echo after
            """)
        #expect(r.records.map { "\($0.task) \($0.outcome)" } == ["too slow failed", "after changed"], "\(r.records.map { $0.message ?? "" })")
        #expect(r.records.first?.message == "The command action failed to execute in the expected time frame (1) and was terminated")
        #expect(r.records.first?.ignored == true && r.exitCode == 0)
    }
}
