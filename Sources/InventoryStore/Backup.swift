import Foundation
import GRDB
import ParcCore

extension Inventory {
    /// Writes a consistent copy of the whole inventory to `destination` through SQLite's online
    /// backup: one snapshot, taken while other connections (the portal, another `parc`) keep
    /// writing. The copy is made beside the destination, checked, then renamed onto it, so that
    /// `destination` is either the old file or the whole new one. `overwrite` allows replacing an
    /// existing file (never the inventory itself).
    public func backup(to destination: String, overwrite: Bool = false) throws -> BackupSummary {
        let target = URL(fileURLWithPath: destination).standardizedFileURL.path
        if Self.sameFile(target, path) {
            throw InventoryError.database(path: destination, reason: "this is the inventory itself; give another file to write the backup to")
        }
        if FileManager.default.fileExists(atPath: target) && !overwrite {
            throw InventoryError.database(path: destination, reason: "the file exists; give another name, or --overwrite to replace it")
        }
        let folder = (target as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw InventoryError.database(path: destination, reason: "its folder \(folder) does not exist; create it first")
        }
        let partial = folder + "/." + (target as NSString).lastPathComponent + ".partial-\(getpid())"
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(partial + suffix) } }
        do {
            let copy = try DatabaseQueue(path: partial)
            try writer.backup(to: copy)
            // One self-contained file: no journal beside it, whatever the inventory's mode.
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=DELETE") }
            try Self.check(copy, path: destination)
            try copy.close()
        } catch let error as DatabaseError {
            if Self.diskFull(error, path: partial) {
                throw InventoryError.database(path: destination, reason: "the disk holding it is full; no backup was written. Free some space and try again")
            }
            throw InventoryError.database(path: destination, reason: "the backup failed (\(error.message ?? error.description)); no backup was written")
        }
        chmod(partial, 0o600)
        let fd = open(partial, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(partial, target) == 0 else {
            throw InventoryError.database(path: destination, reason: "cannot put the backup in place (\(String(cString: strerror(errno)))); no backup was written")
        }
        return try Self.summary(of: target)
    }

    /// What the parc inventory at `file` holds. Refuses a file that is not one, or one a newer parc wrote.
    public static func summary(of file: String) throws -> BackupSummary {
        guard FileManager.default.fileExists(atPath: file) else {
            throw InventoryError.database(path: file, reason: "there is no such file; check its name")
        }
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: file, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db in
                guard try db.tableExists("grdb_migrations"), try db.tableExists("device") else {
                    throw InventoryError.database(path: file, reason: "it is an SQLite file but not a parc inventory")
                }
                let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
                return BackupSummary(path: file, bytes: size,
                                     devices: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device") ?? 0,
                                     members: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM member") ?? 0,
                                     auditEvents: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0,
                                     lastChange: try String.fetchOne(db, sql: "SELECT at FROM event ORDER BY id DESC LIMIT 1"))
            }
        } catch let error as DatabaseError {
            throw InventoryError.database(path: file, reason: "it is not a parc inventory (\(error.message ?? error.description))")
        }
    }

    /// Replaces the whole inventory with the backup at `source`, through the same online backup
    /// (other connections see the old inventory or the restored one, never a mix). The inventory as
    /// it was is first saved to `safetyCopy`; a backup from an older parc is brought up to date;
    /// the audit log of the restored inventory says who restored what, from where.
    public func restore(from source: String, safetyCopy: String) throws -> (restored: BackupSummary, previous: BackupSummary) {
        if let readOnlyReason {
            throw InventoryError.database(path: path, reason: "\(readOnlyReason); nothing was restored")
        }
        if Self.sameFile(source, path) {
            throw InventoryError.database(path: source, reason: "this is the inventory itself; name a backup file")
        }
        let incoming = try Self.summary(of: source)
        var config = Configuration()
        config.readonly = true
        let backup: DatabaseQueue
        do {
            backup = try DatabaseQueue(path: source, configuration: config)
            let newer = try backup.read { db in try Schema.migrator.hasBeenSuperseded(db) }
            if newer {
                throw InventoryError.database(path: source, reason: "a newer parc wrote this backup; update parc to restore it. Nothing was restored")
            }
            try Self.check(backup, path: source)
        } catch let error as DatabaseError {
            throw InventoryError.database(path: source, reason: "it cannot be read as a parc inventory (\(error.message ?? error.description)); nothing was restored")
        }
        defer { try? backup.close() }
        let previous = try self.backup(to: safetyCopy)
        do {
            try backup.backup(to: writer)
            try Schema.migrator.migrate(writer)
        } catch let error as DatabaseError {
            throw InventoryError.database(path: path, reason: "the restore failed (\(error.message ?? error.description)); the inventory as it was is in \(safetyCopy): restore that")
        }
        try write { tx in
            try tx.log(entity: "inventory", id: 0, key: (source as NSString).lastPathComponent, action: .restore,
                       changes: [FieldChange(field: "from", old: nil, new: source),
                                 FieldChange(field: "lastChange", old: previous.lastChange, new: incoming.lastChange),
                                 FieldChange(field: "previousSavedTo", old: nil, new: safetyCopy)])
        }
        return (try Self.summary(of: source), previous)
    }

    /// SQLite's own check of a file's pages and indexes.
    static func check(_ reader: any DatabaseReader, path: String) throws {
        let result = try reader.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        guard result == ["ok"] else {
            throw InventoryError.database(path: path, reason: "it is damaged (SQLite's check says: \(result.prefix(3).joined(separator: "; ")))")
        }
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else {
            return URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
        }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
