import Foundation

/// A value that breaks a rule of the domain: names the field, shows the value and says what to do.
///
/// Thrown by the validating initialisers of ParcCore and by every record's `validate()`, so the
/// message a technician reads always points at the field to correct.
public struct InvalidValue: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field's name as the command line and the JSON output spell it (`serial`, `uai`, …).
    public var field: String
    /// The value as it was given.
    public var value: String
    /// What is wrong, and what a correct value looks like (in the catalogue: English and French).
    public var problem: Message

    public init(field: String, value: String, problem: Message) {
        self.field = field
        self.value = value
        self.problem = problem
    }

    public var description: String {
        value.isEmpty ? "\(field): \(problem)" : "\(field) '\(TextRules.visible(value, max: 80))': \(problem)"
    }

    /// The problem with the value as typed in front (the field is named by whoever shows it).
    public var withValue: Message {
        value.isEmpty ? problem : "'\(TextRules.visible(value, max: 80))': \(problem)"
    }

    /// ``withValue`` in `language`.
    public func explained(_ language: Language) -> String { withValue.text(language) }
}

extension String {
    /// The string without leading and trailing white space.
    @inlinable public var trimmed: String {
        // Most values begin and end with a visible ASCII character: nothing to look up.
        if let f = utf8.first, let l = utf8.last, (0x21..<0x7F).contains(f), (0x21..<0x7F).contains(l) { return self }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// `nil` when the trimmed string is empty, the trimmed string otherwise.
    @inlinable public var nonEmpty: String? {
        let t = trimmed
        return t.isEmpty ? nil : t
    }
}

extension InvalidValue: LocalizedError {
    public var errorDescription: String? { description }
}

extension Substring {
    /// The text without leading and trailing white space.
    @inlinable public var trimmed: String { String(self).trimmed }
}

/// A JSON string literal of `s` (quotes, backslashes and control characters escaped).
public func jsonStringLiteral(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
