import Foundation
import GRDB
import ParcCore

extension RunSummary: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension RunHostSummary: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runHost"
}

extension InventoryTransaction {
    /// Records the start of a run and claims its devices (`serial → name`) for it, in one
    /// transaction; returns its id. A device another unfinished run holds refuses the whole run
    /// (``DeviceBusy`` names that run), unless the process that claimed it is gone (`isAlive`).
    public func startRun(playbook: String, hash: String, selector: String, checkMode: Bool, retryOf: Int64? = nil,
                         parameters: RunParameters? = nil, claiming devices: [(serial: String, name: String)] = [], pid: Int32 = 0,
                         isAlive: (Int32) -> Bool = { _ in true }) throws -> Int64 {
        let holder = try db.cachedStatement(sql: """
            SELECT runClaim.runId, runClaim.pid, run.actor FROM runClaim JOIN run ON run.id = runClaim.runId
            WHERE runClaim.serial = ? AND run.endedAt IS NULL
            """)
        for d in devices {
            if let row = try Row.fetchOne(holder, arguments: [d.serial]), isAlive(row["pid"]) {
                throw DeviceBusy(device: d.name, runID: row["runId"], actor: row["actor"])
            }
        }
        var run = RunSummary(playbook: playbook, playbookHash: hash, selector: selector, checkMode: checkMode, actor: actor,
                             startedAt: now, retryOf: retryOf)
        try run.insert(db)
        if let parameters {
            // How it was asked for (never a secret value: --ask-vars keeps names), for a rerun.
            let text = String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self)
            try db.execute(sql: "UPDATE run SET parameters = ? WHERE id = ?", arguments: [text, run.id!])
        }
        if pid != 0 { try db.execute(sql: "UPDATE run SET pid = ? WHERE id = ?", arguments: [pid, run.id!]) }
        let claim = try db.cachedStatement(sql: "INSERT OR REPLACE INTO runClaim (serial, runId, pid) VALUES (?, ?, ?)")
        for d in devices { try claim.execute(arguments: [d.serial, run.id!, pid]) }
        return run.id!
    }

    /// Records how a run ended: its exit code, each host's recap and every task's outcome; its
    /// devices are free again.
    public func finishRun(_ id: Int64, exitCode: Int, endedAt: Date, hosts: [RunHostSummary], tasks: [RunTaskEntry], aborted: String? = nil) throws {
        try db.execute(sql: "UPDATE run SET endedAt = ?, exitCode = ?, aborted = ? WHERE id = ?", arguments: [endedAt, exitCode, aborted, id])
        try db.execute(sql: "DELETE FROM runClaim WHERE runId = ?", arguments: [id])
        for h in hosts {
            try db.execute(sql: """
                INSERT INTO runHost (runId, serial, host, ok, changed, failed, skipped, unreachable, outcome, relay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, h.serial, h.host, h.ok, h.changed, h.failed, h.skipped, h.unreachable, h.outcome.rawValue, h.relay])
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO runTask (runId, serial, host, play, task, item, outcome, changed, ignored, message, output, diff, milliseconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for t in tasks {
            try insert.execute(arguments: [id, t.serial, t.host, t.play, t.task, t.item, t.outcome.rawValue, t.changed, t.ignored, t.message, t.output,
                                           t.diff, t.milliseconds])
        }
    }
}

extension InventoryTransaction {
    /// Ends the unfinished runs whose process is gone (killed, crashed, the machine restarted):
    /// each is recorded as interrupted, and every device it held is owed its playbook again
    /// (pending work, replayed as the run was asked for). Returns their ids.
    @discardableResult
    public func endInterruptedRuns(isAlive: (Int32) -> Bool, at date: Date) throws -> [Int64] {
        var ended: [Int64] = []
        for row in try Row.fetchAll(db, sql: "SELECT id, playbook, pid, parameters FROM run WHERE endedAt IS NULL") {
            let id: Int64 = row["id"]
            let claims = try Row.fetchAll(db, sql: "SELECT serial, pid FROM runClaim WHERE runId = ? ORDER BY serial", arguments: [id])
            var pids = Set(claims.map { $0["pid"] as Int32 })
            if let pid = row["pid"] as Int32? { pids.insert(pid) }
            pids.remove(0)
            guard !pids.isEmpty, pids.allSatisfy({ !isAlive($0) }) else { continue }
            let parameters = (row["parameters"] as String?).flatMap { try? JSONDecoder().decode(RunParameters.self, from: Data($0.utf8)) }
            for claim in claims {
                try addPending(serial: claim["serial"], playbook: row["playbook"], reason: "run \(id) was interrupted before it finished", runId: id,
                               parameters: parameters)
            }
            let who = pids.sorted().map(String.init).joined(separator: ", ")
            try finishRun(id, exitCode: 2, endedAt: date, hosts: [], tasks: [],
                          aborted: "interrupted: the process running it (pid \(who)) ended before it finished; \(claims.count) device(s) got pending work")
            ended.append(id)
        }
        return ended
    }
}

extension InventoryReader {
    /// The latest runs, newest first.
    public func runs(limit: Int = 50) throws -> [RunSummary] {
        try RunSummary.order(Column("id").desc).limit(limit).fetchAll(db)
    }

    /// A run with its hosts and tasks.
    public func run(_ id: Int64) throws -> (run: RunSummary, hosts: [RunHostSummary], tasks: [RunTaskEntry]) {
        guard let run = try RunSummary.fetchOne(db, key: id) else {
            throw InventoryError.notFound(entity: "run", key: String(id), hint: "list runs with `parc runs list`")
        }
        let hosts = try RunHostSummary.fetchAll(db, sql: "SELECT * FROM runHost WHERE runId = ? ORDER BY host", arguments: [id])
        let tasks = try Row.fetchAll(db, sql: "SELECT * FROM runTask WHERE runId = ? ORDER BY id", arguments: [id]).map { row in
            RunTaskEntry(serial: row["serial"], host: row["host"], play: row["play"], task: row["task"], item: row["item"],
                         outcome: TaskOutcome(rawValue: row["outcome"]) ?? .failed,
                         changed: row["changed"], ignored: row["ignored"], message: row["message"], output: row["output"], diff: row["diff"],
                         milliseconds: row["milliseconds"])
        }
        return (run, hosts, tasks)
    }

    /// How a run was asked for (`-e`, `--ask-vars` names, tags, limit), when recorded.
    public func runParameters(_ id: Int64) throws -> RunParameters? {
        guard let text = try String.fetchOne(db, sql: "SELECT parameters FROM run WHERE id = ?", arguments: [id]) else { return nil }
        return try? JSONDecoder().decode(RunParameters.self, from: Data(text.utf8))
    }

    /// The processes whose claims a run holds (empty: it claimed no device, or it ended).
    public func claimingProcesses(of id: Int64) throws -> [Int32] {
        try Int32.fetchAll(db, sql: "SELECT DISTINCT pid FROM runClaim WHERE runId = ?", arguments: [id])
    }

    /// The unfinished runs holding devices, by serial (lower-case).
    public func busyDevices() throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT runClaim.serial, runClaim.runId FROM runClaim JOIN run ON run.id = runClaim.runId WHERE run.endedAt IS NULL") {
            out[(row["serial"] as String).lowercased()] = row["runId"]
        }
        return out
    }

    /// A device's last run and its recap there.
    public func lastRun(serial: String) throws -> (run: RunSummary, host: RunHostSummary)? {
        try runs(serial: serial, limit: 1).first
    }

    /// The runs that reached a device, newest first, each with the device's recap (without the
    /// other hosts' and the tasks' rows: a device page shows these on every load).
    public func runs(serial: String, limit: Int = 20) throws -> [(run: RunSummary, host: RunHostSummary)] {
        let hosts = try Row.fetchAll(db, sql: """
            SELECT * FROM runHost WHERE serial = ? COLLATE NOCASE ORDER BY runId DESC LIMIT ?
            """, arguments: [serial, limit])
        return try hosts.compactMap { row in
            guard let run = try RunSummary.fetchOne(db, key: row["runId"] as Int64) else { return nil }
            return (run, try RunHostSummary(row: row))
        }
    }
}
