import Foundation
import InventoryStore
import Logging
import ParcApp
import ParcCore
@testable import Provisioning
import SSHTransport
import Synchronization
import Templating
import Testing

/// The server's side of relays, on its own: work handed out, reports taken, a silent relay's work
/// ended within the bound.
@Suite struct RelayHubTests {
    static func work(_ id: String, hosts: [String]) -> RelayWork {
        RelayWork(id: id, run: 1, playbook: "p.yml", files: [:], hosts: hosts.map { HostTarget(name: $0, serial: $0, groups: []) }, ssh: [:],
                  options: .init(check: false, diff: false, forks: 5, tags: [], skipTags: [], extraVars: [:], extraData: [:],
                                 become: "sudo", becomeUser: nil, startAtTask: nil, knownNames: []))
    }

    @Test("a relay that goes silent mid-work: within its timeout (plus one held poll) every host of the work is unreachable, the tasks it reported kept")
    func silentRelayEndsItsWorkUnreachable() async throws {
        let hub = RelayHub(timeout: .seconds(6), pollWait: .milliseconds(200))
        #expect(await hub.poll(relay: "relais", schools: ["0571234G"]) == nil)
        #expect(hub.relay(forSchool: "0571234g") == "relais", "UAI in any case")
        let unreachable = Mutex<[String]>([])
        // When the hub declared the hosts lost (its sweep's own queue), not when this test got to run
        // again: a loaded machine may keep the cooperative pool busy for seconds.
        let lostAt = Mutex<ContinuousClock.Instant?>(nil)
        let started = ContinuousClock.now
        let outcome = Task {
            await hub.dispatch(Self.work("w1", hosts: ["a", "b"]), to: "relais") { e in
                if case .unreachable(let host, let message) = e {
                    unreachable.withLock { $0.append("\(host): \(message)") }
                    lostAt.withLock { if $0 == nil { $0 = .now } }
                }
            }
        }
        let work = await hub.poll(relay: "relais", schools: ["0571234G"])
        #expect(work?.id == "w1")
        let r = TaskRecord(play: "p", task: "t", host: "a", serial: "a", item: nil, outcome: .changed, changed: true, ignored: false,
                           message: nil, output: nil, diff: [], milliseconds: 1, location: nil)
        _ = try hub.report(relay: "relais", job: "w1", RelayReport(from: 0, events: [.task(r)]))
        let reportedAt = ContinuousClock.now
        // Then nothing: the relay was killed.
        let ended = await outcome.value
        let waited = (lostAt.withLock { $0 } ?? .now) - reportedAt
        #expect(reportedAt - started >= .zero)
        // The upper bound only says it ended (not after minutes): resuming a test on CI's two busy
        // cores once took 50 s (stop 35), so a tight bound here would measure the machine.
        #expect(waited < .seconds(90), "ended, not left waiting (\(waited))")
        #expect(waited >= .milliseconds(5900), "not before the timeout (\(waited))")
        #expect(Set(ended.result.unreachableHosts) == ["a", "b"])
        #expect(ended.result.recap["a"]?.changed == 1 && ended.result.recap["a"]?.unreachable == 1)
        #expect(ended.result.records.map(\.task) == ["t"])
        #expect(unreachable.withLock { $0 }.count == 2)
        #expect(unreachable.withLock { $0 }.allSatisfy { $0.contains("relais") && $0.contains("stopped answering") })
        #expect(hub.relay(forSchool: "0571234G") == nil, "a silent relay serves nothing")
        #expect(throws: RelayHub.ReportError.self) { try hub.report(relay: "relais", job: "w1", RelayReport(from: 1, events: [])) }
    }

    @Test("work for a relay that is not connected ends at once, its hosts unreachable; a relay that comes back is announced once")
    func workForAnAbsentRelay() async throws {
        // A long timeout: "announced once" must not depend on the two polls coming within 5 s of each
        // other (on CI's busy cores this test waited longer than that between them, and the hub rightly
        // took the relay for gone and back).
        let hub = RelayHub(timeout: .seconds(300), pollWait: .milliseconds(100))
        let arrivals = Mutex<[String]>([])
        hub.onArrival { login, schools in arrivals.withLock { $0.append("\(login) \(schools.joined(separator: ","))") } }
        let ended = await hub.dispatch(Self.work("w2", hosts: ["x"]), to: "nobody") { _ in }
        #expect(ended.result.unreachableHosts == ["x"])
        _ = await hub.poll(relay: "r1", schools: ["0571234G", "0572113M"])
        _ = await hub.poll(relay: "r1", schools: ["0571234G", "0572113M"])
        #expect(arrivals.withLock { $0 } == ["r1 0571234G,0572113M"])
        #expect(hub.status.map(\.login) == ["r1"])
        #expect(hub.status.first?.schools == ["0571234G", "0572113M"])
    }

