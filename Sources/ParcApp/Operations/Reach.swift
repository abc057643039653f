import Foundation
import InventoryStore
import ParcCore
import SSHTransport
import Synchronization

/// Devices picked by an Ansible-style pattern, narrowed by `--limit` and the device-list filters.
public struct Selection: Codable, Sendable {
    public var pattern: String?
    public var limit: String?
    public var member, school: String?
    public var kind: DeviceKind?

    public init(pattern: String?, limit: String? = nil, member: String? = nil, school: String? = nil, kind: DeviceKind? = nil) {
        (self.pattern, self.limit, self.member, self.school, self.kind) = (pattern, limit, member, school, kind)
    }

    public func select(_ r: InventoryReader) throws -> [DeviceRow] {
        var rows = try r.select(try HostPattern(pattern ?? "all"))
        if let limit {
            let allowed = Set(try r.select(try HostPattern(limit)).map(\.serial))
            rows = rows.filter { allowed.contains($0.serial) }
        }
        if member != nil || school != nil || kind != nil {
            let allowed = Set(try r.devices(DeviceFilter(member: member, school: school, kind: kind)).map(\.serial))
            rows = rows.filter { allowed.contains($0.serial) }
        }
        return rows
    }
}

extension HostKeyPolicy.Mode: Codable {}

/// How a person tunes reaching devices for one command (`--host-key-policy`, `--timeout`,
/// `--forks`, `--user`); the keys and known_hosts files are those of the machine that connects.
public struct ReachTuning: Codable, Sendable {
    public var hostKeyPolicy: HostKeyPolicy.Mode
    public var timeout: Double
    public var forks: Int
    public var user: String?

    public init(hostKeyPolicy: HostKeyPolicy.Mode, timeout: Double, forks: Int, user: String?) {
        (self.hostKeyPolicy, self.timeout, self.forks, self.user) = (hostKeyPolicy, timeout, forks, user)
    }

    func applied(to access: AccessSettings) -> AccessSettings {
        var a = access
        a.hostKeyPolicy = hostKeyPolicy
        a.timeout = timeout
        a.forks = forks
        a.user = user
        return a
    }
}

public enum ReachOps {
    /// One device's answer to a ping.
    public struct Answer: Codable, Sendable {
        public var device: String
        public var serial: String
        public var address: String
        public var status: TaskOutcome      // ok, failed, unreachable
        public var hostKey: String          // pinned, known_hosts, new (pinned now), unknown, CHANGED, -
        public var connectMs: Int?
        public var roundTripMs: Int?
        public var message: String?
    }

    public struct Pinged: Codable, Sendable {
        /// How many devices the pattern selected (with an address or not).
        public var selected: Int
        /// Those without an address, not pinged.
        public var skipped: [String]
        public var answers: [Answer]
    }

    /// `parc ping`: connect to each selected device, check its host key, authenticate, run `true`.
    /// A first key met under accept-new is pinned in the inventory, with its audit event.
    public struct Ping: InventoryOperation {
        public static let name = "device.ping"
        public static let summary = "Check that devices answer over SSH from where parc runs: reachable, authenticated, host key, round trip (as `parc ping`)"
        public var selection: Selection
        public var tuning: ReachTuning
        public init(_ selection: Selection, tuning: ReachTuning) { (self.selection, self.tuning) = (selection, tuning) }

        public func perform(in workspace: Workspace) async throws -> Pinged {
            let rows = try await workspace.inventory.reading { [selection] in try selection.select($0) }
            let settings = tuning.applied(to: workspace.access)
            let split = try Reaching(rows, settings: settings, relays: workspace.relays)
            // Devices this machine reaches, and (on a server) those of schools with a relay, through it.
            async let direct = concurrently(split.direct, limit: settings.forks) { row, options in
                await Self.ping(name: row.inventoryName, serial: row.serial, options)
            }
            var answers: [String: Answer] = [:]
            var firstKeys: [String: String] = [:]
            for (relay, part, heard, newKeys) in await split.throughRelays(.ping, workspace: workspace, settings: settings, { e -> (String, Answer)? in
                if case .answered(let a) = e { (a.serial, a) } else { nil }
            }) {
                for (serial, t) in part {
                    answers[serial] = heard[serial] ?? Answer(device: t.row.inventoryName, serial: serial, address: "\(t.ssh.address):\(t.ssh.port)",
                                                              status: .unreachable, hostKey: "-", message: "through the relay \(relay): no answer (the relay is gone?)")
                }
                for (serial, key) in newKeys where part[serial]?.acceptsFirstKey == true { firstKeys[serial] = key }
            }
            for m in await direct {
                answers[m.answer.serial] = m.answer
                if let key = m.key { firstKeys[m.answer.serial] = key.openSSH }
            }
            if !firstKeys.isEmpty {
                try await workspace.inventory.writing { [firstKeys] tx in
                    for (serial, key) in firstKeys.sorted(by: { $0.key < $1.key }) { _ = try tx.updateDevice(serial) { $0.hostKey = key } }
                }
            }
            return Pinged(selected: rows.count, skipped: split.skipped, answers: split.order.compactMap { answers[$0] })
        }

