import ArgumentParser
import ParcApp
import Foundation
import ParcCore

/// `--map COLUMN=FIELD`.
struct MappingOptions: ParsableArguments {
    @Option(name: .customLong("map"), help: ArgumentHelp("Read a column as a field, e.g. --map \"Num. série constructeur=serial\"; --map \"COLUMN=\" leaves a column out (repeatable).", valueName: "column=field"))
    var mappings: [String] = []

    func parsed() throws -> [String: String] {
        var out: [String: String] = [:]
        for m in mappings {
            guard let eq = m.lastIndex(of: "="), eq != m.startIndex else { throw ValidationError("--map takes COLUMN=FIELD, not '\(m)'") }
            out[String(m[..<eq]).trimmingCharacters(in: .whitespaces)] = String(m[m.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import devices (a device list or a supplier's delivery note), members or schools from CSV.",
        discussion: """
            Files may be UTF-8 (with or without BOM) or Windows-1252, separated by ';' or ','. Headers \
            are read in French or English (N° de série / serial, N° d'inventaire, Adresse MAC, Modèle, \
            Marque, École / UAI, Salle, Chariot, …). All rows or none: one bad row and nothing is \
            written, and every bad row is listed as FILE:LINE: field: problem.
            """,
        subcommands: [Devices.self, Members.self, Schools.self])

    struct Devices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "devices", abstract: "Import devices from a CSV file.", discussion: """
            Example (a mobile class delivered under order BC-2024-042, all in one cart):
              parc import devices bl-ene-24-11902.csv --order BC-2024-042 --cart NLV-2024-010 --kind laptop --dry-run
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @Option(help: "Attach every row to this order (its number).") var order: String?
        @Option(help: "Whose order, when several members use the number.") var member: String?
        @Option(help: "Put every row in this cart (serial or asset tag).") var cart: String?
        @Option(help: "The kind of the rows that do not give one (e.g. laptop); without it, a designation naming the kind in French (ordinateur portable, chariot, ENI, vidéoprojecteur…) gives it.") var kind: DeviceKind?
        @Option(help: ArgumentHelp("When the devices were delivered, for a warranty given in months (default: the order's delivery date).", valueName: "date")) var delivered: String?
        @OptionGroup var mapping: MappingOptions
        @Flag(help: "Update devices whose serial is already in the inventory (only the columns the file has).") var update = false
        @Flag(name: .customLong("dry-run"), help: "Show each row: what would be created, updated (which fields) or refused; write nothing.") var dryRun = false
        @Flag(help: "Print JSON: the counts and each row (line, action, serial, kind, place, changes).") var json = false

        func run() async throws {
            let mappings = try mapping.parsed()
            let parc = try global.parc()
            let report = try await parc.perform(DocumentOps.ImportDevices(try ImportSource.read(file), order: order, member: member, cart: cart, kind: kind,
                                                                          delivered: delivered, mappings: mappings, update: update, dryRun: dryRun))
            if json {
                emit(JSONValue.object([
                    ("file", .string(report.file)), ("dryRun", .bool(report.dryRun)), ("encoding", .string(report.encoding)),
                    ("created", .int(report.created)), ("updated", .int(report.updated)), ("unchanged", .int(report.unchanged)),
                    ("ignoredColumns", .array(report.ignoredColumns.map(JSONValue.string))),
                    ("rows", .array(report.rows.map { r in
                        .object([("line", .int(r.line)), ("action", .string(r.action)),
                                 ("serial", .string(r.serial)), ("kind", .string(r.kind.rawValue)), ("place", .text(r.place)),
                                 ("changes", .array(r.changes.map(JSONValue.string)))])
                    })),
                ]).serialized() + "\n")
                return
            }
            if report.dryRun && !report.rows.isEmpty { emit(report.rowLines + "\n") }
            emit(report.summary + "\n")
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "members", abstract: "Import members (communes, SIVOS, EPCI) from a CSV file.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @OptionGroup var mapping: MappingOptions
        @Flag(name: .customLong("dry-run"), help: "Check the file; write nothing.") var dryRun = false

        func run() async throws {
            let mappings = try mapping.parsed()
            let parc = try global.parc()
            emit(try await parc.perform(DocumentOps.ImportOrganisation(.members, try ImportSource.read(file), mappings: mappings, dryRun: dryRun)).summary + "\n")
        }
    }

    struct Schools: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "schools", abstract: "Import schools (UAI, name, member, town, rooms) from a CSV file.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @OptionGroup var mapping: MappingOptions
        @Flag(name: .customLong("dry-run"), help: "Check the file; write nothing.") var dryRun = false

        func run() async throws {
            let mappings = try mapping.parsed()
            let parc = try global.parc()
            emit(try await parc.perform(DocumentOps.ImportOrganisation(.schools, try ImportSource.read(file), mappings: mappings, dryRun: dryRun)).summary + "\n")
        }
    }
}

/// Writes `text` to `path`, or to standard output when no path (or `-`) is given. A regular file
/// (or a missing one) is replaced atomically: a temporary file beside it, synced, then renamed, so
/// a reader never sees half of it. Anything else that is not a folder — a character device such as
/// /dev/null, a FIFO, a terminal — is written in place: replacing it would destroy it.
func write(_ text: String, to path: String?) throws {
    guard let path, path != "-" else { return emit(text) }
    do {
        try OutputFile.write(Array(text.utf8), to: path)
    } catch let e {
        throw ValidationError("cannot write \(path): \(e.reason); nothing was written")
    }
    FileHandle.standardError.write(Data("Wrote \(path.visible)\n".utf8))
}

enum OutputFile {
    struct Failure: Error { var reason: String }

    static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        var st = stat()
        // Through a symbolic link: what it points to is what gets written.
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw Failure(reason: "it is a folder")
            default: return try inPlace(bytes, path)
            }
        } else if errno != ENOENT {
            throw Failure(reason: String(cString: strerror(errno)))
        }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { link in
            link.hasPrefix("/") ? link : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link)
        } ?? path
        let directory = (target as NSString).deletingLastPathComponent.isEmpty ? "." : (target as NSString).deletingLastPathComponent
        let temp = "\(directory)/.\((target as NSString).lastPathComponent).parc-\(UInt32.random(in: 0...UInt32.max))"
        let mode: mode_t = st.st_mode & S_IFMT == S_IFREG ? st.st_mode & 0o7777 : 0o644
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        fchmod(fd, mode)
        var failure: String? = nil
        if let why = writeAll(fd, bytes) { failure = why } else if fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temp, target) != 0 { failure = String(cString: strerror(errno)) }
        if let failure { unlink(temp); throw Failure(reason: failure) }
    }

    static func inPlace(_ bytes: [UInt8], _ path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if let why = writeAll(fd, bytes) { throw Failure(reason: why) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return String(cString: strerror(errno)) }
            offset += n
        }
        return nil
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export devices (CSV that re-imports, or JSON) or an Ansible inventory.",
        subcommands: [Devices.self, AnsibleInventory.self, Glpi.self])

    struct Devices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "devices", abstract: "Export devices; the CSV's columns are the importer's field names.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "CSV (default).") var csv = false
        @Flag(help: "JSON: an array of objects keyed by field name.") var json = false
        @Flag(help: "For spreadsheet software: ';' separated, UTF-8 with BOM, French headers and values (re-imports too).") var excel = false
        @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.") var output: String?
        @OptionGroup var filters: DeviceFilterOptions

        func validate() throws {
            if [csv, json, excel].filter({ $0 }).count > 1 { throw ValidationError("choose one of --csv, --json and --excel") }
        }

        func run() async throws {
            let rows = try await global.parc().perform(DeviceOps.List(filters.filter))
            try write(json ? Render.list(rows, fields: DeviceCommand.fields, format: .json) : excel ? DeviceExport.excel(rows) : DeviceExport.csv(rows), to: output)
        }
    }

    struct AnsibleInventory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ansible-inventory",
            abstract: "Write an Ansible inventory (YAML): devices with an address, their connection variables and parc's groups.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.") var output: String?
        @Flag(help: "Include devices without an address too.") var all = false

        func run() async throws {
            try write(try await global.parc().perform(DocumentOps.AnsibleInventory(all: all)), to: output)
        }
    }
}

/// `--format pdf`: the report rendered by WeasyPrint (through ParcApp), written atomically.
enum PDF {
    static func render(_ html: String, to path: String) throws {
        let pdf = try ReportPDF.render(html)
        do { try OutputFile.write(pdf, to: path) } catch { throw ValidationError("cannot write \(path): \(error.reason); nothing was written") }
        FileHandle.standardError.write(Data("Wrote \(path.visible)\n".utf8))
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The equipment report a commune reads (in French): per school and room, purchases, funding, warranties.",
        subcommands: [MemberReport.self, SchoolReport.self, RenewalReport.self])

    struct RenewalReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "renewal", abstract: "Replacement planning of a member: devices by age and warranty, what to renew each year and its estimated cost.",
            discussion: """
                A device is due for renewal its usual service life after its order's delivery (laptop and tablet 5 years, \
                interactive screen 8, projector and document camera 7, cart 10; --life KIND=YEARS changes one). The cost is \
                estimated from the latest price paid for the same model, else for the same kind.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Slug, SIREN or INSEE code.") var member: String
        @Option(help: "text or csv (';', UTF-8 with BOM).") var format: String = "text"
        @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.") var output: String?
        @Option(help: ArgumentHelp("A kind's service life in years (repeatable), e.g. --life laptop=6.", valueName: "kind=years")) var life: [String] = []
        @Option(help: "The plan's date (default: today), YYYY-MM-DD.") var date: String?

        func validate() throws {
            guard ["text", "csv"].contains(format) else { throw ValidationError("--format is text or csv") }
        }

        func run() async throws {
            var lifetimes: [String: Int] = [:]
            for entry in life {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let years = Int(parts[1]), (1...30).contains(years) else { throw ValidationError("--life takes KIND=YEARS (1 to 30), not '\(entry)'") }
                lifetimes[try DeviceKind(parsing: parts[0]).rawValue] = years
            }
            let plan = try await global.parc().perform(DocumentOps.Renewal(member: member, csv: format == "csv", lifetimes: lifetimes, date: date))
            try write(plan, to: output)
        }
    }

    struct Options: ParsableArguments {
        @Option(help: "text, csv (for spreadsheets: ';', UTF-8 with BOM), html (a standalone page to print or email) or pdf (A4, through WeasyPrint; needs -o).") var format: Format = .text
        @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.") var output: String?
        @Option(name: .customLong("warranty-months"), help: "List warranties ending within this many months.") var warrantyMonths = 6
        @Option(help: "The report's date (default: today), YYYY-MM-DD.") var date: String?

        enum Format: String, ExpressibleByArgument { case text, csv, html, pdf }

        func validate() throws {
            if format == .pdf && (output == nil || output == "-") { throw ValidationError("--format pdf writes a file: give -o FILE.pdf") }
        }

        /// Asks for the report (a PDF is made here from its HTML) and writes it.
        func render(member: String? = nil, school: String? = nil, through parc: any ParcService) async throws {
            let form: DocumentOps.ReportFormat = switch format { case .text: .text; case .csv: .csv; case .html, .pdf: .html }
            let text = try await parc.perform(DocumentOps.Report(member: member, school: school, format: form, warrantyMonths: warrantyMonths, date: date))
            if format == .pdf { try PDF.render(text, to: output!) } else { try write(text, to: output) }
        }
    }

    struct MemberReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "member", abstract: "Report of a member: every school, order and funding line.",
                                                        discussion: "Example: parc report member norroy-le-veneur --format html -o rapport.html")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Slug, SIREN or INSEE code.") var member: String
        @OptionGroup var options: Options

        func run() async throws {
            try await options.render(member: member, through: try global.parc())
        }
    }

    struct SchoolReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "school", abstract: "Report of one school.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @OptionGroup var options: Options

        func run() async throws {
            try await options.render(school: uai, through: try global.parc())
        }
    }
}

