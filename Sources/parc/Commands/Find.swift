import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct Find: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find devices by serial, asset tag, MAC, host name, model, school or commune name.",
        discussion: "Example: parc find 8c1645 (a MAC may be typed with or without separators).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Text to look for (case-insensitive, anywhere in the field).") var text: String
    @Option(help: "Show at most this many devices.") var limit = 500

    func run() async throws {
        let found = try await global.parc().perform(DeviceOps.Find(text, limit: limit))
        let (rows, total) = (found.rows, found.total)
        emit(Render.list(rows, fields: DeviceCommand.fields, format: output.format,
                         tableKeys: ["serial", "assetTag", "kind", "model", "uai", "school", "room", "cart", "macs"]))
        if output.format == .table {
            let more = total > rows.count ? " (showing \(rows.count); narrow the search or raise --limit)" : ""
            FileHandle.standardError.write(Data("\(total) device\(total == 1 ? "" : "s") found\(more)\n".utf8))
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a device's story from the audit log: who changed what, when, old → new.",
        discussion: "Works for removed devices too (by the serial or asset tag they had).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Serial or asset tag.") var device: String

    func run() async throws {
        let events = try await global.parc().perform(DeviceOps.History(device))
        let fields: [Field<AuditEvent>] = [
            Field("at", "WHEN") { .string(EventTime.iso($0.at)) },
            Field("actor", "WHO") { .string($0.actor) },
            Field("action", "WHAT") { .string($0.action.rawValue) },
            Field("changes", "CHANGES") { e in
                .array(e.changes.map { .object([("field", .string($0.field)), ("old", .text($0.old)), ("new", .text($0.new))]) })
            },
        ]
        switch output.format {
        case .table:
            var out = ""
            for e in events {
                out += "\(EventTime.iso(e.at))  \(e.actor)  \(e.action.rawValue)\n"
                for c in e.changes {
                    out += "    \(c.field): \(c.old ?? "—") → \(c.new ?? "—")\n"
                }
            }
            emit(out)
        case .csv:
            // One row per change: a spreadsheet can filter by field.
            var out = ["at", "actor", "action", "field", "old", "new"].joined(separator: ",") + "\r\n"
            for e in events {
                for c in e.changes.isEmpty ? [FieldChange(field: "", old: nil, new: nil)] : e.changes {
                    out += [EventTime.iso(e.at), e.actor, e.action.rawValue, c.field, c.old ?? "", c.new ?? ""].map(Render.csvCell).joined(separator: ",") + "\r\n"
                }
            }
            emit(out)
        case .json:
            emit(Render.list(events, fields: fields, format: output.format))
        }
    }
}

enum EventTime {
    /// `2026-11-29T00:11:28Z`.
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}
