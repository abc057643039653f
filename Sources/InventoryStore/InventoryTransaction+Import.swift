import Foundation
import GRDB
import ParcCore

/// A device read from a file, checked and resolved (room, cart, order ids), ready to be written.
public struct ImportedDevice: Sendable {
    public var device: Device
    /// Normalised MAC addresses.
    public var macs: [String]
    /// The fields the file gives (an update changes only those).
    public var fields: Set<String>
    /// Where it comes from, for the audit log: `FILE:LINE`.
    public var origin: String
    /// The cart named in the file when that cart is created by the same file (its serial or tag).
    public var cartInFile: String?

    public init(device: Device, macs: [String], fields: Set<String>, origin: String, cartInFile: String? = nil) {
        self.device = device
        self.macs = macs
        self.fields = fields
        self.origin = origin
        self.cartInFile = cartInFile
    }
}

extension InventoryReader {
    /// Every device's serial, asset tag and MACs, keyed as the database compares them: read once
    /// by an import whose file is large against the inventory, instead of three look-ups a row.
    public struct DeviceKeys: Sendable {
        /// Serial (folded) → id.
        public var serials: [String: Int64] = [:]
        /// Asset tag (folded) → serial.
        public var tags: [String: String] = [:]
        /// MAC (as stored) → serial.
        public var macs: [String: String] = [:]

        /// A key as SQLite's NOCASE collation compares it: ASCII letters in lower case, nothing else changed.
        public static func fold(_ s: String) -> String {
            guard s.utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return s }
            return String(decoding: s.utf8.map { (0x41...0x5A).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
        }
    }

    public func deviceCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM device") ?? 0
    }

    public func deviceKeys() throws -> DeviceKeys {
        var keys = DeviceKeys()
        for row in try Row.fetchAll(db, sql: "SELECT id, serial, assetTag FROM device") {
            let serial: String = row["serial"]
            keys.serials[DeviceKeys.fold(serial)] = row["id"]
            if let tag: String = row["assetTag"] { keys.tags[DeviceKeys.fold(tag)] = serial }
        }
        for row in try Row.fetchAll(db, sql: "SELECT m.mac, d.serial FROM deviceMac m JOIN device d ON d.id = m.deviceId") {
            keys.macs[row["mac"]] = row["serial"]
        }
        return keys
    }

    /// The id of the device with this serial (case-insensitive), if any. Cached statement: imports call it per row.
    public func deviceID(serial: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM device WHERE serial = ?"), arguments: [serial])
    }

    /// The serial of the device holding this asset tag, if any.
    public func serial(ofAssetTag tag: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT serial FROM device WHERE assetTag = ?"), arguments: [tag])
    }

    /// The serial of the device holding this MAC address, if any.
    public func serial(ofMAC mac: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT d.serial FROM deviceMac m JOIN device d ON d.id = m.deviceId WHERE m.mac = ?"),
                            arguments: [mac])
    }
}

extension InventoryTransaction {
    /// Runs `body` in a savepoint: if it throws, what it wrote is undone and the error rethrown,
    /// while the rest of the transaction goes on (importers use it to list every bad row).
    public func attempt<T>(_ body: () throws -> T) throws -> T {
        var result: Result<T, any Error>!
        try db.inSavepoint {
            do {
                result = .success(try body())
                return .commit
            } catch {
                result = .failure(error)
                return .rollback
            }
        }
        return try result.get()
    }

    /// Writes checked devices from a file: carts first, then the rest; creates new serials, and with
    /// `update` changes existing ones (only the fields the file gives, with an audited diff). Each new
    /// device gets a creation event naming its file and line; the file gets one `import` event.
    public func importDevices(_ items: [ImportedDevice], source: String, update: Bool) throws -> ImportCounts {
        // A large file writes the devices, their indexes, the search index, MACs and events in
        // turn: in SQLite's default 2 MiB of page cache their pages went out to the journal and
        // back many times over. The transaction keeps them in memory (up to 256 MiB) instead.
        let previousCache = items.count > 1000 ? try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000 : nil
        if previousCache != nil { try db.execute(sql: "PRAGMA cache_size = -262144") }
        defer { if let previousCache { try? db.execute(sql: "PRAGMA cache_size = \(previousCache)") } }
        return try deferringSearchIndex { try insertOrUpdate(items, source: source, update: update) }
    }

