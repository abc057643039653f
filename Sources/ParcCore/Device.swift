import Foundation
/// What a device is. Carts are devices too: they hold laptops or tablets.
public enum DeviceKind: String, Codable, Sendable, CaseIterable {
    case interactiveScreen, laptop, tablet, cart, documentCamera, projector, accessPoint, other

    /// Kinds a cart can hold.
    public var fitsInCart: Bool { self == .laptop || self == .tablet }

    /// How a French reader names the kind.
    public var french: String {
        switch self {
        case .interactiveScreen: "Écran numérique interactif"
        case .laptop: "Ordinateur portable"
        case .tablet: "Tablette"
        case .cart: "Classe mobile (chariot)"
        case .documentCamera: "Visualiseur"
        case .projector: "Vidéoprojecteur"
        case .accessPoint: "Borne Wi-Fi"
        case .other: "Autre"
        }
    }

    /// The other words parc reads for a kind: its French label as parc prints it, and what
    /// delivery notes and people write.
    public var aliases: [String] {
        switch self {
        case .interactiveScreen: [french, "Écran interactif", "ENI", "TNI", "TBI", "VPI", "screen"]
        case .laptop: [french, "PC portable", "portable"]
        case .tablet: [french]
        case .cart: [french, "Classe mobile", "chariot"]
        case .documentCamera: [french]
        case .projector: [french, "projecteur"]
        case .accessPoint: [french, "point d'accès", "AP"]
        case .other: [french]
        }
    }

    /// Every accepted word, for help texts and errors: `laptop (Ordinateur portable, PC portable, portable), …`.
    public static var acceptedWords: String {
        allCases.map { "\($0.rawValue) (\($0.aliases.joined(separator: ", ")))" }.joined(separator: "; ")
    }

    /// Parses the kind as the CLI and files spell it, or as parc prints it in French; case,
    /// accents, spaces and punctuation do not count.
    public init(parsing raw: String, field: String = "kind") throws(InvalidValue) {
        guard let k = Self.byWord[Words.fold(raw)] else {
            throw InvalidValue(field: field, value: raw, problem: "unknown kind; use one of: \(AcceptedWords(english: DeviceKind.acceptedWords, french: DeviceKind.allCases.map(\.french).joined(separator: ", ")))")
        }
        self = k
    }

    /// Every accepted word, folded, and the kind it names (folded once: an import reads one per row).
    static let byWord: [String: DeviceKind] = Words.table(allCases.map { ($0, [$0.rawValue] + $0.aliases) })
}

extension DeviceKind {
    /// The kind a supplier's designation names, in French ("Ordinateur portable Lenovo…",
    /// "Chariot de recharge 16 places", "Écran numérique interactif 75\"", "ENI 86 pouces"), or nil.
    public static func infer(fromDesignation text: String) -> DeviceKind? {
        let words = Words.fold(text, keepingSpaces: true).split(separator: " ")
        // The rules' words in a row of the designation's words.
        func names(_ key: [Substring]) -> Bool {
            guard key.count <= words.count else { return false }
            return (0...(words.count - key.count)).contains { start in key.indices.allSatisfy { words[start + $0] == key[$0] } }
        }
        for (kind, keys) in designationRules where keys.contains(where: names) { return kind }
        return nil
    }

    /// The words that name each kind in a designation, in the order they are tried.
    static let designationRules: [(DeviceKind, [[Substring]])] = {
        let rules: [(DeviceKind, [String])] = [
            (.cart, ["chariot", "classe mobile", "classes mobiles"]),
            (.interactiveScreen, ["ecran numerique interactif", "ecrans numeriques interactifs", "ecran interactif", "eni", "tni", "tbi", "vpi"]),
            (.projector, ["videoprojecteur", "video projecteur", "videoprojecteurs"]),
            (.documentCamera, ["visualiseur", "visualiseurs"]),
            (.laptop, ["ordinateur portable", "ordinateurs portables", "pc portable", "pc portables", "portable"]),
            (.tablet, ["tablette", "tablettes"]),
            (.accessPoint, ["borne wi fi", "borne wifi", "point d acces", "points d acces"]),
        ]
        return rules.map { kind, keys in (kind, keys.map { $0.split(separator: " ") }) }
    }()
}

/// How parc compares words people type: case, accents, spaces and punctuation do not count.
public enum Words {
    /// `s` in lower case without its accents, its letters and digits only ("Écran n° 2" → "ecrann2");
    /// with `keepingSpaces`, every other character becomes a space ("ecran n  2").
    public static func fold(_ s: String, keepingSpaces: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII, what files and command lines mostly hold: no decomposition to do.
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): out.append(Unicode.Scalar(byte))
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.append(Unicode.Scalar(byte + 32))
                default: if keepingSpaces { out.append(" ") }
                }
            }
            return String(out)
        }
        for scalar in s.decomposedStringWithCanonicalMapping.unicodeScalars {
            let p = scalar.properties
            if p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark || p.generalCategory == .enclosingMark { continue }
            if p.isAlphabetic || p.numericType != nil {
                out.append(contentsOf: p.lowercaseMapping.unicodeScalars)
            } else if keepingSpaces {
                out.append(" ")
            }
        }
        return String(out)
    }

    /// A look-up table from each value's words, folded, to the value.
    static func table<T>(_ entries: [(T, [String])]) -> [String: T] {
        var table: [String: T] = [:]
        for (value, words) in entries {
            for word in words where table[fold(word)] == nil { table[fold(word)] = value }
        }
        return table
    }
}

