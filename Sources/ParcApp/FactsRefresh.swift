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
                var r: Result
                do {
                    let facts = try await SSHConnection.connect(t.ssh).using { c in try await FactGathering.gather(c, become: become) }
                    try inventory.write { tx in try tx.recordFacts(serial: t.row.serial, facts, seenAt: Date()) }
                    r = Result(device: t.row, facts: .success(facts), outcome: .ok)
                } catch {
                    let unreachable = (error as? TransportError)?.isUnreachable == true
                    r = Result(device: t.row, facts: .failure(AppError("\(error)")), outcome: unreachable ? .unreachable : .failed)
                }
                job.emit(.device(r))
                return r
            }
        }
        return job
    }

    struct Target: Sendable { var row: DeviceRow; var ssh: SSHOptions }
}
