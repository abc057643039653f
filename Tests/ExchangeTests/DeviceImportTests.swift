import Exchange
import Foundation
import InventoryStore
import ParcCore
import Testing

@Suite struct DeviceImportTests {
    let header = "N° de série;N° d'inventaire;Type;Marque;Modèle;Adresse MAC;École;Salle;Fin de garantie;Prix TTC\n"

    @Test func frenchHeadersSemicolonsAndBOMImportEveryRow() throws {
        let w = try Workspace()
        let path = try w.file("bl.csv", header + """
            SN-A1;NLV-2025-001;Portable;Lenovo;ThinkPad E14;8C-16-45-AA-00-01;0572113M;BCD;30/06/2029;899,90
            SN-A2;NLV-2025-002;tablet;Apple;iPad 10;8c:16:45:aa:00:02 8c:16:45:aa:00:03;École primaire de Norroy-le-Veneur;Classe CM2;;
            """, bom: true)
        let report = try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
        #expect(report.counts.created == 2)
        #expect(report.encoding == "UTF-8 with BOM")
        #expect(report.delimiter == ";")
        let a = try w.inventory.read { try $0.deviceRow("SN-A1") }
        #expect(a.kind == .laptop && a.assetTag == "NLV-2025-001" && a.room == "BCD" && a.macs == ["8c:16:45:aa:00:01"])
        #expect(a.warrantyEnd?.description == "2029-06-30" && a.purchasePrice == Money(cents: 89_990) && a.status == .deployed)
        let b = try w.inventory.read { try $0.deviceRow("SN-A2") }
        #expect(b.kind == .tablet && b.room == "Classe CM2" && b.macs.count == 2, "a school given by its name")
    }

    @Test func windows1252FilesAreReadCorrectly() throws {
        let w = try Workspace()
        let path = try w.file("livraison.csv", "N° de série;Type;Modèle;Salle;École\nVIS-77;Visualiseur;Caméra Lumens DC125 – démonstration;Classe CM2;0572113M\n",
                              windows1252: true)
        let report = try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
        #expect(report.encoding == "Windows-1252")
        let d = try w.inventory.read { try $0.deviceRow("VIS-77") }
        #expect(d.model == "Caméra Lumens DC125 – démonstration")
        #expect(d.kind == .documentCamera)
    }

    @Test func englishHeadersWithCommasAndQuotedFields() throws {
        let w = try Workspace()
        let path = try w.file("list.csv", "serial,asset tag,kind,model,school,room,notes\nX-1,,projector,\"Epson EB-685W, short throw\",0572113M,BCD,\"ceiling; room 2\"\n")
        let report = try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
        #expect(report.delimiter == ",")
        let d = try w.inventory.read { try $0.deviceRow("X-1") }
        #expect(d.model == "Epson EB-685W, short throw")
        #expect(d.notes == "ceiling; room 2")
        #expect(d.assetTag == nil)
    }

