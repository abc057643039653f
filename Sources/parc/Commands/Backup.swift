import ArgumentParser
import Foundation
import ParcApp
import ParcCore

/// `parc backup -o FILE`: a consistent copy of the inventory, taken while others write.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the whole inventory to a file, consistently, even while the portal or another parc writes to it.",
        discussion: """
            The copy is SQLite's online backup of one moment of the inventory (a plain `cp` of the \
            file can miss what is still in its journal, or catch half a change). It is written beside \
            FILE, checked, then renamed onto it: FILE is never half-written. `parc restore FILE` puts it back.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write the backup to.", valueName: "file"))
    var output: String

    @Flag(help: "Replace FILE when it exists (never the inventory itself).")
    var overwrite = false

    @Flag(help: "Print what the backup holds as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.open(access: AccessSettings(credentials: []))
        let summary = try workspace.backup(to: output, overwrite: overwrite)
        if json {
            emit(JSONValue.object(BackupText.json(summary)).serialized() + "\n")
        } else {
            emit("Backup written to \(summary.path): \(BackupText.describe(summary)).\n")
        }
    }
}

/// `parc restore FILE`: the whole inventory replaced by a backup, the current one kept aside.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the whole inventory by a backup made with `parc backup`.",
        discussion: """
            Without --yes, says what would be replaced by what and changes nothing. With --yes, the \
            inventory as it is now is first saved beside it (DATABASE.before-restore-TIME.sqlite), then \
            replaced through SQLite's online backup (a running portal sees the old inventory or the \
            restored one, never a mix); a backup from an older parc is upgraded; the audit log says \
            who restored which file.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The backup file.", valueName: "file"))
    var file: String

    @Flag(help: "Replace the inventory (without it, nothing changes).")
    var yes = false

    @Flag(help: "Print what was restored as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.open(access: AccessSettings(credentials: []))
        let incoming = try Workspace.backupSummary(file)
        guard yes else {
            let current = try workspace.summary()
            throw ValidationError("""
                this would replace the whole inventory \(workspace.databasePath) (\(BackupText.describe(current))) \
                by the backup \(file) (\(BackupText.describe(incoming))). Run it again with --yes to do it \
                (the inventory as it is now is saved beside it first)
                """)
        }
        let (restored, previous) = try workspace.restore(from: file)
        if json {
            emit(JSONValue.object([("restored", .object(BackupText.json(restored))), ("previousSavedTo", .string(previous.path)),
                                   ("previous", .object(BackupText.json(previous)))]).serialized() + "\n")
        } else {
            emit("Restored \(restored.path) into \(workspace.databasePath): \(BackupText.describe(restored)).\n"
                 + "The inventory as it was is saved in \(previous.path) (\(BackupText.describe(previous))).\n")
        }
    }
}

enum BackupText {
    static func describe(_ s: BackupSummary) -> String {
        "\(s.devices) device\(s.devices == 1 ? "" : "s"), \(s.members) member\(s.members == 1 ? "" : "s"), "
            + "\(s.auditEvents) audit event\(s.auditEvents == 1 ? "" : "s"), last change \(s.lastChange ?? "never"), \(size(s.bytes))"
    }

    static func size(_ bytes: Int64) -> String {
        bytes < 1024 ? "\(bytes) bytes" : bytes < 1024 * 1024 ? "\(bytes / 1024) KiB" : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    static func json(_ s: BackupSummary) -> [(String, JSONValue)] {
        [("path", .string(s.path)), ("bytes", .int(Int(s.bytes))), ("devices", .int(Int(s.devices))),
         ("members", .int(Int(s.members))), ("auditEvents", .int(Int(s.auditEvents))),
         ("lastChange", s.lastChange.map(JSONValue.string) ?? .null)]
    }
}
