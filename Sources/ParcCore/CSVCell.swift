import Foundation

/// One cell of a CSV file that people open in a spreadsheet.
///
/// Quoted as RFC 4180 says (separator, quote, line break, edge spaces), and neutralised as OWASP
/// recommends against formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be run by the spreadsheet as a formula (`=cmd|' /C calc'!A0`), so it gets
/// a leading `'` and quotes, and shows as the text it is. parc's importer removes that `'` again,
/// so an export reads back unchanged.
public enum CSVCell {
    public static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r", "\r\n"]

    public static func escape(_ s: String, separator: Character = ",") -> String {
        if let first = s.first, formulaStarts.contains(first) {
            return "\"'" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        if s.contains(where: { $0 == separator || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) || s.hasPrefix(" ") || s.hasSuffix(" ") {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// A cell as read back: the `'` that `escape` put before a formula character is removed.
    public static func unescape(_ s: String) -> String {
        guard s.hasPrefix("'"), let second = s.dropFirst().first, formulaStarts.contains(second) else { return s }
        return String(s.dropFirst())
    }

    /// A row of cells, ended by CRLF.
    public static func row(_ cells: [String], separator: Character = ",") -> String {
        cells.map { escape($0, separator: separator) }.joined(separator: String(separator)) + "\r\n"
    }
}