    @Test func everyKindOfBadRowIsListedAndNothingIsWritten() throws {
        let w = try Workspace()
        let eventsBefore = try w.count("SELECT count(*) FROM event")
        let path = try w.file("bad.csv", header + """
            OK-1;;laptop;;;;0572113M;BCD;;
            OK-2;;laptop;;;8c:16:45:zz:00:01;0572113M;BCD;;
            OK-1;;laptop;;;;0572113M;BCD;;
            PF4NLV31;;laptop;;;;0572113M;BCD;;
            OK-3;;laptop;;;;0750655E;BCD;;
            OK-4;;laptop;;;;0572113M;Gymnase;;
            ;;laptop;;;;0572113M;BCD;;
            OK-5;;grille-pain;;;;0572113M;BCD;;
            OK-6;;laptop;;;;0572113M;BCD;31/02/2029;
            OK-7;NLV-2024-011;laptop;;;;0572113M;BCD;;
            OK-8;;laptop;;;8c:16:45:3a:10:01;0572113M;BCD;;abc
            """)
        #expect {
            try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
        } throws: { error in
            guard let failure = error as? ImportFailure else { return false }
            let text = failure.problems.map(\.description)
            let expected = [
                "bad.csv:3: mac: '8c:16:45:zz:00:01'",
                "bad.csv:4: serial: OK-1 is already on line 2 of this file",
                "bad.csv:5: serial: PF4NLV31 is already in the inventory; use --update",
                "bad.csv:6: school: no school '0750655E'",
                "bad.csv:7: room: no room 'Gymnase' in 0572113M",
                "bad.csv:8: serial: missing",
                "bad.csv:9: kind: 'grille-pain': unknown kind",
                "bad.csv:10: warrantyEnd: '31/02/2029'",
                "bad.csv:11: assetTag: NLV-2024-011 already belongs to device PF4NLV31",
                "bad.csv:12: mac: 8c:16:45:3a:10:01 already belongs to device PF4NLV31",
                "bad.csv:12: purchasePrice: 'abc'",
            ]
            return expected.allSatisfy { e in text.contains { $0.hasPrefix(e) } } && "\(failure)".contains("nothing was imported")
        }
        #expect(try w.count("SELECT count(*) FROM device WHERE serial LIKE 'OK-%'") == 0)
        #expect(try w.count("SELECT count(*) FROM event") == eventsBefore)
    }

    @Test func aMissingSerialColumnIsNamed() throws {
        let w = try Workspace()
        let path = try w.file("nocol.csv", "Modèle;Salle\nX;BCD\n")
        #expect {
            try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
        } throws: { "\($0)".contains("nocol.csv:1: serial: no column gives the serial number") }
    }

    @Test func aDryRunReportsAndWritesNothing() throws {
        let w = try Workspace()
        let events = try w.count("SELECT count(*) FROM event")
        let path = try w.file("dry.csv", "serial;kind;school;room\nD-1;laptop;0572113M;BCD\nPF4NLV31;laptop;0572113M;BCD\n")
        let report = try DeviceImport.run(path, options: DeviceImportOptions(update: true, dryRun: true), into: w.inventory)
        #expect(report.counts.created == 1)
        #expect(report.counts.updated == 1)
        #expect(report.summary.contains("Dry run: nothing was written"))
        #expect(try w.count("SELECT count(*) FROM device WHERE serial = 'D-1'") == 0)
        #expect(try w.inventory.read { try $0.deviceRow("PF4NLV31").room } == "Classe CE2-CM1")
        #expect(try w.count("SELECT count(*) FROM event") == events)
    }

    @Test func updateChangesOnlyTheColumnsTheFileGivesWithAnAuditedDiff() throws {
        let w = try Workspace()
        try w.inventory.write { _ = try $0.updateDevice("PF4NLV31") { $0.notes = "rayure sur le capot" } }
        let path = try w.file("maj.csv", "N° de série;Fin de garantie;Adresse MAC\nPF4NLV31;16/12/2028;8c:16:45:3a:10:01\nPF4NLV32;16/12/2027;\n")
        let report = try DeviceImport.run(path, options: DeviceImportOptions(update: true), into: w.inventory)
        #expect(report.counts.updated == 1)
        #expect(report.counts.unchanged == 1)
        let d = try w.inventory.read { try $0.deviceRow("PF4NLV31") }
        #expect(d.warrantyEnd?.description == "2028-12-16")
        #expect(d.notes == "rayure sur le capot", "a column the file does not have is kept")
        #expect(d.macs == ["8c:16:45:3a:10:01"], "the MAC column replaces the MACs")
        #expect(d.cart == "NLV-2024-010")
        let last = try w.inventory.read { try $0.history("PF4NLV31").last! }
        #expect(last.changes.contains(FieldChange(field: "warrantyEnd", old: "2027-12-16", new: "2028-12-16")))
    }

    @Test func oneDeliveryNoteBecomesOneCartHoldingItsLaptopsUnderItsOrder() throws {
        let w = try Workspace()
        try w.inventory.write { tx in
            let m = try tx.member("norroy-le-veneur")
            try tx.addOrder(Order(memberId: m.id!, lotId: try tx.lot("2").id, number: "BC-2025-003"))
        }
        var rows = "N° de série;N° d'inventaire;Type;Chariot\nCHR-9;NLV-2025-200;Chariot;\n"
        for i in 1...8 { rows += "TAB-\(i);NLV-2025-2\(String(format: "%02d", i));Tablette;NLV-2025-200\n" }
        let path = try w.file("bl-chariot.csv", rows)
        let report = try DeviceImport.run(path, options: DeviceImportOptions(order: "BC-2025-003"), into: w.inventory)
        #expect(report.counts.created == 9)
        try w.inventory.read { r in
            let held = try r.devices(DeviceFilter(cart: "NLV-2025-200"))
            #expect(held.count == 8)
            #expect(held.allSatisfy { $0.order == "BC-2025-003" && $0.kind == .tablet })
        }
        // --cart puts every row of another note into an existing cart.
        let more = try w.file("complement.csv", "serial\nTAB-9\nTAB-10\n")
        _ = try DeviceImport.run(more, options: DeviceImportOptions(order: "BC-2025-003", cart: "NLV-2025-200", kind: .tablet), into: w.inventory)
        #expect(try w.inventory.read { try $0.devices(DeviceFilter(cart: "CHR-9")).count } == 10)
    }

    @Test func theImportIsOneEventAndEachDeviceKnowsWhereItCameFrom() throws {
        let w = try Workspace()
        let path = try w.file("bl-42.csv", "serial;kind\nI-1;laptop\nI-2;laptop\n")
        _ = try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
        let imports = try w.inventory.read { try $0.events(entity: "import") }
        #expect(imports.count == 1)
        #expect(imports[0].entityKey == "bl-42.csv")
        #expect(imports[0].changes.contains(FieldChange(field: "rows", old: nil, new: "2")))
        let history = try w.inventory.read { try $0.history("I-2") }
        #expect(history.first?.changes == [FieldChange(field: "import", old: nil, new: "bl-42.csv:3")])
    }

    @Test func mapOptionReadsOtherHeaders() throws {
        let w = try Workspace()
        let path = try w.file("fournisseur.csv", "Num. série constructeur;Désignation article;Code site\nQ-1;Borne Wi-Fi 6;X\n")
        #expect(throws: ImportFailure.self) { try DeviceImport.run(path, options: DeviceImportOptions(kind: .accessPoint), into: w.inventory) }
        let report = try DeviceImport.run(path, options: DeviceImportOptions(kind: .accessPoint, mappings: ["Num. série constructeur": "serial"]),
                                          into: w.inventory)
        #expect(report.ignoredColumns == ["Code site"])
        #expect(try w.inventory.read { try $0.deviceRow("Q-1").model } == "Borne Wi-Fi 6")
        #expect(throws: ImportFailure.self) {
            try DeviceImport.run(path, options: DeviceImportOptions(mappings: ["Code site": "colour"]), into: w.inventory)
        }
    }

    @Test func exportedCSVReimportsIntoAnInventoryWithoutDevicesAsItWas() throws {
        let source = try Workspace()
        let original = try source.inventory.read { try $0.devices() }
        let csv = DeviceExport.csv(original)
        let target = try Workspace(devices: false)
        #expect(try target.inventory.read { try $0.devices() }.isEmpty)
        let path = try target.file("export.csv", csv)
        let report = try DeviceImport.run(path, options: DeviceImportOptions(), into: target.inventory)
        #expect(report.counts.created == original.count)
        let copy = try target.inventory.read { try $0.devices() }
        #expect(copy == original)
    }
}

