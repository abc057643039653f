import Foundation
import Lab
import ParcCore
import Testing

/// `parc lab` and `parc ping` against real sshd devices, as a technician runs them.
@Suite(.serialized) struct LabPingTests {
    final class Setup {
        let parc: ParcRunner
        let labDir: String

        init(devices: Int) async throws {
            if let why = Lab.unavailableReason() { Issue.record("sshd is needed: \(why)") }
            parc = try ParcRunner()
            labDir = parc.dir.appendingPathComponent("lab").path
            try await parc.run("init", "--sample")
            let up = try await run("lab", "up", String(devices), "--school", "0572113M")
            #expect(up.status == 0, "\(up.stderr)")
        }

        deinit {
            _ = try? parc.runBlocking(["lab", "down"], env: ["PARC_LAB_DIR": labDir])
            (try? Lab.load(labDir))?.down()
        }

        @discardableResult
        func run(_ args: String...) async throws -> ParcRunner.Result {
            try await parc.run(args, env: ["PARC_LAB_DIR": labDir])
        }

        @discardableResult
        func run(_ args: [String]) async throws -> ParcRunner.Result {
            try await parc.run(args, env: ["PARC_LAB_DIR": labDir])
        }

        var lab: Lab { get throws { try Lab.load(labDir) } }
    }

    @Test func labUpRegistersDevicesThatAllAnswerThePing() async throws {
        let s = try await Setup(devices: 3)
        let list = try await s.run("device", "list", "--school", "0572113M", "--room", "Lab parc", "--json")
        let rows = try #require(try ParcRunner.json(list.stdout) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { ($0["address"] as? String)?.hasPrefix("127.") == true && $0["sshUser"] as? String == "parclab" })
        #expect(rows.allSatisfy { ($0["hostKey"] as? String)?.contains("SHA256:") == true })

        let ping = try await s.run("ping", "room_0572113m_lab_parc", "--json")
        #expect(ping.status == 0, "\(ping.stderr)")
        let results = try #require(try ParcRunner.json(ping.stdout) as? [[String: Any]])
        #expect(results.map { $0["device"] as? String } == ["lab-01", "lab-02", "lab-03"])
        #expect(results.allSatisfy { $0["status"] as? String == "ok" && $0["hostKey"] as? String == "pinned" })
        #expect(results.allSatisfy { ($0["connectMs"] as? Int ?? -1) >= 0 && ($0["roundTripMs"] as? Int ?? -1) >= 0 })
        #expect(ping.stderr.contains("3 devices: 3 ok, 0 failed, 0 unreachable"))
    }

