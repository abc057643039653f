import Foundation

/// What `parc device list` narrows the devices by; every given criterion must hold.
public struct DeviceFilter: Sendable, Equatable, Codable {
    /// A member reference (slug, SIREN, INSEE code).
    public var member: String?
    /// A school's UAI.
    public var school: String?
    /// A room name; needs `school`.
    public var room: String?
    /// A cart's serial or asset tag.
    public var cart: String?
    public var kind: DeviceKind?
    public var status: DeviceStatus?
    /// An order number (with `member` when several members use it).
    public var order: String?
    /// A lot number.
    public var lot: String?

    public init(member: String? = nil, school: String? = nil, room: String? = nil, cart: String? = nil,
                kind: DeviceKind? = nil, status: DeviceStatus? = nil, order: String? = nil, lot: String? = nil) {
        self.member = member
        self.school = school
        self.room = room
        self.cart = cart
        self.kind = kind
        self.status = status
        self.order = order
        self.lot = lot
    }
}

/// A device as listings show it: its own fields with the names of where it is and where it came from.
///
/// A device in a cart is where its cart is: `room`, `uai` and `member` come from the cart.
public struct DeviceRow: Codable, Sendable, Equatable {
    public var serial: String
    public var assetTag: String?
    public var kind: DeviceKind
    public var manufacturer: String?
    public var model: String?
    public var status: DeviceStatus
    /// The owning member's slug: the member of the school it is in, else of its order.
    public var member: String?
    public var uai: String?
    public var school: String?
    public var room: String?
    /// The asset tag (or serial) of the cart holding it.
    public var cart: String?
    public var order: String?
    public var lot: String?
    public var macs: [String]
    public var hostname: String?
    public var address: String?
    public var sshPort: Int?
    public var sshUser: String?
    public var warrantyEnd: Day?
    public var purchasePrice: Money?
    public var priceExclTax: Money? = nil
    public var designation: String? = nil
    public var notes: String?
    /// The pinned SSH host key (`ssh-ed25519 AAAA…`).
    public var hostKey: String?
    /// Bumped by every change of the device (for a cart, also when a device goes in or out): an
    /// edit made from an older version is refused (the store refuses it).
    public var version: Int64 = 1
    /// A simulated device of `parc lab`: it belongs to no member (`member` is nil).
    public var simulated: Bool? = nil

    public init(serial: String, assetTag: String?, kind: DeviceKind, manufacturer: String?, model: String?, status: DeviceStatus, member: String?, uai: String?, school: String?, room: String?, cart: String?, order: String?, lot: String?, macs: [String], hostname: String?, address: String?, sshPort: Int?, sshUser: String?, warrantyEnd: Day?, purchasePrice: Money?, priceExclTax: Money? = nil, designation: String? = nil, notes: String?, hostKey: String?, version: Int64 = 1, simulated: Bool? = nil) {
        self.simulated = simulated
        self.serial = serial
        self.assetTag = assetTag
        self.kind = kind
        self.manufacturer = manufacturer
        self.model = model
        self.status = status
        self.member = member
        self.uai = uai
        self.school = school
        self.room = room
        self.cart = cart
        self.order = order
        self.lot = lot
        self.macs = macs
        self.hostname = hostname
        self.address = address
        self.sshPort = sshPort
        self.sshUser = sshUser
        self.warrantyEnd = warrantyEnd
        self.purchasePrice = purchasePrice
        self.priceExclTax = priceExclTax
        self.designation = designation
        self.notes = notes
        self.hostKey = hostKey
        self.version = version
    }

    /// The name playbooks and `parc ping` give the device: its host name, else its asset tag, else its serial.
    public var inventoryName: String { hostname ?? assetTag ?? serial }
}
