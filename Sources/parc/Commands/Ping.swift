import ArgumentParser
import ParcApp
import Foundation
import InventoryStore
import ParcCore
import Templating
import SSHTransport

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that devices answer over SSH: reachable, authenticated, host key, round trip.",
        discussion: """
            Connects to each selected device that has an address, in parallel (--forks), runs `true`, \
            and reports. Exit status: 0 all answered, 2 one failed (authentication, host key), 4 one \
            was unreachable (as Ansible). With --host-key-policy accept-new, a first host key is pinned \
            in the inventory (an audit event says so); a changed key is always refused.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var access: AccessOptions
    @Flag(help: "Print JSON: one object per device.") var json = false

    struct Result: Sendable {
        var device: String
        var serial: String
        var address: String
        var status: TaskOutcome     // ok, failed, unreachable
        var hostKey: String         // pinned, known_hosts, new (pinned now), unknown, changed, -
        var connectMs: Int?
        var roundTripMs: Int?
        var message: String?
        var newKey: HostKey?
    }

    func run() async throws {
        let inventory = try global.open()
        let rows = try inventory.read { try selection.select($0) }
        let settings = access.settings
        var skipped: [String] = []
        var targets: [(DeviceRow, SSHOptions)] = []
        for row in rows {
            if let options = try settings.ssh(for: row) {
                targets.append((row, options))
            } else {
                skipped.append(row.inventoryName)
            }
        }
        if targets.isEmpty {
            warn(rows.isEmpty ? "the pattern selects no device; nothing to ping" : "none of the \(rows.count) selected device(s) has an address (set one with `parc device edit SERIAL --address …`); nothing to ping")
            return
        }
        let outcomes = await concurrently(targets, limit: access.forks) { (row, options) in
            await Self.ping(row, options)
        }
        // Pin first keys (accept-new), each with its audit event.
        for o in outcomes {
            if let key = o.newKey {
                try inventory.write { tx in _ = try tx.updateDevice(o.serial) { $0.hostKey = key.openSSH } }
            }
        }
        if json {
            emit(JSONValue.array(outcomes.map { o in
                .object([("device", .string(o.device)), ("serial", .string(o.serial)), ("address", .string(o.address)),
                         ("status", .string(o.status.rawValue)), ("hostKey", .string(o.hostKey)), ("connectMs", .number(o.connectMs)),
                         ("roundTripMs", .number(o.roundTripMs)), ("message", .text(o.message))])
            }).serialized() + "\n")
        } else {
            emit(Render.table(header: ["DEVICE", "ADDRESS", "STATUS", "HOST KEY", "CONNECT", "RTT", "MESSAGE"],
                              rows: outcomes.map { o in
                                  [o.device, o.address, o.status.rawValue, o.hostKey, o.connectMs.map { "\($0) ms" } ?? "", o.roundTripMs.map { "\($0) ms" } ?? "",
                                   o.message ?? ""]
                              }))
        }
        let ok = outcomes.filter { $0.status == .ok }.count
        let failed = outcomes.filter { $0.status == .failed }.count
        let unreachable = outcomes.filter { $0.status == .unreachable }.count
        var summary = "\(outcomes.count) device\(outcomes.count == 1 ? "" : "s"): \(ok) ok, \(failed) failed, \(unreachable) unreachable"
        if !skipped.isEmpty { summary += " (\(skipped.count) without an address skipped)" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        if unreachable > 0 { throw ExitCode(4) }
        if failed > 0 { throw ExitCode(2) }
    }

    static func ping(_ row: DeviceRow, _ options: SSHOptions) async -> Result {
        var o = Result(device: row.inventoryName, serial: row.serial, address: "\(options.address):\(options.port)", status: .ok, hostKey: "-")
        do {
            let c = try await SSHConnection.connect(options)
            o.connectMs = Int((c.timings.total.seconds * 1000).rounded())
            switch c.hostKeyCheck {
            case .pinned: o.hostKey = "pinned"
            case .knownHosts: o.hostKey = "known_hosts"
            case .new:
                o.hostKey = "new, pinned"
                o.newKey = c.hostKey
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
            o.message = "\(error)".replacingOccurrences(of: "\(row.inventoryName): ", with: "")
        } catch {
            o.status = .failed
            o.message = "\(error)"
        }
        return o
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
