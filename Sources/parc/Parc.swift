import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `parc`: the inventory of the school equipment bought through Fus@é, and (later) its configuration.
@main
struct Parc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parc",
        abstract: "Inventory and configuration of school equipment bought through the Fus@é grouping.",
        discussion: """
            The inventory is one SQLite file (inventory/parc.sqlite by default; --database or \
            PARC_DATABASE choose another). Every change is written to its audit log (see `parc history`).
            """,
        version: "0.1.0",
        subcommands: [
            Init.self,
            MemberCommand.self, SchoolCommand.self, RoomCommand.self,
            LotCommand.self, OrderCommand.self, FundingCommand.self,
            DeviceCommand.self, CartCommand.self,
            Find.self, History.self, Groups.self, GroupCommand.self,
            ImportCommand.self, ExportCommand.self, ReportCommand.self, Labels.self,
            LabCommand.self, Relay.self, Login.self, Logout.self, Ping.self, Wake.self, GLPICommand.self, Run.self, Runs.self, FactsCommand.self, Reconcile.self, Pending.self, Watch.self, Onboard.self,
            Serve.self, UserCommand.self, TokenCommand.self, ProblemCommand.self, DocumentCommand.self,
        ]
    )

    /// `parc --server URL COMMAND …` names the server before the command, as `PARC_SERVER` does
    /// (each command also takes `--server` after its name).
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--server", arguments.count >= 2 {
            setenv("PARC_SERVER", arguments[1], 1)
            arguments.removeFirst(2)
        } else if let first = arguments.first, first.hasPrefix("--server=") {
            setenv("PARC_SERVER", String(first.dropFirst("--server=".count)), 1)
            arguments.removeFirst()
        }
        await main(arguments)
    }
}

extension String {
    var nonEmptyValue: String? {
        let t = trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }
}
