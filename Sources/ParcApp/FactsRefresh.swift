import Foundation
import InventoryStore
import ParcCore
import Provisioning
import SSHTransport

/// Reads the facts of devices over SSH (in parallel) and keeps them in the inventory.
public enum FactsRefresh {
    public struct Result: Sendable {
        public var device: DeviceRow
        /// The facts read, or why not.
        public var facts: Swift.Result<DeviceFacts, AppError>
        /// ok, failed or unreachable.
        public var outcome: TaskOutcome
    }

    public enum Progress: Sendable {
        case device(Result)
    }

    public typealias FactsJob = Job<Progress, [Result]>

    /// Starts reading the facts of `rows` (those without an address are left out); each device's
    /// facts are recorded as soon as they are read.
    public static func start(_ rows: [DeviceRow], become: Become, in workspace: Workspace) throws -> FactsJob {
        let targets = try rows.compactMap { row in try workspace.access.ssh(for: row).map { Target(row: row, ssh: $0) } }
        let job = FactsJob()
        let inventory = workspace.inventory
        job.start { job in
            await concurrently(targets, limit: workspace.access.forks) { t -> Result in
                let g = await gather(name: t.row.inventoryName, serial: t.row.serial, t.ssh, become: become)
                var r = Result(device: t.row, facts: g.facts.map { .success($0) } ?? .failure(AppError(g.error.map { Message(verbatim: $0) } ?? "no facts")), outcome: g.outcome)
                if let facts = g.facts {
                    do {
                        try inventory.write { tx in try tx.recordFacts(serial: t.row.serial, facts, seenAt: Date()) }
                    } catch {
                        r = Result(device: t.row, facts: .failure(AppError("\(error)")), outcome: .failed)
                    }
                }
                job.emit(.device(r))
                return r
            }
        }
        return job
    }

    struct Target: Sendable { var row: DeviceRow; var ssh: SSHOptions }

    /// Reads one device's facts over SSH (here, or on a relay); nothing is recorded.
    static func gather(name: String, serial: String, _ ssh: SSHOptions, become: Become) async -> FactsOps.Gathered {
        do {
            let facts = try await SSHConnection.connect(ssh).using { c in try await FactGathering.gather(c, become: become) }
            return FactsOps.Gathered(device: name, serial: serial, facts: facts, error: nil, outcome: .ok)
        } catch {
            let unreachable = (error as? TransportError)?.isUnreachable == true
            return FactsOps.Gathered(device: name, serial: serial, facts: nil, error: "\(error)", outcome: unreachable ? .unreachable : .failed)
        }
    }
}