/// Where a device is in its life. One enum, never a set of booleans.
public enum DeviceStatus: String, Codable, Sendable, CaseIterable {
    case inStock, deployed, inRepair, lost, retired

    public var french: String {
        switch self {
        case .inStock: "En stock"
        case .deployed: "En service"
        case .inRepair: "En réparation"
        case .lost: "Perdu / volé"
        case .retired: "Réformé"
        }
    }

    /// The other words parc reads for a status: its French label as parc prints it, and a few more.
    public var aliases: [String] {
        switch self {
        case .inStock: [french]
        case .deployed: [french, "déployé"]
        case .inRepair: [french]
        case .lost: [french, "perdu", "volé"]
        case .retired: [french]
        }
    }

    /// Every accepted word, for help texts and errors.
    public static var acceptedWords: String {
        allCases.map { "\($0.rawValue) (\($0.aliases.joined(separator: ", ")))" }.joined(separator: "; ")
    }

    public init(parsing raw: String, field: String = "status") throws(InvalidValue) {
        guard let s = Self.byWord[Words.fold(raw)] else {
            throw InvalidValue(field: field, value: raw, problem: "unknown status; use one of: \(AcceptedWords(english: DeviceStatus.acceptedWords, french: DeviceStatus.allCases.map(\.french).joined(separator: ", ")))")
        }
        self = s
    }

    static let byWord: [String: DeviceStatus] = Words.table(allCases.map { ($0, [$0.rawValue] + $0.aliases) })
}

/// A piece of equipment. Its place is a room, or a cart (then it is wherever the cart is).
public struct Device: Codable, Sendable, Equatable {
    public var id: Int64?
    public var kind: DeviceKind
    public var manufacturer: String?
    public var model: String?
    /// The manufacturer's serial number; unique (case-insensitively).
    public var serial: String
    /// The commune's inventory number; unique when given.
    public var assetTag: String?
    public var status: DeviceStatus
    public var roomId: Int64?
    public var cartId: Int64?
    public var orderId: Int64?
    public var warrantyEnd: Day?
    /// The price paid, tax included (TTC).
    public var purchasePrice: Money?
    /// The price before tax (HT).
    public var priceExclTax: Money?
    /// The supplier's description of the product (a delivery note's "Désignation").
    public var designation: String?
    /// Managed (Linux) devices: the name it should carry and how to reach it over SSH.
    public var hostname: String?
    public var address: String?
    public var sshPort: Int?
    public var sshUser: String?
    public var notes: String?
    /// The SSH host key pinned for the device, as OpenSSH writes it (`ssh-ed25519 AAAA…`).
    public var hostKey: String?
    /// A simulated device of `parc lab` (nil: a real one): it belongs to no member, so that no
    /// commune counts it, lists it or finds it in its report.
    public var simulated: Bool?

    public init(id: Int64? = nil, kind: DeviceKind, manufacturer: String? = nil, model: String? = nil, serial: String,
                assetTag: String? = nil, status: DeviceStatus = .inStock, roomId: Int64? = nil, cartId: Int64? = nil,
                orderId: Int64? = nil, warrantyEnd: Day? = nil, purchasePrice: Money? = nil, hostname: String? = nil,
                address: String? = nil, sshPort: Int? = nil, sshUser: String? = nil, notes: String? = nil, hostKey: String? = nil,
                priceExclTax: Money? = nil, designation: String? = nil) {
        self.id = id
        self.kind = kind
        self.manufacturer = manufacturer
        self.model = model
        self.serial = serial
        self.assetTag = assetTag
        self.status = status
        self.roomId = roomId
        self.cartId = cartId
        self.orderId = orderId
        self.warrantyEnd = warrantyEnd
        self.purchasePrice = purchasePrice
        self.hostname = hostname
        self.address = address
        self.sshPort = sshPort
        self.sshUser = sshUser
        self.notes = notes
        self.hostKey = hostKey
        self.priceExclTax = priceExclTax
        self.designation = designation
    }

    /// Normalises free text and checks the rules a single device must follow on its own.
    public mutating func validate() throws(InvalidValue) {
        if let first = check().first { throw first }
    }

