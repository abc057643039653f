import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct LotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lot",
        abstract: "Lots of the grouping's contract (interactive solutions, mobile classes, …).",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    static let fields: [Field<Lot>] = [
        Field("number", "LOT") { .string($0.number) },
        Field("title", "TITLE") { .string($0.title) },
        Field("supplier", "SUPPLIER") { .text($0.supplier) },
    ]

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a lot.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The lot's number in the contract.") var number: String
        @Option(help: "Its title.") var title: String
        @Option(help: "The supplier holding the lot.") var supplier: String?

        func run() async throws {
            let l = try await global.parc().perform(LotOps.Add(number: number, title: title, supplier: supplier))
            emit("Added lot \(l.number).\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List lots.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            emit(Render.list(try await global.parc().perform(LotOps.List()), fields: LotCommand.fields, format: output.format))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a lot and the orders placed under it.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The lot's number.") var number: String

        func run() async throws {
            let detail = try await global.parc().perform(LotOps.Show(number))
            let (l, orders) = (detail.lot, detail.orders)
            var pairs = LotCommand.fields.map { (key: $0.key, label: $0.header.asLabel, value: $0.value(l)) }
            pairs.append((key: "orders", label: "Orders", value: .array(orders.map { .string($0.number) })))
            emit(Render.record(pairs, format: output.format))
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change a lot's title or supplier.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The lot's number.") var number: String
        @Option(help: "Its title.") var title: String?
        @Option(help: "Its supplier (empty to clear).") var supplier: String?

        func run() async throws {
            let l = try await global.parc().perform(LotOps.Edit(number, title: title, supplier: supplier))
            emit("Updated lot \(l.number).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a lot no order was placed under.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The lot's number.") var number: String

        func run() async throws {
            _ = try await global.parc().perform(LotOps.Remove(number))
            emit("Removed lot \(number).\n")
        }
    }
}

struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "A member's orders under the grouping's lots, with their amounts.",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Remove.self])

    typealias Row = OrderOps.Row

    static let fields: [Field<Row>] = [
        Field("number", "ORDER") { .string($0.order.number) },
        Field("member", "MEMBER") { .string($0.member) },
        Field("lot", "LOT") { .text($0.lot) },
        Field("supplier", "SUPPLIER") { .text($0.order.supplier) },
        Field("orderedOn", "ORDERED") { .text($0.order.orderedOn?.description) },
        Field("deliveredOn", "DELIVERED") { .text($0.order.deliveredOn?.description) },
        Field("deliveryNote", "DELIVERY NOTE") { .text($0.order.deliveryNote) },
        Field("amountExclTax", "EXCL. TAX") { .text($0.order.amountExclTax?.description) },
        Field("amountInclTax", "INCL. TAX") { .text($0.order.amountInclTax?.description) },
        Field("fundingRequested", "REQUESTED") { .string($0.funding.reduce(Money.zero) { $0 + $1.requested }.description) },
        Field("fundingGranted", "GRANTED") { .string($0.funding.reduce(Money.zero) { $0 + ($1.granted ?? .zero) }.description) },
    ]

    /// The fields of an order, for `add` and `edit`.
    struct Fields: ParsableArguments {
        @Option(help: "The lot it was placed under (its number).") var lot: String?
        @Option(help: "The supplier.") var supplier: String?
        @Option(help: "Order date (YYYY-MM-DD or DD/MM/YYYY).") var ordered: String?
        @Option(help: "Delivery date.") var delivered: String?
        @Option(name: .customLong("delivery-note"), help: "The delivery note's number.") var deliveryNote: String?
        @Option(name: .customLong("amount-excl-tax"), help: "Amount excluding tax (HT), e.g. 11840.00.") var amountExclTax: String?
        @Option(name: .customLong("amount-incl-tax"), help: "Amount including tax (TTC).") var amountInclTax: String?

        var values: OrderOps.Fields {
            OrderOps.Fields(lot: lot, supplier: supplier, ordered: ordered, delivered: delivered, deliveryNote: deliveryNote,
                            amountExclTax: amountExclTax, amountInclTax: amountInclTax)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Record an order.", discussion: """
            Example: parc order add BC-2024-042 --member norroy-le-veneur --lot 2 --ordered 2024-11-04 \
            --amount-excl-tax 11840 --amount-incl-tax 14208
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The purchase-order number.") var number: String
        @Option(help: "Whose order it is (slug, SIREN or INSEE code).") var member: String
        @OptionGroup var fields: Fields

        func run() async throws {
            let o = try await global.parc().perform(OrderOps.Add(number: number, member: member, fields: fields.values))
            emit("Added order \(o.number).\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List orders with their amounts and funding.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this member's orders.") var member: String?
        @Option(help: "Only orders under this lot.") var lot: String?

        func run() async throws {
            let rows = try await global.parc().perform(OrderOps.List(member: member, lot: lot))
            emit(Render.list(rows, fields: OrderCommand.fields, format: output.format,
                             tableKeys: ["number", "member", "lot", "supplier", "orderedOn", "deliveredOn", "amountInclTax", "fundingGranted"]))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an order, its funding lines and its devices.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The order number.") var number: String
        @Option(help: "Whose order, when several members use the number.") var member: String?

        func run() async throws {
            let detail = try await global.parc().perform(OrderOps.Show(number, member: member))
            let (row, devices) = (detail.row, detail.devices)
            var pairs = OrderCommand.fields.map { (key: $0.key, label: $0.header.asLabel, value: $0.value(row)) }
            pairs.append((key: "funding", label: "Funding", value: .array(row.funding.map(FundingCommand.json))))
            pairs.append((key: "devices", label: "Devices", value: .int(devices)))
            if output.format == .table {
                emit(Render.record(pairs.filter { $0.key != "funding" }, format: .table))
                if !row.funding.isEmpty {
                    emit("\n" + Render.list(row.funding, fields: FundingCommand.fields, format: .table))
                }
            } else {
                emit(Render.record(pairs, format: output.format))
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change an order's fields (an empty value clears an optional one).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order number.") var number: String
        @Option(help: "Whose order, when several members use the number.") var member: String?
        @Option(name: .customLong("number"), help: "A corrected order number.") var newNumber: String?
        @OptionGroup var fields: Fields

        func run() async throws {
            let o = try await global.parc().perform(OrderOps.Edit(number, member: member, newNumber: newNumber, fields: fields.values))
            emit("Updated order \(o.number).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an order no device came from (its funding lines go with it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order number.") var number: String
        @Option(help: "Whose order, when several members use the number.") var member: String?

        func run() async throws {
            _ = try await global.parc().perform(OrderOps.Remove(number, member: member))
            emit("Removed order \(number).\n")
        }
    }
}

struct FundingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funding",
        abstract: "Who pays for an order: commune, Département (Ambition Moselle), State, other.",
        subcommands: [Add.self, List.self, Edit.self, Remove.self])

    static let fields: [Field<FundingLine>] = [
        Field("id", "ID") { .number($0.id.map(Int.init)) },
        Field("funder", "FUNDER") { .string($0.funder.rawValue) },
        Field("label", "LABEL") { .text($0.label) },
        Field("requested", "REQUESTED") { .string($0.requested.description) },
        Field("granted", "GRANTED") { .text($0.granted?.description) },
    ]

    static func json(_ f: FundingLine) -> JSONValue { .object(fields.map { ($0.key, $0.value(f)) }) }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a funding line to an order.", discussion: """
            Example: parc funding add BC-2024-042 --funder departement --label "Ambition Moselle" --requested 7104 --granted 5683.20
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order number.") var order: String
        @Option(help: "Whose order, when several members use the number.") var member: String?
        @Option(help: "commune, departement, state or other.") var funder: Funder
        @Option(help: "The scheme or decision, e.g. \"Ambition Moselle 2024\".") var label: String?
        @Option(help: "Amount requested.") var requested: String
        @Option(help: "Amount granted (when decided).") var granted: String?

        func run() async throws {
            let f = try await global.parc().perform(FundingOps.Add(order: order, member: member, funder: funder, label: label,
                                                                   requested: requested, granted: granted))
            emit("Added funding line \(f.id!) to order \(order).\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List an order's funding lines.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The order number.") var order: String
        @Option(help: "Whose order, when several members use the number.") var member: String?

        func run() async throws {
            let lines = try await global.parc().perform(FundingOps.List(order: order, member: member))
            emit(Render.list(lines, fields: FundingCommand.fields, format: output.format))
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change a funding line (by the id `parc funding list` shows).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The funding line's id.") var id: Int64
        @Option(help: "commune, departement, state or other.") var funder: Funder?
        @Option(help: "The scheme or decision (empty to clear).") var label: String?
        @Option(help: "Amount requested.") var requested: String?
        @Option(help: "Amount granted (empty to clear).") var granted: String?

        func run() async throws {
            _ = try await global.parc().perform(FundingOps.Edit(id: id, funder: funder, label: label, requested: requested, granted: granted))
            emit("Updated funding line \(id).\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a funding line.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The funding line's id.") var id: Int64

        func run() async throws {
            _ = try await global.parc().perform(FundingOps.Remove(id: id))
            emit("Removed funding line \(id).\n")
        }
    }
}
