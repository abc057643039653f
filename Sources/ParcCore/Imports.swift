import Foundation

/// What an import did (or, in a dry run, would do).
public struct ImportCounts: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    /// What each row did (or would do), in the file's order.
    public var rows: [ImportRowOutcome] = []
    public init() {}
}

/// One row of an import: where it is, what it did, and to which device.
public struct ImportRowOutcome: Sendable, Equatable {
    public enum Action: String, Sendable { case create, update, unchanged }
    /// `FILE:LINE`.
    public var origin: String
    public var action: Action
    public var serial: String
    public var kind: DeviceKind
    /// Where the device is: `UAI / room`, `cart TAG`, or nil (nowhere).
    public var place: String?
    /// The asset tag (or serial) of the cart holding it, when it is in one.
    public var cart: String?
    /// The fields an update changes.
    public var changes: [String]

    public init(origin: String, action: Action, serial: String, kind: DeviceKind, place: String? = nil, cart: String? = nil, changes: [String]) {
        self.origin = origin
        self.action = action
        self.serial = serial
        self.kind = kind
        self.place = place
        self.cart = cart
        self.changes = changes
    }
}

/// One bad row (or file) of an import: `FILE:LINE: field: problem`.
public struct ImportProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var field: String
    public var problem: Message

    /// One line, whatever the file held: control characters are shown as escapes.
    public var description: String {
        // Line 0: the file as a whole (it cannot be read, a check of all rows), not a line of it.
        "\(file.visible)\(line > 0 ? ":\(line)" : ""): \(TextRules.visible(field, max: 100)): \(TextRules.visible(problem.description, max: 1_000))"
    }

    public init(file: String, line: Int, field: String, problem: Message) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
    }
}

/// An import refused because of bad rows: nothing was written. Lists every problem.
public struct ImportFailure: Error, LocalizedError, CustomStringConvertible, Sendable {
    public var file: String
    public var problems: [ImportProblem]

    public var description: String {
        let shown = problems.prefix(200).map(\.description).joined(separator: "\n")
        let more = problems.count > 200 ? "\n… and \(problems.count - 200) more" : ""
        if problems.count == 1, let only = problems.first, only.line == 0, only.field == "file" {
            // The file itself could not be read: nothing in it to correct.
            return "\(file.visible): \(TextRules.visible(only.problem.description, max: 1_000)); nothing was imported"
        }
        return "\(file.visible): \(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing was imported. Correct the file and import it again.\n\(shown)\(more)"
    }

    public var errorDescription: String? { description }

    public init(file: String, problems: [ImportProblem]) {
        self.file = file
        self.problems = problems
    }
}

/// How a device file is imported.
public struct DeviceImportOptions: Sendable {
    /// Attach every row to this order (its number).
    public var order: String?
    /// Whose order, when several members use the number.
    public var member: String?
    /// Put every row in this cart (serial or asset tag).
    public var cart: String?
    /// The kind of rows that do not say.
    public var kind: DeviceKind?
    /// Extra header mappings: column → field.
    public var mappings: [String: String]
    /// Update devices whose serial is already in the inventory (only the fields the file gives).
    public var update: Bool
    /// Show what would happen and write nothing.
    public var dryRun: Bool
    /// When the devices were delivered (for a warranty given in months), when their order does not say.
    public var delivered: Day?

    public init(order: String? = nil, member: String? = nil, cart: String? = nil, kind: DeviceKind? = nil,
                mappings: [String: String] = [:], update: Bool = false, dryRun: Bool = false) {
        self.order = order
        self.member = member
        self.cart = cart
        self.kind = kind
        self.mappings = mappings
        self.update = update
        self.dryRun = dryRun
    }
}

/// What an import did, or would do in a dry run.
public struct ImportReport: Sendable {
    public var file: String
    public var rows: Int
    public var counts: ImportCounts
    public var ignoredColumns: [String]
    public var encoding: String
    public var delimiter: Character
    public var dryRun: Bool

    /// One line per row: `LINE ACTION SERIAL KIND PLACE (changes)`, as the dry run shows them.
    public var rowLines: String {
        counts.rows.map { r in
            let line = r.origin.split(separator: ":").last.map(String.init) ?? r.origin
            var s = "line \(line): \(dryRun ? "would " : "")\(r.action.rawValue) \(r.serial) (\(r.kind.rawValue)) \(r.place.map { "in \($0)" } ?? "nowhere")"
            if !r.changes.isEmpty { s += ": \(r.changes.joined(separator: ", "))" }
            return s
        }.joined(separator: "\n")
    }

    public var summary: String {
        let verb = dryRun ? "would create" : "created"
        var s = "\(file.visible): \(rows) row\(rows == 1 ? "" : "s") (\(encoding), '\(delimiter)' separated): \(verb) \(counts.created), "
            + "\(dryRun ? "would update" : "updated") \(counts.updated), unchanged \(counts.unchanged)"
        if dryRun { s += ". Dry run: nothing was written" }
        if !ignoredColumns.isEmpty { s += "\nIgnored columns: \(ignoredColumns.joined(separator: ", ")) (use --map COLUMN=FIELD to read them)" }
        return s
    }

    public init(file: String, rows: Int, counts: ImportCounts, ignoredColumns: [String], encoding: String, delimiter: Character, dryRun: Bool) {
        self.file = file
        self.rows = rows
        self.counts = counts
        self.ignoredColumns = ignoredColumns
        self.encoding = encoding
        self.delimiter = delimiter
        self.dryRun = dryRun
    }
}

/// A file's rows as an import would take them: each with what it would do or what is wrong with it.
public struct ImportPreview: Sendable {
    public struct Row: Sendable {
        public var line: Int
        public var serial: String?
        /// What the row would do (nil when it has problems).
        public var outcome: ImportRowOutcome?
        public var problems: [ImportProblem]
        /// The member a created device would belong to (its school's, else its order's); nil: none.
        public var owner: String? = nil

        public init(line: Int, serial: String? = nil, outcome: ImportRowOutcome? = nil, problems: [ImportProblem]) {
            self.line = line
            self.serial = serial
            self.outcome = outcome
            self.problems = problems
        }
    }
    public var file: String
    public var rows: [Row]
    /// Problems of no one row (a cart the file's bad rows were to create, say).
    public var fileProblems: [ImportProblem] = []
    public var ignoredColumns: [String]
    public var encoding: String
    public var delimiter: Character

    /// Every row can go in: confirming imports them all.
    public var isClean: Bool { fileProblems.isEmpty && rows.allSatisfy { $0.problems.isEmpty } }
    /// The rows that would create a device belonging to no member (no school, no order): no
    /// commune would see them.
    public var ownerless: [Row] { rows.filter { $0.outcome?.action == .create && $0.owner == nil } }
    public var problemCount: Int { fileProblems.count + rows.reduce(0) { $0 + $1.problems.count } }

    public init(file: String, rows: [Row], fileProblems: [ImportProblem] = [], ignoredColumns: [String], encoding: String, delimiter: Character) {
        self.file = file
        self.rows = rows
        self.fileProblems = fileProblems
        self.ignoredColumns = ignoredColumns
        self.encoding = encoding
        self.delimiter = delimiter
    }
}
