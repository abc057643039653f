import Foundation
import Lab
import ParcCore
@testable import Provisioning
import SSHTransport
import Templating
import Testing

/// The execution core on real sshd: one shell per device, steps queued and sent with the next
/// task's facts, reboot, drops, and what the device is left with.
@Suite(.serialized) struct DeviceShellRunTests {
    @Test func rebootLeavesTheRunsConnectionUsableForTheTasksAfterIt() async throws {
        let lab = try await LabRun.start()
        let before = try await lab.sh("cat /proc/sys/kernel/random/boot_id")
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { content: "avant\\n", dest: /etc/avant }
                - reboot: { msg: "mise à jour", pre_reboot_delay: 1, reboot_timeout: 60 }
                - command: cat /proc/sys/kernel/random/boot_id
                  register: boot
                - copy: { content: "{{ boot.stdout }}\\n", dest: /etc/apres }
            """)
        #expect(r.exitCode == 0, "\(r.records.map { "\($0.task): \($0.outcome) \($0.message ?? "")" })")
        #expect(r.records.map(\.outcome) == [.changed, .changed, .changed, .changed])
        let after = try await lab.sh("cat /etc/apres; wc -l < /var/lib/parc-lab/reboots; cat /etc/avant")
        let lines = after.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0] != before.trimmed && lines[1] == "1" && lines[2] == "avant",
                "the tasks after the reboot ran on the rebooted device (boot id \(before.trimmed) → \(lines.first ?? ""))")
    }

    @Test func stepsOfSeveralTasksTravelWithTheNextFactsAndAFailureStopsTheRest() async throws {
        let lab = try await LabRun.start()
        let yaml = """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: /opt/ecole, state: directory, mode: "0755" }
                - copy: { content: "un\\n", dest: /opt/ecole/un.txt }
                - lineinfile: { path: /etc/environment, line: "ECOLE=1" }
                - template: { src: t.j2, dest: /opt/ecole/t.conf }
                - command: uptime
                  changed_when: false
            """
        let first = try await lab.run(yaml, templates: ["t.j2": "{{ inventory_hostname }}\n"])
        #expect(first.exitCode == 0)
        let listing = try await lab.sh("ls -la /opt/ecole; cat /etc/environment")
        #expect(first.records.map(\.outcome) == [.changed, .changed, .changed, .changed, .ok], "\(first.records.map { "\($0.task) \($0.outcome) \($0.message ?? "")" }) \(listing)")
        #expect(first.roundTrips.values.first.map { $0 <= 4 } == true, "first run: channel, shell with the play's facts, every step (3 when unloaded): \(first.roundTrips)")
        let second = try await lab.run(yaml, templates: ["t.j2": "{{ inventory_hostname }}\n"])
        #expect(second.records.map(\.outcome) == [.ok, .ok, .ok, .ok, .ok])
        #expect(second.roundTrips.values.first.map { $0 <= 4 } == true, "second run: \(second.roundTrips)")
        #expect(try await lab.sh("cat /opt/ecole/un.txt /opt/ecole/t.conf; grep -c ECOLE /etc/environment") == "un\nlab-01\n1\n")

        // A step that fails stops the queued ones after it, on the device: no later change happens
        // and no later task is recorded.
        let failing = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { content: "a\\n", dest: /opt/ecole/a.txt }
                - file: { path: /opt/ecole/un.txt/impossible, state: directory }
                - copy: { content: "b\\n", dest: /opt/ecole/b.txt }
            """)
        #expect(failing.exitCode == 2)
        #expect(failing.records.map(\.outcome) == [.changed, .failed], "\(failing.records.map { "\($0.task) \($0.outcome)" })")
        #expect(try await lab.sh("test -e /opt/ecole/b.txt && echo present || echo absent") == "absent\n")
        #expect(try await lab.sh("cat /opt/ecole/a.txt") == "a\n")
    }

    /// A loop's items are planned first and sent together, each its own group: a failed item does
    /// not stop the next ones (as Ansible runs every item), but the task fails and the host stops.
    @Test func aLoopsItemsTravelTogetherAndAFailedItemDoesNotStopTheNext() async throws {
        let lab = try await LabRun.start()
        try await lab.write("fichier\n", to: "/opt/classe/c")
        let r = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: "/opt/classe/{{ item }}", state: directory, mode: "0750" }
                  loop: [a, b, c/d, e, f]
                  register: made
                - copy: { content: "jamais\\n", dest: /opt/classe/apres }
            """)
        #expect(r.exitCode == 2)
        #expect(r.records.map { "\($0.item ?? "") \($0.outcome)" } == ["a changed", "b changed", "c/d failed", "e changed", "f changed"])
        // The channel, the shell with the play's facts, the items' facts, the items' steps (one more
        // on a loaded machine): not two per item.
        #expect(r.roundTrips.values.first.map { $0 <= 5 } == true, "five items in one batch: \(r.roundTrips)")
        #expect(try await lab.sh("ls /opt/classe | tr '\\n' ' '; stat -c %a /opt/classe/f") == "a b c e f 750\n")
        let again = try await lab.run("""
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - file: { path: "/opt/classe/{{ item }}", state: directory, mode: "0750" }
                  loop: [a, b, e, f]
            """)
        #expect(again.records.map(\.outcome) == [.ok, .ok, .ok, .ok])
    }

    @Test func aBinaryFileAndAFiftyMegabyteFileArriveWholeAndIdempotent() async throws {
        let lab = try await LabRun.start()
        var big = [UInt8](repeating: 0, count: 50 * 1024 * 1024)
        for i in stride(from: 0, to: big.count, by: 997) { big[i] = UInt8(truncatingIfNeeded: i) }
        let book = lab.dir + "/bin-book"
        try FileManager.default.createDirectory(atPath: book + "/files", withIntermediateDirectories: true)
        try Data(big).write(to: URL(fileURLWithPath: book + "/files/big.bin"))
        try Data((0...255).map { UInt8($0) } + [0, 10, 13, 0]).write(to: URL(fileURLWithPath: book + "/files/small.bin"))
        try """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { src: big.bin, dest: /opt/big.bin, mode: "0600" }
                - copy: { src: small.bin, dest: /opt/small.bin }
            """.write(toFile: book + "/play.yml", atomically: true, encoding: .utf8)
        let runner = { await Runner(playbook: try PlaybookLoader.load(book + "/play.yml"), hosts: lab.hosts, connector: LabRun.LabConnector(lab: lab.lab),
                                    options: RunOptions()).run() }
        let first = try await runner()
        #expect(first.exitCode == 0 && first.records.map(\.outcome) == [.changed, .changed])
        let sums = try await lab.sh("sha256sum /opt/big.bin /opt/small.bin | cut -d' ' -f1; stat -c %a /opt/big.bin; ls -a /opt | grep -c parc-tmp || true")
        #expect(sums == "\(SHA256.hex(big))\n\(SHA256.hex((0...255).map { UInt8($0) } + [0, 10, 13, 0]))\n600\n0\n")
        let second = try await runner()
        #expect(second.records.map(\.outcome) == [.ok, .ok])
    }

    /// A connection that drops while a file is on its way leaves the old file whole: the new
    /// content goes to a temporary file that is renamed only once complete.
    @Test func aDropInTheMiddleOfAFileLeavesTheOldFileWhole() async throws {
        let lab = try await LabRun.start()
        try await lab.write("ancien contenu\n", to: "/opt/gros.bin")
        let device = lab.lab.device("lab-01")!
        let c = try await LabRun.LabConnector(lab: lab.lab).connect(lab.hosts[0])
        let big = [UInt8](repeating: 7, count: 200 * 1024 * 1024)
        let name = device.name
        let cut = Task.detached {
            try? await Task.sleep(for: .milliseconds(300))
            lab.lab.powerOff(name)
        }
        let outcome = await c.batch([ShellCommand(Step.write("/opt/gros.bin", big, mode: 0o644).script, input: big, isStep: true)],
                                    become: .sudo, timeout: .seconds(60))
        await cut.value
        #expect(outcome.interruption?.isUnreachable == true, "\(String(describing: outcome.interruption))")
        try lab.lab.start(name)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await lab.sh("cat /opt/gros.bin") == "ancien contenu\n", "the old file is whole")
        await c.close()
    }

    /// sudo refused while gathering facts on a device that answers: a failure (exit 2), not unreachable.
    @Test func sudoRefusedWhileGatheringFactsIsAFailureNotUnreachable() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-labrun-\(UUID().uuidString.prefix(8))").path
        let lab = try Lab.up(count: 1, in: dir, options: LabOptions(password: "Directrice-57", sudoNeedsPassword: true))
        defer { lab.down() }
        let d = lab.devices[0]
        let book = dir + "/book"
        try FileManager.default.createDirectory(atPath: book, withIntermediateDirectories: true)
        try "- hosts: all\n  become: yes\n  tasks:\n    - command: id -u\n".write(toFile: book + "/play.yml", atomically: true, encoding: .utf8)
        let host = HostTarget(name: d.name, serial: d.serial, groups: [], data: ["inventory_hostname": .string(d.name)])
        let r = await Runner(playbook: try PlaybookLoader.load(book + "/play.yml"), hosts: [host], connector: LabRun.LabConnector(lab: lab),
                             options: RunOptions()).run()
        #expect(r.exitCode == 2 && r.unreachableHosts.isEmpty && r.failedHosts == [d.serial])
        #expect(r.records.first?.task == "Gathering Facts" && r.records.first?.message?.contains("password is required") == true)
    }
}
