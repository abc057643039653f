import ArgumentParser
import ParcApp
import Foundation
import InventoryStore
import ParcCore
import SSHTransport
#if canImport(Glibc)
import Glibc
#endif

/// Sends magic packets: UDP broadcast from this machine, or through a device already awake.
enum WakeSender {
    /// The command a relay device runs: wakeonlan if it has it, else etherwake.
    static func relayScript(macs: [String], broadcast: String, port: Int) -> String {
        let list = macs.map(shellQuote).joined(separator: " ")
        return """
            if command -v wakeonlan >/dev/null 2>&1; then for m in \(list); do wakeonlan -i \(shellQuote(broadcast)) -p \(port) "$m" || exit 1; done; \
            elif command -v etherwake >/dev/null 2>&1; then for m in \(list); do etherwake -b "$m" || exit 1; done; \
            else echo parc-no-wol-tool; exit 3; fi
            """
    }
}

/// What `parc wake` and `parc run --wake` are told about how to wake.
struct WakeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Send to this broadcast address (default: the subnet's, from the device's facts; else 255.255.255.255).", valueName: "address"))
    var broadcast: String?
    @Option(name: .customLong("wol-port"), help: ArgumentHelp("The UDP port of the magic packets.", valueName: "port")) var wolPort: Int = 9
    @Option(help: ArgumentHelp("Milliseconds between two devices, so that a cart's chargers do not all draw at once.", valueName: "ms"))
    var stagger: Int = 200
    @Option(help: ArgumentHelp("Send from this device, already awake (serial, asset tag or name), over SSH; `auto` picks one of the same room or school. Broadcasts do not cross routers.", valueName: "device|auto"))
    var via: String?
}

