import ArgumentParser
import ParcApp
import Foundation
import InventoryStore
import ParcCore
import Templating

struct SchoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "school",
        abstract: "Schools, known by their UAI.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    struct Row {
        var school: School
        var member: String
        var rooms: Int
    }

    static let fields: [Field<Row>] = [
        Field("uai", "UAI") { .string($0.school.uai) },
        Field("name", "NAME") { .string($0.school.name) },
        Field("member", "MEMBER") { .string($0.member) },
        Field("city", "CITY") { .text($0.school.city) },
        Field("rooms", "ROOMS") { .int($0.rooms) },
    ]

    static func rows(_ r: InventoryReader, memberId: Int64?) throws -> [Row] {
        let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.id!, $0.slug) })
        let roomCounts = Dictionary(grouping: try r.rooms(), by: \.schoolId).mapValues(\.count)
        return try r.schools(memberId: memberId).map { Row(school: $0, member: members[$0.memberId] ?? "?", rooms: roomCounts[$0.id!] ?? 0) }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a school to a member.",
                                                        discussion: "Example: parc school add 0572113M --name \"École primaire\" --member norroy-le-veneur")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI (7 digits and a letter).") var uai: String
        @Option(help: "The school's name.") var name: String
        @Option(help: "The member it belongs to (slug, SIREN or INSEE code).") var member: String
        @Option(help: "Its town.") var city: String?
        @Option(name: .customLong("room"), help: "A room to create with it (repeatable).") var rooms: [String] = []

        func run() throws {
            let s = try global.open().write { tx in
                let s = try tx.addSchool(uai: uai, name: name, member: member, city: city)
                for room in rooms { try tx.addRoom(school: s.uai, name: room) }
                return s
            }
            emit("Added school \(s.uai) (\(s.name))\(rooms.isEmpty ? "" : " with \(rooms.count) room(s)").\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List schools.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this member's schools.") var member: String?

        func run() async throws {
            if let server = try global.remote() {
                if member != nil { throw ValidationError("--member works on a local inventory only; against a server, the list is every school your account sees") }
                let reply = try await server.get("/api/v1/schools")
                guard reply.status == 200, let list = reply.json as? [[String: Any]] else { throw AppError(reply.detail) }
                // The API's schools are keyed as this listing, the rooms counted in roomCount.
                let rows = list.map { object in
                    Dictionary(uniqueKeysWithValues: object.map { ($0.key == "roomCount" ? "rooms" : $0.key, JSONValue.from($0.value)) })
                }
                let fields = SchoolCommand.fields.map { f in Field<[String: JSONValue]>(f.key, f.header) { $0[f.key] ?? .null } }
                emit(Render.list(rows, fields: fields, format: output.format))
                return
            }
            let rows = try global.open().read { r in try SchoolCommand.rows(r, memberId: try member.map { try r.member($0).id! }) }
            emit(Render.list(rows, fields: SchoolCommand.fields, format: output.format))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a school and its rooms.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The school's UAI.") var uai: String

        func run() throws {
            let (row, rooms, devices) = try global.open().read { r in
                let s = try r.school(uai)
                let row = try SchoolCommand.rows(r, memberId: s.memberId).first { $0.school.id == s.id }!
                return (row, try r.rooms(schoolId: s.id!), try r.devices(DeviceFilter(school: s.uai)))
            }
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

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a school's fields.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Option(name: .customLong("uai"), help: "A corrected UAI.") var newUAI: String?
        @Option(help: "The school's name.") var name: String?
        @Option(help: "The member it belongs to.") var member: String?
        @Option(help: "Its town (empty to clear).") var city: String?

        func run() throws {
            let s = try global.open().write { tx in
                let memberId = try member.map { try tx.member($0).id! }
                return try tx.updateSchool(uai) { s in
                    if let newUAI { s.uai = newUAI }
                    if let name { s.name = name }
                    if let memberId { s.memberId = memberId }
                    apply(city, to: &s.city) { $0 }
                }
            }
            emit("Updated school \(s.uai).\n")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a school with no devices left in it (its rooms go with it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String

        func run() throws {
            try global.open().write { try $0.removeSchool(uai) }
            emit("Removed school \(uai.uppercased()).\n")
        }
    }
}

struct RoomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "room",
        abstract: "Rooms of a school: classrooms, the computer room, a storeroom.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    struct Row {
        var uai: String
        var room: Room
        var devices: Int
    }

    static let fields: [Field<Row>] = [
        Field("uai", "UAI") { .string($0.uai) },
        Field("name", "ROOM") { .string($0.room.name) },
        Field("devices", "DEVICES") { .int($0.devices) },
    ]

    static func rows(_ r: InventoryReader, uai: String?) throws -> [Row] {
        let schools = try r.schools()
        let wanted = try uai.map { try r.school($0).id! }
        var out: [Row] = []
        for s in schools where wanted == nil || s.id == wanted {
            let devices = try r.devices(DeviceFilter(school: s.uai))
            for room in try r.rooms(schoolId: s.id!) {
                out.append(Row(uai: s.uai, room: room, devices: devices.filter { $0.room == room.name }.count))
            }
        }
        return out
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a room to a school.",
                                                        discussion: "Example: parc room add 0572113M \"Classe CM2\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String

        func run() throws {
            let r = try global.open().write { try $0.addRoom(school: uai, name: name) }
            emit("Added room \(r.name) to \(uai.uppercased()).\n")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List rooms, with how many devices each holds.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this school's rooms (UAI).") var school: String?

        func run() throws {
            let rows = try global.open().read { try RoomCommand.rows($0, uai: school) }
            emit(Render.list(rows, fields: RoomCommand.fields, format: output.format))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a room and the devices in it (carts' contents included).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String

        func run() throws {
            let rows = try global.open().read { r in
                let room = try r.room(school: uai, name: name)
                return try r.devices(DeviceFilter(school: uai, room: room.name))
            }
            emit(Render.list(rows, fields: DeviceCommand.fields, format: output.format, tableKeys: DeviceCommand.tableKeys))
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a room.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String
        @Option(name: .customLong("name"), help: "The new name.") var newName: String

        func run() throws {
            let r = try global.open().write { try $0.updateRoom(school: uai, name: name) { $0.name = newName } }
            emit("Renamed room \(name) to \(r.name).\n")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an empty room.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The school's UAI.") var uai: String
        @Argument(help: "The room's name.") var name: String

        func run() throws {
            try global.open().write { try $0.removeRoom(school: uai, name: name) }
            emit("Removed room \(name) from \(uai.uppercased()).\n")
        }
    }
}
