import Foundation
import Lab
import ParcCore
import Testing

/// Onboarding, facts, reconciliation and pending work against lab devices, through the CLI.
@Suite(.serialized) struct OnboardingTests {
    /// A lab whose devices are fresh: password login only, sudo with that password.
    final class Fresh {
        let parc: ParcRunner
        let labDir: String
        let home: String
        let password = "Rentree-2026"
        let passwordFile: String

        init(devices: Int) async throws {
            if let why = Lab.unavailableReason() { Issue.record("sshd is needed: \(why)") }
            parc = try ParcRunner()
            labDir = parc.dir.appendingPathComponent("lab").path
            home = parc.dir.appendingPathComponent("home").path
            try FileManager.default.createDirectory(atPath: home + "/inventory", withIntermediateDirectories: true)
            passwordFile = parc.dir.appendingPathComponent("password.txt").path
            try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
            #expect(try await run("init", "--sample", "--from", ParcRunner.repo.appendingPathComponent("inventory").path).status == 0)
            _ = try Lab.up(count: devices, in: labDir, options: LabOptions(password: password, sudoNeedsPassword: true, installKey: false))
            // The delivery note came first: the devices are in the inventory by serial, in the cart, without address.
            for d in try lab.devices {
                #expect(try await run("device", "add", "--kind", "laptop", "--serial", d.serial, "--cart", "NLV-2024-010").status == 0)
            }
        }

        deinit { (try? Lab.load(labDir))?.down() }

        var lab: Lab { get throws { try Lab.load(labDir) } }

        @discardableResult
        func run(_ args: String...) async throws -> ParcRunner.Result {
            try await parc.run(args, env: ["PARC_LAB_DIR": labDir, "PARC_HOME": home, "PARC_BECOME_PASSWORD": password])
        }
    }

