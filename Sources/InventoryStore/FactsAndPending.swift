import Foundation
import GRDB
import ParcCore

extension InventoryTransaction {
    /// Stores a device's latest facts and when they were seen.
    public func recordFacts(serial: String, _ facts: DeviceFacts, seenAt: Date) throws {
        guard let id = try deviceID(serial: serial) else {
            throw InventoryError.notFound(entity: "device", key: serial, hint: "the device must be in the inventory")
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try db.execute(sql: "INSERT OR REPLACE INTO deviceFacts (deviceId, seenAt, facts) VALUES (?, ?, ?)",
                       arguments: [id, seenAt.formatted(EventRecord.timestampFormat), String(decoding: try encoder.encode(facts), as: UTF8.self)])
    }

    /// Notes that `playbook` is owed to the device (it was unreachable).
    public func addPending(serial: String, playbook: String, reason: String, runId: Int64?, parameters: RunParameters? = nil) throws {
        guard let id = try deviceID(serial: serial) else { return }
        let json = try parameters.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try db.execute(sql: "INSERT OR REPLACE INTO pending (deviceId, playbook, reason, since, runId, parameters) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [id, playbook, reason, now.formatted(EventRecord.timestampFormat), runId, json])
    }

    /// The device got the playbook: nothing owed any more.
    public func clearPending(serial: String, playbook: String) throws {
        guard let id = try deviceID(serial: serial) else { return }
        try db.execute(sql: "DELETE FROM pending WHERE deviceId = ? AND playbook = ?", arguments: [id, playbook])
    }
}

extension InventoryReader {
    /// A device's latest facts and when they were seen.
    public func facts(serial: String) throws -> (facts: DeviceFacts, seenAt: Date)? {
        guard let id = try deviceID(serial: serial),
              let row = try Row.fetchOne(db, sql: "SELECT seenAt, facts FROM deviceFacts WHERE deviceId = ?", arguments: [id]) else { return nil }
        return Self.decodeFacts(row)
    }

    static func decodeFacts(_ row: Row) -> (facts: DeviceFacts, seenAt: Date)? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let facts = try? decoder.decode(DeviceFacts.self, from: Data((row["facts"] as String).utf8)),
              let seen = try? Date(row["seenAt"] as String, strategy: EventRecord.timestampFormat) else { return nil }
        return (facts, seen)
    }

    /// Everything owed to offline devices, oldest first.
    public func pending() throws -> [PendingItem] {
        try Row.fetchAll(db, sql: """
            SELECT d.serial, COALESCE(d.hostname, d.assetTag, d.serial) AS name, p.playbook, p.reason, p.since, p.runId, p.parameters
            FROM pending p JOIN device d ON d.id = p.deviceId ORDER BY p.since, d.serial
            """).map { row in
            PendingItem(serial: row["serial"], device: row["name"], playbook: row["playbook"], reason: row["reason"],
                        since: (try? Date(row["since"] as String, strategy: EventRecord.timestampFormat)) ?? Date(timeIntervalSince1970: 0),
                        runId: row["runId"],
                        parameters: (row["parameters"] as String?).flatMap { try? JSONDecoder().decode(RunParameters.self, from: Data($0.utf8)) })
        }
    }

    /// The device whose serial is `serial`, in any case (looked up only when a device's firmware
    /// says another serial than its own: rare, so the case-insensitive scan is no cost on the way).
    func device(claimingSerial serial: String) throws -> DeviceRow? {
        let exact = try Row.fetchOne(db.cachedStatement(sql: "\(Self.deviceRowSelect) WHERE d.serial = ?"), arguments: [serial])
        let row = try exact ?? Row.fetchOne(db.cachedStatement(sql: "\(Self.deviceRowSelect) WHERE d.serial = ? COLLATE NOCASE"), arguments: [serial])
        return row.map(Self.deviceRow)
    }

    /// Compares what each device said (its latest facts) with the inventory.
    public func reconcile(_ devices: [DeviceRow], staleAfterDays: Int, now: Date = Date()) throws -> [Finding] {
        var findings: [Finding] = []
        for d in devices {
            let name = d.inventoryName
            guard let (facts, seen) = try facts(serial: d.serial) else {
                // A device parc reaches (it has an address) or should reach (a laptop) that was never seen.
                if d.address != nil {
                    findings.append(Finding(serial: d.serial, device: name, kind: .neverSeen, expected: nil, found: nil, fixable: false,
                                            message: "never seen: gather its facts with parc facts \(name)"))
                } else if d.kind == .laptop && d.status != .retired && d.status != .lost {
                    findings.append(Finding(serial: d.serial, device: name, kind: .neverSeen, expected: nil, found: nil, fixable: false,
                                            message: "never seen, and no address: onboard it (parc onboard ADDRESS) or give its address (parc device edit \(name) --address …)"))
                }
                continue
            }
            let days = Int(now.timeIntervalSince(seen) / 86_400)
            if days >= staleAfterDays {
                findings.append(Finding(serial: d.serial, device: name, kind: .notSeenRecently, expected: nil, found: seen.formatted(EventRecord.timestampFormat),
                                        fixable: false, message: "not seen for \(days) day(s)"))
            }
            if let firmware = facts.serial, firmware.lowercased() != d.serial.lowercased() {
                // Who has that serial in the inventory: a device answering as another one.
                if let other = try device(claimingSerial: firmware) {
                    findings.append(Finding(serial: d.serial, device: name, kind: .answersAsAnother, expected: d.serial, found: firmware, fixable: false,
                                            message: "the machine at \(d.address ?? "its address") is \(other.inventoryName) (serial \(firmware)), not \(d.serial): check the addresses"))
                } else {
                    findings.append(Finding(serial: d.serial, device: name, kind: .serialDiffers, expected: d.serial, found: firmware, fixable: false,
                                            message: "serial differs: the inventory says \(d.serial), the device says \(firmware) (swapped or repaired? check it by hand)"))
                }
            }
            let macs = facts.macs
            if !macs.isEmpty && Set(macs) != Set(d.macs) {
                findings.append(Finding(serial: d.serial, device: name, kind: .macDiffers, expected: d.macs.joined(separator: " "), found: macs.joined(separator: " "),
                                        fixable: true, message: "MAC addresses differ"))
            }
            let host = facts.hostname.split(separator: ".").first.map(String.init) ?? facts.hostname
            if !host.isEmpty && host.lowercased() != (d.hostname ?? "").lowercased() {
                findings.append(Finding(serial: d.serial, device: name, kind: .hostnameDiffers, expected: d.hostname, found: host, fixable: true,
                                        message: "host name differs"))
            }
        }
        return findings
    }
}
