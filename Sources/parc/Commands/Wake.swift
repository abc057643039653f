import ArgumentParser
import ParcApp
import Foundation
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

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
        commandName: "wake",
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
        let workspace = try global.workspace(access)
        guard let (rows, sent) = try await Waking.wake(selection.value, via: wake.via!, broadcast: wake.broadcast, port: wake.wolPort, in: workspace) else {
            warn("no device matches; nothing to wake")
            return
        }
        if sent.macs > 0 { emit("Sent from \(sent.device) to \(sent.target):\(wake.wolPort) for \(sent.macs) MAC address(es).\n") }
        let without = rows.filter { $0.macs.isEmpty }
        for row in without { FileHandle.standardError.write(Data("no MAC address for \(row.inventoryName) (\(row.serial)): add one with `parc device edit \(row.serial) --mac …`\n".utf8)) }
        emit("\(sent.macs) magic packet(s) sent for \(rows.count - without.count) device(s).\n")
    }
}