@Suite struct OrganisationImportTests {
    @Test func theSampleMemberAndSchoolFilesImport() throws {
        let w = try Workspace()
        let imports = Workspace.repoInventory.appendingPathComponent("imports")
        let members = try OrganisationImport.members(try CSVTable(path: imports.appendingPathComponent("membres-fusee.csv").path), dryRun: false, into: w.inventory)
        #expect(members.counts.created == 3)
        let schools = try OrganisationImport.schools(try CSVTable(path: imports.appendingPathComponent("ecoles-fusee.csv").path), dryRun: false, into: w.inventory)
        #expect(schools.counts.created == 3)
        try w.inventory.read { r in
            let sivos = try r.member("255701237")
            #expect(sivos.kind == .sivos && sivos.conventionSignatory == "le président")
            #expect(try r.member("57415").deliberationDate?.description == "2024-10-21")
            #expect(try r.rooms(schoolId: try r.school("0571815N").id!).map(\.name).contains("Salle informatique"))
        }
    }

    @Test func badMemberAndSchoolRowsAreAllListedAndNothingIsWritten() throws {
        let w = try Workspace()
        let path = try w.file("m.csv", "Type;Nom;SIREN;Code INSEE\ncommune;A;215705113;\nsivos;B;;57000\ncommune;Norroy bis;215705112;\ncommune;C;210575452;57545\n")
        #expect {
            try OrganisationImport.members(try CSVTable(path: path), dryRun: false, into: w.inventory)
        } throws: { error in
            let text = "\(error)"
            return text.contains("m.csv:2: siren") && text.contains("m.csv:3: insee") && text.contains("m.csv:4: siren") && !text.contains("m.csv:5")
        }
        #expect(try w.count("SELECT count(*) FROM member") == 1)
        let schools = try w.file("s.csv", "UAI;École;Commune\n0571815A;X;norroy-le-veneur\n0571815N;Y;nowhere\n")
        #expect {
            try OrganisationImport.schools(try CSVTable(path: schools), dryRun: false, into: w.inventory)
        } throws: { "\($0)".contains("s.csv:2: uai") && "\($0)".contains("s.csv:3: row: no member 'nowhere'") }
        #expect(try w.count("SELECT count(*) FROM school") == 1)
    }
}

