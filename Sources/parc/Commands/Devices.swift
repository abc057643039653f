import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Devices: interactive screens, laptops, tablets, carts, document cameras, …",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Move.self, Status.self, Remove.self])

    static let fields: [Field<DeviceRow>] = DeviceListing.columns.map { Field($0.key, $0.header, $0.value) }

    static let tableKeys = ["serial", "assetTag", "kind", "model", "status", "uai", "room", "cart", "order"]

    /// A device's own fields, for `add` and `edit`.
    struct Fields: ParsableArguments {
        @Option(help: "The asset tag (commune's inventory number).") var assetTag: String?
        @Option(help: "Manufacturer, e.g. Lenovo.") var manufacturer: String?
        @Option(help: "Model, e.g. \"ThinkPad 11e Yoga Gen 6\".") var model: String?
        @Option(help: "inStock, deployed, inRepair, lost or retired.") var status: DeviceStatus?
        @Option(help: "The order it came from (its number).") var order: String?
        @Option(help: "Whose order, when several members use the number.") var member: String?
        @Option(name: .customLong("warranty-end"), help: "End of warranty (YYYY-MM-DD or DD/MM/YYYY).") var warrantyEnd: String?
        @Option(help: "Purchase price incl. tax, e.g. 810.00.") var price: String?
        @Option(help: "Host name (Linux devices).") var hostname: String?
        @Option(help: "IP address or DNS name to reach it over SSH.") var address: String?
        @Option(name: .customLong("ssh-port"), help: "SSH port (default 22).") var sshPort: String?
        @Option(name: .customLong("ssh-user"), help: "SSH user.") var sshUser: String?
        @Option(help: "Free notes.") var notes: String?
        @Option(name: .customLong("host-key"), help: ArgumentHelp("The SSH host key to pin, as OpenSSH writes it (empty: unpin).", valueName: "key"))
        var hostKey: String?

        var values: DeviceOps.Fields {
            DeviceOps.Fields(assetTag: assetTag, manufacturer: manufacturer, model: model, status: status, order: order, member: member,
                             warrantyEnd: warrantyEnd, price: price, hostname: hostname, address: address, sshPort: sshPort,
                             sshUser: sshUser, notes: notes, hostKey: hostKey)
        }
    }

    /// `--if-version N`: the change is refused when the device changed since version N.
    struct VersionOption: ParsableArguments {
        @Option(name: .customLong("if-version"), help: ArgumentHelp("Refuse the change if the device (a cart: its contents too) changed since this version (`parc device show` prints it).",
                                                                   valueName: "n"))
        var ifVersion: Int64?
    }

    /// Where a device goes: a school's room, or a cart.
    struct PlaceOptions: ParsableArguments {
        @Option(help: "The school's UAI (with --room).") var school: String?
        @Option(help: "The room's name in that school.") var room: String?
        @Option(help: "The cart holding it (serial or asset tag).") var cart: String?

        var given: Bool { school != nil || room != nil || cart != nil }
        var value: DeviceOps.Place { DeviceOps.Place(school: school, room: room, cart: cart) }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a device.", discussion: """
            Example: parc device add --kind laptop --serial PF4NLV99 --asset-tag NLV-2024-099 --model "ThinkPad 11e" \
            --school 0572113M --room "Classe CM2" --mac 8c:16:45:3a:10:99 --order BC-2024-042
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "interactiveScreen, laptop, tablet, cart, documentCamera, projector, accessPoint or other.") var kind: DeviceKind
        @Option(help: "The manufacturer's serial number.") var serial: String
        @OptionGroup var fields: Fields
        @OptionGroup var place: PlaceOptions
        @Option(name: .customLong("mac"), help: "A MAC address (repeatable).") var macs: [String] = []

        func run() async throws {
            let d = try await global.parc().perform(DeviceOps.Add(kind: kind, serial: serial, fields: fields.values, place: place.value, macs: macs))
            emit("Added \(d.kind.rawValue) \(d.serial)\(d.assetTag.map { " (\($0))" } ?? "").\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List devices, narrowed by any of the filters.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var filters: DeviceFilterOptions

        func run() async throws {
            let rows = try await global.parc().perform(DeviceOps.List(filters.filter))
            emit(Render.list(rows, fields: DeviceCommand.fields, format: output.format, tableKeys: DeviceCommand.tableKeys))
            let count = rows.count
            if output.format == .table {
                FileHandle.standardError.write(Data("\(count) device\(count == 1 ? "" : "s")\n".utf8))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show everything about a device, with its latest history.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Serial or asset tag.") var device: String

        func run() async throws {
            let detail = try await global.parc().perform(DeviceOps.Show(device))
            let (row, contents) = (detail.row, detail.contents)
            var pairs = DeviceCommand.fields.map { (key: $0.key, label: $0.header.asLabel, value: $0.value(row)) }
            if row.kind == .cart {
                pairs.append((key: "holds", label: "Holds", value: .array(contents.map { .string($0.assetTag ?? $0.serial) })))
            }
            pairs.append((key: "version", label: "Version", value: .int(Int(row.version))))
            if row.simulated == true {
                pairs.append((key: "simulated", label: "Simulated", value: .string("yes: a parc lab device, belonging to no member (no commune counts it)")))
            }
            pairs.append((key: "lastChange", label: "Last change",
                          value: detail.lastChange.map { .string("\(EventTime.iso($0.at)) by \($0.actor) (\($0.action.rawValue))") } ?? .null))
            let lastRun = detail.lastRun.flatMap { run in detail.lastRunHost.map { (run: run, host: $0) } }
            pairs.append((key: "lastRun", label: "Last run", value: lastRun.map { r in
                .string("run \(r.run.id!) \(r.run.playbook)\(r.run.checkMode ? " (check)" : "") on \(EventTime.iso(r.run.startedAt)): \(r.host.outcome.rawValue)"
                        + " (ok \(r.host.ok), changed \(r.host.changed), failed \(r.host.failed), unreachable \(r.host.unreachable))")
            } ?? .null))
            if let f = detail.facts, let seen = detail.factsSeenAt {
                pairs.append((key: "factsSeenAt", label: "Facts seen", value: .string(EventTime.iso(seen))))
                pairs.append((key: "firmwareSerial", label: "Firmware serial", value: .text(f.serial)))
                pairs.append((key: "os", label: "OS", value: .string("\(f.osName), kernel \(f.kernel) (\(f.architecture))")))
                pairs.append((key: "hardware", label: "Hardware", value: .string(
                    "\([f.vendor, f.product].compactMap { $0 }.joined(separator: " ")) — \(f.cpuCount)×\(f.cpuModel), \(f.memoryMB) MiB, disk \(f.diskFreeMB)/\(f.diskSizeMB) MiB free")))
                pairs.append((key: "ipv4", label: "IPv4", value: .text(f.primaryIPv4)))
                pairs.append((key: "uptimeSeconds", label: "Uptime", value: .string("\(f.uptimeSeconds / 3600) h \(f.uptimeSeconds % 3600 / 60) min")))
            }
            emit(Render.record(pairs, format: output.format))
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change a device's fields (an empty value clears an optional one).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial or asset tag.") var device: String
        @Option(name: .customLong("serial"), help: "A corrected serial number.") var newSerial: String?
        @Option(help: "A corrected kind.") var kind: DeviceKind?
        @OptionGroup var fields: Fields
        @Option(name: .customLong("mac"), help: "Add a MAC address (repeatable).") var addMacs: [String] = []
        @Option(name: .customLong("remove-mac"), help: "Remove a MAC address (repeatable).") var removeMacs: [String] = []
        @OptionGroup var version: VersionOption

        func run() async throws {
            let d = try await global.parc().perform(DeviceOps.Edit(device, newSerial: newSerial, kind: kind, fields: fields.values,
                                                                   addMacs: addMacs, removeMacs: removeMacs, ifVersion: version.ifVersion))
            emit("Updated \(d.serial).\n")
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "move", abstract: "Put a device in a room, in a cart, or nowhere; a cart takes what it holds along.",
                                                        discussion: "Example: parc device move NLV-2024-010 --school 0572113M --room \"Classe CM2\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial or asset tag.") var device: String
        @OptionGroup var place: PlaceOptions
        @Flag(help: "Take it out of any room or cart (back in stock).") var nowhere = false
        @OptionGroup var version: VersionOption

        func validate() throws {
            if nowhere == place.given { throw ValidationError("say where: --school UAI --room NAME, --cart CART, or --nowhere") }
        }

        func run() async throws {
            let moved = try await global.parc().perform(DeviceOps.Move(device, to: place.value, ifVersion: version.ifVersion))
            let (d, held) = (moved.device, moved.held)
            let whereTo = place.cart.map { "cart \($0)" } ?? place.room.map { "\(place.school!.uppercased()) / \($0)" } ?? "no room or cart (in stock)"
            emit("Moved \(d.serial) to \(whereTo)\(held > 0 ? ", with the \(held) device(s) it holds" : "").\n")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Set a device's status.",
                                                        discussion: "Example: parc device status PF4NLV31 inRepair")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial or asset tag.") var device: String
        @Argument(help: "inStock, deployed, inRepair, lost or retired.") var status: DeviceStatus
        @OptionGroup var version: VersionOption

        func run() async throws {
            let d = try await global.parc().perform(DeviceOps.SetStatus(device, status, ifVersion: version.ifVersion))
            emit("\(d.serial) is now \(d.status.rawValue).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a device from the inventory (its history stays).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Serial or asset tag.") var device: String

        func run() async throws {
            _ = try await global.parc().perform(DeviceOps.Remove(device))
            emit("Removed \(device).\n")
        }
    }
}

struct CartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cart",
        abstract: "Mobile classes: carts holding laptops or tablets.",
        subcommands: [Add.self, Fill.self, List.self, Show.self, Lend.self, Return.self, Loans.self])

    struct Lend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lend", abstract: "Lend a cart to a school's room until a date; its laptops go along.",
                                                        discussion: "Example (a SIVOS sharing one mobile class): parc cart lend NLV-2024-010 --school 0571234X --room CM1 --until 2025-06-30")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cart (serial or asset tag).") var cart: String
        @Option(help: "The school it is lent to (UAI).") var school: String
        @Option(help: "The room of that school.") var room: String
        @Option(help: ArgumentHelp("When it should come back (YYYY-MM-DD or DD/MM/YYYY).", valueName: "date")) var until: String

        func run() async throws {
            let loan = try await global.parc().perform(CartOps.Lend(cart, school: school, room: room, until: until))
            emit("Lent cart \(loan.cart) to \(loan.to) until \(loan.until.description) (loan #\(loan.id)); back with parc cart return \(loan.cart).\n")
        }
    }

    struct Return: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "return", abstract: "Bring a lent cart back where it came from.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cart (serial or asset tag).") var cart: String

        func run() async throws {
            let loan = try await global.parc().perform(CartOps.Return(cart))
            emit("Cart \(loan.cart) is back \(loan.home.map { "in \($0)" } ?? "in stock") (loan #\(loan.id) closed).\n")
        }
    }

    struct Loans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "loans", abstract: "List the loans of carts: where, since and until when, returned or not.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "Only carts still lent.") var open = false
        @Flag(help: "Only carts lent past their date.") var overdue = false

        func run() async throws {
            let today = Day.today()
            var loans = try await global.parc().perform(CartOps.Loans(open: open || overdue))
            if overdue { loans = loans.filter { $0.isOverdue(on: today) } }
            emit(Render.list(loans, fields: [
                Field("id", "LOAN") { .int(Int($0.id)) }, Field("cart", "CART") { .string($0.cart) }, Field("to", "LENT TO") { .string($0.to) },
                Field("home", "FROM") { .text($0.home) }, Field("since", "SINCE") { .string($0.since.description) },
                Field("until", "UNTIL") { .string($0.until.description) }, Field("returnedOn", "RETURNED") { .text($0.returnedOn?.description) },
                Field("overdue", "OVERDUE") { .bool($0.isOverdue(on: today)) },
            ], format: output.format))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a cart (a device of kind cart).", discussion: """
            Example: parc cart add --serial CHR16-240877 --asset-tag NLV-2024-010 --school 0572113M --room "Classe CE2-CM1"
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The cart's serial number.") var serial: String
        @OptionGroup var fields: DeviceCommand.Fields
        @OptionGroup var place: DeviceCommand.PlaceOptions

        func validate() throws {
            if place.cart != nil { throw ValidationError("a cart cannot go in another cart; give --school and --room") }
        }

        func run() async throws {
            let d = try await global.parc().perform(DeviceOps.Add(kind: .cart, serial: serial, fields: fields.values, place: place.value, macs: []))
            emit("Added cart \(d.assetTag ?? d.serial).\n")
        }
    }

    struct Fill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fill", abstract: "Put devices in a cart (all of them, or none if one is wrong).",
                                                        discussion: "Example: parc cart fill NLV-2024-010 PF4NLV31 PF4NLV32")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cart (serial or asset tag).") var cart: String
        @Argument(help: "The devices to put in it (serials or asset tags).") var devices: [String]
        @OptionGroup var version: DeviceCommand.VersionOption

        func validate() throws {
            if devices.isEmpty { throw ValidationError("name the devices to put in the cart") }
        }

        func run() async throws {
            let moved = try await global.parc().perform(CartOps.Fill(cart, with: devices, ifVersion: version.ifVersion))
            emit("Put \(moved.count) device(s) in cart \(cart).\n")
        }
    }

    typealias Row = CartOps.Row

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List carts with where they are and how many devices they hold.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this member's carts.") var member: String?
        @Option(help: "Only this school's carts.") var school: String?

        func run() async throws {
            let rows = try await global.parc().perform(CartOps.List(member: member, school: school))
            let fields: [Field<Row>] = DeviceCommand.fields.map { f in Field(f.key, f.header) { f.value($0.cart) } }
                + [Field("holds", "HOLDS") { .int($0.holds) }]
            emit(Render.list(rows, fields: fields, format: output.format,
                             tableKeys: ["serial", "assetTag", "model", "status", "uai", "room", "holds"]))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "List what a cart holds.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The cart (serial or asset tag).") var cart: String

        func run() async throws {
            let rows = try await global.parc().perform(CartOps.Contents(cart))
            emit(Render.list(rows, fields: DeviceCommand.fields, format: output.format, tableKeys: DeviceCommand.tableKeys))
        }
    }
}