    /// Every rule the device breaks, in field order (empty: it is valid); the fields that pass are
    /// normalised. An import reports them all for a row, not the first.
    public mutating func check() -> [InvalidValue] {
        var found: [InvalidValue] = []
        func rule(_ body: () throws(InvalidValue) -> Void) {
            do { try body() } catch { found.append(error) }
        }
        rule { () throws(InvalidValue) in
            serial = try TextRules.line(serial, field: "serial", max: TextRules.identifierLength)
            guard !serial.isEmpty else {
                throw InvalidValue(field: "serial", value: "", problem: "every device needs its serial number (on the label under the device or on the delivery note)")
            }
            guard !serial.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw InvalidValue(field: "serial", value: serial, problem: "a serial number has no spaces; check for two serials pasted together")
            }
        }
        rule { () throws(InvalidValue) in assetTag = try TextRules.optionalLine(assetTag, field: "assetTag", max: TextRules.identifierLength) }
        rule { () throws(InvalidValue) in manufacturer = try TextRules.optionalLine(manufacturer, field: "manufacturer") }
        rule { () throws(InvalidValue) in model = try TextRules.optionalLine(model, field: "model") }
        rule { () throws(InvalidValue) in designation = try TextRules.optionalLine(designation, field: "designation", max: 500) }
        rule { () throws(InvalidValue) in notes = try notes?.nonEmpty.map { n throws(InvalidValue) in try TextRules.text(n, field: "notes") } }
        rule { () throws(InvalidValue) in
            if let u = sshUser?.nonEmpty {
                // A login name as useradd takes it; anything else would reach ssh and sudo command lines.
                guard u.count <= 32, let first = u.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.lowercaseLetters.contains(first)),
                      u.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.lowercaseLetters.contains($0) || CharacterSet.decimalDigits.contains($0) || "_-.".unicodeScalars.contains($0)) }) else {
                    throw InvalidValue(field: "sshUser", value: u, problem: "a login name is lower-case letters, digits, _ - and . (at most 32), starting with a letter, e.g. parc")
                }
                sshUser = u
            } else { sshUser = nil }
        }
        rule { () throws(InvalidValue) in if let h = hostname?.nonEmpty { hostname = try Hostname.normalize(h) } else { hostname = nil } }
        rule { () throws(InvalidValue) in if let a = address?.nonEmpty { address = try DeviceAddress.normalize(a) } else { address = nil } }
        if let p = sshPort, !(1...65535).contains(p) {
            found.append(InvalidValue(field: "sshPort", value: String(p), problem: "a port is between 1 and 65535 (SSH listens on 22)"))
        }
        if roomId != nil && cartId != nil {
            found.append(InvalidValue(field: "place", value: "", problem: "a device is either in a room or in a cart, not both"))
        }
        if cartId != nil && !kind.fitsInCart {
            found.append(InvalidValue(field: "cart", value: "", problem: "only laptops and tablets go in a cart; put a \(kind.rawValue) in a room"))
        }
        rule { () throws(InvalidValue) in if let k = hostKey?.nonEmpty { hostKey = try HostKey(openSSH: k).openSSH } else { hostKey = nil } }
        if let p = purchasePrice, p.cents < 0 {
            found.append(InvalidValue(field: "purchasePrice", value: p.description, problem: "a price cannot be negative"))
        }
        if let p = priceExclTax, p.cents < 0 {
            found.append(InvalidValue(field: "priceExclTax", value: p.description, problem: "a price cannot be negative"))
        }
        return found
    }
}

/// Where a device is reached: an IPv4 or IPv6 literal, or a host name (RFC 1123). Nothing else:
/// the address goes to the SSH connection and into exported Ansible inventories, where a value
/// such as `-oProxyCommand=…` would be read as an option and run a command.
public enum DeviceAddress {
    public static func normalize(_ raw: String, field: String = "address") throws(InvalidValue) -> String {
        let s = raw.trimmed
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return s }
        let bare = s.hasPrefix("[") && s.hasSuffix("]") ? String(s.dropFirst().dropLast()) : s
        if inet_pton(AF_INET6, bare, &v6) == 1 { return bare.lowercased() }
        if let name = try? Hostname.normalize(s, field: field), !name.allSatisfy({ $0.isNumber || $0 == "." }) { return name }
        throw InvalidValue(field: field, value: raw, problem: "an address is an IPv4 address (10.57.1.21), an IPv6 address or a host name (pc-cm2-01.ecole.local)")
    }
}

/// Host names as devices carry them (RFC 1123): letters, digits and dashes, labels of 1–63.
public enum Hostname {
    public static func normalize(_ raw: String, field: String = "hostname") throws(InvalidValue) -> String {
        let s = raw.trimmed.lowercased()
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        let ok = !s.isEmpty && s.count <= 253 && labels.allSatisfy { l in
            (1...63).contains(l.count) && l.first != "-" && l.last != "-"
                && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        guard ok else {
            throw InvalidValue(field: field, value: raw,
                               problem: "a host name is letters, digits and dashes (no accents, no spaces), e.g. norroy-cm2-01")
        }
        return s
    }
}

/// The words a field accepts, as each language lists them (the command line's names and their
/// aliases in English; the French names people pick from in French).
public struct AcceptedWords: FrenchWord {
    public let english: String
    public let french: String
    public init(english: String, french: String) { (self.english, self.french) = (english, french) }
}
