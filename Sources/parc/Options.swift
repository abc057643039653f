import ArgumentParser
import ParcApp
import Foundation
import Logging
import ParcCore

/// Options every command that opens the inventory takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The inventory database file (default: $PARC_DATABASE, else inventory/parc.sqlite in the parc folder).",
                                            valueName: "path"))
    var database: String?

    @Option(name: .long, help: ArgumentHelp("Who the audit log names for this change (default: your login name).", valueName: "name"))
    var actor: String?

    @Flag(name: .shortAndLong, help: "More detail: -v each task's output (parc run), -vvv also log what parc does on standard error.")
    var verbose: Int

    @Option(name: .customLong("server"), help: ArgumentHelp("Act on a central parc server's inventory instead of a local file (default: $PARC_SERVER); parc login URL first.",
                                                            valueName: "URL"))
    var serverOption: String?

    /// The central server this invocation acts on, if any.
    var server: String? {
        if let serverOption, !serverOption.isEmpty { return serverOption }
        return Environment.value("PARC_SERVER")
    }

    /// The central server, signed in (nil: the local inventory).
    func remote() throws -> ParcServer? {
        guard let server else { return nil }
        if database?.nonEmpty != nil { throw ValidationError("give --database or --server (or PARC_SERVER), not both") }
        if actor?.nonEmpty != nil { throw ValidationError("--actor names who changes a local inventory; a server's audit log names the account you logged in with") }
        return try ParcServer.signedIn(server)
    }

    /// Where this invocation's operations are performed: the central server when one is named,
    /// else the local inventory file.
    func parc(access: AccessSettings? = nil) throws -> any ParcService {
        if let server = try remote() { return server }
        return LocalParc(try open(access: access ?? AccessSettings(credentials: AccessSettings.standardCredentials(),
                                                                   knownHostsFiles: AccessSettings.standardKnownHosts())))
    }

    /// The database path this invocation uses.
    var databasePath: String {
        if let database, !database.isEmpty { return database }
        if let env = Environment.value("PARC_DATABASE") { return env }
        return ParcHome.locate().appendingPathComponent("inventory/parc.sqlite").path
    }

    /// Opens the inventory, with how this command line reaches devices. Only `parc init` creates
    /// one (`create`): a mistyped --database or PARC_DATABASE must not silently give an empty
    /// inventory that lists nothing.
    func open(access: AccessSettings, create: Bool = false, concurrentReads: Bool = false) throws -> Workspace {
        if let server {
            throw ValidationError("this command acts on this machine (init and serve do), and \(ServerLogins.key(server)) is named by \(serverOption?.nonEmpty != nil ? "--server" : "PARC_SERVER"): "
                                  + "run it on the server, or without a server")
        }
        if !create && !FileManager.default.fileExists(atPath: databasePath) {
            let source = database?.nonEmpty != nil ? "--database" : Environment.value("PARC_DATABASE") != nil ? "PARC_DATABASE" : "the default"
            throw InventoryError.database(path: databasePath, reason: "there is no inventory here. Check --database or PARC_DATABASE (\(source) gave this path), or create it with `parc init` (`parc init --sample` for the sample data)")
        }
        LoggingSetup.bootstrap(verbose: verbose >= 3)
        var logger = Logger(label: "parc")
        logger.logLevel = verbose >= 3 ? .debug : .warning
        return try Workspace.open(database: databasePath, actor: actor, home: ParcHome.locate(), access: access, storeLogger: logger,
                                  concurrentReads: concurrentReads)
    }
}

enum LoggingSetup {
    nonisolated(unsafe) private static var done = false

    /// Logs go to standard error, so that standard output stays clean for `--json` and `--csv`.
    static func bootstrap(verbose: Bool) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
    }
}

/// The device-list filters (`--member`, `--school`, `--room`, …), shared by the commands that pick devices.
struct DeviceFilterOptions: ParsableArguments {
    @Option(help: "A member (slug, SIREN or INSEE code).") var member: String?
    @Option(help: "A school (UAI).") var school: String?
    @Option(help: "A room of --school.") var room: String?
    @Option(help: "A cart (serial or asset tag).") var cart: String?
    @Option(help: "A kind of device.") var kind: DeviceKind?
    @Option(help: "A status.") var status: DeviceStatus?
    @Option(help: "An order number.") var order: String?
    @Option(help: "A lot number.") var lot: String?

    var filter: DeviceFilter {
        DeviceFilter(member: member, school: school, room: room, cart: cart, kind: kind, status: status, order: order, lot: lot)
    }
}

/// `--json` / `--csv` for commands that print records.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (an array of objects keyed by field name) instead of a table.")
    var json = false

    @Flag(name: .long, help: "Print CSV with a header row of field names instead of a table.")
    var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    var format: OutputFormat { json ? .json : csv ? .csv : .table }
}

// Values read from the command line.

extension DeviceKind: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    /// The help lists every word parc reads, French labels included.
    public static var allValueStrings: [String] { allCases.flatMap { [$0.rawValue] + $0.aliases } }
}

extension DeviceStatus: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.flatMap { [$0.rawValue] + $0.aliases } }
}

extension MemberKind: ExpressibleByArgument {}
extension Funder: ExpressibleByArgument {}

/// Writes `text` to standard output.
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// A warning on standard error, worded as Ansible's (`[WARNING]: …`): for what is not a mistake
/// of the command line, such as a selection that matches nothing (exit status 0, as Ansible).
func warn(_ text: String) {
    FileHandle.standardError.write(Data("[WARNING]: \(text)\n".utf8))
}
