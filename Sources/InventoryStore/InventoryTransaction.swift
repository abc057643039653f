import Foundation
import GRDB
import ParcCore

/// One write transaction on the inventory. Its operations keep the data valid (they check every
/// rule and say which field breaks it) and write an audit event for every record they change.
///
/// Only valid inside the closure given to ``Inventory/write(_:)``; if the closure throws, nothing
/// it did is kept.
public final class InventoryTransaction: InventoryReader {
    /// Who the audit log names.
    public let actor: String
    /// The time written on this transaction's events.
    public let now: Date

    // Display labels of referenced records, cached for bulk work; cleared on any update or removal.
    private var labelCache: [String: String] = [:]
    // Every event of the transaction carries the same time; format it once.
    let timestampText: String
    private let encoder = JSONEncoder()

    init(db: Database, actor: String, now: Date) {
        self.actor = actor
        self.now = now
        self.timestampText = now.formatted(EventRecord.timestampFormat)
        super.init(db: db)
    }

    // MARK: Labels used in audit snapshots

    private func cached(_ key: String, _ make: () throws -> String) rethrows -> String {
        if let v = labelCache[key] { return v }
        let v = try make()
        labelCache[key] = v
        return v
    }

    func memberLabel(_ id: Int64) throws -> String {
        try cached("m\(id)") { try Member.fetchOne(db, key: id)?.slug ?? "#\(id)" }
    }

    func schoolLabel(_ id: Int64) throws -> String {
        try cached("s\(id)") { try School.fetchOne(db, key: id)?.uai ?? "#\(id)" }
    }

    func roomLabel(_ room: Room) throws -> String { "\(try schoolLabel(room.schoolId)) / \(room.name)" }

    func roomLabel(id: Int64) throws -> String {
        try cached("r\(id)") { try Room.fetchOne(db, key: id).map { try roomLabel($0) } ?? "#\(id)" }
    }

    func lotLabel(_ id: Int64) throws -> String {
        try cached("l\(id)") { try Lot.fetchOne(db, key: id)?.number ?? "#\(id)" }
    }

    func orderLabel(_ id: Int64) throws -> String {
        try cached("o\(id)") { try Order.fetchOne(db, key: id)?.number ?? "#\(id)" }
    }

    func cartLabel(_ id: Int64) throws -> String {
        try cached("c\(id)") { try Device.fetchOne(db, key: id).map { $0.assetTag ?? $0.serial } ?? "#\(id)" }
    }

    // MARK: Audited writes

    func log(entity: String, id: Int64, key: String, action: AuditAction, changes: [FieldChange]) throws {
        // A key (a file name, say) is shown as text wherever the log is read: no control characters.
        var record = try EventRecord(AuditEvent(at: now, actor: actor.visible, entity: entity, entityId: id, entityKey: key.visible,
                                                action: action, changes: changes), at: timestampText, encoder: encoder)
        try record.insert(db)
    }

    /// Inserts a record (and what `then` writes with it) and logs its creation with every field it has.
    func auditedInsert<R: Audited>(_ record: inout R, then: (R) throws -> Void = { _ in }) throws {
        try record.insert(db)
        try then(record)
        try log(entity: R.entity, id: record.id!, key: try record.auditKey(self), action: .create,
                changes: AuditEvent.diff(old: [], new: try record.auditFields(self)))
    }

    /// Logs the changes of a record between `before` (its snapshot before the change) and now.
    /// Writes no event when nothing a person can see changed.
    func logUpdate<R: Audited>(_ record: R, before: [(String, String?)], action: AuditAction = .update) throws {
        labelCache.removeAll()
        let changes = AuditEvent.diff(old: before, new: try record.auditFields(self))
        if !changes.isEmpty {
            try log(entity: R.entity, id: record.id!, key: try record.auditKey(self), action: action, changes: changes)
        }
    }

    /// Validates and checks a new record (`check` holds the rules that need the database, such as
    /// uniqueness), inserts it and logs its creation.
    func addRecord<R: Audited>(_ record: R, check: (R) throws -> Void) throws -> R {
        var r = record
        try r.validate()
        try check(r)
        try auditedInsert(&r)
        return r
    }

    /// Applies `edit` to a copy of `old`, validates and checks it, updates it and logs what changed.
    func editRecord<R: Audited>(_ old: R, _ edit: (inout R) throws -> Void, check: (R) throws -> Void) throws -> R {
        var new = old
        try edit(&new)
        new.id = old.id
        try new.validate()
        try check(new)
        try auditedUpdate(from: old, to: new)
        return new
    }

    /// Updates a record and logs what changed.
    func auditedUpdate<R: Audited>(from old: R, to new: R) throws {
        let before = try old.auditFields(self)
        try new.update(db)
        try logUpdate(new, before: before)
    }

    /// Deletes a record and logs every field it had.
    func auditedDelete<R: Audited>(_ record: R) throws {
        let key = try record.auditKey(self)
        let before = try record.auditFields(self)
        _ = try record.delete(db)
        labelCache.removeAll()
        try log(entity: R.entity, id: record.id!, key: key, action: .delete, changes: AuditEvent.diff(old: before, new: []))
    }

    /// Throws `duplicate` when another row of `table` holds `value` in `column`.
    func ensureUnique(_ table: String, entity: String, field: String, column: String? = nil, value: String?,
                      excluding id: Int64?, holder: (Row) -> String) throws {
        guard let value else { return }
        let column = column ?? field
        let statement = try db.cachedStatement(sql: "SELECT * FROM \(table) WHERE \(column) = ? AND id IS NOT ?")
        if let row = try Row.fetchOne(statement, arguments: [value, id]) {
            throw InventoryError.duplicate(entity: entity, field: field, value: value, holder: holder(row))
        }
    }
}