/// The bulk path of an import: the search index filled once at the end, and the serials, tags and
/// MACs of the inventory read in one scan when the file is large against it.
@Suite struct BulkImportTests {
    let header = "N° de série;N° d'inventaire;Type;Modèle;Adresse MAC;École;Salle\n"

    @Test("an import fills the search index at its end: each new device is found by serial, tag and MAC, and nothing stays deferred")
    func searchIndexFilledAtTheEnd() throws {
        let w = try Workspace(devices: false)
        let rows = (1...40).map { String(format: "BULK-%02d;INV-%02d;laptop;ThinkPad;8c:16:45:bb:00:%02x;0572113M;BCD", $0, $0, $0) }
        let path = try w.file("bulk.csv", header + rows.joined(separator: "\n") + "\n")
        #expect(try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory).counts.created == 40)
        #expect(try w.count("SELECT count(*) FROM searchDeferred") == 0)
        #expect(try w.count("SELECT count(*) FROM deviceText") == w.count("SELECT count(*) FROM device"))
        let byMAC = try w.inventory.read { try $0.find("8c1645bb0027") }
        #expect(byMAC.rows.map(\.serial) == ["BULK-39"])
        #expect(try w.inventory.read { try $0.find("INV-07") }.rows.map(\.serial) == ["BULK-07"])
        #expect(try w.inventory.read { try $0.find("bulk-1") }.total == 10)
        // Devices added one by one afterwards are indexed by the triggers as before.
        try w.inventory.write { tx in
            _ = try tx.addDevice(Device(kind: .laptop, serial: "ONE-BY-ONE", status: .inStock), macs: ["8c:16:45:cc:00:01"])
        }
        #expect(try w.inventory.read { try $0.find("8c:16:45:cc") }.rows.map(\.serial) == ["ONE-BY-ONE"])
    }

    @Test("serials (any case), asset tags and MACs already in the inventory are refused the same whether it is read in one scan or row by row; a refused file leaves the index as it was")
    func duplicatesAgainstTheInventoryBothWays() throws {
        let w = try Workspace()
        let existing = try w.inventory.read { r in try r.devices(DeviceFilter()).first { $0.assetTag != nil && !$0.macs.isEmpty } }
        let d = try #require(existing)
        // Enough devices that a file of two rows is looked up row by row.
        try w.inventory.write { tx in
            for n in 1...16 { _ = try tx.addDevice(Device(kind: .laptop, serial: "HELD-\(n)", status: .inStock)) }
        }
        let total = try w.count("SELECT count(*) FROM device")
        let indexed = try w.count("SELECT count(*) FROM deviceText")
        let clash = ["\(d.serial.lowercased());;laptop;X;;0572113M;BCD", "NEW-1;\(d.assetTag!);laptop;X;\(d.macs[0].uppercased());0572113M;BCD"]
        // Two rows against the inventory: looked up row by row. Many rows: one scan.
        let filler = (1...total).map { String(format: "FILL-%03d;;laptop;X;;0572113M;BCD", $0) }
        for rows in [clash, clash + filler] {
            let path = try w.file("clash-\(rows.count).csv", header + rows.joined(separator: "\n") + "\n")
            let failure = try #require(throws: ImportFailure.self) {
                try DeviceImport.run(path, options: DeviceImportOptions(), into: w.inventory)
            }
            #expect(failure.problems.filter { $0.line == 2 }.map(\.field) == ["serial"], "\(rows.count) rows: \(failure.problems)")
            #expect(Set(failure.problems.filter { $0.line == 3 }.map(\.field)) == ["assetTag", "mac"], "\(rows.count) rows: \(failure.problems)")
            #expect(failure.problems.filter { $0.line == 3 }.allSatisfy { $0.problem.description.contains(d.serial) })
            #expect(failure.problems.count == 3)
            #expect(try w.count("SELECT count(*) FROM device") == total)
            #expect(try w.count("SELECT count(*) FROM deviceText") == indexed)
            #expect(try w.count("SELECT count(*) FROM searchDeferred") == 0)
        }
    }
}
