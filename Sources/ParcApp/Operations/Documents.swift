import Exchange
import Foundation
import InventoryStore
import ParcCore

// Files in and out: imports (the file's bytes travel with the operation), the Ansible inventory,
// the commune's report, the renewal plan and the rows of a label sheet.

public enum DocumentOps {
    /// What an import did (or would do), as `parc import … [--json]` prints it.
    public struct Outcome: Codable, Sendable {
        public struct Row: Codable, Sendable {
            public var line: Int
            public var action: String
            public var serial: String
            public var kind: DeviceKind
            public var place: String?
            public var changes: [String]
        }
        public var file: String
        public var dryRun: Bool
        public var encoding: String
        public var created, updated, unchanged: Int
        public var ignoredColumns: [String]
        public var rows: [Row]
        /// The people's words: each row of a dry run, and the counts.
        public var rowLines: String
        public var summary: String

        init(_ report: ImportReport) {
            file = report.file
            dryRun = report.dryRun
            encoding = report.encoding
            created = report.counts.created
            updated = report.counts.updated
            unchanged = report.counts.unchanged
            ignoredColumns = report.ignoredColumns
            rows = report.counts.rows.map { r in
                Row(line: Int(r.origin.split(separator: ":").last ?? "") ?? 0, action: r.action.rawValue, serial: r.serial,
                    kind: r.kind, place: r.place, changes: r.changes)
            }
            // Shown for a dry run only: a real import of 100,000 rows spent time writing them for nothing.
            rowLines = report.dryRun ? report.rowLines : ""
            summary = report.summary
        }
    }

    public struct ImportDevices: InventoryOperation {
        public static let name = "import.devices"
        public static let summary = "Import devices from a CSV file sent with the operation, all rows or none (as `parc import devices`)"
        public var source: ImportSource
        public var order, member, cart, delivered: String?
        public var kind: DeviceKind?
        public var mappings: [String: String]
        public var update, dryRun: Bool
        public init(_ source: ImportSource, order: String?, member: String?, cart: String?, kind: DeviceKind?, delivered: String?,
                    mappings: [String: String], update: Bool, dryRun: Bool) {
            (self.source, self.order, self.member, self.cart, self.kind, self.delivered) = (source, order, member, cart, kind, delivered)
            (self.mappings, self.update, self.dryRun) = (mappings, update, dryRun)
        }
        public func perform(in workspace: Workspace) async throws -> Outcome {
            var options = DeviceImportOptions(order: order, member: member, cart: cart, kind: kind, mappings: mappings, update: update, dryRun: dryRun)
            options.delivered = try delivered.map { try Day(parsing: $0, field: "--delivered") }
            let (settings, inventory) = (options, workspace.inventory)
            return Outcome(try await offload { try DeviceImport.run(try source.table, options: settings, into: inventory) })
        }
    }

    /// Members (communes, SIVOS, EPCI) or schools from a CSV file, all rows or none.
    public struct ImportOrganisation: InventoryOperation {
        public enum What: String, Codable, Sendable { case members, schools }
        public static let name = "import.organisation"
        public static let summary = "Import members or schools from a CSV file sent with the operation, all rows or none (as `parc import members|schools`)"
        public var what: What
        public var source: ImportSource
        public var mappings: [String: String]
        public var dryRun: Bool
        public init(_ what: What, _ source: ImportSource, mappings: [String: String], dryRun: Bool) {
            (self.what, self.source, self.mappings, self.dryRun) = (what, source, mappings, dryRun)
        }
        public func perform(in workspace: Workspace) async throws -> Outcome {
            let inventory = workspace.inventory
            return Outcome(try await offload { [self] in
                switch what {
                case .members: try OrganisationImport.members(try source.table, mappings: mappings, dryRun: dryRun, into: inventory)
                case .schools: try OrganisationImport.schools(try source.table, mappings: mappings, dryRun: dryRun, into: inventory)
                }
            })
        }
    }

