import Foundation

/// The UAI ("unité administrative immatriculée") of a school: 7 digits and a check letter.
///
/// The letter is the remainder of the 7-digit number divided by 23, as a letter of
/// `ABCDEFGHJKLMNPRSTUVWXYZ` (no I, O or Q); e.g. `0750655E`.
public enum UAI {
    static let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")

    /// The check letter of the seven digits `digits`.
    public static func checkLetter(digits: String) -> Character? {
        guard digits.count == 7, digits.allSatisfy(\.isASCIIDigit), let n = Int(digits) else { return nil }
        return letters[n % 23]
    }

    /// The UAI in canonical form (upper-case letter), or an error that says what is wrong.
    public static func normalize(_ raw: String, field: String = "uai") throws(InvalidValue) -> String {
        let s = raw.trimmed.uppercased()
        let digits = String(s.prefix(7))
        guard s.count == 8, digits.allSatisfy(\.isASCIIDigit), let last = s.last, last.isLetter, last.isASCII else {
            throw InvalidValue(field: field, value: raw,
                               problem: "a UAI is 7 digits followed by a letter, e.g. 0571234Q; copy it from the school's record in the Annuaire de l'éducation")
        }
        let expected = checkLetter(digits: digits)!
        guard last == expected else {
            throw InvalidValue(field: field, value: raw,
                               problem: "the check letter of \(digits) is \(expected), not \(last); check the UAI for a typing mistake")
        }
        return s
    }
}

/// The SIREN number of a member (commune, SIVOS, EPCI): 9 digits with a Luhn check digit.
public enum SIREN {
    public static func normalize(_ raw: String, field: String = "siren") throws(InvalidValue) -> String {
        let s = raw.filter { !$0.isWhitespace }
        guard s.count == 9, s.allSatisfy(\.isASCIIDigit) else {
            throw InvalidValue(field: field, value: raw, problem: "a SIREN is 9 digits, e.g. 215705112")
        }
        guard luhnValid(s) else {
            throw InvalidValue(field: field, value: raw,
                               problem: "the check digit is wrong (Luhn); check the number on the member's deliberation or on annuaire-entreprises")
        }
        return s
    }

    static func luhnValid(_ digits: String) -> Bool {
        var sum = 0
        for (i, c) in digits.reversed().enumerated() {
            var d = c.wholeNumberValue!
            if i % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return sum % 10 == 0
    }
}

/// The INSEE code of a commune ("code officiel géographique"): 5 characters, `57511`, `2A004`.
public enum INSEECode {
    public static func normalize(_ raw: String, field: String = "insee") throws(InvalidValue) -> String {
        let s = raw.trimmed.uppercased()
        let chars = Array(s)
        let ok = chars.count == 5
            && (chars[0...1].allSatisfy(\.isASCIIDigit) || s.hasPrefix("2A") || s.hasPrefix("2B"))
            && chars[2...4].allSatisfy(\.isASCIIDigit)
        guard ok else {
            throw InvalidValue(field: field, value: raw, problem: "an INSEE commune code is 5 characters, e.g. 57511 (Norroy-le-Veneur) or 2A004")
        }
        return s
    }
}

/// A MAC address, stored as `aa:bb:cc:dd:ee:ff`.
public enum MACAddress {
    /// Accepts `AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff` and `aabbccddeeff`.
    public static func normalize(_ raw: String, field: String = "mac") throws(InvalidValue) -> String {
        // Fast path: already in canonical form (exports, most delivery notes).
        let utf8 = raw.utf8
        if utf8.count == 17, utf8.enumerated().allSatisfy({ i, b in
            (i + 1) % 3 == 0 ? b == UInt8(ascii: ":") : (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
        }) { return raw }
        let t = raw.trimmed.lowercased()
        let hex = t.filter { $0 != ":" && $0 != "-" && $0 != "." }
        let separatorsOK: Bool = {
            if t.count == 12 { return true }
            if t.count == 17 {
                let seps = t.enumerated().filter { ($0.offset + 1) % 3 == 0 }.map(\.element)
                return Set(seps).count == 1 && (seps[0] == ":" || seps[0] == "-")
            }
            if t.count == 14 { return t.enumerated().filter { ($0.offset + 1) % 5 == 0 }.allSatisfy { $0.element == "." } }
            return false
        }()
        guard separatorsOK, hex.count == 12, hex.allSatisfy(\.isHexDigit) else {
            throw InvalidValue(field: field, value: raw, problem: "a MAC address is 6 hexadecimal bytes, e.g. 3c:52:82:1a:2b:3c")
        }
        var out = ""
        for (i, c) in hex.enumerated() {
            if i > 0 && i % 2 == 0 { out.append(":") }
            out.append(c)
        }
        return out
    }
}

extension Character {
    @inlinable var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Lower-case ASCII slug of a name: `Norroy-le-Veneur` → `norroy-le-veneur`, `École Jean Moulin` →
/// `ecole-jean-moulin`. Used for group names (`commune_<slug>`) and as a short handle on the CLI.
public func slugify(_ text: String) -> String {
    var out = ""
    var pendingDash = false
    for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
        if scalar.properties.isDiacritic || scalar.properties.generalCategory == .nonspacingMark { continue }
        let c = Character(scalar)
        if c.isASCII && (c.isLetter || c.isNumber) {
            if pendingDash && !out.isEmpty { out.append("-") }
            pendingDash = false
            out.append(contentsOf: c.lowercased())
        } else if scalar == "œ" || scalar == "Œ" {
            if pendingDash && !out.isEmpty { out.append("-") }
            pendingDash = false
            out.append("oe")
        } else {
            pendingDash = true
        }
    }
    return out
}
