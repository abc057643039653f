import Foundation

/// One field's change in an audit event: its old and new values as a person reads them.
public struct FieldChange: Codable, Sendable, Equatable {
    public var field: String
    public var old: String?
    public var new: String?

    public init(field: String, old: String?, new: String?) {
        self.field = field
        self.old = old
        self.new = new
    }
}

/// What happened to a record.
public enum AuditAction: String, Codable, Sendable, CaseIterable {
    case create, update, delete
    /// A device moved because the cart holding it moved.
    case moveWithCart
    /// A file was imported (entity `import`, key: the file's name).
    case importFile = "import"
    /// Someone signed in to the portal (entity `account`).
    case signIn = "login"
    /// A sign-in was refused (entity `account`, key: the login typed).
    case signInFailed = "loginFailed"
    /// Someone signed out.
    case signOut = "logout"
    /// The whole inventory was replaced by a backup (entity `inventory`, key: the backup's file name).
    case restore
}

/// An entry of the audit log: who changed what, when, old and new values.
public struct AuditEvent: Codable, Sendable, Equatable {
    public var id: Int64?
    public var at: Date
    public var actor: String
    /// The table: `member`, `school`, `room`, `lot`, `order`, `fundingLine`, `device`.
    public var entity: String
    public var entityId: Int64
    /// The record's human key at the time (serial, UAI, order number…), so history survives removal.
    public var entityKey: String
    public var action: AuditAction
    public var changes: [FieldChange]

    public init(id: Int64? = nil, at: Date, actor: String, entity: String, entityId: Int64, entityKey: String,
                action: AuditAction, changes: [FieldChange]) {
        self.id = id
        self.at = at
        self.actor = actor
        self.entity = entity
        self.entityId = entityId
        self.entityKey = entityKey
        self.action = action
        self.changes = changes
    }

    /// The changes between two snapshots of a record (field → displayed value), in field order.
    public static func diff(old: [(String, String?)], new: [(String, String?)]) -> [FieldChange] {
        var oldValues: [String: String?] = [:]
        for (k, v) in old { oldValues[k] = v }
        var out: [FieldChange] = []
        var seen = Set<String>()
        for (k, v) in new {
            seen.insert(k)
            let o = oldValues[k] ?? nil
            if o != v { out.append(FieldChange(field: k, old: o, new: v)) }
        }
        for (k, v) in old where !seen.contains(k) && v != nil {
            out.append(FieldChange(field: k, old: v, new: nil))
        }
        return out
    }
}
