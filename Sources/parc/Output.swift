import Foundation
import ParcCore

/// One column of a listing: its key in JSON and CSV, its header in tables, and its value.
struct Field<Row>: Sendable {
    let key: String
    let header: String
    let value: @Sendable (Row) -> JSONValue

    init(_ key: String, _ header: String, _ value: @escaping @Sendable (Row) -> JSONValue) {
        self.key = key
        self.header = header
        self.value = value
    }
}

/// How a listing is printed.
enum OutputFormat {
    case table, json, csv
}

enum Render {
    /// Prints `rows` as an aligned table (with only `tableKeys` columns when given), a JSON array, or CSV.
    static func list<Row>(_ rows: [Row], fields: [Field<Row>], format: OutputFormat, tableKeys: [String]? = nil) -> String {
        switch format {
        case .json:
            return JSONValue.array(rows.map { row in .object(fields.map { ($0.key, $0.value(row)) }) }).serialized() + "\n"
        case .csv:
            var out = fields.map { csvCell($0.key) }.joined(separator: ",") + "\r\n"
            for row in rows { out += fields.map { csvCell($0.value(row).plain) }.joined(separator: ",") + "\r\n" }
            return out
        case .table:
            let shown = tableKeys.map { keys in keys.compactMap { k in fields.first { $0.key == k } } } ?? fields
            return table(header: shown.map(\.header), rows: rows.map { row in shown.map { $0.value(row).plain } })
        }
    }

    /// A single record: `key: value` lines for people, an object for `--json`, a one-row CSV.
    static func record(_ pairs: [(key: String, label: String, value: JSONValue)], format: OutputFormat) -> String {
        switch format {
        case .json:
            return JSONValue.object(pairs.map { ($0.key, $0.value) }).serialized() + "\n"
        case .csv:
            return pairs.map { csvCell($0.key) }.joined(separator: ",") + "\r\n"
                + pairs.map { csvCell($0.value.plain) }.joined(separator: ",") + "\r\n"
        case .table:
            let width = pairs.map(\.label.count).max() ?? 0
            return pairs.filter { $0.value != .null && $0.value != .array([]) }
                .map { pair in
                    let text = if case .array(let items) = pair.value { items.map(\.plain).joined(separator: ", ") } else { pair.value.plain }
                    return pair.label.padded(to: width) + "  " + (pair.key == "notes" ? text : TextRules.visible(text, max: 2_000))
                }
                .joined(separator: "\n") + "\n"
        }
    }

    /// An aligned text table; the last column is not padded. What a terminal shows never carries
    /// control characters (escape sequences, line breaks): they are shown as escapes.
    static func table(header: [String], rows raw: [[String]]) -> String {
        let rows = raw.map { $0.map { TextRules.visible($0, max: 500) } }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padded(to: widths[i])
            }.joined(separator: "  ").trimmedTrailing
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// RFC 4180 quoting, formulas neutralised (see `CSVCell`).
    static func csvCell(_ s: String) -> String { CSVCell.escape(s) }
}

extension String {
    /// A table header as a label: `WARRANTY END` → `Warranty end`; acronyms stay upper-case.
    var asLabel: String {
        let acronyms: [String: String] = ["UAI": "UAI", "SIREN": "SIREN", "INSEE": "INSEE", "MACS": "MACs", "SSH": "SSH", "ID": "ID"]
        return split(separator: " ").enumerated().map { i, word in
            acronyms[String(word)] ?? (i == 0 ? word.prefix(1) + word.dropFirst().lowercased() : word.lowercased())
        }.joined(separator: " ")
    }

    /// The string followed by spaces up to `width` characters (not UTF-16 units).
    func padded(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }

    var trimmedTrailing: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
