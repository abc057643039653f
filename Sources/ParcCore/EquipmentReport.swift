import Foundation

/// The commune's view of its equipment: what it owns, where, what it cost, who paid, what needs
/// attention. Built from the inventory; printed as French text, CSV or a standalone HTML page.
public struct EquipmentReport: Sendable {
    public struct RoomSection: Sendable {
        public var name: String
        public var devices: [DeviceRow]

        public init(name: String, devices: [DeviceRow]) {
            self.name = name
            self.devices = devices
        }
    }

    public struct SchoolSection: Sendable {
        public var school: School
        public var rooms: [RoomSection]
        public var deviceCount: Int { rooms.reduce(0) { $0 + $1.devices.count } }

        public init(school: School, rooms: [RoomSection]) {
            self.school = school
            self.rooms = rooms
        }
    }

    public struct OrderLine: Sendable {
        public var order: Order
        public var lot: Lot?
        public var devices: Int
        public var funding: [FundingLine]

        /// Subsidies (from others than the member itself) asked for and granted for this order.
        public var requested: Money { funding.filter { $0.funder != .commune }.reduce(.zero) { $0 + $1.requested } }
        public var granted: Money { funding.filter { $0.funder != .commune }.reduce(.zero) { $0 + ($1.granted ?? .zero) } }
        /// What the member pays in the end: the amount with tax less the subsidies granted ("reste à charge").
        public var ownShare: Money? { order.amountInclTax.map { $0 - granted } }

        public init(order: Order, lot: Lot? = nil, devices: Int, funding: [FundingLine]) {
            self.order = order
            self.lot = lot
            self.devices = devices
            self.funding = funding
        }
    }

    public struct FunderTotal: Sendable, Equatable {
        public var funder: Funder
        public var requested: Money
        public var granted: Money

        public init(funder: Funder, requested: Money, granted: Money) {
            self.funder = funder
            self.requested = requested
            self.granted = granted
        }
    }

    public var title: String
    public var member: Member
    public var generatedOn: Day
    public var warrantyMonths: Int
    public var schools: [SchoolSection]
    /// Devices of the member that are in no school (in stock).
    public var unplaced: [DeviceRow]
    public var byKind: [(DeviceKind, Int)]
    public var byStatus: [(DeviceStatus, Int)]
    public var orders: [OrderLine]
    public var funding: [FunderTotal]
    public var warrantyEnding: [DeviceRow]
    public var needsAttention: [DeviceRow]
    /// What the managed devices said that the inventory does not (parc reconcile).
    public var findings: [Finding]
    /// Carts lent past their date (from or to this member's schools).
    public var overdueLoans: [CartLoan] = []

    public var totalExclTax: Money { orders.reduce(.zero) { $0 + ($1.order.amountExclTax ?? .zero) } }
    /// The member's own share over every order whose amount is known.
    public var totalOwnShare: Money { orders.reduce(.zero) { $0 + ($1.ownShare ?? .zero) } }

    public var allDevices: [DeviceRow] { schools.flatMap { $0.rooms.flatMap(\.devices) } + unplaced }

    /// `part` as a share of `whole`, in French (`62,5 %`), or "—".
    public static func rate(_ part: Money, of whole: Money?) -> String {
        guard let whole, whole.cents > 0 else { return "—" }
        let value = (Double(part.cents) * 1000 / Double(whole.cents)).rounded() / 10
        return FrenchText.decimal(value, decimals: value == value.rounded() ? 0 : 1) + FrenchText.unitSpace + "%"
    }
    public var totalInclTax: Money { orders.reduce(.zero) { $0 + ($1.order.amountInclTax ?? .zero) } }

    /// Orders per lot: lot number and title, order count, amount incl. tax.
    public var byLot: [(lot: String, orders: Int, amount: Money)] {
        var out: [(String, Int, Money)] = []
        for line in orders {
            let key = line.lot.map { "Lot \($0.number) — \($0.title)" } ?? "Hors lot"
            if let i = out.firstIndex(where: { $0.0 == key }) {
                out[i].1 += 1
                out[i].2 = out[i].2 + (line.order.amountInclTax ?? .zero)
            } else {
                out.append((key, 1, line.order.amountInclTax ?? .zero))
            }
        }
        return out
    }

    public init(title: String, member: Member, generatedOn: Day, warrantyMonths: Int, schools: [SchoolSection], unplaced: [DeviceRow], byKind: [(DeviceKind, Int)], byStatus: [(DeviceStatus, Int)], orders: [OrderLine], funding: [FunderTotal], warrantyEnding: [DeviceRow], needsAttention: [DeviceRow], findings: [Finding], overdueLoans: [CartLoan] = []) {
        self.title = title
        self.member = member
        self.generatedOn = generatedOn
        self.warrantyMonths = warrantyMonths
        self.schools = schools
        self.unplaced = unplaced
        self.byKind = byKind
        self.byStatus = byStatus
        self.orders = orders
        self.funding = funding
        self.warrantyEnding = warrantyEnding
        self.needsAttention = needsAttention
        self.findings = findings
        self.overdueLoans = overdueLoans
    }
}

extension Day {
    /// Today, in the machine's time zone.
    public static func today(_ date: Date = Date()) -> Day {
        let c = Calendar.current.dateComponents([.year, .month, .day], from: date)
        return (try? Day(year: c.year!, month: c.month!, day: c.day!)) ?? (try! Day(year: 2000, month: 1, day: 1))
    }
}
