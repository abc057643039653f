import Foundation
import Lab
import Testing

/// `parc run` and `parc runs` against lab devices, as a technician uses them.
@Suite(.serialized) struct RunCLITests {
    static let baseline = ParcRunner.repo.appendingPathComponent("playbooks/baseline.yml").path

    /// A run's hosts (`--json`), by name.
    static func hosts(_ result: [String: Any]) -> [String: [String: Any]] {
        Dictionary(((result["hosts"] as? [[String: Any]]) ?? []).map { ($0["host"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func dryRunThenApplyThenRecordedThenIdempotent() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let dry = try await s.run("run", Self.baseline, "--limit", "room_0572113m_lab_parc", "--check", "--diff", "--skip-tags", "packages")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("PLAY RECAP (check mode: nothing was changed)"))
        #expect(dry.stderr.contains("+++ after: /etc/firefox/policies/policies.json"), "diff shown")
        let apply = try await s.run("run", Self.baseline, "--limit", "room_0572113m_lab_parc", "--skip-tags", "packages", "--json")
        #expect(apply.status == 0, "\(apply.stderr)")
        let result = try #require(try ParcRunner.json(apply.stdout) as? [String: Any])
        let recap = Self.hosts(result)
        #expect(recap.count == 2)
        #expect(recap.values.allSatisfy { ($0["changed"] as? Int ?? 0) >= 4 && $0["failed"] as? Int == 0 && ($0["roundTrips"] as? Int ?? 0) > 0 })
        let runID = try #require((result["run"] as? [String: Any])?["id"] as? Int)
        // One shape for a run: what `run --json` printed is what `runs show --json` prints (less the round trips, measured).
        let shown = try #require(try ParcRunner.json(try await s.run("runs", "show", String(runID), "--json").stdout) as? [String: Any])
        #expect(Set(shown.keys) == Set(result.keys) && (shown["tasks"] as? [Any])?.count == (result["tasks"] as? [Any])?.count)
        #expect(Set(((shown["run"] as? [String: Any]) ?? [:]).keys) == Set(((result["run"] as? [String: Any]) ?? [:]).keys))
        // The play gathered facts: the devices count as seen, with their firmware serial.
        let seen = try await s.run("reconcile", "room_0572113m_lab_parc")
        #expect(!seen.stdout.contains("never seen"), "\(seen.stdout)")
        #expect(try await s.run("device", "show", try s.lab.devices[0].serial).stdout.contains(try s.lab.devices[0].serial))

        let again = try await s.run("run", Self.baseline, "--limit", "room_0572113m_lab_parc", "--skip-tags", "packages")
        #expect(again.status == 0)
        let lines = again.stdout.split(separator: "\n").filter { $0.hasPrefix("lab-0") }
        #expect(lines.count == 2 && lines.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true)[2] == "0" }, "nothing changed: \(again.stdout)")

        let list = try await s.run("runs", "list")
        #expect(list.stdout.contains("playbooks/baseline.yml") || list.stdout.contains("baseline.yml"))
        let show = try await s.run("runs", "show", String(runID))
        #expect(show.stdout.contains("Student account eleve"))
        #expect(show.stdout.contains("(hidden by no_log)") || !show.stdout.contains("$6$"), "no_log output is masked")
        let serial = try s.lab.devices[0].serial
        let device = try await s.run("device", "show", serial)
        #expect(device.stdout.contains("Last run"))
        #expect(device.stdout.contains("baseline.yml"))
    }

    @Test func aDeviceInARunningRunRefusesAnotherRunNamingItAcrossProcesses() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let slow = s.parc.dir.appendingPathComponent("slow.yml")
        // The first task waits on the device until the test removes the gate (a minute at most), so the
        // first run still holds lab-01 when the second asks, whatever the machine's load.
        let gate = s.parc.dir.appendingPathComponent("slow.gate").path
        FileManager.default.createFile(atPath: gate, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: gate) }
        try "- hosts: all\n  gather_facts: no\n  tasks:\n    - { command: \"sh -c 'i=0; while [ -e \(gate) ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done'\", register: a }\n    - { command: 'true', when: a.rc == 0 }\n"
            .write(to: slow, atomically: true, encoding: .utf8)
        // One `parc run` holds lab-01 ...
        let (first, _, _) = try s.parc.start(["run", slow.path, "--limit", "lab-01"], env: ["PARC_LAB_DIR": s.labDir])
        var holder: Int?
        for _ in 0..<100 where holder == nil {
            try await Task.sleep(for: .milliseconds(100))
            let runs = try ParcRunner.json(try await s.run("runs", "list", "--json").stdout) as? [[String: Any]] ?? []
            holder = runs.first { $0["exitCode"] == nil || $0["exitCode"] is NSNull }?["id"] as? Int
        }
        let id = try #require(holder, "the first run is recorded as running")
        // ... so another, in another process, naming it is refused before anything runs, naming the holder.
        let refused = try await s.run("run", slow.path, "--limit", "room_0572113m_lab_parc", "--check")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("lab-01 is busy: run \(id)"), "\(refused.stderr)")
        let runs = try ParcRunner.json(try await s.run("runs", "list", "--json").stdout) as? [[String: Any]] ?? []
        #expect(runs.count == 1, "the refused run is not recorded")
        try FileManager.default.removeItem(atPath: gate)
        nonisolated(unsafe) let process = first
        try await ParcRunner.offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)
        // Once it ended, the device is free.
        let after = try await s.run("run", slow.path, "--limit", "room_0572113m_lab_parc")
        #expect(after.status == 0, "\(after.stderr)")
    }

    @Test func anOfflineLaptopIsUnreachableAndRetryServesItWhenItIsBack() async throws {
        let s = try await LabPingTests.Setup(devices: 3)
        try s.lab.stop("lab-02")
        let r = try await s.run("run", Self.baseline, "--limit", "room_0572113m_lab_parc", "--skip-tags", "packages", "--json")
        #expect(r.status == 4)
        let result = try #require(try ParcRunner.json(r.stdout) as? [String: Any])
        let runID = try #require((result["run"] as? [String: Any])?["id"] as? Int)
        let recap = Self.hosts(result)
        #expect(recap["lab-02"]?["unreachable"] as? Int == 1)
        #expect(recap["lab-01"]?["failed"] as? Int == 0)

        try s.lab.start("lab-02")
        let retry = try await s.run("run", "--retry", String(runID), "--skip-tags", "packages", "--json")
        #expect(retry.status == 0, "\(retry.stderr)")
        let again = try #require(try ParcRunner.json(retry.stdout) as? [String: Any])
        #expect(Array(Self.hosts(again).keys) == ["lab-02"], "only the device that was unreachable")
    }

    @Test func strictRefusesAnUnpinnedDeviceAndAcceptNewPinsItDuringTheRun() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let serial = try s.lab.devices[0].serial
        #expect(try await s.run("device", "edit", serial, "--host-key", "").status == 0)
        let strict = try await s.run("run", Self.baseline, "--limit", "lab-01", "--skip-tags", "packages", "--check")
        #expect(strict.status == 2, "an unknown host key fails the device")
        #expect(strict.stderr.contains("unknown host key"))
        let accept = try await s.run("run", Self.baseline, "--limit", "lab-01", "--skip-tags", "packages", "--check", "--host-key-policy", "accept-new")
        #expect(accept.status == 0, "\(accept.stderr)")
        #expect(try await s.run("history", serial).stdout.contains("hostKey: — → ssh-ed25519 SHA256:"))
        #expect(try await s.run("run", Self.baseline, "--limit", "lab-01", "--skip-tags", "packages", "--check").status == 0)
    }

    @Test func aPlaybookMistakeIsReportedBeforeAnythingRuns() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let file = s.parc.dir.appendingPathComponent("bad.yml").path
        try "- hosts: all\n  tasks:\n    - name: oops\n      copy: {dest: /etc/x, colour: red}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await s.run("run", file)
        #expect(r.status != 0)
        #expect(r.stderr.contains("bad.yml:4:"))
        #expect(r.stderr.contains("Unsupported parameters for (ansible.legacy.copy) module: colour"))
        #expect(try await s.run("runs", "list").stdout.split(separator: "\n").count == 1, "no run was recorded")
    }
}

