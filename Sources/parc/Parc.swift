import ArgumentParser
import Foundation
import ParcCore
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
            Init.self, Backup.self, Restore.self,
            MemberCommand.self, SchoolCommand.self, RoomCommand.self,
            LotCommand.self, OrderCommand.self, FundingCommand.self,
            DeviceCommand.self, CartCommand.self,
            Find.self, History.self, Groups.self, GroupCommand.self,
            ImportCommand.self, ExportCommand.self, ReportCommand.self, Labels.self,
            LabCommand.self, Relay.self, Login.self, Logout.self, Ping.self, Wake.self, GLPICommand.self, Run.self, Runs.self, FactsCommand.self, Reconcile.self, Pending.self, Watch.self, Onboard.self,
            Serve.self, UserCommand.self, TokenCommand.self, ProblemCommand.self, DocumentCommand.self,
        ]
    )

    /// Options every command takes may also come before the command, as git and ansible accept
    /// them: `parc --database F device list` is `parc device list --database F`.
    /// `parc --server URL COMMAND …` names the server as `PARC_SERVER` does, for every command
    /// (`login`, `logout` and `relay` too).
    static func main() async {
        // The domain's messages in French when the terminal's locale is French (LC_ALL, LC_MESSAGES, LANG).
        Language.current = Language.fromEnvironment()
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--server", arguments.count >= 2 {
            setenv("PARC_SERVER", arguments[1], 1)
            arguments.removeFirst(2)
        } else if let first = arguments.first, first.hasPrefix("--server=") {
            setenv("PARC_SERVER", String(first.dropFirst("--server=".count)), 1)
            arguments.removeFirst()
        }
        await main(GlobalArguments.moved(arguments))
    }
}

enum GlobalArguments {
    /// The global options that take a value, and those that do not.
    static let valued: Set<String> = ["--database", "--actor"]
    static let flags: Set<String> = ["-v", "-vv", "-vvv", "--verbose"]

    /// `arguments` with the global options found before the first command word put after the
    /// command (before a `--` ending the options, if any). `--help` and `--version` stay where they are.
    static func moved(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            let name = first.split(separator: "=", maxSplits: 1).first.map(String.init) ?? first
            if valued.contains(name) {
                leading.append(first)
                rest.removeFirst()
                if !first.contains("="), let value = rest.first {
                    leading.append(value)
                    rest.removeFirst()
                }
            } else if flags.contains(first) {
                leading.append(first)
                rest.removeFirst()
            } else {
                break
            }
        }
        guard !leading.isEmpty, !rest.isEmpty else { return arguments }
        var out = Array(rest)
        let end = out.firstIndex(of: "--") ?? out.endIndex
        out.insert(contentsOf: leading, at: end)
        return out
    }
}

extension String {
    var nonEmptyValue: String? {
        let t = trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }
}