struct Labels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Write a printable sheet of asset labels (HTML, A4, 3 × 8) with a QR code of each asset tag.",
        discussion: "Example: parc labels --cart NLV-2024-010 -o etiquettes.html")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("output")], help: "The HTML file to write.") var output: String
    @Option(help: ArgumentHelp("The portal's address (default: $PARC_BASE_URL): each QR code then opens the device's page in the portal.",
                               valueName: "url")) var baseURL: String?
    @OptionGroup var filters: DeviceFilterOptions

    func run() async throws {
        let base = (baseURL ?? ProcessInfo.processInfo.environment["PARC_BASE_URL"])?.nonEmptyValue
        if let base { try PortalAddress.check(base) }
        let rows = try await global.parc().perform(DocumentOps.LabelRows(filters.filter))
        guard !rows.isEmpty else { warn("no device matches; nothing to print, no file written"); return }
        let untagged = rows.filter { $0.assetTag == nil }.map(\.serial)
        if !untagged.isEmpty && base == nil {
            warn("\(untagged.count) device(s) without an asset tag get a QR code of their serial: \(untagged.joined(separator: ", ")) (give one with parc device edit SERIAL --asset-tag …)")
        }
        try write(try LabelSheets.sheet(rows, title: "Étiquettes d'inventaire", baseURL: base), to: output)
        emit("\(rows.count) label\(rows.count == 1 ? "" : "s") on \((rows.count + 23) / 24) A4 sheet\(rows.count > 24 ? "s" : "").\n")
    }
}
