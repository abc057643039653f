/// What kind of body a member of the grouping is.
public enum MemberKind: String, Codable, Sendable, CaseIterable {
    case commune, sivos, epci
}

/// A member of the Fus@é grouping: a commune, a SIVOS or an EPCI, with its membership.
public struct Member: Codable, Sendable, Equatable {
    public var id: Int64?
    public var kind: MemberKind
    public var name: String
    /// Short handle derived from the name (`norroy-le-veneur`), used for groups and on the CLI.
    public var slug: String
    public var siren: String?
    /// INSEE commune code; communes only.
    public var insee: String?
    /// Council deliberation joining the grouping, e.g. `1.4-033/2024`.
    public var deliberationNumber: String?
    public var deliberationDate: Day?
    /// Prefecture acknowledgement of receipt, e.g. `057-215705112-20240923-2024DEL033-DE`.
    public var prefectureReceipt: String?
    public var conventionDate: Day?
    /// Who signed the convention (e.g. "le maire").
    public var conventionSignatory: String?

    public init(id: Int64? = nil, kind: MemberKind, name: String, slug: String? = nil, siren: String? = nil,
                insee: String? = nil, deliberationNumber: String? = nil, deliberationDate: Day? = nil,
                prefectureReceipt: String? = nil, conventionDate: Day? = nil, conventionSignatory: String? = nil) {
        self.id = id
        self.kind = kind
        self.name = name
        self.slug = slug ?? slugify(name)
        self.siren = siren
        self.insee = insee
        self.deliberationNumber = deliberationNumber
        self.deliberationDate = deliberationDate
        self.prefectureReceipt = prefectureReceipt
        self.conventionDate = conventionDate
        self.conventionSignatory = conventionSignatory
    }

    /// Normalises codes and checks every rule; throws naming the first bad field.
    public mutating func validate() throws(InvalidValue) {
        name = try TextRules.line(name, field: "name")
        guard !name.isEmpty else { throw InvalidValue(field: "name", value: "", problem: "a member needs a name, e.g. Norroy-le-Veneur") }
        slug = slug.trimmed
        guard !slug.isEmpty, slug == slugify(slug) else {
            throw InvalidValue(field: "slug", value: slug, problem: "a slug is lower-case letters, digits and dashes, e.g. \(slugify(name))")
        }
        if let s = siren?.nonEmpty { siren = try SIREN.normalize(s) } else { siren = nil }
        if let i = insee?.nonEmpty {
            guard kind == .commune else {
                throw InvalidValue(field: "insee", value: i, problem: "only a commune has an INSEE code; give the \(kind.rawValue)'s SIREN instead")
            }
            insee = try INSEECode.normalize(i)
        } else { insee = nil }
        guard siren != nil || insee != nil else {
            throw InvalidValue(field: "siren", value: "", problem: "a member needs its SIREN (or, for a commune, its INSEE code)")
        }
        deliberationNumber = try TextRules.optionalLine(deliberationNumber, field: "deliberationNumber", max: TextRules.identifierLength)
        prefectureReceipt = try TextRules.optionalLine(prefectureReceipt, field: "prefectureReceipt", max: TextRules.identifierLength)
        conventionSignatory = try TextRules.optionalLine(conventionSignatory, field: "conventionSignatory")
    }
}

/// A school, known by its UAI, belonging to a member.
public struct School: Codable, Sendable, Equatable {
    public var id: Int64?
    public var uai: String
    public var name: String
    public var memberId: Int64
    public var city: String?

    public init(id: Int64? = nil, uai: String, name: String, memberId: Int64, city: String? = nil) {
        self.id = id
        self.uai = uai
        self.name = name
        self.memberId = memberId
        self.city = city
    }

    public mutating func validate() throws(InvalidValue) {
        uai = try UAI.normalize(uai)
        name = try TextRules.line(name, field: "name")
        guard !name.isEmpty else { throw InvalidValue(field: "name", value: "", problem: "a school needs a name, e.g. École élémentaire Jean Moulin") }
        city = try TextRules.optionalLine(city, field: "city")
    }
}

/// A room of a school: a classroom, the computer room, a storeroom.
public struct Room: Codable, Sendable, Equatable {
    public var id: Int64?
    public var schoolId: Int64
    public var name: String

    public init(id: Int64? = nil, schoolId: Int64, name: String) {
        self.id = id
        self.schoolId = schoolId
        self.name = name
    }

    public mutating func validate() throws(InvalidValue) {
        name = try TextRules.line(name, field: "room")
        guard !name.isEmpty else { throw InvalidValue(field: "room", value: "", problem: "a room needs a name, e.g. CM2 or Salle informatique") }
    }
}

