import Foundation
import InventoryStore
import Lab
@testable import ParcApp
import ParcCore
import Provisioning
import SSHTransport
import Testing

/// An inventory whose devices are lab devices (real sshd on loopback), and a parc folder with playbooks.
final class LabInventory: @unchecked Sendable {
    let lab: Lab
    let dir: URL
    let inventory: Inventory
    let workspace: Workspace

    private init(devices: Int) throws {
        if let why = Lab.unavailableReason() { Issue.record("sshd is needed: \(why)") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-app-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("playbooks"), withIntermediateDirectories: true)
        let lab = try Lab.up(count: devices, in: dir.appendingPathComponent("lab").path)
        self.lab = lab
        inventory = try Inventory(path: dir.appendingPathComponent("parc.sqlite").path, actor: "tech")
        try inventory.write { tx in
            for d in lab.devices {
                _ = try tx.addDevice(Device(kind: .laptop, serial: d.serial))
                let key = try lab.hostKey(d.name)
                _ = try tx.updateDevice(d.serial) { $0.hostname = d.name; $0.address = d.address; $0.sshPort = d.port; $0.sshUser = d.user; $0.hostKey = key.openSSH }
            }
        }
        workspace = Workspace(inventory: inventory, home: dir, access: AccessSettings(credentials: [.keyFile(lab.clientKey)], timeout: 5))
    }

    deinit {
        lab.down()
        try? FileManager.default.removeItem(at: dir)
    }

    /// Starting sshd blocks: on a thread of its own.
    static func start(devices: Int) async throws -> LabInventory {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try LabInventory(devices: devices) }) }.start() }
    }

    func playbook(_ name: String, _ yaml: String) throws -> String {
        let path = dir.appendingPathComponent("playbooks/\(name)").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func sh(_ device: LabDevice, _ command: String) async throws -> String {
        let c = try await SSHConnection.connect(SSHOptions(name: device.name, address: device.address, port: device.port, user: device.user,
                                                           credentials: [.keyFile(lab.clientKey)],
                                                           hostKeyPolicy: HostKeyPolicy(mode: .strict, pinned: try lab.hostKey(device.name)),
                                                           connectTimeout: .seconds(5)))
        return try await c.using { try await $0.run(command).stdoutText }
    }
}

@Suite(.serialized) struct RunServiceTests {
    @Test func aCheckRunTellsEachTaskAsItHappensRecordsItselfAndLetsItsDevicesGo() async throws {
        let lab = try await LabInventory.start(devices: 2)
        let path = try lab.playbook("motd.yml", """
            - hosts: all
              become: yes
              gather_facts: no
              tasks:
                - name: message of the day
                  copy: { dest: /etc/parc-app-motd, content: "Bonjour\\n" }
                - name: a line
                  lineinfile: { path: /etc/parc-app-lines, line: "a=1", create: yes }
            """)
        var request = RunRequest(playbook: path)
        request.check = true
        request.limit = "all"
        let job = try #require(try PlaybookRuns.start(request, in: lab.workspace))
        var events: [RunProgress] = []
        for await e in job.events() { events.append(e.event) }
        let report = try await job.value()

        guard case .started(let id, _, true, let hosts)? = events.first else { Issue.record("the first event is the start: \(events.first.map { "\($0)" } ?? "none")"); return }
        #expect(id == report.id)
        #expect(Set(hosts.map(\.name)) == ["lab-01", "lab-02"])
        let tasks = events.compactMap { e -> TaskRecord? in if case .task(let t) = e { t } else { nil } }
        #expect(tasks.count == 4, "two tasks on two devices")
        #expect(Set(tasks.map(\.host)) == ["lab-01", "lab-02"])
        #expect(tasks.allSatisfy { $0.outcome == .changed }, "check mode says what would change: \(tasks.map(\.outcome))")
        guard case .recap(let recap)? = events.last else { Issue.record("the last event is the recap"); return }
        #expect(recap.exitCode == 0 && recap.hosts.count == 2 && recap.hosts.allSatisfy { $0.changed == 2 && $0.outcome == .changed })
        // Recorded, in check mode, by the workspace's actor; its devices are free again; nothing changed on them.
        let recorded = try lab.inventory.read { try $0.run(id) }
        #expect(recorded.run.checkMode && recorded.run.endedAt != nil && recorded.run.exitCode == 0 && recorded.run.actor == "tech")
        #expect(recorded.tasks.count == 4)
        #expect(try lab.inventory.read { try $0.busyDevices() }.isEmpty)
        #expect(try await lab.sh(lab.lab.devices[0], "test -e /etc/parc-app-motd && echo yes || echo no") == "no\n")
        #expect(try lab.inventory.read { try $0.pending() }.isEmpty, "check mode owes nothing")
    }

