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
    private let writer: any DatabaseWriter
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
    public init(path: String, actor: String? = nil, busyTimeout: TimeInterval = 10,
                logger: Logger = Logger(label: "parc.inventory"),
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
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
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
            writer = pool
        } catch let error as DatabaseError {
            throw InventoryError.database(path: path, reason: "cannot open it as a parc inventory (\(error.message ?? error.description)); is it an SQLite file written by parc?")
        }
        self.path = path
        self.actor = actor?.nonEmpty ?? Inventory.loginName()
        self.logger = logger
        self.clock = clock
        logger.debug("inventory opened", metadata: ["db.path": "\(path)"])
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

    /// Runs `body` in one write transaction; everything it did is undone if it throws.
    @discardableResult
    public func write<T>(_ body: (InventoryTransaction) throws -> T) throws -> T {
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