    public struct AnsibleInventory: InventoryOperation {
        public static let name = "export.ansible-inventory"
        public static let summary = "An Ansible inventory (YAML) of the devices, their connection variables and parc's groups (as `parc export ansible-inventory`)"
        public var all: Bool
        public init(all: Bool) { self.all = all }
        public func perform(in workspace: Workspace) async throws -> String {
            try await workspace.inventory.reading { try DeviceExport.ansibleInventory($0, includeAll: all) }
        }
    }

    /// The forms a report is written in; a PDF is made from the HTML where it is asked for.
    public enum ReportFormat: String, Codable, Sendable { case text, csv, html }

    public struct Report: InventoryOperation {
        public static let name = "report.equipment"
        public static let summary = "The commune's equipment report of a member or a school, in French: text, CSV or HTML (as `parc report member|school`)"
        public var member, school: String?
        public var format: ReportFormat
        public var warrantyMonths: Int
        public var date: String?
        public init(member: String?, school: String?, format: ReportFormat, warrantyMonths: Int, date: String?) {
            (self.member, self.school, self.format, self.warrantyMonths, self.date) = (member, school, format, warrantyMonths, date)
        }
        public func perform(in workspace: Workspace) async throws -> String {
            let day = try date.map { try Day(parsing: $0, field: "date") } ?? Day.today()
            let report = try await workspace.inventory.reading { r in
                try school.map { try EquipmentReport.build(r, school: $0, warrantyMonths: warrantyMonths, today: day) }
                    ?? EquipmentReport.build(r, member: member, warrantyMonths: warrantyMonths, today: day)
            }
            switch format {
            case .text: return report.text()
            case .csv: return report.csv()
            case .html: return report.html()
            }
        }
    }

    public struct Renewal: InventoryOperation {
        public static let name = "report.renewal"
        public static let summary = "A member's renewal plan: what to renew each year and its estimated cost, text or CSV (as `parc report renewal`)"
        public var member: String
        public var csv: Bool
        /// Service lives in years by kind, where they differ from parc's.
        public var lifetimes: [String: Int]
        public var date: String?
        public init(member: String, csv: Bool, lifetimes: [String: Int], date: String?) {
            (self.member, self.csv, self.lifetimes, self.date) = (member, csv, lifetimes, date)
        }
        public func perform(in workspace: Workspace) async throws -> String {
            let day = try date.map { try Day(parsing: $0, field: "date") } ?? Day.today()
            var all = RenewalPlan.lifetimes
            for (kind, years) in lifetimes { all[try DeviceKind(parsing: kind)] = years }
            let chosen = all
            let plan = try await workspace.inventory.reading { try RenewalPlan.build($0, member: member, today: day, lifetimes: chosen) }
            return csv ? plan.csv() : plan.text()
        }
    }

    public struct LabelRows: InventoryOperation {
        public static let name = "labels.devices"
        public static let summary = "The devices of a label sheet: the filter's, a cart's own label first (as `parc labels`)"
        public var filter: DeviceFilter
        public init(_ filter: DeviceFilter) { self.filter = filter }
        public func perform(in workspace: Workspace) async throws -> [DeviceRow] {
            try await workspace.inventory.reading { r -> [DeviceRow] in
                var rows = try r.devices(filter)
                // A cart's sheet starts with the cart's own label.
                if let cart = filter.cart, let own = try? r.deviceRow(try r.cart(cart).serial), !rows.contains(where: { $0.serial == own.serial }) {
                    rows.insert(own, at: 0)
                }
                return rows
            }
        }
    }
}

/// A4 sheets of labels with QR codes, printed from the browser or saved by `parc labels`.
public enum LabelSheets {
    /// The sheet of these devices (with `baseURL`, each QR code holds the device's page in the portal).
    /// With `stylesheet`, the sheet links it (see ``stylesheet``) rather than holding it.
    public static func sheet(_ devices: [DeviceRow], title: String, baseURL: String? = nil, stylesheet: String? = nil) throws -> String {
        try LabelSheet.html(devices, title: title, baseURL: baseURL, stylesheet: stylesheet)
    }

    /// The sheets' stylesheet, for the portal to serve as a file.
    public static var stylesheet: String { LabelSheet.css }
}
