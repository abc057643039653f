import Foundation
import InventoryStore
import ParcCore
import Provisioning
import SSHTransport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Wake-on-LAN for devices of the inventory: a magic packet per MAC, broadcast on the device's own
/// network — by this machine, or by the relay of the device's school when one is connected (a
/// broadcast does not cross routers, and the school's network is the relay's).
public enum Waking {
    /// One packet to send: for which device (its serial: names repeat across schools), which MAC, where.
    public struct Packet: Codable, Sendable, Equatable {
        public var serial: String
        public var mac: String
        public var address: String
        public var port: Int
    }

    /// What was sent for one device, and by whom (nil: this machine).
    public struct Sent: Sendable, Equatable {
        public var serial: String
        public var device: String
        public var macs: [String]
        public var target: String
        public var relay: String?
        public var error: String?
    }

    /// The packets for `rows` (devices without a MAC get none): to `broadcast`, else the subnet's
    /// from the device's facts, else 255.255.255.255.
    public static func packets(_ rows: [DeviceRow], facts: [String: DeviceFacts], broadcast: String?, port: Int) -> [String: [Packet]] {
        var out: [String: [Packet]] = [:]
        for row in rows where !row.macs.isEmpty {
            let target = broadcast ?? WakeOnLAN.broadcast(for: facts[row.serial], address: row.address) ?? "255.255.255.255"
            out[row.serial] = row.macs.map { Packet(serial: row.serial, mac: $0, address: target, port: port) }
        }
        return out
    }

    /// Wakes `rows`, `stagger` milliseconds between two devices; the devices of a school whose relay
    /// is connected are woken by it.
    public static func wake(_ rows: [DeviceRow], facts: [String: DeviceFacts], broadcast: String?, port: Int, stagger: Int,
                            in workspace: Workspace) async throws -> [Sent] {
        let plan = packets(rows, facts: facts, broadcast: broadcast, port: port)
        var direct: [DeviceRow] = [], byRelay: [String: [DeviceRow]] = [:]
        for row in rows where plan[row.serial] != nil {
            if let relay = workspace.relays?.relay(forSchool: row.uai) { byRelay[relay, default: []].append(row) } else { direct.append(row) }
        }
        var sent: [Sent] = []
        for (relay, group) in byRelay.sorted(by: { $0.key < $1.key }) {
            let work = RelayWork(id: UUID().uuidString.lowercased(), run: 0, playbook: "", files: [:], hosts: [], ssh: [:],
                                 options: .init(check: false, diff: false, forks: 1, tags: [], skipTags: [], extraVars: [:], extraData: [:],
                                                become: "none", becomeUser: nil, startAtTask: nil, knownNames: []),
                                 wake: .init(packets: group.flatMap { plan[$0.serial]! }, stagger: stagger))
            // The relay notes each device's failure as "SERIAL: cannot …".
            let failures = Mutex<[String]>([])
            let outcome = await workspace.relays!.dispatch(work, to: relay) { e in if case .note(let text) = e { failures.withLock { $0.append(text) } } }
            let lost = !outcome.result.unreachableHosts.isEmpty || outcome.result.aborted != nil
            for row in group {
                let packets = plan[row.serial]!
                let prefix = row.serial + ": cannot "
                let error = lost ? "the relay \(relay) did not answer"
                    : failures.withLock { $0 }.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(row.serial.count + 2)) }
                sent.append(Sent(serial: row.serial, device: row.inventoryName, macs: row.macs, target: packets[0].address, relay: relay, error: error))
            }
        }
        for (i, row) in direct.enumerated() {
            if i > 0, stagger > 0 { try await Task.sleep(for: .milliseconds(stagger)) }
            let packets = plan[row.serial]!
            var failure: String? = nil
            for p in packets {
                do { try send(p) } catch { failure = "\(error)" }
            }
            sent.append(Sent(serial: row.serial, device: row.inventoryName, macs: row.macs, target: packets[0].address, relay: nil, error: failure))
        }
        return sent
    }

    /// Sends the packets of a relay's work, reporting each device as a note.
    static func send(_ plan: RelayWork.WakePlan, report: (RelayEvent) -> Void) async {
        var last: String? = nil
        for p in plan.packets {
            if let last, last != p.serial, plan.stagger > 0 { try? await Task.sleep(for: .milliseconds(plan.stagger)) }
            last = p.serial
            do {
                try send(p)
                report(.note("\(p.serial): \(p.mac) → \(p.address):\(p.port)"))
            } catch {
                report(.note("\(p.serial): cannot send to \(p.address):\(p.port): \(error)"))
            }
        }
    }

    /// Whether something answers on `address:port` (a TCP connection within `timeout` seconds):
    /// a device that is on and on the network.
    public static func answers(_ address: String, port: Int, timeout: Double) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &sa.sin_addr) == 1 else { return false }
        let r = withUnsafePointer(to: &sa) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if r == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return false }
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err == 0
    }

    /// One magic packet, as a UDP broadcast datagram.
    public static func send(_ p: Packet) throws {
        let packet = try WakeOnLAN.packet(mac: p.mac)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw AppError("cannot open a UDP socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = in_port_t(UInt16(p.port).bigEndian)
        guard inet_pton(AF_INET, p.address, &sa.sin_addr) == 1 else { throw AppError("'\(p.address)' is not an IPv4 address") }
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &sa) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard sent == packet.count else { throw AppError("sending to \(p.address):\(p.port) failed: \(String(cString: strerror(errno)))") }
    }
}