    /// Runs `body` with the devices it creates left out of the search index by its triggers, then
    /// indexes them (with their MACs) in one statement: FTS5 wrote its pending terms out after each
    /// row's statement otherwise. Devices that existed before are indexed as usual meanwhile.
    func deferringSearchIndex<T>(_ body: () throws -> T) throws -> T {
        let since = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM device") ?? 0
        try db.execute(sql: "INSERT INTO searchDeferred (since) VALUES (?)", arguments: [since])
        // Whatever `body` did is indexed even when it throws (a caller may go on with the transaction).
        let result = Result { try body() }
        try db.execute(sql: """
            DELETE FROM searchDeferred;
            INSERT INTO deviceText (rowid, serial, assetTag, hostname, address, model, manufacturer, macs)
                SELECT id, serial, assetTag, hostname, address, model, manufacturer,
                       (SELECT group_concat(mac || ' ' || replace(mac, ':', ''), ' ') FROM deviceMac WHERE deviceId = device.id)
                FROM device WHERE id > ?;
            """, arguments: [since])
        return try result.get()
    }

    private func insertOrUpdate(_ items: [ImportedDevice], source: String, update: Bool) throws -> ImportCounts {
        var counts = ImportCounts()
        var cartIDs: [String: Int64] = [:]
        // Carts first, then the rest (their laptops may name them), without copying the rows.
        let ordered = items.indices.filter { items[$0].device.kind == .cart } + items.indices.filter { items[$0].device.kind != .cart }
        let insertDevice = try db.cachedStatement(sql: """
            INSERT INTO device (kind, manufacturer, model, serial, assetTag, status, roomId, cartId, orderId, warrantyEnd,
                                purchasePrice, hostname, address, sshPort, sshUser, notes, hostKey, priceExclTax, designation)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertMac = try db.cachedStatement(sql: "INSERT INTO deviceMac (mac, deviceId) VALUES (?, ?)")
        let insertEvent = try db.cachedStatement(sql: """
            INSERT INTO event (at, actor, entity, entityId, entityKey, action, changes) VALUES (?, ?, 'device', ?, ?, 'create', ?)
            """)
        for index in ordered {
            let item = items[index]
            var device = item.device
            if let ref = item.cartInFile {
                guard let id = cartIDs[ref.lowercased()] else {
                    throw InventoryError.notFound(entity: "cart", key: ref, hint: "the cart must be in the inventory or in the same file")
                }
                device.cartId = id
            }
            // Without `update` the rows were checked against the inventory (DeviceImport.check):
            // every one is new, and the serial's UNIQUE constraint still refuses one that is not.
            if update, let existingID = try deviceID(serial: device.serial) {
                let old = try self.device(id: existingID)!
                var new = old
                Self.merge(device, into: &new, fields: item.fields)
                try new.validate()
                new.status = try statusByPlace(new)
                let macChange = item.fields.contains("macs") ? MacChange(add: item.macs, replaceAll: true) : nil
                let changedMacs = try macChange != nil && Set(macs(deviceId: existingID)) != Set(item.macs)
                let before = Dictionary(try old.auditFields(self), uniquingKeysWith: { a, _ in a })
                var changes = try new.auditFields(self).filter { before[$0.0] != $0.1 && $0.0 != "macs" }.map(\.0)
                if changedMacs { changes.append("macs") }
                if new == old && !changedMacs {
                    counts.unchanged += 1
                } else {
                    _ = try updateDevice(old.serial, macs: macChange) { $0 = new }
                    counts.updated += 1
                }
                counts.rows.append(ImportRowOutcome(origin: item.origin, action: changes.isEmpty ? .unchanged : .update, serial: new.serial, kind: new.kind,
                                                    place: try place(of: new), cart: try new.cartId.map { try cartLabel($0) }, changes: changes))
                if device.kind == .cart { for key in [new.serial, new.assetTag].compactMap({ $0 }) { cartIDs[key.lowercased()] = existingID } }
                continue
            }
            // The bulk path: cached statements instead of record encoding, one small event per device.
            device.status = try statusByPlace(device)
            try insertDevice.execute(arguments: [
                device.kind.rawValue, device.manufacturer, device.model, device.serial, device.assetTag, device.status.rawValue,
                device.roomId, device.cartId, device.orderId, device.warrantyEnd?.description, device.purchasePrice?.cents,
                device.hostname, device.address, device.sshPort, device.sshUser, device.notes, device.hostKey,
                device.priceExclTax?.cents, device.designation,
            ])
            device.id = db.lastInsertedRowID
            for mac in item.macs { try insertMac.execute(arguments: [mac, device.id!]) }
            let changes = #"[{"field":"import","new":"# + jsonStringLiteral(item.origin.visible) + "}]"
            try insertEvent.execute(arguments: [timestampText, actor, device.id!, device.serial, changes])
            if device.kind == .cart { for key in [device.serial, device.assetTag].compactMap({ $0 }) { cartIDs[key.lowercased()] = device.id! } }
            counts.created += 1
            counts.rows.append(ImportRowOutcome(origin: item.origin, action: .create, serial: device.serial, kind: device.kind,
                                                place: try place(of: device), cart: try device.cartId.map { try cartLabel($0) }, changes: []))
        }
        try log(entity: "import", id: 0, key: source, action: .importFile, changes: [
            FieldChange(field: "file", old: nil, new: source.visible),
            FieldChange(field: "rows", old: nil, new: String(items.count)),
            FieldChange(field: "created", old: nil, new: String(counts.created)),
            FieldChange(field: "updated", old: nil, new: String(counts.updated)),
            FieldChange(field: "unchanged", old: nil, new: String(counts.unchanged)),
        ])
        return counts
    }

    /// A device's place as the import shows it.
    func place(of device: Device) throws -> String? {
        if let room = device.roomId { return try roomLabel(id: room) }
        if let cart = device.cartId { return "cart \(try cartLabel(cart))" }
        return nil
    }

    /// Logs a file import that went through the ordinary audited operations (members, schools).
    public func logImport(source: String, rows: Int, created: Int) throws {
        try log(entity: "import", id: 0, key: source, action: .importFile, changes: [
            FieldChange(field: "file", old: nil, new: source.visible),
            FieldChange(field: "rows", old: nil, new: String(rows)),
            FieldChange(field: "created", old: nil, new: String(created)),
        ])
    }

    /// Copies the fields a file gives from `source` into `target`.
    static func merge(_ source: Device, into target: inout Device, fields: Set<String>) {
        if fields.contains("kind") { target.kind = source.kind }
        if fields.contains("manufacturer") { target.manufacturer = source.manufacturer }
        if fields.contains("model") { target.model = source.model }
        if fields.contains("assetTag") { target.assetTag = source.assetTag }
        if fields.contains("status") { target.status = source.status }
        if fields.contains("place") { target.roomId = source.roomId; target.cartId = source.cartId }
        if fields.contains("order") { target.orderId = source.orderId }
        if fields.contains("warrantyEnd") { target.warrantyEnd = source.warrantyEnd }
        if fields.contains("purchasePrice") { target.purchasePrice = source.purchasePrice }
        if fields.contains("priceExclTax") { target.priceExclTax = source.priceExclTax }
        if fields.contains("designation") { target.designation = source.designation }
        if fields.contains("hostname") { target.hostname = source.hostname }
        if fields.contains("address") { target.address = source.address }
        if fields.contains("sshPort") { target.sshPort = source.sshPort }
        if fields.contains("sshUser") { target.sshUser = source.sshUser }
        if fields.contains("notes") { target.notes = source.notes }
    }
}