    @Test("values travel between server and relay exactly: a float stays a float, a mapping keeps its order")
    func valuesRoundTrip() throws {
        var m = OrderedMap()
        m["zeta"] = .double(1.0)
        m["alpha"] = .list([.int(1), .bool(true), .null, .string("{{ x }}")])
        let v = Value.map(m)
        let back = try JSONDecoder().decode(Value.self, from: try JSONEncoder().encode(v))
        #expect(back == v)
        #expect(back.ordered?.keys == ["zeta", "alpha"])
        #expect(back.description == v.description)
    }
}

/// A run whose devices are partly a relay's: what the relay says is kept for its own devices only.
@Suite struct RelayedRunTests {
    @Test("a relay's report speaks for its own devices only: a forged task, facts and host key for another school's device are dropped; its devices' outcome is recorded with its name")
    func aRelayCannotSpeakForOtherDevices() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-relayed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("playbooks"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: t\n      command: 'true'\n"
            .write(to: dir.appendingPathComponent("playbooks/p.yml"), atomically: true, encoding: .utf8)
        let inventory = try Inventory(path: dir.appendingPathComponent("parc.sqlite").path, actor: "tech")
        let pinned = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        try inventory.write { tx in
            let m = try tx.addMember(Member(kind: .commune, name: "Norroy-le-Veneur", insee: "57511"))
            for (uai, serial, address) in [("0572113M", "A-1", "127.0.0.1"), ("0571234G", "B-1", "127.0.0.2")] {
                _ = try tx.addSchool(uai: uai, name: "École \(uai)", member: m.slug)
                let room = try tx.addRoom(school: uai, name: "Salle")
                _ = try tx.addDevice(Device(kind: .laptop, serial: serial, status: .deployed, roomId: room.id, hostname: serial.lowercased(),
                                            address: address, sshPort: 1, sshUser: "u", hostKey: serial == "B-1" ? pinned : nil))
            }
        }
        let hub = RelayHub(timeout: .seconds(30), pollWait: .milliseconds(100))
        _ = await hub.poll(relay: "relais-a", schools: ["0572113M"])
        var access = AccessSettings(credentials: [], timeout: 1)
        access.hostKeyPolicy = .acceptNew
        let workspace = Workspace(inventory: inventory, home: dir, access: access, relays: hub)
        var request = RunRequest(playbook: dir.appendingPathComponent("playbooks/p.yml").path)
        request.only = ["a-1"]
        let job = try #require(try PlaybookRuns.start(request, in: workspace))
        let work = try #require(await hub.poll(relay: "relais-a", schools: ["0572113M"]))
        #expect(work.hosts.map(\.serial) == ["A-1"])
        #expect(work.ssh["A-1"]?.hostKey == nil && work.ssh["A-1"]?.policy == "accept-new")
        func record(_ serial: String) -> TaskRecord {
            TaskRecord(play: "all", task: "t", host: serial.lowercased(), serial: serial, item: nil, outcome: .changed, changed: true, ignored: false,
                       message: nil, output: nil, diff: [], milliseconds: 1, location: nil)
        }
        var forgedFacts = DeviceFacts()
        forgedFacts.serial = "FORGED"
        let result = RunResult(records: [record("A-1"), record("B-1")],
                               recap: ["a-1": HostRecap(ok: 1, changed: 1), "b-1": HostRecap(ok: 1, changed: 1)], failedHosts: [], unreachableHosts: [],
                               facts: ["B-1": forgedFacts])
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBk1rVCSQeMoMeyPgfGFfcTP0ClzRMcu0Rg0WvAwMIQv"
        _ = try hub.report(relay: "relais-a", job: work.id, RelayReport(from: 0, events: [.task(record("A-1")), .task(record("B-1"))],
                                                                        outcome: RelayOutcome(result: result, newKeys: ["A-1": key, "B-1": key])))
        let report = try await job.value()
        #expect(report.hosts.map(\.serial) == ["A-1"])
        #expect(report.hosts.first?.relay == "relais-a")
        let detail = try inventory.read { try $0.run(report.id) }
        #expect(detail.tasks.map(\.serial) == ["A-1"], "the forged task of another school's device is not recorded")
        #expect(try inventory.read { try $0.device("B-1") }.hostKey == pinned, "another device's pinned key is untouched")
        #expect(try inventory.read { try $0.facts(serial: "B-1") } == nil, "no facts recorded for it")
        #expect(try inventory.read { try $0.device("A-1") }.hostKey == key, "the relay's own device met under accept-new is pinned")
        #expect(!job.history.contains { if case .task(let r) = $0.event { r.serial == "B-1" } else { false } }, "nor shown live")
    }

