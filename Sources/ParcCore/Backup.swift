import Foundation

/// What a backup file holds, said before it is trusted: when its last change was made, and how much
/// it holds.
public struct BackupSummary: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    public var devices: Int
    public var members: Int
    public var auditEvents: Int
    /// The time of the last audit event (the inventory's last change), as the log writes it.
    public var lastChange: String?

    public init(path: String, bytes: Int64, devices: Int, members: Int, auditEvents: Int, lastChange: String?) {
        (self.path, self.bytes, self.devices, self.members, self.auditEvents, self.lastChange) = (path, bytes, devices, members, auditEvents, lastChange)
    }
}

