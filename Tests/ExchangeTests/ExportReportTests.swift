import Exchange
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import InventoryStore
import ParcCore
import Testing
import Yams

@Suite struct AnsibleInventoryTests {
    /// The sample with addresses on the cart's laptops, as managed devices have.
    func managed() throws -> Workspace {
        let w = try Workspace()
        try w.inventory.write { tx in
            for i in 31...46 {
                _ = try tx.updateDevice("PF4NLV\(i)") { $0.address = "127.0.0.\(i)"; $0.hostname = "nlv-ce2-\(i)"; $0.sshPort = 22 }
            }
        }
        return w
    }

    @Test func hostsCarryConnectionVariablesAndGroupsFollowTheInventory() throws {
        let w = try managed()
        let yaml = try w.inventory.read { try DeviceExport.ansibleInventory($0) }
        let root = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        let all = try #require(root["all"] as? [String: Any])
        let hosts = try #require(all["hosts"] as? [String: Any])
        #expect(hosts.count == 16, "only devices with an address")
        let host = try #require(hosts["nlv-ce2-31"] as? [String: Any])
        #expect(host["ansible_host"] as? String == "127.0.0.31")
        #expect(host["ansible_port"] as? Int == 22)
        #expect(host["ansible_user"] as? String == "parc")
        #expect(host["parc_serial"] as? String == "PF4NLV31")
        #expect(host["parc_school_name"] as? String == "École primaire de Norroy-le-Veneur")
        let children = try #require(all["children"] as? [String: Any])
        for group in ["commune_norroy_le_veneur", "school_0572113m", "room_0572113m_classe_ce2_cm1", "cart_nlv_2024_010", "kind_laptop"] {
            let members = try #require((children[group] as? [String: Any])?["hosts"] as? [String: Any], "group \(group)")
            #expect(members.count == 16, "group \(group)")
        }
        #expect(children["kind_interactiveScreen"] == nil, "the screen has no address")
        let everything = try #require(try Yams.load(yaml: try w.inventory.read { try DeviceExport.ansibleInventory($0, includeAll: true) }) as? [String: Any])
        #expect(((everything["all"] as? [String: Any])?["hosts"] as? [String: Any])?.count == 18)
    }

    @Test func ansibleInventoryAcceptsIt() throws {
        let w = try managed()
        let file = try w.file("inventory.yml", try w.inventory.read { try DeviceExport.ansibleInventory($0) })
        let candidates: [String?] = [ProcessInfo.processInfo.environment["PARC_ANSIBLE_INVENTORY"],
                          Workspace.repo.appendingPathComponent(".venv-ansible/bin/ansible-inventory").path, "/usr/bin/ansible-inventory"]
        guard let tool = candidates.compactMap({ $0 }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("ansible-inventory is needed: run scripts/setup-ansible (scripts/test does)")
            return
        }
        let out = w.dir.appendingPathComponent("list.json").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\"$0\" -i \"$1\" --list > \"$2\" 2> \"$2.err\"", tool, file, out]
        try p.run()
        p.waitUntilExit()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        // Ansible's warnings about the inventory go to stderr (a Python library's own deprecation
        // warnings too, which say nothing about the file).
        let warnings = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 0, "\(text)\(warnings)")
        #expect(!warnings.contains("[WARNING]") && !text.contains("[WARNING]"), "\(warnings)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let meta = try #require((json["_meta"] as? [String: Any])?["hostvars"] as? [String: Any])
        #expect((meta["nlv-ce2-40"] as? [String: Any])?["ansible_host"] as? String == "127.0.0.40")
        #expect(((json["school_0572113m"] as? [String: Any])?["hosts"] as? [String])?.count == 16)
    }
}

@Suite struct ReportTests {
    let day = try! Day(parsing: "2027-09-01")

    func report(_ w: Workspace) throws -> EquipmentReport {
        try w.inventory.read { try EquipmentReport.build($0, member: "norroy-le-veneur", warrantyMonths: 4, today: day) }
    }

    @Test func theReportCountsPurchasesFundingWarrantiesAndTroubles() throws {
        let w = try Workspace()
        try w.inventory.write { tx in
            _ = try tx.setStatus("PF4NLV33", .inRepair)
            _ = try tx.setStatus("PF4NLV34", .lost)
        }
        let r = try report(w)
        #expect(r.allDevices.count == 18)
        #expect(r.byKind.first { $0.0 == .laptop }?.1 == 16)
        #expect(r.byStatus.first { $0.0 == .inRepair }?.1 == 1)
        #expect(r.totalInclTax == Money(cents: 1_918_800))
        let departement = try #require(r.funding.first { $0.funder == .departement })
        #expect(departement.requested == Money(cents: 959_400))
        #expect(departement.granted == Money(cents: 817_320))
        #expect(r.warrantyEnding.count == 16, "the laptops' warranties end 2027-12-16, within 4 months of 2027-09-01")
        #expect(r.warrantyEnding.allSatisfy { $0.kind == .laptop })
        #expect(r.needsAttention.map(\.serial) == ["PF4NLV33", "PF4NLV34"])
        #expect(r.byLot.count == 2)
    }

    @Test func warrantiesEndingWithinTheWindowAreListed() throws {
        let w = try Workspace()
        let short = try w.inventory.read { try EquipmentReport.build($0, member: "57511", warrantyMonths: 2, today: try Day(parsing: "2026-11-01")) }
        #expect(short.warrantyEnding.map(\.serial) == ["CHR16-240877"], "the cart's warranty ends 2026-12-16")
        let none = try w.inventory.read { try EquipmentReport.build($0, member: "57511", warrantyMonths: 1, today: try Day(parsing: "2026-11-01")) }
        #expect(none.warrantyEnding.isEmpty)
    }

