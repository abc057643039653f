import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct MemberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Members of the grouping: communes, SIVOS and EPCI, with their Fus@é membership.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    /// The fields of a member, for `add` and `edit`.
    struct Fields: ParsableArguments {
        @Option(help: "Commune, SIVOS or EPCI name.") var name: String?
        @Option(help: "commune, sivos or epci.") var kind: MemberKind?
        @Option(help: "Short handle (default: from the name, e.g. norroy-le-veneur).") var slug: String?
        @Option(help: "SIREN number (9 digits).") var siren: String?
        @Option(help: "INSEE commune code (5 characters; communes only).") var insee: String?
        @Option(help: "Number of the council deliberation joining Fus@é, e.g. 1.4-033/2024.") var deliberation: String?
        @Option(name: .customLong("deliberation-date"), help: "Date of that deliberation (YYYY-MM-DD or DD/MM/YYYY).") var deliberationDate: String?
        @Option(help: "Prefecture receipt id, e.g. 057-215705112-20240923-2024DEL033-DE.") var receipt: String?
        @Option(name: .customLong("convention-date"), help: "Date the Fus@é convention was signed.") var conventionDate: String?
        @Option(help: "Who signed the convention, e.g. \"le maire\".") var signatory: String?

        var values: MemberOps.Fields {
            MemberOps.Fields(name: name, kind: kind, slug: slug, siren: siren, insee: insee, deliberation: deliberation,
                             deliberationDate: deliberationDate, receipt: receipt, conventionDate: conventionDate, signatory: signatory)
        }
    }

    static let fields: [Field<Member>] = [
        Field("slug", "SLUG") { .string($0.slug) },
        Field("name", "NAME") { .string($0.name) },
        Field("kind", "KIND") { .string($0.kind.rawValue) },
        Field("siren", "SIREN") { .text($0.siren) },
        Field("insee", "INSEE") { .text($0.insee) },
        Field("deliberationNumber", "DELIBERATION") { .text($0.deliberationNumber) },
        Field("deliberationDate", "DELIBERATED") { .text($0.deliberationDate?.description) },
        Field("prefectureReceipt", "PREFECTURE RECEIPT") { .text($0.prefectureReceipt) },
        Field("conventionDate", "CONVENTION") { .text($0.conventionDate?.description) },
        Field("conventionSignatory", "SIGNED BY") { .text($0.conventionSignatory) },
    ]

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a member.", discussion: """
            Example: parc member add --name Norroy-le-Veneur --kind commune --siren 215705112 --insee 57511 \
            --deliberation 1.4-033/2024 --deliberation-date 2024-09-23 --receipt 057-215705112-20240923-2024DEL033-DE
            """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: Fields

        func validate() throws {
            if fields.name == nil { throw ValidationError("give the member's --name") }
        }

        func run() async throws {
            let added = try await global.parc().perform(MemberOps.Add(fields.values))
            emit("Added member \(added.slug) (\(added.name)).\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List members.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        static let tableKeys = ["slug", "name", "kind", "siren", "insee", "deliberationNumber", "conventionDate"]

        func run() async throws {
            let members = try await global.parc().perform(MemberOps.List())
            emit(Render.list(members, fields: MemberCommand.fields, format: output.format, tableKeys: Self.tableKeys))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a member, its schools and orders.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Slug, SIREN or INSEE code.") var member: String

        func run() async throws {
            let detail = try await global.parc().perform(MemberOps.Show(member))
            let (m, schools, orders, devices) = (detail.member, detail.schools, detail.orders, detail.devices)
            var pairs = MemberCommand.fields.map { (key: $0.key, label: $0.header.asLabel, value: $0.value(m)) }
            pairs.append((key: "schools", label: "Schools", value: .array(schools.map { .string("\($0.uai) \($0.name)") })))
            pairs.append((key: "orders", label: "Orders", value: .array(orders.map { .string($0.number) })))
            pairs.append((key: "devices", label: "Devices", value: .int(devices)))
            emit(Render.record(pairs, format: output.format))
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change a member's fields (an empty value clears an optional one).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Slug, SIREN or INSEE code.") var member: String
        @OptionGroup var fields: Fields

        func run() async throws {
            let m = try await global.parc().perform(MemberOps.Edit(member, fields.values))
            emit("Updated member \(m.slug).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a member that has no schools and no orders.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Slug, SIREN or INSEE code.") var member: String

        func run() async throws {
            _ = try await global.parc().perform(MemberOps.Remove(member))
            emit("Removed member \(member).\n")
        }
    }
}