/// `parc wake`: the selected devices' magic packets, from where parc runs or through the relay of
/// each device's school.
public enum WakeOps {
    /// One device: its MACs (none: nothing sent), where the packets went, or why not.
    public struct Woken: Codable, Sendable {
        public var device: String
        public var serial: String
        public var macs: [String]
        public var target: String?
        public var relay: String?
        public var error: String?
    }

    public struct Wake: InventoryOperation {
        public static let name = "device.wake"
        public static let summary = "Wake devices (Wake-on-LAN): from where parc runs, or through the relay of each device's school (as `parc wake`)"
        public var selection: Selection
        public var broadcast: String?
        public var port: Int
        public var stagger: Int
        public init(_ selection: Selection, broadcast: String?, port: Int, stagger: Int) {
            (self.selection, self.broadcast, self.port, self.stagger) = (selection, broadcast, port, stagger)
        }

        public func perform(in workspace: Workspace) async throws -> [Woken] {
            guard (1...65535).contains(port), (0...10_000).contains(stagger) else { throw AppError("the port is 1 to 65535, the stagger 0 to 10000 ms") }
            let (rows, facts) = try await workspace.inventory.reading { [selection] r -> ([DeviceRow], [String: DeviceFacts]) in
                let rows = try selection.select(r)
                var facts: [String: DeviceFacts] = [:]
                for row in rows { if let f = try r.facts(serial: row.serial) { facts[row.serial] = f.facts } }
                return (rows, facts)
            }
            let sent = try await Waking.wake(rows, facts: facts, broadcast: broadcast, port: port, stagger: stagger, in: workspace)
            let bySerial = Dictionary(sent.map { ($0.serial, $0) }, uniquingKeysWith: { a, _ in a })
            return rows.map { row in
                let s = bySerial[row.serial]
                return Woken(device: row.inventoryName, serial: row.serial, macs: row.macs, target: s?.target, relay: s?.relay, error: s?.error)
            }
        }
    }
}

// MARK: Through a device of the school, and a run's wake-up

extension Waking {
    /// The command a sending device runs: wakeonlan if it has it, else etherwake.
    static func viaScript(macs: [String], broadcast: String, port: Int) -> String {
        let list = macs.map(shellQuote).joined(separator: " ")
        return """
            if command -v wakeonlan >/dev/null 2>&1; then for m in \(list); do wakeonlan -i \(shellQuote(broadcast)) -p \(port) "$m" || exit 1; done; \
            elif command -v etherwake >/dev/null 2>&1; then for m in \(list); do etherwake -b "$m" || exit 1; done; \
            else echo parc-no-wol-tool; exit 3; fi
            """
    }

    /// What a device of the school sent for the others.
    public struct SentVia: Sendable, Equatable {
        public var device: String
        public var target: String
        public var macs: Int
    }

    /// `parc wake --via`: the selected devices (with what they last said of themselves) woken by
    /// a device of their school that is awake; nil when nothing matches.
    public static func wake(_ selection: Selection, via: String, broadcast: String?, port: Int,
                            in workspace: Workspace) async throws -> (rows: [DeviceRow], sent: SentVia)? {
        let (rows, facts) = try await workspace.inventory.reading { r -> ([DeviceRow], [String: DeviceFacts]) in
            let rows = try selection.select(r)
            var facts: [String: DeviceFacts] = [:]
            for row in rows { if let f = try r.facts(serial: row.serial) { facts[row.serial] = f.facts } }
            return (rows, facts)
        }
        if rows.isEmpty { return nil }
        return (rows, try await wake(rows, facts: facts, via: via, broadcast: broadcast, port: port, in: workspace))
    }

    /// Sends the packets of `rows` from a device already awake (`via`: a serial, asset tag or name;
    /// `auto`: one of the same room, then of the same school, that answers), over SSH from here: a
    /// broadcast does not cross routers, the sending device is on the school's network.
    public static func wake(_ rows: [DeviceRow], facts: [String: DeviceFacts], via: String, broadcast: String?, port: Int,
                            in workspace: Workspace) async throws -> SentVia {
        let (name, connection) = try await sender(via, for: rows, in: workspace)
        let macs = rows.flatMap(\.macs)
        guard !macs.isEmpty else {
            await connection.close()
            return SentVia(device: name, target: "", macs: 0)
        }
        let target = broadcast ?? rows.lazy.compactMap { WakeOnLAN.broadcast(for: facts[$0.serial], address: $0.address) }.first ?? "255.255.255.255"
        let result = try await connection.using { c in
            try await c.run(viaScript(macs: macs, broadcast: target, port: port), stdin: nil, become: .sudo, timeout: .seconds(60))
        }
        if result.stdoutText.contains("parc-no-wol-tool") {
            throw AppError("\(name) has neither wakeonlan nor etherwake: install one there (apt install wakeonlan), or use --via with another device")
        }
        guard result.succeeded else { throw AppError("\(name) could not send the packets: \(result.stderrText.trimmed)") }
        return SentVia(device: name, target: target, macs: macs.count)
    }

