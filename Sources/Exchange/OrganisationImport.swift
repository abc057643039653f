import Foundation
import InventoryStore
import ParcCore

/// Imports of members (communes, SIVOS, EPCI) and schools from CSV, all rows or none. Each row goes
/// through the inventory's ordinary audited operations.
public enum OrganisationImport {
    public static let memberColumns: [String: [String]] = [
        "kind": ["Type", "Kind", "Nature"],
        "name": ["Nom", "Name", "Collectivité", "Commune", "Membre"],
        "slug": ["Slug", "Identifiant"],
        "siren": ["SIREN", "N° SIREN"],
        "insee": ["INSEE", "Code INSEE", "Code commune"],
        "deliberationNumber": ["N° de délibération", "Numéro de délibération", "Délibération", "Deliberation"],
        "deliberationDate": ["Date de délibération", "Date délibération", "Deliberation date"],
        "prefectureReceipt": ["Accusé de réception", "AR préfecture", "Accusé de réception préfecture", "Prefecture receipt"],
        "conventionDate": ["Date de convention", "Date de signature de la convention", "Convention date"],
        "conventionSignatory": ["Signataire", "Signataire de la convention", "Signatory"],
    ]

    public static let schoolColumns: [String: [String]] = [
        "uai": ["UAI", "RNE", "Code UAI"],
        "name": ["Nom", "École", "Ecole", "Name", "Établissement"],
        "member": ["Commune", "Membre", "Member", "SIREN", "Code INSEE"],
        "city": ["Ville", "Localité", "City"],
        "rooms": ["Salles", "Rooms"],
    ]

    public static func members(_ table: CSVTable, mappings: [String: String] = [:], dryRun: Bool, into inventory: Inventory) throws -> ImportReport {
        try run(table, columns: memberColumns, required: ["name"], mappings: mappings, dryRun: dryRun, into: inventory) { v, tx in
            var m = Member(kind: try v["kind"].map { raw in
                guard let k = MemberKind(rawValue: raw.lowercased()) else {
                    throw InvalidValue(field: "kind", value: raw, problem: "a member is a commune, sivos or epci")
                }
                return k
            } ?? .commune, name: v["name"]!, slug: v["slug"], siren: v["siren"], insee: v["insee"],
                deliberationNumber: v["deliberationNumber"], prefectureReceipt: v["prefectureReceipt"],
                conventionSignatory: v["conventionSignatory"])
            m.deliberationDate = try v["deliberationDate"].map { try Day(parsing: $0, field: "deliberationDate") }
            m.conventionDate = try v["conventionDate"].map { try Day(parsing: $0, field: "conventionDate") }
            try tx.addMember(m)
        }
    }

    public static func schools(_ table: CSVTable, mappings: [String: String] = [:], dryRun: Bool, into inventory: Inventory) throws -> ImportReport {
        try run(table, columns: schoolColumns, required: ["uai", "name", "member"], mappings: mappings, dryRun: dryRun, into: inventory) { v, tx in
            let school = try tx.addSchool(uai: v["uai"]!, name: v["name"]!, member: v["member"]!, city: v["city"])
            for room in (v["rooms"] ?? "").split(whereSeparator: { $0 == ";" || $0 == "|" || $0 == "," }) {
                let name = room.trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { try tx.addRoom(school: school.uai, name: name) }
            }
        }
    }

    struct DryRun: Error {}

    static func run(_ table: CSVTable, columns: [String: [String]], required: [String], mappings: [String: String], dryRun: Bool,
                    into inventory: Inventory, row body: ([String: String], InventoryTransaction) throws -> Void) throws -> ImportReport {
        let headers = try HeaderMap(header: table.header, known: HeaderMap.table(columns), extra: mappings, file: table.file)
        let missing = required.filter { !headers.fieldsByColumn.values.contains($0) }
        if !missing.isEmpty {
            throw ImportFailure(file: table.file, problems: missing.map {
                ImportProblem(file: table.file, line: 1, field: $0, problem: "no column gives it (columns: \(table.header.joined(separator: ", "))); use --map COLUMN=\($0)")
            })
        }
        var report = ImportReport(file: table.file, rows: table.rows.count, counts: ImportCounts(), ignoredColumns: headers.ignored,
                                  encoding: table.encoding, delimiter: table.delimiter, dryRun: dryRun)
        do {
            try inventory.write { tx in
                var problems: [ImportProblem] = []
                for (line, fields) in table.rows {
                    let v = headers.values(fields)
                    if let absent = required.first(where: { v[$0] == nil }) {
                        problems.append(ImportProblem(file: table.file, line: line, field: absent, problem: "missing"))
                        continue
                    }
                    do {
                        try tx.attempt { try body(v, tx) }
                        report.counts.created += 1
                    } catch let e as InvalidValue {
                        problems.append(ImportProblem(file: table.file, line: line, field: e.field, problem: e.withValue))
                    } catch let e as InventoryError {
                        problems.append(ImportProblem(file: table.file, line: line, field: e.field ?? "row", problem: e.message))
                    }
                }
                if !problems.isEmpty { throw ImportFailure(file: table.file, problems: problems) }
                try tx.logImport(source: table.file, rows: table.rows.count, created: report.counts.created)
                if dryRun { throw DryRun() }
            }
        } catch is DryRun {
            return report
        }
        return report
    }
}
