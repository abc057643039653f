import Exchange
import Foundation
import InventoryStore
import ParcCore

// What the devices say about themselves: gathering facts, comparing them with the inventory (and
// applying the safe fixes), and GLPI's documents made from both.

public enum FactsOps {
    /// One device's facts, or why they could not be read.
    public struct Gathered: Codable, Sendable {
        public var device: String
        public var serial: String
        public var facts: DeviceFacts?
        public var error: String?
        public var outcome: TaskOutcome
    }

    /// `parc facts`: read each selected device's facts over SSH, in parallel, and keep them.
    public struct Gather: InventoryOperation {
        public static let name = "facts.gather"
        public static let summary = "Gather facts from devices over SSH from where parc runs and keep them (as `parc facts`)"
        public var selection: Selection
        public var tuning: ReachTuning
        public init(_ selection: Selection, tuning: ReachTuning) { (self.selection, self.tuning) = (selection, tuning) }

        public func perform(in workspace: Workspace) async throws -> [Gathered] {
            let rows = try await workspace.inventory.reading { [selection] in try selection.select($0) }.filter { $0.address != nil }
            guard !rows.isEmpty else { return [] }
            var reach = workspace
            reach.access = tuning.applied(to: workspace.access)
            let split = try Reaching(rows, settings: reach.access, relays: workspace.relays)
            var gathered: [String: Gathered] = [:]
            // Here, and through each school's relay at the same time (its devices' facts come back and are kept here).
            let here = split.direct.map(\.0)
            async let direct = here.isEmpty ? [] : try FactsRefresh.start(here, become: EnvironmentCredentials.become, in: reach).value()
            for (relay, part, heard, _) in await split.throughRelays(.facts, workspace: workspace, settings: reach.access, { e -> (String, Gathered)? in
                if case .gathered(let g) = e { (g.serial, g) } else { nil }
            }) {
                for (serial, t) in part {
                    var g = heard[serial] ?? Gathered(device: t.row.inventoryName, serial: serial, facts: nil,
                                                      error: "through the relay \(relay): no answer (the relay is gone?)", outcome: .unreachable)
                    g.device = t.row.inventoryName
                    if let facts = g.facts {
                        try await workspace.inventory.writing { tx in try tx.recordFacts(serial: serial, facts, seenAt: Date()) }
                    }
                    gathered[serial] = g
                }
            }
            for r in try await direct {
                gathered[r.device.serial] = switch r.facts {
                case .success(let f): Gathered(device: r.device.inventoryName, serial: r.device.serial, facts: f, error: nil, outcome: r.outcome)
                case .failure(let e): Gathered(device: r.device.inventoryName, serial: r.device.serial, facts: nil, error: e.description, outcome: r.outcome)
                }
            }
            return split.order.compactMap { gathered[$0] }
        }
    }

    public struct Reconciled: Codable, Sendable {
        public var findings: [Finding]
        /// How many safe updates were applied (with --fix).
        public var fixed: Int
        /// Why a fix was not applied, by serial and kind of finding.
        public var refused: [String: String]
    }

    /// `parc reconcile [--fix]`: the inventory against the devices' latest facts. The safe updates
    /// (host name, MACs) are applied each on its own, with audit events; a serial never is.
    public struct Reconcile: InventoryOperation {
        public static let name = "facts.reconcile"
        public static let summary = "Compare the devices' facts with the inventory, and apply the safe updates (as `parc reconcile [--fix]`)"
        public var selection: Selection
        public var days: Int
        public var fix: Bool
        public init(_ selection: Selection, days: Int, fix: Bool) { (self.selection, self.days, self.fix) = (selection, days, fix) }

        public static func key(_ f: Finding) -> String { f.serial + f.kind.rawValue }

