import Foundation
import GRDB
import ParcCore

/// Tells whether the inventory changed: SQLite's `PRAGMA data_version` on a connection of its own
/// that never writes. The value moves whenever any other connection commits (this process's
/// writer, another `parc` process, a raw `sqlite3` session), so whoever keeps something computed
/// from the inventory (the portal's answers) knows when to throw it away, at the cost of one
/// read of shared memory per question.
public final class ChangeWatch: Sendable {
    private let queue: DatabaseQueue

    /// A watch over the inventory at `path`; nil when it cannot be opened on its own (a read-only
    /// copy, a missing file): then nothing may be kept.
    public init?(path: String) {
        var config = Configuration()
        config.readonly = true
        config.label = "parc.inventory.watch"
        guard let queue = try? DatabaseQueue(path: path, configuration: config),
              (try? queue.inDatabase({ try Int64.fetchOne($0, sql: "PRAGMA data_version") })) != nil else { return nil }
        self.queue = queue
    }

    /// The inventory's change counter: equal values mean nothing was committed in between.
    public func version() throws -> Int64 {
        try queue.inDatabase { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
    }
}

extension Inventory {
    /// A watch over this inventory's changes (see ``ChangeWatch``).
    public func changeWatch() -> ChangeWatch? {
        ChangeWatch(path: path)
    }
}
