import Foundation

// Plain values of the web portal: accounts, problem reports and documents.

/// What an account may do in the portal and the API.
public enum AccountRole: String, Codable, Sendable, CaseIterable {
    /// Manages accounts, sees everything.
    case admin
    /// Sees every member's equipment, runs and the problem queue.
    case technician
    /// Sees its own member only.
    case commune
    /// A relay in a school (`parc relay`): takes the work for its schools' devices, reads nothing else.
    case relay

    public var french: String {
        switch self {
        case .admin: "administrateur"
        case .technician: "technicien"
        case .commune: "commune"
        case .relay: "relais"
        }
    }

    /// What the role may do, in words (the account page says it).
    public var frenchDescription: String {
        switch self {
        case .admin: "administrateur : tout ce que fait un technicien, et la gestion des comptes"
        case .technician: "technicien : tout l'inventaire de toutes les communes, les imports, les mises en service et les configurations"
        case .commune: "commune : consulter le matériel de sa commune, ses commandes et son rapport, et signaler un problème"
        case .relay: "relais d'école : exécute le travail destiné aux appareils de ses écoles, ne lit rien d'autre"
        }
    }

    public init(parsing raw: String) throws(InvalidValue) {
        guard let role = AccountRole(rawValue: raw.trimmed.lowercased()) else {
            throw InvalidValue(field: "role", value: raw, problem: "a role is one of \(AccountRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = role
    }
}

/// A person who signs in to the portal. The password is kept only as a bcrypt hash.
public struct Account: Codable, Sendable, Equatable {
    public var id: Int64?
    public var login: String
    public var role: AccountRole
    /// The member a commune account belongs to (nil for technicians and admins).
    public var memberId: Int64?
    public var passwordHash: String
    public var disabled: Bool
    public var createdAt: String
    /// Where the portal's notices go (a problem taken in charge or closed; a new problem for technicians).
    public var email: String? = nil
    /// How people are named to others ("Mme Lambert"); nil: the login.
    public var displayName: String? = nil

    public init(id: Int64? = nil, login: String, role: AccountRole, memberId: Int64?, passwordHash: String,
                disabled: Bool = false, createdAt: String, email: String? = nil, displayName: String? = nil) {
        self.id = id
        self.login = login
        self.role = role
        self.memberId = memberId
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
        self.email = email
        self.displayName = displayName
    }

    /// An e-mail address as an account keeps it: one address, no display part, no space or line break.
    public static func validEmail(_ raw: String) throws(InvalidValue) -> String {
        let s = raw.trimmed
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard s.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              s.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }) else {
            throw InvalidValue(field: "email", value: raw, problem: "an e-mail address is name@domain (e.g. secretariat@mairie-norroy.fr)")
        }
        return s
    }

    /// A display name: 1 to 100 printable characters.
    public static func validName(_ raw: String) throws(InvalidValue) -> String {
        let s = raw.trimmed
        guard (1...100).contains(s.count), !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw InvalidValue(field: "name", value: raw, problem: "a name is 1 to 100 printable characters (e.g. Mme Lambert)")
        }
        return s
    }

    /// Whether this account sees every member (technicians and admins).
    public var seesEveryMember: Bool { role == .admin || role == .technician }

    /// The one form of a login as typed that accounts are looked up by, and that sign-in limits
    /// count by: surrounding whitespace of any kind (`\n`, `\v`, `\f` too) removed, lower-case
    /// (logins are ASCII, compared without case), at most 64 characters.
    public static func lookupKey(_ raw: String) -> String {
        String(raw.trimmed.lowercased().prefix(64))
    }

    /// A login: 2 to 64 letters, digits, dots, dashes, underscores or @.
    public static func validLogin(_ raw: String) throws(InvalidValue) -> String {
        let s = raw.trimmed
        guard (2...64).contains(s.count),
              s.unicodeScalars.allSatisfy({ ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || ".-_@".unicodeScalars.contains($0) }) else {
            throw InvalidValue(field: "login", value: raw, problem: "a login is 2 to 64 letters, digits, '.', '-', '_' or '@' (e.g. mairie.montigny)")
        }
        return s
    }

    /// A new password: at least 10 characters, at most 128 (bcrypt reads 72 bytes).
    public static func checkPassword(_ password: String) throws(InvalidValue) {
        guard password.count >= 10 else {
            throw InvalidValue(field: "password", value: "(hidden)", problem: "a password needs at least 10 characters")
        }
        guard password.utf8.count <= 72 else {
            throw InvalidValue(field: "password", value: "(hidden)", problem: "a password takes at most 72 bytes")
        }
    }
}

