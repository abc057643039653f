import Foundation
import GRDB
import ParcCore

// GRDB conformances for the plain values of ParcCore. Tables are singular and camelCased.

extension Day: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Day? {
        String.fromDatabaseValue(dbValue).flatMap { try? Day(parsing: $0) }
    }
}

/// Money is stored as an INTEGER number of cents.
extension Money: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { cents.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Money? {
        Int.fromDatabaseValue(dbValue).map(Money.init(cents:))
    }
}

extension MemberKind: DatabaseValueConvertible {}
extension DeviceKind: DatabaseValueConvertible {}
extension DeviceStatus: DatabaseValueConvertible {}
extension Funder: DatabaseValueConvertible {}
extension AuditAction: DatabaseValueConvertible {}

extension Member: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "member"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension School: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "school"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Room: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "room"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Lot: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "lot"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Order: FetchableRecord, MutablePersistableRecord {
    /// `order` is an SQL keyword.
    public static let databaseTableName = "purchaseOrder"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension FundingLine: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "fundingLine"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Device: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "device"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A MAC address of a device; a MAC belongs to one device only.
struct DeviceMac: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "deviceMac"
    var mac: String
    var deviceId: Int64
}

/// The audit log's row: the changes are stored as JSON.
struct EventRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "event"
    var id: Int64?
    var at: String
    var actor: String
    var entity: String
    var entityId: Int64
    var entityKey: String
    var action: AuditAction
    var changes: String

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    static let timestampFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// `at` is the event's time already formatted (a transaction formats it once for all its events).
    init(_ e: AuditEvent, at: String, encoder: JSONEncoder) throws {
        id = e.id
        self.at = at
        actor = e.actor
        entity = e.entity
        entityId = e.entityId
        entityKey = e.entityKey
        action = e.action
        changes = String(decoding: try encoder.encode(e.changes), as: UTF8.self)
    }

    var event: AuditEvent {
        AuditEvent(id: id, at: (try? Date(at, strategy: Self.timestampFormat)) ?? Date(timeIntervalSince1970: 0),
                   actor: actor, entity: entity, entityId: entityId, entityKey: entityKey, action: action,
                   changes: (try? JSONDecoder().decode([FieldChange].self, from: Data(changes.utf8))) ?? [])
    }
}
