import Exchange
import Foundation
import InventoryStore
import ParcCore
import Testing

/// Cells a spreadsheet would run as formulas are written as text in every CSV meant for people,
/// and read back unchanged by the importer.
@Suite struct FormulaInjectionTests {
    // (A leading tab is neutralised too, but the importer trims edge blanks, so it is not in the round trip.)
    static let hostile = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\";\"clic\")"]

    @Test func cellsStartingAFormulaAreNeutralisedAndQuoted() {
        #expect(CSVCell.escape("=cmd|' /C calc'!A0") == "\"'=cmd|' /C calc'!A0\"")
        #expect(CSVCell.escape("+1+1") == "\"'+1+1\"")
        #expect(CSVCell.escape("@SUM(A1)", separator: ";") == "\"'@SUM(A1)\"")
        #expect(CSVCell.escape("=HYPERLINK(\"a\")") == "\"'=HYPERLINK(\"\"a\"\")\"")
        #expect(CSVCell.escape("\tTAB") == "\"'\tTAB\"")
        #expect(CSVCell.escape("PF4NLV31") == "PF4NLV31")
        #expect(CSVCell.escape("a;b", separator: ";") == "\"a;b\"")
        #expect(CSVCell.escape("2024-09-23") == "2024-09-23")
        for h in Self.hostile { #expect(CSVCell.unescape(String(CSVCell.escape(h).dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")) == h) }
        #expect(CSVCell.unescape("'quoted") == "'quoted", "a quote before ordinary text is the text's own")
    }

    @Test func exportsAndTheReportNeutraliseAndAReimportGivesTheSameValues() throws {
        let w = try Workspace()
        var lines = "serial,kind,model,notes,school,room\n"
        for (i, h) in Self.hostile.enumerated() {
            lines += "FX-\(i),laptop,\(CSVCell.escape(h)),\(CSVCell.escape("note " + h)),0572113M,BCD\n"
        }
        let path = try w.file("formulas.csv", lines)
        #expect(try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory).counts.created == Self.hostile.count)
        let rows = try w.inventory.read { try $0.devices() }.filter { $0.serial.hasPrefix("FX-") }
        #expect(Set(rows.compactMap(\.model)) == Set(Self.hostile), "the values are stored as written")

        let export = DeviceExport.csv(rows)
        let report = try w.inventory.read { try EquipmentReport.build($0, school: "0572113M", warrantyMonths: 6, today: try Day(year: 2026, month: 11, day: 30)) }.csv()
        for csv in [export, report] {
            for cell in Self.cells(csv) {
                #expect(!(cell.first.map { CSVCell.formulaStarts.contains($0) } ?? false), "a cell starts a formula: \(cell)")
            }
        }
        // Read back: the same values.
        let target = try Workspace(devices: false)
        let again = try target.file("export.csv", export)
        _ = try DeviceImport.run(again, options: DeviceImportOptions(), into: target.inventory)
        #expect(try target.inventory.read { try $0.devices() }.map(\.model) == rows.map(\.model))
    }

    /// The cells of a CSV as a spreadsheet sees them (quotes removed).
    static func cells(_ csv: String) -> [String] {
        var cells: [String] = []
        var cell = "", quoted = false, wasQuoted = false
        var i = csv.startIndex
        while i < csv.endIndex {
            let c = csv[i]
            if quoted {
                if c == "\"" {
                    let next = csv.index(after: i)
                    if next < csv.endIndex && csv[next] == "\"" { cell.append("\""); i = next } else { quoted = false }
                } else { cell.append(c) }
            } else if c == "\"" { quoted = true; wasQuoted = true }
            else if c == "," || c == ";" || c == "\r\n" || c == "\n" { cells.append(cell); cell = ""; wasQuoted = false }
            else { cell.append(c) }
            i = csv.index(after: i)
        }
        _ = wasQuoted
        return cells
    }
}
