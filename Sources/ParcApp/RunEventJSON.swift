import Foundation
import ParcCore
import Provisioning

/// Run events as JSON: what the console's pages, the API's event streams and a command line
/// following a run from afar read, in one shape. Messages are in English (`message`, `text`),
/// and in French for the console's page (`messageFr`, `textFr`).
public enum RunEventJSON {
    public static func name(_ e: RunProgress) -> String {
        switch e {
        case .started: "start"
        case .play: "play"
        case .task: "task"
        case .unreachable: "unreachable"
        case .note: "note"
        case .recap: "recap"
        }
    }

    public static func json(_ e: Stamped<RunProgress>) -> JSONValue {
        let at: (String, JSONValue) = ("at", .number(Int((e.at.timeIntervalSince1970 * 1000).rounded())))
        switch e.event {
        case .started(let id, let playbook, let check, let hosts):
            return .object([("id", .number(Int(id))), ("playbook", .string(playbook)), ("check", .bool(check)),
                            ("hosts", .array(hosts.map { .object([("name", .string($0.name)), ("serial", .string($0.serial))]) })), at])
        case .play(let name, let hosts):
            return .object([("name", .string(name)), ("hosts", .number(hosts)), at])
        case .task(let r):
            let entry = RunTaskEntry(r)
            // The whole record too (already masked for no_log), so a command line following the
            // run from afar prints what it would print here.
            let record = (try? JSONEncoder().encode(r.masked)).flatMap { try? JSONSerialization.jsonObject(with: $0) }.map(JSONValue.from) ?? .null
            return .object(taskFields(entry) + [("record", record), at])
        case .unreachable(let host, let message):
            return .object([("host", .string(host)), ("message", .string(message)), ("messageFr", .string(Message.stored(message, in: .french))), at])
        case .note(let text):
            return .object([("text", .string(text)), ("textFr", .string(Message.stored(text, in: .french))), at])
        case .recap(let report):
            return recap(id: report.id, hosts: report.hosts, exitCode: Int(report.exitCode), aborted: report.aborted, check: report.check, at: e.at)
        }
    }

    public static func taskFields(_ t: RunTaskEntry) -> [(String, JSONValue)] {
        [("host", .string(t.host)), ("serial", .string(t.serial)), ("play", .string(t.play)), ("task", .string(t.task)), ("item", .text(t.item)),
         ("outcome", .string(t.outcome.rawValue)), ("changed", .bool(t.changed)), ("ignored", .bool(t.ignored)), ("message", .text(t.message)),
         // The same words for a French reader (the console's page): parc's own sentences translated, a device's answer as it is.
         ("messageFr", .text(t.message.map { Message.stored($0, in: .french) })),
         ("diff", .text(t.diff)), ("milliseconds", .number(t.milliseconds))]
    }

    public static func recap(id: Int64, hosts: [RunHostSummary], exitCode: Int, aborted: String?, check: Bool, at: Date) -> JSONValue {
        .object([("id", .number(Int(id))), ("exitCode", .number(exitCode)), ("aborted", .text(aborted)), ("check", .bool(check)),
                 ("hosts", .array(hosts.map { h in
                     .object([("host", .string(h.host)), ("serial", .string(h.serial)), ("ok", .number(h.ok)), ("changed", .number(h.changed)),
                              ("failed", .number(h.failed)), ("skipped", .number(h.skipped)), ("unreachable", .number(h.unreachable)),
                              ("outcome", .string(h.outcome.rawValue))])
                 })), ("at", .number(Int((at.timeIntervalSince1970 * 1000).rounded())))])
    }

    /// A task's record as the console shows it.
    public static func entry(_ record: TaskRecord) -> RunTaskEntry { RunTaskEntry(record) }
}