    @Test("the lab's simulated laptops are in the school's room for runs, but no commune counts them, lists them or finds them in its report")
    func simulatedDevicesBelongToNoCommune() async throws {
        let s = try await Setup(devices: 2)
        let member = try ParcRunner.json(try await s.run("device", "list", "--member", "norroy-le-veneur", "--json").stdout) as? [[String: Any]] ?? []
        #expect(member.count == 18, "the sample's 18 devices, not the 2 lab laptops")
        let school = try ParcRunner.json(try await s.run("device", "list", "--school", "0572113M", "--json").stdout) as? [[String: Any]] ?? []
        let lab = school.filter { $0["room"] as? String == "Lab parc" }
        #expect(lab.count == 2 && lab.allSatisfy { $0["member"] is NSNull }, "in the school's room, belonging to no member: \(lab)")
        let show = try await s.run("device", "show", try #require(lab.first?["serial"] as? String))
        #expect(show.stdout.contains("Simulated") && show.stdout.contains("parc lab device"), "\(show.stdout)")
        let report = try await s.run("report", "member", "norroy-le-veneur")
        #expect(report.status == 0 && !report.stdout.contains("lab-0") && !report.stdout.contains("Lab parc"), "\(report.stdout)")
        let schoolReport = try await s.run("report", "school", "0572113M")
        #expect(schoolReport.status == 0 && !schoolReport.stdout.contains("lab-0"), "\(schoolReport.stdout)")
        // Patterns: the school's group holds them, the member's does not.
        let bySchool = try await s.run("ping", "school_0572113m:&room_0572113m_lab_parc", "--json")
        #expect((try ParcRunner.json(bySchool.stdout) as? [[String: Any]])?.count == 2, "\(bySchool.stderr)")
        let groups = try ParcRunner.json(try await s.run("groups", "--json").stdout) as? [[String: Any]] ?? []
        func serials(_ name: String) -> Set<String> { Set(groups.first { $0["group"] as? String == name }?["serials"] as? [String] ?? []) }
        let labSerials = Set(lab.compactMap { $0["serial"] as? String })
        #expect(serials("commune_norroy_le_veneur").count == 18 && serials("commune_norroy_le_veneur").isDisjoint(with: labSerials))
        #expect(labSerials.isSubset(of: serials("school_0572113m")) && labSerials.isSubset(of: serials("all")))
    }

    @Test func aSwitchedOffDeviceIsUnreachableWhileTheOthersAnswer() async throws {
        let s = try await Setup(devices: 3)
        try s.lab.stop("lab-02")
        let ping = try await s.run("ping", "kind_laptop:&room_0572113m_lab_parc", "--timeout", "2")
        #expect(ping.status == 4)
        let lines = ping.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("lab-02") && $0.contains("unreachable") && $0.contains("refused") })
        #expect(lines.filter { $0.contains(" ok ") }.count == 2)
        let limited = try await s.run("ping", "room_0572113m_lab_parc", "--limit", "!lab-02")
        #expect(limited.status == 0)
    }

    @Test func strictRefusesAnUnpinnedKeyAcceptNewPinsItWithAnEventAndAChangedKeyIsRefused() async throws {
        let s = try await Setup(devices: 1)
        #expect(try await s.run("device", "edit", "lab-01", "--host-key", "").status != 0, "lab-01 is a host name, not a serial or tag")
        let serial = try s.lab.devices[0].serial
        #expect(try await s.run("device", "edit", serial, "--host-key", "").status == 0)

        let strict = try await s.run("ping", "lab-01")
        #expect(strict.status == 2)
        #expect(strict.stdout.contains("unknown"))
        #expect(strict.stdout.contains("accept-new"))

        let accept = try await s.run("ping", "lab-01", "--host-key-policy", "accept-new", "--actor", "technicien")
        #expect(accept.status == 0, "\(accept.stdout)")
        #expect(accept.stdout.contains("new, pinned"))
        let fingerprint = try s.lab.hostKey("lab-01").fingerprint
        let history = try await s.run("history", serial)
        #expect(history.stdout.contains("technicien  update"))
        #expect(history.stdout.contains("hostKey: — → ssh-ed25519 \(fingerprint)"))
        #expect(try await s.run("ping", "lab-01").status == 0, "strict now that the key is pinned")

        try s.lab.regenerateHostKey("lab-01")
        let changed = try await s.run("ping", "lab-01", "--host-key-policy", "accept-new")
        #expect(changed.status == 2)
        #expect(changed.stdout.contains("CHANGED"))
        #expect(changed.stdout.contains(fingerprint))
        #expect(changed.stdout.contains(try s.lab.hostKey("lab-01").fingerprint))
    }

    @Test func labDownStopsEveryProcessAndRemovesWhatItMade() async throws {
        let s = try await Setup(devices: 2)
        let pids = try s.lab.devices.compactMap(\.pid)
        #expect(pids.count == 2)
        let down = try await s.run("lab", "down")
        #expect(down.status == 0, "\(down.stderr)")
        #expect(pids.allSatisfy { !Spawn.isAlive($0) })
        #expect(!FileManager.default.fileExists(atPath: s.labDir))
        let list = try await s.run("device", "list", "--school", "0572113M", "--room", "Lab parc", "--json")
        #expect((try ParcRunner.json(list.stdout) as? [Any])?.isEmpty == true)
    }

    @Test func aPatternNamingAnUnknownNameIsAnError() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let r = try await parc.run("ping", "school_0999999x")
        #expect(r.status != 0)
        #expect(r.stderr.contains("no group or device 'school_0999999x'"))
        #expect(r.stderr.contains("school_0572113m"))
        // A known group whose devices have no address: nothing to do, a warning, exit 0 (as Ansible).
        let none = try await parc.run("ping", "commune_norroy_le_veneur")
        #expect(none.status == 0)
        #expect(none.stderr.contains("has an address"))
    }
}