    @Test func aFreshPasswordOnlyDeviceIsOnboardedAndARerunChangesNothing() async throws {
        let f = try await Fresh(devices: 1)
        let d = try f.lab.devices[0]
        let first = try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("onboarded: \(d.address):22: \(d.serial) as norroy-le-veneur-classe-ce2-cm1-01 (key added"))
        // On the device: parc's key installed, the host name set.
        let authorized = try String(contentsOfFile: d.hostPath(of: "/home/parclab/.ssh/authorized_keys"), encoding: .utf8)
        let managementKey = try String(contentsOfFile: f.home + "/inventory/keys/parc_ed25519.pub", encoding: .utf8)
        #expect(authorized.contains(managementKey.trimmed))
        #expect(try String(contentsOfFile: d.hostPath(of: "/etc/hostname"), encoding: .utf8) == "norroy-le-veneur-classe-ce2-cm1-01\n")
        // In the inventory: address, pinned key, facts, matched by serial.
        let show = try await f.run("device", "show", d.serial, "--json")
        let device = try #require(try ParcRunner.json(show.stdout) as? [String: Any])
        #expect(device["address"] as? String == d.address)
        #expect(device["hostname"] as? String == "norroy-le-veneur-classe-ce2-cm1-01")
        #expect((device["hostKey"] as? String)?.contains(try f.lab.hostKey(d.name).fingerprint) == true)
        #expect(device["firmwareSerial"] as? String == d.serial)
        #expect((device["os"] as? String)?.contains("Debian") == true)
        // The management key now works alone.
        #expect(try await f.run("ping", d.serial).status == 0)
        let events = try await f.run("history", d.serial).stdout
        let again = try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("key present"))
        #expect(try await f.run("history", d.serial).stdout == events, "a rerun writes no event")
    }

    @Test func anUnknownSerialIsRefusedUnlessCreated() async throws {
        let f = try await Fresh(devices: 1)
        let d = try f.lab.devices[0]
        #expect(try await f.run("device", "remove", d.serial).status == 0)
        let refused = try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new")
        #expect(refused.status == 2)
        #expect(refused.stdout.contains("serial \(d.serial) is not in the inventory"))
        let created = try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new",
                                "--create", "--order", "BC-2024-042", "--cart", "NLV-2024-010")
        #expect(created.status == 0, "\(created.stdout)")
        let row = try #require(try ParcRunner.json(try await f.run("device", "show", d.serial, "--json").stdout) as? [String: Any])
        #expect(row["order"] as? String == "BC-2024-042" && row["cart"] as? String == "NLV-2024-010" && row["manufacturer"] as? String == "parc lab")
    }

    @Test func aSwappedSerialIsReportedAndNeverFixedSilently() async throws {
        let f = try await Fresh(devices: 2)
        for d in try f.lab.devices {
            let r = try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new")
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }
        let lab = try f.lab
        let first = lab.devices[0]
        // The laptop at lab-01's address was swapped for another one (its firmware says so).
        try lab.setFirmwareSerial(first.name, "PF9SWAP01")
        #expect(try await f.run("facts", "kind_laptop:&cart_nlv_2024_010", "--limit", first.name == "" ? "all" : "*").status == 0)
        let report = try await f.run("reconcile", "cart_nlv_2024_010", "--json")
        #expect(report.status == 2)
        let findings = try #require(try ParcRunner.json(report.stdout) as? [[String: Any]])
        let swap = try #require(findings.first { $0["kind"] as? String == "serialDiffers" })
        #expect(swap["expected"] as? String == first.serial && swap["found"] as? String == "PF9SWAP01" && swap["fixable"] as? Bool == false)
        let fix = try await f.run("reconcile", "cart_nlv_2024_010", "--fix")
        #expect(fix.status == 2, "a serial is fixed by hand")
        #expect(try await f.run("device", "show", first.serial).status == 0, "the record keeps its serial")
        #expect(try await f.run("find", "PF9SWAP01", "--json").stdout.contains("[]"))
        // The commune's report shows it too.
        #expect(try await f.run("report", "member", "norroy-le-veneur").stdout.contains("numéro de série différent"))
        // Now it says the serial of the other laptop (in another case): it answers as that one.
        let second = lab.devices[1]
        try lab.setFirmwareSerial(first.name, second.serial.lowercased())
        #expect(try await f.run("facts", first.serial).status == 0)
        let again = try #require(try ParcRunner.json(try await f.run("reconcile", first.serial, "--json").stdout) as? [[String: Any]])
        let other = try #require(again.first { $0["kind"] as? String == "answersAsAnother" }, "\(again)")
        let shown = try #require(try ParcRunner.json(try await f.run("device", "show", second.serial, "--json").stdout) as? [String: Any])
        let name = try #require(shown["hostname"] as? String)
        #expect(other["found"] as? String == second.serial.lowercased() && (other["message"] as? String)?.contains("is \(name) (serial") == true, "\(other)")
    }

    @Test func aHostNameChangedOnTheDeviceIsFixedWithAnAuditEvent() async throws {
        let f = try await Fresh(devices: 1)
        let d = try f.lab.devices[0]
        #expect(try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new").status == 0)
        // Someone renames the laptop by hand.
        let book = f.parc.dir.appendingPathComponent("rename.yml").path
        try "- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - command: hostname renamed-by-hand\n".write(toFile: book, atomically: true, encoding: .utf8)
        #expect(try await f.run("run", book, "--limit", d.serial).status == 0)
        #expect(try await f.run("facts", d.serial).status == 0)
        let report = try await f.run("reconcile", d.serial)
        #expect(report.status == 2)
        #expect(report.stdout.contains("host name differs") && report.stdout.contains("renamed-by-hand"))
        let fix = try await f.run("reconcile", d.serial, "--fix", "--actor", "technicien")
        #expect(fix.status == 0, "\(fix.stdout)")
        #expect(try await f.run("device", "show", d.serial, "--json").stdout.contains("\"hostname\": \"renamed-by-hand\""))
        #expect(try await f.run("history", d.serial).stdout.contains("hostname: norroy-le-veneur-classe-ce2-cm1-01 → renamed-by-hand"))
        #expect(try await f.run("reconcile", d.serial).stdout.contains("agree"))
    }

    @Test func anOfflineDeviceBecomesPendingAndIsServedWhenItComesBack() async throws {
        let f = try await Fresh(devices: 2)
        for d in try f.lab.devices {
            #expect(try await f.run("onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new").status == 0)
        }
        let lab = try f.lab
        lab.stop(lab.devices[1].name)
        let baseline = ParcRunner.repo.appendingPathComponent("playbooks/baseline.yml").path
        let run = try await f.run("run", baseline, "--limit", "cart_nlv_2024_010", "--skip-tags", "packages")
        #expect(run.status == 4)
        let pending = try await f.run("pending", "--json")
        let items = try #require(try ParcRunner.json(pending.stdout) as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items.first?["serial"] as? String == lab.devices[1].serial)
        #expect(items.first?["playbook"] as? String == baseline)
        // Still offline: still owed.
        #expect(try await f.run("run", "--pending", "--skip-tags", "packages").status == 4)
        #expect(((try ParcRunner.json(try await f.run("pending", "--json").stdout) as? [Any])?.count) == 1)
        // Back: served, nothing owed.
        try lab.start(lab.devices[1].name)
        let watch = try await f.run("watch", "--interval", "0.1", "--rounds", "3")
        #expect(watch.status == 0, "\(watch.stdout)\(watch.stderr)")
        #expect(try await f.run("pending").stdout.contains("Nothing is pending"))
        #expect(try String(contentsOfFile: lab.devices[1].hostPath(of: "/etc/timezone"), encoding: .utf8) == "Europe/Paris\n")
    }

    @Test("against a central server: the technician's laptop logs in to the new device, the central inventory records it under the account's name")
    func onboardingAgainstAServer() async throws {
        let f = try await Fresh(devices: 1)
        let d = try f.lab.devices[0]
        // The server over the same inventory file; a technician's token; a laptop signed in to it.
        #expect(try await f.run("user", "add", "tech", "--role", "technician", "--password-file", f.passwordFile).status == 0)
        let token = try await f.run("token", "add", "tech").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let laptop = f.parc.dir.appendingPathComponent("laptop")
        try FileManager.default.createDirectory(at: laptop, withIntermediateDirectories: true)
        let tokenFile = laptop.appendingPathComponent("token").path
        FileManager.default.createFile(atPath: tokenFile, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let port = try Lab.freePort()
        let base = "http://127.0.0.1:\(port)"
        let (server, _, _) = try f.parc.start(["serve", "--listen", "127.0.0.1:\(port)"], env: ["PARC_HOME": f.home])
        defer { server.terminate(); server.waitUntilExit() }
        var up = false
        for _ in 0..<100 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? await PortalCLITests.get("\(base)/api/v1/openapi.json"))?.status == 200
        }
        #expect(up)
        let config = ["XDG_CONFIG_HOME": laptop.appendingPathComponent("config").path, "HOME": laptop.path]
        #expect(try await f.parc.run(["login", base, "--token-file", tokenFile], env: config).status == 0)
        // The relay's key (here a key of the laptop's own) is the one installed.
        let key = laptop.appendingPathComponent("relay_ed25519").path
        let onboarded = try await f.parc.run(["--server", base, "onboard", d.address, "--user", d.user, "--password-file", f.passwordFile, "--accept-new", "--key", key],
                                             env: config.merging(["PARC_BECOME_PASSWORD": f.password]) { _, b in b })
        #expect(onboarded.status == 0, "\(onboarded.stdout)\(onboarded.stderr)")
        #expect(onboarded.stdout.contains("onboarded: \(d.address):22: \(d.serial) as norroy-le-veneur-classe-ce2-cm1-01"), "\(onboarded.stdout)")
        let authorized = try String(contentsOfFile: d.hostPath(of: "/home/parclab/.ssh/authorized_keys"), encoding: .utf8)
        #expect(authorized.contains(try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmed))
        // In the central inventory: reached, named, pinned, its facts; the audit log names the account.
        let device = try #require(try ParcRunner.json(try await f.run("device", "show", d.serial, "--json").stdout) as? [String: Any])
        #expect(device["address"] as? String == d.address && device["hostname"] as? String == "norroy-le-veneur-classe-ce2-cm1-01")
        #expect((device["hostKey"] as? String)?.contains(try f.lab.hostKey(d.name).fingerprint) == true)
        #expect(device["firmwareSerial"] as? String == d.serial)
        let history = try await f.run("history", d.serial).stdout
        #expect(history.contains("  tech  update"), "\(history)")
    }
}
