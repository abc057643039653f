import Foundation
import GRDB
import Logging
import ParcCore

/// The inventory database: one SQLite file, migrated on open, in WAL mode with foreign keys on and
/// a busy timeout, so that several `parc` processes can write to it at once.
///
/// Every change goes through ``write(_:)``, whose ``InventoryTransaction`` validates each record
/// and writes an audit event for it; a thrown error rolls the whole transaction back.
public struct Inventory: Sendable {
    let writer: any DatabaseWriter
    /// Why this inventory may be read but not changed (a read-only file, or a newer parc's schema).
    public let readOnlyReason: String?
    /// The file's path.
    public let path: String
    /// Who the audit log names for the changes made through this value.
    public private(set) var actor: String
    let logger: Logger
    let clock: @Sendable () -> Date

    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// - Parameters:
    ///   - actor: who the audit log names; defaults to the login name.
    ///   - busyTimeout: how long a writer waits for another process's write to finish.
    ///   - concurrentReads: readers of their own beside the writer (a server answering many at
    ///     once); false: one connection for all (a command, which opens the file, reads or writes
    ///     a little and ends: a second connection cost it more than its query).
    public init(path: String, actor: String? = nil, busyTimeout: TimeInterval = 10,
                logger: Logger = Logger(label: "parc.inventory"),
                clock: @escaping @Sendable () -> Date = { Date() }, concurrentReads: Bool = true) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw InventoryError.database(path: path, reason: "cannot create its folder (\(error.localizedDescription)); choose another path with --database or PARC_DATABASE")
            }
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.label = "parc.inventory"
        // Statement journals (every insert that fires triggers: the search index) and sorts stay in
        // memory: in a temporary file, a 100,000-row import made 3.5 million small writes to it.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        do {
            if FileManager.default.fileExists(atPath: path) && access(path, W_OK) != 0 {
                // A file we may not write: read it, refuse every change with a clear reason.
                let why = String(cString: strerror(errno))
                writer = try Self.openReadOnly(path, config)
                readOnlyReason = "the file is read-only for this user (\(why.lowercased()))"
                let migrated = try writer.read { db in (try Schema.migrator.hasCompletedMigrations(db), try Schema.migrator.hasBeenSuperseded(db)) }
                if !migrated.0 && !migrated.1 {
                    throw InventoryError.database(path: path, reason: "it was written by an older parc and needs an upgrade, but the file is read-only; run parc once with write access to it")
                }
            } else {
                let pool: any DatabaseWriter
                if concurrentReads {
                    pool = try DatabasePool(path: path, configuration: config)
                } else {
                    var one = config
                    // A file already in WAL mode stays so (it is written in its header): asking again costs a lock.
                    if !Self.inWALMode(path) { one.journalMode = .wal }
                    pool = try DatabaseQueue(path: path, configuration: one)
                }
                if try pool.read({ try Schema.migrator.hasBeenSuperseded($0) }) {
                    // Migrations this parc does not know: a newer parc wrote it. Reading is safe;
                    // writing could break what the newer parc relies on.
                    let unknown = try pool.read { try Schema.migrator.appliedIdentifiers($0) }.subtracting(Schema.migrator.migrations)
                    readOnlyReason = "it was written by a newer parc (it has changes this parc does not know: \(unknown.sorted().joined(separator: ", "))); this parc may read it but not change it. Update parc"
                } else {
                    try Schema.migrator.migrate(pool)
                    readOnlyReason = nil
                }
                writer = pool
            }
        } catch let error as DatabaseError {
            if Self.diskFull(error, path: path) {
                throw InventoryError.database(path: path, reason: "the disk holding it is full; nothing was written. Free some space and try again")
            }
            throw InventoryError.database(path: path, reason: "cannot open it as a parc inventory (\(error.message ?? error.description)); is it an SQLite file written by parc?")
        }
        self.path = path
        self.actor = actor?.nonEmpty ?? Inventory.loginName()
        self.logger = logger
        self.clock = clock
        logger.debug("inventory opened", metadata: ["db.path": "\(path)"])
    }

    /// Reads on GRDB's pool of readers, off the cooperative pool's threads.
    public func reading<T: Sendable>(_ body: @escaping @Sendable (InventoryReader) throws -> T) async throws -> T {
        try await offload { try self.read(body) }
    }

    /// One write transaction (see ``write(_:)``), off the cooperative pool's threads.
    public func writing<T: Sendable>(_ body: @escaping @Sendable (InventoryTransaction) throws -> T) async throws -> T {
        try await offload { try self.write(body) }
    }

    /// The same database, with another actor named in the audit log.
    public func acting(as actor: String) -> Inventory {
        var copy = self
        copy.actor = actor
        return copy
    }

    /// The login name of the user running parc (for the audit log).
    public static func loginName() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    }

    /// Whether the SQLite file at `path` is in WAL mode (bytes 18 and 19 of its header are 2).
    static func inWALMode(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 20), header.count == 20 else { return false }
        return header[header.startIndex + 18] == 2 && header[header.startIndex + 19] == 2
    }

    /// Whether `error` comes from a full disk: SQLite says SQLITE_FULL, or an I/O error while the
    /// file system holding the database has no room left.
    static func diskFull(_ error: DatabaseError, path: String) -> Bool {
        if error.resultCode == .SQLITE_FULL { return true }
        guard error.resultCode == .SQLITE_IOERR else { return false }
        var fs = statvfs()
        let directory = (path as NSString).deletingLastPathComponent
        guard statvfs(directory.isEmpty ? "." : directory, &fs) == 0 else { return false }
        return UInt64(fs.f_bavail) * UInt64(fs.f_bsize) < 64 * 1024
    }

    /// Opens a file this user may not write. SQLite reads a WAL-mode file read-only only when it
    /// can use the `-shm` file beside it; when the folder is read-only too, a private copy of the
    /// file (with its journal folded in) is read instead: the same content, at this moment.
    static func openReadOnly(_ path: String, _ base: Configuration) throws -> DatabaseQueue {
        var config = base
        config.readonly = true
        if let queue = try? DatabaseQueue(path: path, configuration: config), (try? queue.read({ try $0.tableExists("grdb_migrations") })) != nil {
            return queue
        }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("parc-readonly-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { unlink(copy + suffix) } }
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
            chmod(copy + suffix, 0o600)
        }
        do {
            let fold = try DatabaseQueue(path: copy)
            try fold.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode=DELETE") }
            try fold.close()
        }
        // Opened, the copy can go: its one connection keeps it until the process ends.
        return try DatabaseQueue(path: copy, configuration: config)
    }

    /// Runs `body` in one write transaction; everything it did is undone if it throws.
    @discardableResult
    public func write<T>(_ body: (InventoryTransaction) throws -> T) throws -> T {
        if let readOnlyReason {
            throw InventoryError.database(path: path, reason: "\(readOnlyReason); nothing was written")
        }
        let now = clock()
        do {
            return try writer.write { db in
                let tx = InventoryTransaction(db: db, actor: actor, now: now)
                return try body(tx)
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        } catch let error as InvalidValue {
            throw InventoryError.invalid(error)
        }
    }

    /// Runs `body` on a consistent snapshot of the database.
    public func read<T>(_ body: (InventoryReader) throws -> T) throws -> T {
        do {
            return try writer.read { db in try body(InventoryReader(db: db)) }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// Turns a constraint error that slipped past the store's own checks (for instance a row written
    /// by another process between the check and the insert) into a message naming the field.
    static func translate(_ error: DatabaseError, path: String) -> any Error {
        let message = error.message ?? ""
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY,
           let columns = message.components(separatedBy: "failed: ").last {
            let first = columns.components(separatedBy: ",").first ?? columns
            let parts = first.trimmed.split(separator: ".")
            if parts.count == 2 {
                return InventoryError.duplicate(entity: String(parts[0]), field: String(parts[1]), value: "(given)",
                                                holder: "another \(parts[0])")
            }
        }
        if diskFull(error, path: path) {
            return InventoryError.database(path: path, reason: "the disk holding it is full; nothing was written (the change was undone whole). Free some space and try again")
        }
        if error.resultCode == .SQLITE_READONLY {
            return InventoryError.database(path: path, reason: "it cannot be written (read-only file or disk); nothing was written")
        }
        if error.resultCode == .SQLITE_BUSY {
            return InventoryError.database(path: path, reason: "another parc kept the inventory busy for too long; nothing was changed, try again")
        }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            return InventoryError.inUse(entity: "record", key: "", reason: "other records still refer to it",
                                        hint: "remove or move them first")
        }
        return error
    }
}