        static func ping(name: String, serial: String, _ options: SSHOptions) async -> (answer: Answer, key: HostKey?) {
            var o = Answer(device: name, serial: serial, address: "\(options.address):\(options.port)", status: .ok, hostKey: "-")
            var key: HostKey?
            do {
                let c = try await SSHConnection.connect(options)
                o.connectMs = Int((c.timings.total.seconds * 1000).rounded())
                switch c.hostKeyCheck {
                case .pinned: o.hostKey = "pinned"
                case .knownHosts: o.hostKey = "known_hosts"
                case .new:
                    o.hostKey = "new, pinned"
                    key = c.hostKey
                    o.message = "pinned \(c.hostKey.description)"
                }
                let start = ContinuousClock.now
                let r = try await c.run("true")
                o.roundTripMs = Int(((ContinuousClock.now - start).seconds * 1000).rounded())
                if !r.succeeded {
                    o.status = .failed
                    o.message = "`true` exited with \(r.exitStatus)"
                }
                await c.close()
            } catch let error as TransportError {
                o.status = error.isUnreachable ? .unreachable : .failed
                switch error {
                case .hostKeyUnknown: o.hostKey = "unknown"
                case .hostKeyChanged: o.hostKey = "CHANGED"
                default: break
                }
                o.message = "\(error)".replacingOccurrences(of: "\(name): ", with: "")
            } catch {
                o.status = .failed
                o.message = "\(error)"
            }
            return (o, key)
        }
    }
}

/// The selected devices as reaching them goes: without an address (skipped), reached from here,
/// or through the relay of their school (a server with connected relays).
struct Reaching: Sendable {
    struct Target: Sendable { var row: DeviceRow; var ssh: SSHOptions; var acceptsFirstKey: Bool }
    var order: [String] = []
    var skipped: [String] = []
    var direct: [(DeviceRow, SSHOptions)] = []
    var relayed: [String: [String: Target]] = [:]

    init(_ rows: [DeviceRow], settings: AccessSettings, relays: RelayHub?) throws {
        for row in rows {
            guard let ssh = try settings.ssh(for: row) else { skipped.append(row.inventoryName); continue }
            order.append(row.serial)
            if let relay = relays?.relay(forSchool: row.uai) {
                relayed[relay, default: [:]][row.serial] = Target(row: row, ssh: ssh,
                                                                  acceptsFirstKey: ssh.hostKeyPolicy.mode == .acceptNew && ssh.hostKeyPolicy.pinned == nil)
            } else {
                direct.append((row, ssh))
            }
        }
    }
}

extension Reaching {
    /// Hands each relay the work of reaching its part (all relays at once), keeping what each says
    /// of its own devices only (`pick`: an event's device and value).
    func throughRelays<E: Sendable>(_ reach: RelayWork.Reach, workspace: Workspace, settings: AccessSettings,
                                    _ pick: @escaping @Sendable (RelayEvent) -> (String, E)?) async
        -> [(relay: String, part: [String: Target], heard: [String: E], newKeys: [String: String])] {
        guard let relays = workspace.relays, !relayed.isEmpty else { return [] }
        return await withTaskGroup(of: (String, [String: Target], [String: E], [String: String]).self) { group in
            for (relay, part) in relayed {
                let endpoints = part.mapValues { RelayWork.Endpoint($0.ssh, timeout: settings.timeout) }
                group.addTask {
                    let heard = Mutex<[String: E]>([:])
                    let outcome = await relays.dispatch(RelayWork.reaching(reach, endpoints, forks: settings.forks), to: relay) { e in
                        if let (serial, value) = pick(e), endpoints[serial] != nil { heard.withLock { $0[serial] = value } }
                    }
                    return (relay, part, heard.withLock { $0 }, outcome.newKeys)
                }
            }
            var out: [(relay: String, part: [String: Target], heard: [String: E], newKeys: [String: String])] = []
            for await r in group { out.append((r.0, r.1, r.2, r.3)) }
            return out
        }
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
