import Exchange
import Foundation
import InventoryStore
import ParcCore
import Testing

/// Delivery notes as suppliers write them (issue 15, items 1, 2 and 4).
@Suite struct DeliveryNoteHabitsTests {
    /// Désignation and Modèle together: the designation is kept, the model is the model, and the
    /// kind comes from the designation in French when no Type column says it.
    @Test func designationAndModelTogetherWithTheKindReadFromTheDesignation() throws {
        let w = try Workspace()
        let path = try w.file("bl.csv", """
            N° de série;Désignation;Modèle;Marque;École;Salle;Garantie (mois);Prix unitaire HT;Colonne interne
            CH-1;Chariot de recharge 16 places;Classe mobile 16;Kantek;0572113M;BCD;60;1 000,00;x
            PC-1;Ordinateur portable 11,6\" pour élèves;ThinkPad 11e;Lenovo;0572113M;BCD;36;400,00;y
            ENI-1;Écran numérique interactif 75 pouces;SMART MX275;SMART;0572113M;Classe CM2;60;3 000,00;z
            """)
        var options = DeviceImportOptions(order: "BC-2024-041", dryRun: true)
        options.mappings = ["Colonne interne": ""]
        let dry = try DeviceImport.run(path, options: options, into: w.inventory)
        #expect(dry.counts.rows.map(\.kind) == [.cart, .laptop, .interactiveScreen], "the inferred kinds show in the dry run")
        #expect(dry.rowLines.contains("line 3: would create PC-1 (laptop) in 0572113M"), "\(dry.rowLines)")
        #expect(dry.ignoredColumns.isEmpty, "--map \"COLUMN=\" leaves a column out without a word")
        options.dryRun = false
        _ = try DeviceImport.run(path, options: options, into: w.inventory)
        let pc = try w.inventory.read { try $0.deviceRow("PC-1") }
        #expect(pc.kind == .laptop && pc.model == "ThinkPad 11e" && pc.designation == "Ordinateur portable 11,6\" pour élèves")
        // 36 months from the order's delivery (2024-12-09); TTC from HT at the order's rate (4 980 / 4 150 = 20 %).
        #expect(pc.warrantyEnd?.description == "2027-12-09")
        #expect(pc.priceExclTax == Money(cents: 40_000) && pc.purchasePrice == Money(cents: 48_000))
        // --kind or a Type column win over the designation.
        let typed = try w.file("typed.csv", "N° de série;Type;Désignation;École;Salle\nTAB-1;tablet;Ordinateur portable;0572113M;BCD\n")
        _ = try DeviceImport.run(typed, options: DeviceImportOptions(), into: w.inventory)
        #expect(try w.inventory.read { try $0.deviceRow("TAB-1") }.kind == .tablet)
    }

    @Test(arguments: [("Chariot de rechargement pour classe mobile", DeviceKind.cart), ("Classe mobile 30 tablettes", .cart),
                      ("PC portable 14 pouces", .laptop), ("ENI 86''", .interactiveScreen), ("TBI Promethean", .interactiveScreen),
                      ("Écran interactif 65", .interactiveScreen), ("Vidéoprojecteur courte focale", .projector),
                      ("Visualiseur USB", .documentCamera), ("Tablette 10 pouces", .tablet), ("Borne Wi-Fi 6", .accessPoint),
                      ("Point d'accès Wi-Fi", .accessPoint)])
    func kindsReadFromDesignations(_ c: (String, DeviceKind)) {
        #expect(DeviceKind.infer(fromDesignation: c.0) == c.1)
    }

