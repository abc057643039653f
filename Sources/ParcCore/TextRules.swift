import Foundation

/// Bounds on text that people type or import: no control characters where a value is one line
/// (a NUL, an escape sequence or a newline in a serial would truncate it, drive the terminal that
/// shows it, or forge a line in a file or the audit log), and a length that fits the field.
public enum TextRules {
    /// Longest identifier (serial, asset tag, order number…).
    public static let identifierLength = 64
    /// Longest one-line text (names, models, suppliers…).
    public static let lineLength = 200
    /// Longest free text (notes).
    public static let notesLength = 4_000

    /// A one-line value: trimmed, no control character, at most `max` characters.
    public static func line(_ raw: String, field: String, max: Int = lineLength) throws(InvalidValue) -> String {
        let s = raw.trimmed
        if let c = s.unicodeScalars.first(where: isControl) {
            throw InvalidValue(field: field, value: raw, problem: "it holds a control character (\(visible(String(c)))); type the value again, on one line")
        }
        // Counting characters walks grapheme clusters: only when the bytes could be too many.
        guard s.utf8.count <= max || s.count <= max else {
            throw InvalidValue(field: field, value: raw, problem: "it is \(s.count) characters long; this field takes at most \(max)")
        }
        return s
    }

    /// Free text: line breaks and tabs allowed, other control characters not, at most `max` characters.
    public static func text(_ raw: String, field: String, max: Int = notesLength) throws(InvalidValue) -> String {
        let s = raw.trimmed
        if let c = s.unicodeScalars.first(where: { isControl($0) && $0 != "\n" && $0 != "\t" && $0 != "\r" }) {
            throw InvalidValue(field: field, value: raw, problem: "it holds a control character (\(visible(String(c)))); remove it")
        }
        guard s.utf8.count <= max || s.count <= max else {
            throw InvalidValue(field: field, value: raw, problem: "it is \(s.count) characters long; this field takes at most \(max)")
        }
        return s
    }

    /// An optional one-line value (empty → nil).
    public static func optionalLine(_ raw: String?, field: String, max: Int = lineLength) throws(InvalidValue) -> String? {
        guard let raw, !raw.trimmed.isEmpty else { return nil }
        return try line(raw, field: field, max: max)
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool {
        // Control characters, and the bidirectional overrides and isolates (U+202A–202E,
        // U+2066–2069) that make a terminal show text in another order than it is.
        // C0, DEL and C1 (the whole of the "control" category) without a property look-up.
        if u.value < 0xA0 { return u.value < 0x20 || u.value >= 0x7F }
        if u.properties.generalCategory == .control { return true }
        return (0x202A...0x202E).contains(u.value) || (0x2066...0x2069).contains(u.value)
    }

    /// Text made safe to show on a terminal or in a log: control characters (and the bidirectional
    /// overrides that reorder what a reader sees) written as escapes (`\n`, `\u{1B}`), and very
    /// long text cut with its length said.
    /// `keepLineBreaks`: for text of several lines (a diff, a command's output), line breaks and
    /// tabs stay as they are; everything else that a terminal would obey is still escaped.
    public static func visible(_ s: String, max: Int = 200, keepLineBreaks: Bool = false) -> String {
        var out = ""
        var count = 0
        for u in s.unicodeScalars {
            if count >= max { return out + "… (\(s.count) characters)" }
            switch u {
            case "\n" where keepLineBreaks, "\t" where keepLineBreaks: out.unicodeScalars.append(u)
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if isControl(u) { out += "\\u{\(String(u.value, radix: 16, uppercase: true))}" } else { out.unicodeScalars.append(u) }
            }
            count += 1
        }
        return out
    }
}

extension String {
    /// This text with control characters shown as escapes (see `TextRules.visible`).
    public var visible: String { TextRules.visible(self) }
}