/// An API token as listed (its secret is shown once, when made, and kept only as a digest).
public struct APITokenInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var login: String
    public var name: String
    /// The token's first characters, to tell tokens apart.
    public var prefix: String
    public var createdAt: String
    public var revokedAt: String?

    public init(id: Int64, login: String, name: String, prefix: String, createdAt: String, revokedAt: String?) {
        self.id = id
        self.login = login
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// What a commune says is wrong with a device.
public enum ProblemKind: String, Codable, Sendable, CaseIterable {
    case broken, missing, damaged

    public var french: String {
        switch self {
        case .broken: "en panne"
        case .missing: "manquant"
        case .damaged: "endommagé"
        }
    }
}

/// Where a problem report stands.
public enum ProblemState: String, Codable, Sendable, CaseIterable {
    /// Reported, not yet taken by a technician.
    case open
    /// A technician took it: the device is in repair.
    case accepted
    /// Done: the technician said what was done.
    case closed

    public var french: String {
        switch self {
        case .open: "signalé"
        case .accepted: "pris en charge"
        case .closed: "clos"
        }
    }
}

/// What closing a problem did to its device.
public enum ProblemOutcome: String, Codable, Sendable, CaseIterable {
    /// Repaired: back in service (deployed where it is placed, else in stock).
    case repaired
    /// Replaced by another: this one is retired.
    case replaced
    /// Its state left as it is (nothing was wrong with it, say).
    case unchanged

    /// As the commune and the technician read it.
    public var french: String {
        switch self {
        case .repaired: "réparé, remis en service"
        case .replaced: "remplacé, l'ancien matériel est réformé"
        case .unchanged: "état du matériel inchangé"
        }
    }
}

/// A follow-up a technician writes on a problem, which the commune reads.
public struct ProblemNote: Codable, Sendable, Equatable {
    public var at: String
    public var by: String
    public var text: String

    public init(at: String, by: String, text: String) {
        self.at = at
        self.by = by
        self.text = text
    }
}

/// A problem reported on a device.
public struct Problem: Codable, Sendable, Equatable {
    public var id: Int64
    public var serial: String
    /// The device's member (its slug), for access rules.
    public var member: String?
    public var device: String
    public var kind: ProblemKind
    public var description: String
    public var since: Day?
    public var contactName: String
    public var contactPhone: String
    public var reportedBy: String
    public var reportedAt: String
    public var state: ProblemState
    public var acceptedBy: String?
    public var acceptedAt: String?
    public var closedBy: String?
    public var closedAt: String?
    public var resolution: String?
    /// What closing it did to the device (nil while open, and for problems closed before it was recorded).
    public var outcome: ProblemOutcome? = nil
    /// The technicians' follow-ups, oldest first (filled when one problem is read).
    public var notes: [ProblemNote] = []

    public init(id: Int64, serial: String, member: String?, device: String, kind: ProblemKind, description: String, since: Day?,
                contactName: String, contactPhone: String, reportedBy: String, reportedAt: String, state: ProblemState,
                acceptedBy: String? = nil, acceptedAt: String? = nil, closedBy: String? = nil, closedAt: String? = nil,
                resolution: String? = nil, outcome: ProblemOutcome? = nil, notes: [ProblemNote] = []) {
        self.id = id
        self.serial = serial
        self.member = member
        self.device = device
        self.kind = kind
        self.description = description
        self.since = since
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.reportedBy = reportedBy
        self.reportedAt = reportedAt
        self.state = state
        self.acceptedBy = acceptedBy
        self.acceptedAt = acceptedAt
        self.closedBy = closedBy
        self.closedAt = closedAt
        self.resolution = resolution
        self.outcome = outcome
        self.notes = notes
    }
}

/// What a commune fills in to report a problem.
public struct ProblemReport: Sendable, Equatable {
    public static let descriptionLength = 2_000
    public static let contactNameLength = 100
    public static let contactPhoneLength = 40

    /// A phone number as people write it: 10 digits at least, with spaces, dots, dashes,
    /// parentheses or a leading + between them (`03 87 00 00 00`, `+33 3 87 00 00 00`).
    public static func isPhoneNumber(_ raw: String) -> Bool {
        let s = raw.trimmed
        return s.count <= contactPhoneLength && s.filter { $0.isASCII && $0.isNumber }.count >= 10
            && s.allSatisfy { ($0.isASCII && $0.isNumber) || " .+-()".contains($0) }
    }

    public var serial: String
    public var kind: ProblemKind
    public var description: String
    public var since: Day?
    public var contactName: String
    public var contactPhone: String

    public init(serial: String, kind: ProblemKind, description: String, since: Day?, contactName: String, contactPhone: String) {
        self.serial = serial
        self.kind = kind
        self.description = description
        self.since = since
        self.contactName = contactName
        self.contactPhone = contactPhone
    }
}

/// What a stored document is.
public enum DocumentKind: String, Codable, Sendable, CaseIterable {
    case deliberation, prefectureReceipt, deliveryNote, convention, other

    public var french: String {
        switch self {
        case .deliberation: "délibération"
        case .prefectureReceipt: "accusé de réception de la préfecture"
        case .deliveryNote: "bon de livraison"
        case .convention: "convention"
        case .other: "autre document"
        }
    }
}

/// A PDF attached to a member or one of its orders (its content is read separately).
public struct DocumentInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var member: String
    /// The order's number, when the document belongs to an order.
    public var order: String?
    public var orderId: Int64?
    public var kind: DocumentKind
    public var title: String
    public var fileName: String
    public var size: Int
    public var sha256: String
    public var addedBy: String
    public var addedAt: String

    public init(id: Int64, member: String, order: String?, orderId: Int64?, kind: DocumentKind, title: String, fileName: String,
                size: Int, sha256: String, addedBy: String, addedAt: String) {
        self.id = id
        self.member = member
        self.order = order
        self.orderId = orderId
        self.kind = kind
        self.title = title
        self.fileName = fileName
        self.size = size
        self.sha256 = sha256
        self.addedBy = addedBy
        self.addedAt = addedAt
    }

    /// Largest document accepted: 20 MB.
    public static let maxSize = 20 * 1024 * 1024
}

/// A signed-in browser: the account (with its member's slug), and the CSRF token its forms must carry.
public struct SessionInfo: Sendable, Equatable {
    public var account: Account
    public var memberSlug: String?
    /// The member's name ("Norroy-le-Veneur"), for people to read.
    public var memberName: String? = nil
    public var csrf: String
    public var expiresAt: Date

    public init(account: Account, memberSlug: String? = nil, csrf: String, expiresAt: Date) {
        self.account = account
        self.memberSlug = memberSlug
        self.csrf = csrf
        self.expiresAt = expiresAt
    }
}