    @Test func aWarrantyInMonthsNeedsADeliveryDateAndAPriceTTCGivesTheHT() throws {
        let w = try Workspace()
        let path = try w.file("bl.csv", "N° de série;Type;École;Salle;Durée de garantie;Prix TTC\nV-1;projector;0572113M;BCD;24;1 200,00\n")
        #expect { try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory) } throws: { error in
            "\(error)".contains("bl.csv:2: warrantyMonths") && "\(error)".contains("--delivered")
        }
        var options = DeviceImportOptions()
        options.delivered = try Day(parsing: "2025-09-01")
        _ = try DeviceImport.run(path, options: options, into: w.inventory)
        let v = try w.inventory.read { try $0.deviceRow("V-1") }
        #expect(v.warrantyEnd?.description == "2027-09-01" && v.priceExclTax == Money(cents: 100_000), "HT from TTC at 20 % without an order")
    }

    @Test func aDryRunListsEachRowAndWhatAnUpdateChanges() throws {
        let w = try Workspace()
        let path = try w.file("maj.csv", "N° de série;Salle;École;N° d'inventaire\nPF4NLV31;Classe CM2;0572113M;\n")
        let report = try DeviceImport.run(path, options: DeviceImportOptions(update: true, dryRun: true), into: w.inventory)
        #expect(report.counts.rows.count == 1 && report.counts.rows[0].action == .update && report.counts.rows[0].changes.contains("room"),
                "\(report.counts.rows)")
        #expect(report.rowLines.hasPrefix("line 2: would update PF4NLV31"))
    }

    @Test func utf16AndSpreadsheetFilesAreNamed() throws {
        let text = "N° de série;Type;École;Salle\nU16-1;laptop;0572113M;BCD\n"
        var le: [UInt8] = [0xFF, 0xFE]
        for u in text.utf16 { le += [UInt8(u & 0xFF), UInt8(u >> 8)] }
        let table = try CSVTable(bytes: le, file: "export.csv")
        #expect(table.encoding == "UTF-16 LE" && table.header.first == "N° de série" && table.rows.first?.fields.first == "U16-1")
        var be: [UInt8] = []
        for u in text.utf16 { be += [UInt8(u >> 8), UInt8(u & 0xFF)] }
        #expect(try CSVTable(bytes: be, file: "export.csv").encoding == "UTF-16 BE", "no byte-order mark: the zeros tell")
        #expect { _ = try CSVTable(bytes: [0x50, 0x4B, 0x03, 0x04, 0, 0], file: "bl.xlsx") } throws: { "\($0)".contains("CSV UTF-8") }
    }

    /// What the commune pays in the end: TTC less the subsidies granted, per order and in total,
    /// with the rates; each device's price in the device tables (issue 15, item 7).
    @Test func theReportSaysWhatTheCommunePaysInTheEnd() throws {
        let w = try Workspace()
        let report = try w.inventory.read { try EquipmentReport.build($0, member: "norroy-le-veneur", today: try Day(parsing: "2025-01-15")) }
        let first = report.orders.first { $0.order.number == "BC-2024-041" }!, second = report.orders.first { $0.order.number == "BC-2024-042" }!
        #expect(first.ownShare == Money(cents: 249_000), "4 980 − 2 490 from the Département (the commune's own line is not a subsidy)")
        #expect(second.ownShare == Money(cents: 852_480), "14 208 − 5 683,20 granted (the State's request is still pending)")
        #expect(report.totalOwnShare == Money(cents: 1_101_480))
        let plain = { (s: String) in s.replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ") }
        let text = plain(report.text())
        #expect(text.contains("Reste à charge de la commune (TTC − subventions accordées) : 11 014,80 €"), "\(text)")
        #expect(text.contains("subventions accordées 5 683,20 € (40 % du TTC), reste à charge 8 524,80 €"))
        #expect(text.contains("Département (Ambition Moselle) : 9 594,00 € / 8 173,20 € (85,2 % de la demande)"))
        #expect(text.contains("n° de série PF4NLV31") && text.contains(" TTC"), "each device with its price")
        let html = plain(report.html())
        #expect(html.contains("<th scope=\"col\" class=\"n\">Reste à charge</th>") && html.contains("40 %") && html.contains("<th scope=\"col\" class=\"n\">Prix TTC</th>"))
    }

    /// Loans past their date show in the report (issue 15, item 6).
    @Test func theReportListsCartsLentPastTheirDate() throws {
        let w = try Workspace()
        try w.inventory.write { tx in
            try tx.addSchool(uai: "0572114N", name: "École de Plesnois", member: "norroy-le-veneur")
            let room = try tx.addRoom(school: "0572114N", name: "CM1")
            try tx.lendCart("NLV-2024-010", to: room.id!, until: try Day(parsing: "2025-03-31"), today: try Day(parsing: "2025-01-06"))
        }
        let before = try w.inventory.read { try EquipmentReport.build($0, member: "norroy-le-veneur", today: try Day(parsing: "2025-03-31")) }
        #expect(before.overdueLoans.isEmpty)
        let after = try w.inventory.read { try EquipmentReport.build($0, member: "norroy-le-veneur", today: try Day(parsing: "2025-04-01")) }
        #expect(after.overdueLoans.map(\.cart) == ["NLV-2024-010"])
        #expect(after.text().contains("chariot NLV-2024-010 prêté à 0572114N / CM1 depuis le 06/01/2025, à rendre le 31/03/2025"))
    }
}
