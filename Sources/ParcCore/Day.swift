/// A calendar day (no time, no time zone): order dates, deliberation dates, warranty ends.
///
/// Stored and printed as ISO 8601 `YYYY-MM-DD`; also read from the French `DD/MM/YYYY`.
public struct Day: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) throws(InvalidValue) {
        guard (1900...2200).contains(year), (1...12).contains(month),
              (1...Day.daysIn(month: month, year: year)).contains(day) else {
            throw InvalidValue(field: "date", value: "\(year)-\(month)-\(day)", problem: "not a calendar day")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `2024-09-23` or `23/09/2024`; `field` names the field in the error.
    public init(parsing raw: String, field: String = "date") throws(InvalidValue) {
        let s = raw.trimmed
        // Made only when needed: an import parses a date on every row.
        var bad: InvalidValue { InvalidValue(field: field, value: raw, problem: "a date is written YYYY-MM-DD (e.g. 2024-09-23) or DD/MM/YYYY") }
        let parts: [Substring]
        let ymd: (Int, Int, Int)
        if s.utf8.contains(UInt8(ascii: "-")) {
            parts = s.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { throw bad }
            ymd = (y, m, d)
        } else if s.utf8.contains(UInt8(ascii: "/")) {
            parts = s.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].count == 4, let d = Int(parts[0]), let m = Int(parts[1]), let y = Int(parts[2]) else { throw bad }
            ymd = (y, m, d)
        } else {
            throw bad
        }
        do {
            try self.init(year: ymd.0, month: ymd.1, day: ymd.2)
        } catch {
            throw InvalidValue(field: field, value: raw, problem: "\(s) is not a calendar day")
        }
    }

    /// A day before any real one, for sorting what has no date.
    public static let distantPast = try! Day(year: 1900, month: 1, day: 1)

    /// The same day `months` later (the last day of the month when it has fewer days).
    public func adding(months: Int) -> Day {
        let total = year * 12 + (month - 1) + months
        let y = total / 12, m = total % 12 + 1
        return (try? Day(year: y, month: m, day: min(day, Day.daysIn(month: m, year: y)))) ?? self
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ n: Int, _ w: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// `DD/MM/YYYY`, as French readers expect.
    public var french: String {
        func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(pad(day))/\(pad(month))/\(year)"
    }

    public static func < (a: Day, b: Day) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: s)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An amount of euros, kept in cents so that sums are exact.
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, AdditiveArithmetic {
    public var cents: Int

    public init(cents: Int) { self.cents = cents }

    public static let zero = Money(cents: 0)

    /// Parses `1234.56`, `1234,56`, `1 234,56 €`, `1234`; `field` names the field in the error.
    public init(parsing raw: String, field: String = "amount") throws(InvalidValue) {
        var s = raw.trimmed
        s.removeAll { $0 == " " || $0 == "\u{00A0}" || $0 == "\u{202F}" || $0 == "€" }
        var bad: InvalidValue { InvalidValue(field: field, value: raw, problem: "an amount in euros is written like 1234.56 or 1 234,56") }
        var negative = false
        if s.hasPrefix("-") { negative = true; s.removeFirst() }
        let parts = s.replacingComma().split(separator: ".", omittingEmptySubsequences: false)
        guard !s.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let whole = Int(parts[0].isEmpty ? "0" : String(parts[0])) else { throw bad }
        var cents = whole * 100
        if parts.count == 2 {
            let frac = parts[1]
            guard frac.count >= 1, frac.count <= 2, let f = Int(frac) else { throw bad }
            cents += frac.count == 1 ? f * 10 : f
        }
        self.cents = negative ? -cents : cents
    }

    /// `1234.56` — the machine form, used in JSON and CSV.
    /// `1234,50`: the amount as French spreadsheet software reads a number (no currency, no grouping).
    public var frenchNumber: String { String(description.map { $0 == "." ? "," : $0 }) }

    public var description: String {
        let sign = cents < 0 ? "-" : ""
        let a = abs(cents)
        let c = a % 100
        return "\(sign)\(a / 100).\(c < 10 ? "0" : "")\(c)"
    }

    /// `1 234,56 €` — the French form, for what communes read (no-break spaces: see ``FrenchText``).
    public var french: String {
        let sign = cents < 0 ? "-" : ""
        let a = abs(cents)
        var whole = String(a / 100)
        var groups: [String] = []
        while whole.count > 3 {
            groups.insert(String(whole.suffix(3)), at: 0)
            whole.removeLast(3)
        }
        groups.insert(whole, at: 0)
        let c = a % 100
        return "\(sign)\(groups.joined(separator: FrenchText.groupSeparator)),\(c < 10 ? "0" : "")\(c)\(FrenchText.unitSpace)€"
    }

    public static func < (a: Money, b: Money) -> Bool { a.cents < b.cents }
    public static func + (a: Money, b: Money) -> Money { Money(cents: a.cents + b.cents) }
    public static func - (a: Money, b: Money) -> Money { Money(cents: a.cents - b.cents) }

    public init(from decoder: any Decoder) throws {
        // JSON files hold euros, as a string ("1234.56", "1 234,56") or a number (1234.56).
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            try self.init(parsing: s)
        } else {
            let euros = try c.decode(Double.self)
            self.init(cents: Int((euros * 100).rounded()))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

private extension String {
    func replacingComma() -> String { String(map { $0 == "," ? "." : $0 }) }
}
