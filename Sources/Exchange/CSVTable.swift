import CSV
import Foundation
import ParcCore

/// A CSV file as read: its header, its rows with their line numbers, and how it was decoded.
/// Parsing is CSV.swift's; parc only decodes the bytes and picks the separator.
public struct CSVTable: Sendable {
    public var file: String
    public var header: [String]
    public var rows: [(line: Int, fields: [String])]
    /// `UTF-8`, `UTF-8 with BOM`, `UTF-16 LE`, `UTF-16 BE` or `Windows-1252`.
    public var encoding: String
    public var delimiter: Character

    /// Reads `path`: UTF-8 with or without BOM, else Windows-1252 (French office software); `;` or `,`
    /// separators, whichever the header line uses more (outside quotes).
    public init(path: String) throws {
        let file = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let why = !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) ? "there is no such file; check its name and folder"
                : isDir.boolValue ? "it is a folder; name a CSV file in it" : "it cannot be read (check its permissions)"
            throw ImportFailure(file: file, problems: [ImportProblem(file: file, line: 0, field: "file", problem: "cannot read \(path): \(why)")])
        }
        try self.init(bytes: [UInt8](data), file: file)
    }

    /// Reads a file's bytes (named `file` in messages), as `init(path:)` does.
    public init(bytes raw: [UInt8], file: String) throws {
        let encoding: String
        var bytes = raw
        var text: String
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw ImportFailure(file: file, problems: [ImportProblem(file: file, line: 0, field: "file", problem:
                "this is a spreadsheet (Excel or LibreOffice), not a CSV file; open it and save it as \"CSV UTF-8\" (Excel: Enregistrer sous → CSV UTF-8; LibreOffice: Enregistrer sous → Texte CSV, jeu de caractères Unicode (UTF-8)), then import that file")])
        }
        if let (utf16, name) = Self.utf16(bytes) {
            // Excel's "Texte Unicode" and some suppliers' exports.
            text = utf16
            encoding = name
        } else if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes.removeFirst(3)
            text = String(decoding: bytes, as: UTF8.self)
            encoding = "UTF-8 with BOM"
        } else if let utf8 = String(validating: bytes, as: UTF8.self) {
            text = utf8
            encoding = "UTF-8"
        } else {
            text = Self.windows1252(bytes)
            encoding = "Windows-1252"
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        try self.init(file: file, text: text, encoding: encoding, delimiter: Self.detectDelimiter(text))
    }

    /// UTF-16 text (with its byte-order mark, or without one when every other byte of the start
    /// is zero, as ASCII headers give), decoded, with the encoding's name.
    static func utf16(_ bytes: [UInt8]) -> (String, String)? {
        func decode(_ body: ArraySlice<UInt8>, little: Bool) -> String? {
            guard body.count % 2 == 0 else { return nil }
            var units: [UInt16] = []
            units.reserveCapacity(body.count / 2)
            var i = body.startIndex
            while i < body.endIndex {
                let a = UInt16(body[i]), b = UInt16(body[i + 1])
                units.append(little ? a | b << 8 : a << 8 | b)
                i += 2
            }
            return String(utf16CodeUnits: units, count: units.count)
        }
        if bytes.starts(with: [0xFF, 0xFE]) { return decode(bytes.dropFirst(2), little: true).map { ($0, "UTF-16 LE") } }
        if bytes.starts(with: [0xFE, 0xFF]) { return decode(bytes.dropFirst(2), little: false).map { ($0, "UTF-16 BE") } }
        let head = bytes.prefix(64)
        guard head.count >= 8, head.count % 2 == 0 else { return nil }
        let even = stride(from: 0, to: head.count, by: 2).map { head[$0] }, odd = stride(from: 1, to: head.count, by: 2).map { head[$0] }
        if odd.allSatisfy({ $0 == 0 }) && even.allSatisfy({ $0 != 0 }) { return decode(bytes[...], little: true).map { ($0, "UTF-16 LE") } }
        if even.allSatisfy({ $0 == 0 }) && odd.allSatisfy({ $0 != 0 }) { return decode(bytes[...], little: false).map { ($0, "UTF-16 BE") } }
        return nil
    }

    init(file: String, text: String, encoding: String, delimiter: Character) throws {
        self.file = file
        self.encoding = encoding
        self.delimiter = delimiter
        if let line = Self.unclosedQuote(in: text, delimiter: delimiter) {
            throw ImportFailure(file: file, problems: [ImportProblem(file: file, line: line, field: "file", problem:
                "a quote (\") opens a cell on this line and is never closed, so the rest of the file would be read as one cell; close the quote or remove it")])
        }
        let reader: CSVReader
        do {
            // Cells are trimmed by `HeaderMap.values`: CSV.swift's trimming goes through NSString and cost
            // a tenth of a 100,000-row import.
            reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: false, delimiter: delimiter.unicodeScalars.first!)
        } catch {
            throw ImportFailure(file: file, problems: [ImportProblem(file: file, line: 1, field: "file", problem: "not a CSV file (\(error))")])
        }
        header = (reader.headerRow ?? []).map(\.trimmed)
        var rows: [(Int, [String])] = []
        var line = 2 + Self.newlines(in: reader.headerRow ?? [])
        while let row = reader.next() {
            if !(row.count == 1 && row[0].isEmpty) { rows.append((line, row)) }
            line += 1 + Self.newlines(in: row)
        }
        if let error = reader.error {
            throw ImportFailure(file: file, problems: [ImportProblem(file: file, line: line, field: "file", problem: "cannot read the CSV here (\(error)); check for an unclosed quote")])
        }
        self.rows = rows
    }

    /// The line where a quoted cell opens that no quote closes before the end of the text. A
    /// quote opens a cell only at its start (`Écran 65"` is a plain cell); inside a quoted cell a
    /// doubled quote is a quote character.
    static func unclosedQuote(in text: String, delimiter: Character) -> Int? {
        let bytes = Array(text.utf8)
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let separator = delimiter.asciiValue ?? UInt8(ascii: ";")
        var line = 1, openedOn = 0, inQuotes = false, atCellStart = true
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote { i += 2; continue }
                    inQuotes = false
                } else if b == newline { line += 1 }
            } else if b == quote && atCellStart {
                inQuotes = true
                openedOn = line
            } else if b == newline {
                line += 1
                atCellStart = true
                i += 1
                continue
            } else if b == separator {
                atCellStart = true
                i += 1
                continue
            } else if b != UInt8(ascii: " ") && b != cr {
                atCellStart = false
            }
            if b == quote || inQuotes { atCellStart = false }
            i += 1
        }
        return inQuotes ? openedOn : nil
    }

    private static func newlines(in fields: [String]) -> Int {
        fields.reduce(0) { $0 + $1.reduce(0) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 } }
    }

    static func detectDelimiter(_ text: String) -> Character {
        var semicolons = 0, commas = 0, inQuotes = false
        for c in text {
            if c == "\"" { inQuotes.toggle() }
            if inQuotes { continue }
            if c == "\n" || c == "\r\n" { break }
            if c == ";" { semicolons += 1 } else if c == "," { commas += 1 }
        }
        return semicolons >= commas && semicolons > 0 ? ";" : ","
    }

    /// Windows-1252, byte by byte (0x80–0x9F hold €, œ, ’, … where Latin-1 has control codes).
    static func windows1252(_ bytes: [UInt8]) -> String {
        let high: [UInt32] = [0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                              0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178]
        var scalars = String.UnicodeScalarView()
        for b in bytes {
            let value = (0x80...0x9F).contains(b) ? high[Int(b - 0x80)] : UInt32(b)
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return String(scalars)
    }
}