/// A lot of the grouping's contract (interactive solutions, mobile classes, office equipment…).
public struct Lot: Codable, Sendable, Equatable {
    public var id: Int64?
    /// The lot's number in the contract, e.g. `1` or `2b`.
    public var number: String
    public var title: String
    public var supplier: String?

    public init(id: Int64? = nil, number: String, title: String, supplier: String? = nil) {
        self.id = id
        self.number = number
        self.title = title
        self.supplier = supplier
    }

    public mutating func validate() throws(InvalidValue) {
        number = try TextRules.line(number, field: "number", max: TextRules.identifierLength)
        guard !number.isEmpty else { throw InvalidValue(field: "number", value: "", problem: "a lot needs its number in the contract, e.g. 2") }
        title = try TextRules.line(title, field: "title")
        guard !title.isEmpty else { throw InvalidValue(field: "title", value: "", problem: "a lot needs a title, e.g. Classes mobiles") }
        supplier = try TextRules.optionalLine(supplier, field: "supplier")
    }
}

/// A member's order under a lot.
public struct Order: Codable, Sendable, Equatable {
    public var id: Int64?
    public var memberId: Int64
    public var lotId: Int64?
    /// The purchase-order number, unique within the member.
    public var number: String
    public var supplier: String?
    public var orderedOn: Day?
    public var deliveredOn: Day?
    public var deliveryNote: String?
    public var amountExclTax: Money?
    public var amountInclTax: Money?

    public init(id: Int64? = nil, memberId: Int64, lotId: Int64? = nil, number: String, supplier: String? = nil,
                orderedOn: Day? = nil, deliveredOn: Day? = nil, deliveryNote: String? = nil,
                amountExclTax: Money? = nil, amountInclTax: Money? = nil) {
        self.id = id
        self.memberId = memberId
        self.lotId = lotId
        self.number = number
        self.supplier = supplier
        self.orderedOn = orderedOn
        self.deliveredOn = deliveredOn
        self.deliveryNote = deliveryNote
        self.amountExclTax = amountExclTax
        self.amountInclTax = amountInclTax
    }

    public mutating func validate() throws(InvalidValue) {
        number = try TextRules.line(number, field: "number", max: TextRules.identifierLength)
        guard !number.isEmpty else { throw InvalidValue(field: "number", value: "", problem: "an order needs its purchase-order number") }
        supplier = try TextRules.optionalLine(supplier, field: "supplier")
        deliveryNote = try TextRules.optionalLine(deliveryNote, field: "deliveryNote", max: TextRules.identifierLength)
        if let o = orderedOn, let d = deliveredOn, d < o {
            throw InvalidValue(field: "deliveredOn", value: d.description, problem: "the delivery (\(d)) is before the order (\(o))")
        }
        for (field, amount) in [("amountExclTax", amountExclTax), ("amountInclTax", amountInclTax)] {
            if let a = amount, a.cents < 0 {
                throw InvalidValue(field: field, value: a.description, problem: "an amount cannot be negative")
            }
        }
        if let ht = amountExclTax, let ttc = amountInclTax, ttc < ht {
            throw InvalidValue(field: "amountInclTax", value: ttc.description,
                               problem: "the amount incl. tax is lower than the amount excl. tax (\(ht)); were they swapped?")
        }
    }
}

/// Who pays part of an order.
public enum Funder: String, Codable, Sendable, CaseIterable {
    /// The member itself.
    case commune
    /// The Moselle département, e.g. through Ambition Moselle.
    case departement
    /// The State (DETR, DSIL, "socle numérique"…).
    case state
    case other

    /// How a French reader names the funder.
    public var french: String {
        switch self {
        case .commune: "Commune / membre"
        case .departement: "Département (Ambition Moselle)"
        case .state: "État"
        case .other: "Autre"
        }
    }
}

/// One funder's share of an order: the amount requested and the amount granted.
public struct FundingLine: Codable, Sendable, Equatable {
    public var id: Int64?
    public var orderId: Int64
    public var funder: Funder
    /// The scheme or decision, e.g. "Ambition Moselle 2024".
    public var label: String?
    public var requested: Money
    public var granted: Money?

    public init(id: Int64? = nil, orderId: Int64, funder: Funder, label: String? = nil, requested: Money, granted: Money? = nil) {
        self.id = id
        self.orderId = orderId
        self.funder = funder
        self.label = label
        self.requested = requested
        self.granted = granted
    }

    public mutating func validate() throws(InvalidValue) {
        label = try TextRules.optionalLine(label, field: "label")
        guard requested.cents >= 0 else { throw InvalidValue(field: "requested", value: requested.description, problem: "an amount cannot be negative") }
        if let g = granted, g.cents < 0 { throw InvalidValue(field: "granted", value: g.description, problem: "an amount cannot be negative") }
    }
}