        public func perform(in workspace: Workspace) async throws -> Reconciled {
            let findings = try await workspace.inventory.reading { [selection, days] r in try r.reconcile(try selection.select(r), staleAfterDays: days) }
            guard fix else { return Reconciled(findings: findings, fixed: 0, refused: [:]) }
            return try await workspace.inventory.writing { tx in
                var fixed = 0
                var refused: [String: String] = [:]
                for f in findings where f.fixable {
                    // Each fix on its own: one that breaks a rule (a MAC another device holds) is reported, not applied.
                    do {
                        try tx.attempt {
                            switch f.kind {
                            case .hostnameDiffers: _ = try tx.updateDevice(f.serial) { $0.hostname = f.found }
                            case .macDiffers:
                                _ = try tx.updateDevice(f.serial, macs: MacChange(add: (f.found ?? "").split(separator: " ").map(String.init), replaceAll: true))
                            default: return
                            }
                            fixed += 1
                        }
                    } catch {
                        refused[Self.key(f)] = "\(error)"
                    }
                }
                return Reconciled(findings: findings, fixed: fixed, refused: refused)
            }
        }
    }
}

public enum GLPIOps {
    /// A computer's inventory in GLPI's native format (what glpi-agent submits).
    public struct Document: Codable, Sendable {
        public var serial: String
        public var device: String
        public var json: Data
        public var agentID: String
    }

    public struct LeftOut: Codable, Sendable {
        public var serial: String
        public var reason: String
    }

    public struct Documents: Codable, Sendable {
        public var documents: [Document]
        public var skipped: [LeftOut]
    }

    /// The GLPI documents of the selected devices, from the inventory and their stored facts;
    /// devices that are not computers are left out, with why.
    public struct Export: InventoryOperation {
        public static let name = "glpi.documents"
        public static let summary = "GLPI inventory documents of the selected computers, from the inventory and stored facts (as `parc export glpi` and `parc glpi push`)"
        public var selection: Selection
        public init(_ selection: Selection) { self.selection = selection }

        public func perform(in workspace: Workspace) async throws -> Documents {
            try await workspace.inventory.reading { [selection] r in
                var out = Documents(documents: [], skipped: [])
                for row in try selection.select(r) {
                    switch GLPIExport.document(row, facts: try r.facts(serial: row.serial)?.facts) {
                    case .success(let doc):
                        out.documents.append(Document(serial: row.serial, device: row.inventoryName, json: try GLPIExport.json(doc),
                                                      agentID: GLPIExport.stableUUID(row.serial)))
                    case .failure(let skip): out.skipped.append(LeftOut(serial: skip.serial, reason: skip.reason))
                    }
                }
                return out
            }
        }
    }
}

public enum RunOps {
    public struct List: InventoryOperation {
        public static let name = "run.list"
        public static let summary = "The latest configuration runs (as `parc runs list`)"
        public var limit: Int
        public init(limit: Int) { self.limit = limit }
        public func perform(in workspace: Workspace) async throws -> [RunSummary] {
            try await workspace.inventory.reading { [limit] in try $0.runs(limit: limit) }
        }
    }

    public struct Detail: Codable, Sendable {
        public var run: RunSummary
        public var hosts: [RunHostSummary]
        public var tasks: [RunTaskEntry]
    }

    public struct Show: InventoryOperation {
        public static let name = "run.show"
        public static let summary = "A run with its recap per device and every task (as `parc runs show`)"
        public var id: Int64
        public init(_ id: Int64) { self.id = id }
        public func perform(in workspace: Workspace) async throws -> Detail {
            let (run, hosts, tasks) = try await workspace.inventory.reading { [id] in try $0.run(id) }
            return Detail(run: run, hosts: hosts, tasks: tasks)
        }
    }

    /// What is owed to devices that were offline; how each run was asked for stays where it is.
    public struct Pending: InventoryOperation {
        public static let name = "run.pending"
        public static let summary = "What is owed to devices that were offline (as `parc pending`)"
        public init() {}
        public func perform(in workspace: Workspace) async throws -> [PendingItem] {
            try await workspace.inventory.reading { try $0.pending() }.map { item in
                var shown = item
                shown.parameters = nil
                return shown
            }
        }
    }
}