    /// The device that sends for the others: the one named, or (auto) one of the same room, then
    /// of the same school, that answers.
    static func sender(_ via: String, for rows: [DeviceRow], in workspace: Workspace) async throws -> (String, SSHConnection) {
        let asleep = Set(rows.map(\.serial))
        let candidates: [DeviceRow] = try await workspace.inventory.reading { r in
            let all = try r.devices().filter { $0.address != nil && !asleep.contains($0.serial) }
            if via != "auto" {
                // A serial, an asset tag or a host name.
                let found = try r.select(try HostPattern(via))
                guard found.count == 1, let row = found.first else { throw AppError("--via names one device, '\(via)' names \(found.count)") }
                guard row.address != nil else { throw AppError("--via \(via): that device has no address to reach it") }
                return [row]
            }
            let rooms = Set(rows.compactMap(\.room)), schools = Set(rows.compactMap(\.uai))
            return all.filter { $0.room.map(rooms.contains) ?? false } + all.filter { !($0.room.map(rooms.contains) ?? false) && ($0.uai.map(schools.contains) ?? false) }
        }
        for row in candidates {
            guard let o = try workspace.access.ssh(for: row), answers(o.address, port: o.port, timeout: 1) else { continue }
            if let c = try? await SSHConnection.connect(o) { return (row.inventoryName, c) }
        }
        throw AppError(via == "auto" ? "no device of the same room or school answers to send the packets from; name one with --via DEVICE"
                                     : "--via \(via) does not answer")
    }

    /// Before a run (`parc run --wake`): the hosts whose SSH does not answer get their packets
    /// (through `via` when given); answers which of them came up within `waitFor` seconds, and how
    /// many did not. The others stay as they are: the run finds them unreachable and owes them the playbook.
    public static func wakeAsleep(_ hosts: [HostTarget], targets: PlaybookRuns.Targets, via: String?, broadcast: String?, port: Int, stagger: Int,
                                  waitFor: Double, in workspace: Workspace) async throws -> (woken: Set<String>, silent: Int, via: SentVia?, sent: [Sent]) {
        guard targets.fromDatabase else { throw AppError("--wake wakes parc's devices (their MACs are in the inventory), not those of -i") }
        let asleep = hosts.filter { h in targets.ssh[h.serial].map { !answers($0.address, port: $0.port, timeout: 1) } ?? false }
        guard !asleep.isEmpty else { return ([], 0, nil, []) }
        let serials = Set(asleep.map(\.serial))
        let (rows, facts) = try await workspace.inventory.reading { r -> ([DeviceRow], [String: DeviceFacts]) in
            let rows = try r.devices().filter { serials.contains($0.serial) }
            var facts: [String: DeviceFacts] = [:]
            for row in rows { if let f = try r.facts(serial: row.serial) { facts[row.serial] = f.facts } }
            return (rows, facts)
        }
        var viaSent: SentVia? = nil, sent: [Sent] = []
        if let via {
            viaSent = try await wake(rows, facts: facts, via: via, broadcast: broadcast, port: port, in: workspace)
        } else {
            sent = try await wake(rows, facts: facts, broadcast: broadcast, port: port, stagger: stagger, in: workspace)
        }
        var waiting = serials
        var woken = Set<String>()
        let deadline = ContinuousClock.now + .milliseconds(Int(waitFor * 1000))
        while !waiting.isEmpty && ContinuousClock.now < deadline {
            for s in waiting {
                if let o = targets.ssh[s], answers(o.address, port: o.port, timeout: 0.5) { woken.insert(s); waiting.remove(s) }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        }
        return (woken, waiting.count, viaSent, sent)
    }
}

extension PlaybookRuns {
    /// After a run (`--poweroff-after`): the devices it woke go back off (a detached poweroff, as
    /// root); answers, for each, nil or why it could not.
    public static func powerOff(_ woken: Set<String>, hosts: [HostTarget], report: RunReport, connector: SSHConnector) async -> [(host: String, error: String?)] {
        var out: [(host: String, error: String?)] = []
        for h in hosts where woken.contains(h.serial) && report.hosts.first(where: { $0.serial == h.serial })?.outcome != .unreachable {
            do {
                let t = try await connector.connect(h)
                _ = try await t.run("nohup /bin/sh -c 'sleep 2; systemctl poweroff || poweroff' >/dev/null 2>&1 &", stdin: nil, become: .sudo, timeout: .seconds(30))
                await t.close()
                out.append((h.name, nil))
            } catch {
                out.append((h.name, "\(error)"))
            }
        }
        return out
    }
}