struct Wake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wake devices with Wake-on-LAN magic packets (a cart's laptops before a run).",
        discussion: """
            Every MAC the inventory holds for each device gets a magic packet, as UDP broadcast to the \
            subnet's broadcast address (from the device's stored facts) or --broadcast. A broadcast \
            does not cross routers: --via sends from a device of the same school that is awake \
            (it needs wakeonlan or etherwake: apt install wakeonlan).
            Examples:
              parc wake cart_nlv_2024_010
              parc wake room_0572113m_cm2 --via auto
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var wake: WakeOptions
    @OptionGroup var access: AccessOptions

    func run() async throws {
        if wake.via != nil {
            if global.server != nil { throw ValidationError("--via works on a local inventory only; against a server the relay of each school sends the packets") }
            try await viaDevice()
            return
        }
        // From this machine, or (against a server) from the server or the relay of each device's school.
        let woken = try await global.parc(access: access.settings).perform(WakeOps.Wake(selection.value, broadcast: wake.broadcast, port: wake.wolPort,
                                                                                          stagger: wake.stagger))
        if woken.isEmpty { warn("no device matches; nothing to wake"); return }
        var sent = 0, devices = 0, failed = 0
        for w in woken where !w.macs.isEmpty {
            if let error = w.error { warn("\(w.device): \(error)"); failed += 1; continue }
            emit("\(w.device): \(w.macs.joined(separator: ", ")) → \(w.target ?? "?"):\(wake.wolPort)\(w.relay.map { " (through the relay \($0))" } ?? "")\n")
            sent += w.macs.count
            devices += 1
        }
        for w in woken where w.macs.isEmpty {
            FileHandle.standardError.write(Data("no MAC address for \(w.device) (\(w.serial)): add one with `parc device edit \(w.serial) --mac …`\n".utf8))
        }
        emit("\(sent) magic packet(s) sent for \(devices) device(s).\n")
        if failed > 0 { throw ExitCode(1) }
    }

    /// `--via`: the packets sent by a device of the school that is awake, over SSH from here.
    func viaDevice() async throws {
        let inventory = try global.open()
        let (rows, facts) = try inventory.read { r -> ([DeviceRow], [String: DeviceFacts]) in
            let rows = try selection.select(r)
            var facts: [String: DeviceFacts] = [:]
            for row in rows { if let f = try r.facts(serial: row.serial) { facts[row.serial] = f.facts } }
            return (rows, facts)
        }
        if rows.isEmpty { warn("no device matches; nothing to wake"); return }
        let sent = try await Self.wake(rows, facts: facts, options: wake, inventory: inventory, access: access)
        let without = rows.filter { $0.macs.isEmpty }
        for row in without { FileHandle.standardError.write(Data("no MAC address for \(row.inventoryName) (\(row.serial)): add one with `parc device edit \(row.serial) --mac …`\n".utf8)) }
        emit("\(sent) magic packet(s) sent for \(rows.count - without.count) device(s).\n")
    }

    /// Sends the packets for `rows`; returns how many were sent.
    static func wake(_ rows: [DeviceRow], facts: [String: DeviceFacts], options: WakeOptions, inventory: Inventory, access: AccessOptions) async throws -> Int {
        var sent = 0
        if let via = options.via {
            // By room (or school) of the devices to wake, one relay each.
            let relay = try await relayDevice(via, for: rows, inventory: inventory, access: access)
            let macs = rows.flatMap(\.macs)
            guard !macs.isEmpty else { return 0 }
            let target = options.broadcast ?? rows.lazy.compactMap { WakeOnLAN.broadcast(for: facts[$0.serial], address: $0.address) }.first ?? "255.255.255.255"
            let result = try await relay.connection.using { c in
                try await c.run(WakeSender.relayScript(macs: macs, broadcast: target, port: options.wolPort), stdin: nil, become: .sudo, timeout: .seconds(60))
            }
            if result.stdoutText.contains("parc-no-wol-tool") {
                throw ValidationError("\(relay.name) has neither wakeonlan nor etherwake: install one there (apt install wakeonlan), or use --via with another device")
            }
            guard result.succeeded else { throw ValidationError("\(relay.name) could not send the packets: \(result.stderrText.trimmed)") }
            emit("Sent from \(relay.name) to \(target):\(options.wolPort) for \(macs.count) MAC address(es).\n")
            return macs.count
        }
        // From this machine (ParcApp's Waking: the server's own way, without its relays).
        let workspace = Workspace(inventory: inventory, home: ParcHome.locate(), access: access.settings)
        for s in try await Waking.wake(rows, facts: facts, broadcast: options.broadcast, port: options.wolPort, stagger: options.stagger, in: workspace) {
            if let error = s.error { throw ValidationError("\(s.device): \(error)") }
            emit("\(s.device): \(s.macs.joined(separator: ", ")) → \(s.target):\(options.wolPort)\n")
            sent += s.macs.count
        }
        return sent
    }

    struct Relay { let name: String; let connection: SSHConnection }

    /// The device that sends for the others: the one named, or (auto) one of the same room, then
    /// of the same school, that answers.
    static func relayDevice(_ via: String, for rows: [DeviceRow], inventory: Inventory, access: AccessOptions) async throws -> Relay {
        let asleep = Set(rows.map(\.serial))
        let candidates: [DeviceRow] = try inventory.read { r in
            let all = try r.devices().filter { $0.address != nil && !asleep.contains($0.serial) }
            if via != "auto" {
                // A serial, an asset tag or a host name.
                let found = try r.select(try HostPattern(via))
                guard found.count == 1, let row = found.first else { throw ValidationError("--via names one device, '\(via)' names \(found.count)") }
                guard row.address != nil else { throw ValidationError("--via \(via): that device has no address to reach it") }
                return [row]
            }
            let rooms = Set(rows.compactMap(\.room)), schools = Set(rows.compactMap(\.uai))
            return all.filter { $0.room.map(rooms.contains) ?? false } + all.filter { !($0.room.map(rooms.contains) ?? false) && ($0.uai.map(schools.contains) ?? false) }
        }
        let settings = access.settings
        for row in candidates {
            guard let o = try settings.ssh(for: row),
                  Waking.answers(o.address, port: o.port, timeout: 1) else { continue }
            if let c = try? await SSHConnection.connect(o) { return Relay(name: row.inventoryName, connection: c) }
        }
        throw ValidationError(via == "auto" ? "no device of the same room or school answers to send the packets from; name one with --via DEVICE"
                                            : "--via \(via) does not answer")
    }
}