    @Test func theHTMLPageIsStandaloneWellFormedAndInFrench() throws {
        let w = try Workspace()
        let html = try report(w).html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("lang=\"fr\""))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count == 2, "no external asset, only the XHTML namespace")
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"))
        // Well-formed (XHTML): an XML parser reads it to the end.
        let checker = Structure()
        let parser = XMLParser(data: Data(html.dropFirst("<!DOCTYPE html>\n".count).utf8))
        parser.delegate = checker
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(checker.headings.contains("Synthèse"))
        #expect(checker.headings.contains("Équipement par école et par salle"))
        #expect(checker.headings.contains("Achats"))
        #expect(checker.headings.contains("Financement"))
        #expect(checker.headings.contains { $0.hasPrefix("Garanties se terminant d'ici 4 mois") })
        #expect(checker.headings.contains("Matériel en réparation ou perdu"))
        #expect(checker.cells.contains("19\u{202F}188,00\u{00A0}€"), "total incl. tax, French form")
        #expect(checker.cells.contains("057-215705112-20240923-2024DEL033-DE"))
        #expect(checker.cells.contains("Département (Ambition Moselle)"))
        #expect(checker.tableCount >= 6)
    }

    @Test func textAndCSVFormsCarryTheSameFigures() throws {
        let w = try Workspace()
        let r = try report(w)
        let text = r.text()
        #expect(text.contains("Synthèse : 18\u{00A0}équipements"))
        #expect(text.contains("Délibération d'adhésion : 1.4-033/2024 du 23/09/2024"))
        #expect(text.contains("Département (Ambition Moselle) : 9\u{202F}594,00\u{00A0}€ / 8\u{202F}173,20\u{00A0}€"))
        let csv = r.csv().components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csv.count == 19)
        #expect(csv[0].hasPrefix("\u{FEFF}École;UAI;Salle;Chariot;Type"), "a UTF-8 byte-order mark first, for spreadsheets")
        #expect(csv.contains { $0.contains("PF4NLV31;NLV-2024-011;En service;BC-2024-042;2;810,00;16/12/2027") })
        #expect(csv.contains { $0.contains("\"SpeechiTouch 86\"\" 4K\"") }, "a quote in a cell is doubled inside quotes")
    }

    @Test func aSchoolReportCoversOnlyThatSchool() throws {
        let w = try Workspace()
        try w.inventory.write { tx in
            try tx.addSchool(uai: "0750655E", name: "Autre école", member: "norroy-le-veneur")
            try tx.addRoom(school: "0750655E", name: "A")
            _ = try tx.addDevice(Device(kind: .projector, serial: "P-1", roomId: try tx.room(school: "0750655E", name: "A").id))
        }
        let r = try w.inventory.read { try EquipmentReport.build($0, school: "0750655E", today: day) }
        #expect(r.allDevices.map(\.serial) == ["P-1"])
        #expect(r.orders.isEmpty)
        #expect(r.title.contains("Autre école"))
    }
}

/// Collects headings, cells and tables of an XHTML page.
final class Structure: NSObject, XMLParserDelegate {
    var headings: [String] = []
    var cells: [String] = []
    var tableCount = 0
    private var current: String?
    private var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "table" { tableCount += 1 }
        if ["h1", "h2", "h3", "h4", "td"].contains(name) { current = name; text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if current != nil { text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard name == current else { return }
        if name == "td" { cells.append(text) } else { headings.append(text) }
        current = nil
    }
}

@Suite struct LabelTests {
    @Test func qrCodesComeFromLibqrencodeAndScanBack() throws {
        let qr = try QRMatrix("NLV-2024-011")
        #expect(qr.width == 21 + 4 * (qr.version - 1))
        // The three finder patterns: dark corners.
        #expect(qr.isDark(0, 0) && qr.isDark(qr.width - 1, 0) && qr.isDark(0, qr.width - 1))
        let zbar = "/usr/bin/zbarimg"
        guard FileManager.default.isExecutableFile(atPath: zbar) else {
            Issue.record("zbarimg (zbar-tools) is needed to scan the code back; scripts/setup-system installs it")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("tag.pgm")
        try Data(qr.pgm(scale: 6)).write(to: image)
        let out = dir.appendingPathComponent("out.txt").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // zbarimg also complains on stderr about D-Bus on machines without it: read stdout only.
        p.arguments = ["-c", "\"$0\" --quiet --raw \"$1\" > \"$2\" 2>/dev/null", zbar, image.path, out]
        try p.run()
        p.waitUntilExit()
        #expect(try String(contentsOfFile: out, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "NLV-2024-011")
    }

    @Test func theSheetHasOneLabelPerDeviceWithTagSerialSchoolAndQR() throws {
        let w = try Workspace()
        let rows = try w.inventory.read { try $0.devices(DeviceFilter(cart: "NLV-2024-010")) }
        let html = try LabelSheet.html(rows, title: "Étiquettes")
        #expect(html.components(separatedBy: "class=\"etiquette\"").count - 1 == 16)
        #expect(html.components(separatedBy: "<svg").count - 1 == 16)
        #expect(html.contains("NLV-2024-011") && html.contains("N° de série : PF4NLV31") && html.contains("École primaire de Norroy-le-Veneur (0572113M)"))
        let parser = XMLParser(data: Data(html.dropFirst("<!DOCTYPE html>\n".count).utf8))
        #expect(parser.parse())
    }
}