/// Maps column headers to fields: French and English names, accents and case ignored, plus the
/// user's own `--map column=field`.
public struct HeaderMap: Sendable {
    public let fieldsByColumn: [Int: String]
    public let ignored: [String]

    public init(header: [String], known: [String: String], extra: [String: String], file: String) throws {
        var map: [Int: String] = [:]
        var ignored: [String] = []
        var problems: [ImportProblem] = []
        let extraKeys = Dictionary(uniqueKeysWithValues: extra.map { (Self.key($0.key), $0.value) })
        let fieldNames = Set(known.values)
        for (index, column) in header.enumerated() {
            let key = Self.key(column)
            // `--map "COLUMN="`: the column is left out on purpose.
            if extraKeys[key] == "" { continue }
            if let field = extraKeys[key] ?? known[key] {
                guard fieldNames.contains(field) else {
                    problems.append(ImportProblem(file: file, line: 1, field: column, problem: "--map names an unknown field '\(field)'; fields are \(fieldNames.sorted().joined(separator: ", "))"))
                    continue
                }
                if let other = map.first(where: { $0.value == field }) {
                    problems.append(ImportProblem(file: file, line: 1, field: column, problem: "two columns give the \(field): '\(header[other.key])' and '\(column)'; drop one or --map it elsewhere"))
                    continue
                }
                map[index] = field
            } else if !key.isEmpty {
                ignored.append(column)
            }
        }
        if !problems.isEmpty { throw ImportFailure(file: file, problems: problems) }
        fieldsByColumn = map
        self.ignored = ignored
    }

    /// `N° de série` → `ndeserie`.
    static func key(_ text: String) -> String {
        slugify(text.replacingOccurrences(of: "°", with: "")).replacingOccurrences(of: "-", with: "")
    }

    /// The row's values by field (empty cells left out). The reader already trimmed the cells
    /// (Foundation's trimming, bridged through NSString, cost a fifth of a large import).
    func values(_ row: [String]) -> [String: String] {
        var out: [String: String] = [:]
        out.reserveCapacity(fieldsByColumn.count)
        for (index, field) in fieldsByColumn where index < row.count && !row[index].isEmpty {
            let cell = CSVCell.unescape(row[index])
            if cell.isEmpty { continue }
            let edge: (Character) -> Bool = { $0.isWhitespace }
            if edge(cell.first!) || edge(cell.last!) {
                let t = cell.trimmed
                if !t.isEmpty { out[field] = t }
            } else {
                out[field] = cell
            }
        }
        return out
    }
}

extension HeaderMap {
    static func table(_ names: [String: [String]]) -> [String: String] {
        var out: [String: String] = [:]
        for (field, aliases) in names {
            for alias in aliases + [field] { out[key(alias)] = field }
        }
        return out
    }
}