    @Test func aBusyDeviceRefusesASecondRunNamingTheFirstAndCancellingStopsIt() async throws {
        let lab = try await LabInventory.start(devices: 2)
        let slow = try lab.playbook("slow.yml", """
            - hosts: all
              gather_facts: no
              tasks:
                # Each task waits for the one before (register/when), so each ends on its own; long
                # enough that a follower on a loaded machine (the whole suite) sees the first in time.
                - { command: sleep 3, register: one }
                - { command: sleep 3, register: two, when: one.rc == 0 }
                - { command: sleep 3, register: three, when: two.rc == 0 }
                - { command: sleep 3, when: three.rc == 0 }
            """)
        var first = RunRequest(playbook: slow)
        first.limit = "lab-01"
        let job = try #require(try PlaybookRuns.start(first, in: lab.workspace))
        let firstID = try #require(job.runID)
        #expect(try lab.inventory.read { try $0.busyDevices() } == [lab.lab.devices[0].serial.lowercased(): firstID])

        var second = RunRequest(playbook: slow)
        second.limit = "all"
        let runsBefore = try lab.inventory.read { try $0.runs() }.count
        #expect(throws: DeviceBusy(device: "lab-01", runID: firstID, actor: "tech")) { try PlaybookRuns.start(second, in: lab.workspace) }
        #expect(try lab.inventory.read { try $0.runs() }.count == runsBefore, "a refused run is not recorded")

        // Cancel after the first task: the one in progress ends, no other starts.
        for await e in job.events() { if case .task = e.event { break } }
        job.cancel(by: "alice")
        let report = try await job.value()
        #expect((report.aborted ?? "").contains("cancelled by alice"), "\(report.aborted ?? "not aborted")")
        #expect(report.exitCode == 2)
        let recorded = try lab.inventory.read { try $0.run(firstID) }
        #expect(recorded.tasks.count < 4, "\(recorded.tasks.count) tasks ran")
        #expect(recorded.run.aborted == report.aborted)
        #expect(try lab.inventory.read { try $0.busyDevices() }.isEmpty)
        // Free again: the second run now starts.
        second.check = true
        let again = try #require(try PlaybookRuns.start(second, in: lab.workspace))
        #expect(try await again.value().hosts.count == 2)
    }

    @Test func aClaimLeftByAProcessThatIsGoneNoLongerHolds() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-claims-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inventory = try Inventory(path: dir.appendingPathComponent("parc.sqlite").path, actor: "tech")
        try inventory.write { tx in _ = try tx.addDevice(Device(kind: .laptop, serial: "SN-1")) }
        let crashed = try inventory.write { tx in
            try tx.startRun(playbook: "a.yml", hash: "h", selector: "all", checkMode: false, claiming: [("SN-1", "sn-1")], pid: 999_999_999)
        }
        #expect(try inventory.read { try $0.busyDevices() } == ["sn-1": crashed])
        // Alive: refused; gone: the new run takes the device over.
        #expect(throws: DeviceBusy.self) {
            try inventory.write { tx in try tx.startRun(playbook: "b.yml", hash: "h", selector: "all", checkMode: false, claiming: [("SN-1", "sn-1")], pid: 1) }
        }
        let next = try inventory.write { tx in
            try tx.startRun(playbook: "b.yml", hash: "h", selector: "all", checkMode: false, claiming: [("SN-1", "sn-1")], pid: 1, isAlive: { $0 != 999_999_999 })
        }
        #expect(try inventory.read { try $0.busyDevices() } == ["sn-1": next])
    }

    @Test func factsAreReadFromEveryDeviceAndRecorded() async throws {
        let lab = try await LabInventory.start(devices: 2)
        let rows = try lab.inventory.read { try $0.devices() }
        let job = try FactsRefresh.start(rows, become: .sudo, in: lab.workspace)
        var seen: [String] = []
        for await e in job.events() { if case .device(let r) = e.event { seen.append(r.device.inventoryName) } }
        let results = try await job.value()
        #expect(Set(seen) == ["lab-01", "lab-02"])
        for r in results {
            #expect(r.outcome == .ok)
            let stored = try lab.inventory.read { try $0.facts(serial: r.device.serial) }
            #expect(stored?.facts.serial == r.device.serial, "DMI serial read as root and kept")
        }
    }
}