    @Test("a playbook folder too large for a relay is refused before the run is recorded: no run, no device held")
    func aFolderTooLargeForARelayWritesNothing() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-relayed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("playbooks"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: t\n      command: 'true'\n"
            .write(to: dir.appendingPathComponent("playbooks/p.yml"), atomically: true, encoding: .utf8)
        // 65 MiB beside the playbook (a sparse file: quick to make).
        let big = dir.appendingPathComponent("playbooks/image.iso")
        FileManager.default.createFile(atPath: big.path, contents: nil)
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: 65 << 20)
        try handle.close()
        let inventory = try Inventory(path: dir.appendingPathComponent("parc.sqlite").path, actor: "tech")
        try inventory.write { tx in
            let m = try tx.addMember(Member(kind: .commune, name: "Norroy-le-Veneur", insee: "57511"))
            _ = try tx.addSchool(uai: "0572113M", name: "École", member: m.slug)
            let room = try tx.addRoom(school: "0572113M", name: "Salle")
            _ = try tx.addDevice(Device(kind: .laptop, serial: "A-1", status: .deployed, roomId: room.id, hostname: "a-1", address: "127.0.0.1", sshPort: 1))
        }
        let hub = RelayHub(timeout: .seconds(30), pollWait: .milliseconds(100))
        _ = await hub.poll(relay: "relais-a", schools: ["0572113M"])
        let workspace = Workspace(inventory: inventory, home: dir, access: AccessSettings(credentials: [], timeout: 1), relays: hub)
        let request = RunRequest(playbook: dir.appendingPathComponent("playbooks/p.yml").path)
        #expect { _ = try PlaybookRuns.start(request, in: workspace) } throws: { "\($0)".contains("more than 64 MiB") && "\($0)".contains("playbooks") }
        #expect(try inventory.read { try $0.runs(limit: 5) }.isEmpty, "no run recorded")
        try FileManager.default.removeItem(at: big)
        let job = try #require(try PlaybookRuns.start(request, in: workspace), "the device is not held: a run starts once the folder fits")
        job.cancel(by: "test")
        let work = try #require(await hub.poll(relay: "relais-a", schools: ["0572113M"]))
        _ = try hub.report(relay: "relais-a", job: work.id, RelayReport(from: 0, events: [], outcome: RelayOutcome(
            result: RunResult(records: [], recap: ["a-1": HostRecap(ok: 1)], failedHosts: [], unreachableHosts: []), newKeys: [:])))
        #expect(try await job.value().hosts.first?.relay == "relais-a")
    }
}

/// A relay's copy of the run: roles found in the server's roles path travel with the work, and
/// the play defaults (-b, ansible.cfg's become and gathering) with it.
@Suite struct RelayWorkRolesTests {
    @Test func rolesFromTheRolesPathAndPlayDefaultsReachTheRelay() async throws {
        var work = RelayHubTests.work("roles", hosts: [])
        work.files = ["p.yml": Data("- hosts: all\n  roles: [motd]\n".utf8),
                      "roles-path-0/motd/tasks/main.yml": Data("- debug: msg=hi\n".utf8)]
        let logger = Logger(label: "test")
        // Without the roles path, the relay cannot find the role: the load names where it looked.
        do {
            _ = try await work.perform(credentials: [], becomePassword: nil, logger: logger, cancellation: RunCancellation()) { _ in }
            Issue.record("the role should not be found without the roles path")
        } catch {
            #expect("\(error)".contains("the role 'motd' was not found"))
        }
        work.rolesPath = ["roles-path-0"]
        work.playDefaults = PlayDefaults(become: true, gathering: .explicit)
        let outcome = try await work.perform(credentials: [], becomePassword: nil, logger: logger, cancellation: RunCancellation()) { _ in }
        #expect(outcome.result.records.isEmpty && outcome.result.exitCode == 0, "loaded and run on its (no) hosts")
    }
}
