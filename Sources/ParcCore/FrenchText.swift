import Foundation

/// How numbers, amounts, sizes, counts and dates are written for French readers (the portal, the
/// report, the mails): one place, so that every page writes "11 014,80 €", "1 école" and "13 Ko"
/// the same way. Groups of thousands are separated by a narrow no-break space and a unit by a
/// no-break space, so that "€" or "Ko" never starts a line on its own.
public enum FrenchText {
    /// The narrow no-break space between groups of digits.
    public static let groupSeparator = "\u{202F}"
    /// The no-break space between a number and its unit.
    public static let unitSpace = "\u{00A0}"

    /// `11014` → `11 014`.
    public static func number(_ n: Int) -> String {
        let sign = n < 0 ? "-" : ""
        var digits = String(n.magnitude)
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(digits, at: 0)
        return sign + groups.joined(separator: groupSeparator)
    }

    /// `1.25` with `decimals` digits after a comma: `1,3`; the whole part grouped.
    public static func decimal(_ x: Double, decimals: Int) -> String {
        let scale = pow(10, Double(decimals))
        let rounded = (x * scale).rounded() / scale
        let whole = Int(rounded.rounded(.towardZero))
        let fraction = Int(((abs(rounded) - Double(abs(whole))) * scale).rounded())
        let sign = rounded < 0 && whole == 0 ? "-" : ""
        guard decimals > 0 else { return sign + number(whole) }
        let digits = String(fraction)
        return sign + number(whole) + "," + String(repeating: "0", count: max(0, decimals - digits.count)) + digits
    }

    /// `1 école`, `3 écoles`, `0 école`, `1 234 appareils` (French counts 0 and 1 in the singular).
    public static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        number(n) + unitSpace + (abs(n) <= 1 ? singular : plural ?? singular + "s")
    }

    /// An amount: `11 014,80 €`; nil: `—`.
    public static func money(_ m: Money?) -> String { m?.french ?? "—" }

    /// A file's size as people read it: `512 octets`, `13 Ko`, `1,2 Mo`, `2,4 Go` (powers of 1 024).
    public static func size(_ bytes: Int64) -> String {
        let b = Double(bytes)
        switch bytes {
        case ..<1024: return count(Int(bytes), "octet")
        case ..<(1024 * 1024): return number(Int((b / 1024).rounded(.up))) + unitSpace + "Ko"
        case ..<(1024 * 1024 * 1024): return decimal(b / 1_048_576, decimals: b < 10 * 1_048_576 ? 1 : 0) + unitSpace + "Mo"
        default: return decimal(b / 1_073_741_824, decimals: 1) + unitSpace + "Go"
        }
    }

    /// A size given in mebibytes (memory, disks): `512 Mo`, `3,8 Go`.
    public static func megabytes(_ mb: Int) -> String { size(Int64(mb) * 1_048_576) }

    /// Paris time, as the portal shows it.
    public static let timeZone = TimeZone(identifier: "Europe/Paris") ?? .current

    /// `07/12/2026 à 14h05`.
    public static func when(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%02d/%02d/%04d à %02dh%02d", c.day!, c.month!, c.year!, c.hour!, c.minute!)
    }

    /// A stored timestamp (ISO 8601) in French; what it cannot read, as it is.
    public static func when(_ stamp: String?) -> String {
        guard let stamp else { return "—" }
        let formats = [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()]
        for f in formats { if let d = try? Date(stamp, strategy: f) { return when(d) } }
        return stamp
    }
}
