import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct SchoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "school",
        abstract: "Schools, known by their UAI.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    typealias Row = SchoolOps.Row

    static let fields: [Field<Row>] = [
        Field("uai", "UAI") { .string($0.school.uai) },
        Field("name", "NAME") { .string($0.school.name) },
        Field("member", "MEMBER") { .string($0.member) },
        Field("city", "CITY") { .text($0.school.city) },
        Field("rooms", "ROOMS") { .int($0.rooms) },
    ]

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a school to a member.",
                                                        discussion: "Example: parc school add 0572113M --name \"École primaire\" --member norroy-le-veneur")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI (7 digits and a letter).") var uai: String
        @Option(help: "The school's name.") var name: String
        @Option(help: "The member it belongs to (slug, SIREN or INSEE code).") var member: String
        @Option(help: "Its town.") var city: String?
        @Option(name: .customLong("room"), help: "A room to create with it (repeatable).") var rooms: [String] = []

        func run() async throws {
            let s = try await global.parc().perform(SchoolOps.Add(uai: uai, name: name, member: member, city: city, rooms: rooms))
            emit("Added school \(s.uai) (\(s.name))\(rooms.isEmpty ? "" : " with \(rooms.count) room(s)").\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List schools.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this member's schools.") var member: String?

        func run() async throws {
            let rows = try await global.parc().perform(SchoolOps.List(member: member))
            emit(Render.list(rows, fields: SchoolCommand.fields, format: output.format))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a school and its rooms.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The school's UAI.") var uai: String

        func run() async throws {
            let detail = try await global.parc().perform(SchoolOps.Show(uai))
            let (row, rooms, devices) = (detail.row, detail.rooms, detail.devices)
            var pairs = SchoolCommand.fields.map { (key: $0.key, label: $0.header.asLabel, value: $0.value(row)) }
            pairs.removeAll { $0.key == "rooms" }
            pairs.append((key: "rooms", label: "Rooms", value: .array(rooms.map { room in
                let n = devices.filter { $0.room == room.name }.count
                return .string("\(room.name) (\(n) device\(n == 1 ? "" : "s"))")
            })))
            pairs.append((key: "devices", label: "Devices", value: .int(devices.count)))
            emit(Render.record(pairs, format: output.format))
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change a school's fields.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Option(name: .customLong("uai"), help: "A corrected UAI.") var newUAI: String?
        @Option(help: "The school's name.") var name: String?
        @Option(help: "The member it belongs to.") var member: String?
        @Option(help: "Its town (empty to clear).") var city: String?

        func run() async throws {
            let s = try await global.parc().perform(SchoolOps.Edit(uai, newUAI: newUAI, name: name, member: member, city: city))
            emit("Updated school \(s.uai).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a school with no devices left in it (its rooms go with it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String

        func run() async throws {
            _ = try await global.parc().perform(SchoolOps.Remove(uai))
            emit("Removed school \(uai.uppercased()).\n")
        }
    }
}

struct RoomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "room",
        abstract: "Rooms of a school: classrooms, the computer room, a storeroom.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    typealias Row = RoomOps.Row

    static let fields: [Field<Row>] = [
        Field("uai", "UAI") { .string($0.uai) },
        Field("name", "ROOM") { .string($0.room.name) },
        Field("devices", "DEVICES") { .int($0.devices) },
    ]

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a room to a school.",
                                                        discussion: "Example: parc room add 0572113M \"Classe CM2\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String

        func run() async throws {
            let r = try await global.parc().perform(RoomOps.Add(uai: uai, name: name))
            emit("Added room \(r.name) to \(uai.uppercased()).\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List rooms, with how many devices each holds.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this school's rooms (UAI).") var school: String?

        func run() async throws {
            let rows = try await global.parc().perform(RoomOps.List(uai: school))
            emit(Render.list(rows, fields: RoomCommand.fields, format: output.format))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a room and the devices in it (carts' contents included).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String

        func run() async throws {
            let rows = try await global.parc().perform(RoomOps.Show(uai: uai, name: name))
            emit(Render.list(rows, fields: DeviceCommand.fields, format: output.format, tableKeys: DeviceCommand.tableKeys))
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Rename a room.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String
        @Option(name: .customLong("name"), help: "The new name.") var newName: String

        func run() async throws {
            let r = try await global.parc().perform(RoomOps.Edit(uai: uai, name: name, newName: newName))
            emit("Renamed room \(name) to \(r.name).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an empty room.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String

        func run() async throws {
            _ = try await global.parc().perform(RoomOps.Remove(uai: uai, name: name))
            emit("Removed room \(name) from \(uai.uppercased()).\n")
        }
    }
}
