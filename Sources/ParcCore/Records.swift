import Foundation

/// Work owed to a device that was offline: a playbook to run when it is seen again.
public struct PendingItem: Sendable, Equatable, Codable {
    public var serial: String
    public var device: String
    public var playbook: String
    public var reason: String
    public var since: Date
    public var runId: Int64?
    /// How the run that left it was asked for (nil: recorded before parc kept them).
    public var parameters: RunParameters? = nil

    public init(serial: String, device: String, playbook: String, reason: String, since: Date, runId: Int64? = nil, parameters: RunParameters? = nil) {
        self.serial = serial
        self.device = device
        self.playbook = playbook
        self.reason = reason
        self.since = since
        self.runId = runId
        self.parameters = parameters
    }
}

/// One difference between what the inventory says and what a device says.
public struct Finding: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case serialDiffers, macDiffers, hostnameDiffers, answersAsAnother, neverSeen, notSeenRecently
    }
    public var serial: String
    public var device: String
    public var kind: Kind
    public var expected: String?
    public var found: String?
    /// Whether `parc reconcile --fix` may apply it (never a serial).
    public var fixable: Bool
    public var message: String

    public init(serial: String, device: String, kind: Kind, expected: String? = nil, found: String? = nil, fixable: Bool, message: String) {
        self.serial = serial
        self.device = device
        self.kind = kind
        self.expected = expected
        self.found = found
        self.fixable = fixable
        self.message = message
    }
}

/// A mobile class lent to another school (a SIVOS shares one cart between its schools): where it
/// went, until when, where it came from, and when it came back.
public struct CartLoan: Sendable, Equatable, Codable {
    public var id: Int64
    /// The cart's asset tag, else its serial.
    public var cart: String
    /// `UAI / room` where it is lent, and where it came from (nil: nowhere).
    public var to: String
    public var home: String?
    public var since: Day
    public var until: Day
    public var returnedOn: Day?

    public func isOverdue(on day: Day) -> Bool { returnedOn == nil && until < day }

    public init(id: Int64, cart: String, to: String, home: String? = nil, since: Day, until: Day, returnedOn: Day? = nil) {
        self.id = id
        self.cart = cart
        self.to = to
        self.home = home
        self.since = since
        self.until = until
        self.returnedOn = returnedOn
    }
}

/// A group a technician made: its devices and its variables (values, never templates).
public struct UserGroup: Sendable, Equatable, Codable {
    public var name: String
    public var serials: [String]
    public var vars: [String: String]

    public init(name: String, serials: [String], vars: [String: String]) {
        self.name = name
        self.serials = serials
        self.vars = vars
    }
}
