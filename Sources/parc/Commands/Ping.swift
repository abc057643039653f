import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Check that devices answer over SSH: reachable, authenticated, host key, round trip.",
        discussion: """
            Connects to each selected device that has an address, in parallel (--forks), runs `true`, \
            and reports. Exit status: 0 all answered, 2 one failed (authentication, host key), 4 one \
            was unreachable (as Ansible). With --host-key-policy accept-new, a first host key is pinned \
            in the inventory (an audit event says so); a changed key is always refused. Against a \
            server (--server), the server connects, with its own keys.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: SelectionOptions
    @OptionGroup var access: AccessOptions
    @Flag(help: "Print JSON: one object per device.") var json = false

    func run() async throws {
        try access.checkRemote(global)
        let pinged = try await global.parc(access: access.settings).perform(ReachOps.Ping(selection.value, tuning: access.tuning))
        let outcomes = pinged.answers
        if outcomes.isEmpty {
            warn(pinged.selected == 0 ? "the pattern selects no device; nothing to ping" : "none of the \(pinged.selected) selected device(s) has an address (set one with `parc device edit SERIAL --address …`); nothing to ping")
            return
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
        if !pinged.skipped.isEmpty { summary += " (\(pinged.skipped.count) without an address skipped)" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        if unreachable > 0 { throw ExitCode(4) }
        if failed > 0 { throw ExitCode(2) }
    }
}
