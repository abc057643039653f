import Foundation

/// The columns of a device listing, shared by `parc device list --json|--csv` and the portal's
/// `GET /api/v1/devices`: the same keys, in the same order, with the same values.
public enum DeviceListing {
    public struct Column: Sendable {
        public let key: String
        public let header: String
        public let value: @Sendable (DeviceRow) -> JSONValue

        init(_ key: String, _ header: String, _ value: @escaping @Sendable (DeviceRow) -> JSONValue) {
            self.key = key
            self.header = header
            self.value = value
        }
    }

    public static let columns: [Column] = [
        DeviceListing.Column("serial", "SERIAL") { .string($0.serial) },
        DeviceListing.Column("assetTag", "TAG") { .text($0.assetTag) },
        DeviceListing.Column("kind", "KIND") { .string($0.kind.rawValue) },
        DeviceListing.Column("manufacturer", "MAKE") { .text($0.manufacturer) },
        DeviceListing.Column("model", "MODEL") { .text($0.model) },
        DeviceListing.Column("status", "STATUS") { .string($0.status.rawValue) },
        DeviceListing.Column("member", "MEMBER") { .text($0.member) },
        DeviceListing.Column("uai", "UAI") { .text($0.uai) },
        DeviceListing.Column("school", "SCHOOL") { .text($0.school) },
        DeviceListing.Column("room", "ROOM") { .text($0.room) },
        DeviceListing.Column("cart", "CART") { .text($0.cart) },
        DeviceListing.Column("order", "ORDER") { .text($0.order) },
        DeviceListing.Column("lot", "LOT") { .text($0.lot) },
        DeviceListing.Column("macs", "MACS") { .array($0.macs.map(JSONValue.string)) },
        DeviceListing.Column("hostname", "HOSTNAME") { .text($0.hostname) },
        DeviceListing.Column("address", "ADDRESS") { .text($0.address) },
        DeviceListing.Column("sshPort", "SSH PORT") { .number($0.sshPort) },
        DeviceListing.Column("sshUser", "SSH USER") { .text($0.sshUser) },
        DeviceListing.Column("warrantyEnd", "WARRANTY END") { .text($0.warrantyEnd?.description) },
        DeviceListing.Column("purchasePrice", "PRICE") { .text($0.purchasePrice?.description) },
        DeviceListing.Column("priceExclTax", "PRICE HT") { .text($0.priceExclTax?.description) },
        DeviceListing.Column("designation", "DESIGNATION") { .text($0.designation) },
        DeviceListing.Column("notes", "NOTES") { .text($0.notes) },
        DeviceListing.Column("hostKey", "HOST KEY") { row in .text(row.hostKey.map { (try? HostKey(openSSH: $0).description) ?? $0 }) },
        ]

    /// One device as a JSON object keyed as the listing.
    public static func json(_ row: DeviceRow) -> JSONValue { .object(columns.map { ($0.key, $0.value(row)) }) }
}