/// `parc run --syntax-check`: loads, reports, touches nothing (no inventory needed).
@Suite struct SyntaxCheckCLITests {
    static let fixtures = ParcRunner.repo.appendingPathComponent("Tests/ProvisioningTests/Fixtures")

    @Test func aValidPlaybookIsReportedWithItsSizeAndABrokenOneByFileAndLine() async throws {
        let parc = try ParcRunner()
        let ok = try await parc.run("run", "--syntax-check", Self.fixtures.appendingPathComponent("kiosk/site.yml").path)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("(1 play,") && ok.stdout.contains("no error found"), "\(ok.stdout)")
        let broken = Self.fixtures.appendingPathComponent("syntax/invalid/two-modules.yml").path
        let bad = try await parc.run("run", "--syntax-check", broken)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("two-modules.yml:5:") && bad.stderr.contains("a task runs one module"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parc.database), "no inventory was created")
    }
}

/// `parc run --pending` replays a run as it was asked for (issue 15, item 11).
@Suite(.serialized) struct PendingReplayCLITests {
    @Test func pendingWorkIsReplayedWithItsOwnVariablesTagsAndLimitAndNoSecretIsKept() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let book = s.parc.dir.appendingPathComponent("wifi.yml").path
        try """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - copy: { content: "{{ ssid }} {{ wifi_psk }}\\n", dest: /etc/parc-wifi }
                - copy: { content: "paquets\\n", dest: /etc/parc-packages }
                  tags: [packages]
            """.write(toFile: book, atomically: true, encoding: .utf8)
        try s.lab.stop("lab-02")
        let first = try await s.parc.run(["run", book, "--limit", "room_0572113m_lab_parc", "-e", "ssid=ECOLE", "--ask-vars", "wifi_psk",
                                          "--skip-tags", "packages"], env: ["PARC_LAB_DIR": s.labDir, "PARC_ASK_wifi_psk": "S3cret-Wifi"])
        #expect(first.status == 4, "\(first.stderr)")
        let database = try Data(contentsOf: URL(fileURLWithPath: s.parc.database))
        #expect(database.range(of: Data("S3cret-Wifi".utf8)) == nil, "the secret is never kept with the pending work")
        try s.lab.start("lab-02")
        let replay = try await s.parc.run(["run", "--pending"], env: ["PARC_LAB_DIR": s.labDir, "PARC_ASK_wifi_psk": "S3cret-Wifi"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("--skip-tags packages") && replay.stdout.contains("-e ssid=…") && replay.stdout.contains("--ask-vars wifi_psk"))
        let lab = try s.lab
        let device = try #require(lab.device("lab-02"))
        #expect(try String(contentsOfFile: device.hostPath(of: "/etc/parc-wifi"), encoding: .utf8) == "ECOLE S3cret-Wifi\n")
        #expect(!FileManager.default.fileExists(atPath: device.root + "/upper/etc/parc-packages"), "--skip-tags packages held in the replay")
        #expect(try await s.run("pending").stdout.contains("Nothing is pending"))
    }
}
