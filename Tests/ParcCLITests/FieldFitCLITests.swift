import Foundation
import ParcCore
import Testing

/// What got in a new user's way (issue 15), each as the user met it.
@Suite struct FieldFitCLITests {
    /// A selection that matches nothing is not a mistake of the command line: a warning on
    /// standard error and exit 0, as Ansible does; 64 stays for command-line mistakes.
    @Test func nothingMatchedWarnsAndExitsZero() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        // The sample's devices have no address: nothing to reach.
        let run = try await parc.run("run", "playbooks/baseline.yml")
        #expect(run.status == 0 && run.stderr.contains("[WARNING]: no device with an address matches"), "\(run.status) \(run.stderr)")
        let ping = try await parc.run("ping", "all")
        #expect(ping.status == 0 && ping.stderr.contains("[WARNING]:") && ping.stderr.contains("nothing to ping"), "\(ping.status) \(ping.stderr)")
        let facts = try await parc.run("facts", "all")
        #expect(facts.status == 0 && facts.stderr.contains("nothing to read"), "\(facts.status) \(facts.stderr)")
        let sheet = parc.dir.appendingPathComponent("labels.html").path
        let labels = try await parc.run("labels", "-o", sheet, "--kind", "projector")
        #expect(labels.status == 0 && labels.stderr.contains("nothing to print"), "\(labels.status) \(labels.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sheet))
        // A mistake of the command line keeps its 64 and its usage text.
        let mistake = try await parc.run("run")
        #expect(mistake.status == 64 && mistake.stderr.contains("give a playbook"))
    }

    /// Only `parc init` creates an inventory: a mistyped --database or PARC_DATABASE is refused,
    /// saying which gave the path and what to do, and nothing is created.
    @Test func aMissingDatabaseIsRefusedExceptByInit() async throws {
        let parc = try ParcRunner()
        let typo = parc.dir.appendingPathComponent("typo/parc.sqlite").path
        let listed = try await parc.run("device", "list", "--database", typo)
        #expect(listed.status != 0 && listed.stderr.contains("there is no inventory here") && listed.stderr.contains("--database gave this path")
                && listed.stderr.contains("parc init"), "\(listed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parc.dir.appendingPathComponent("typo").path), "not even its folder is made")
        let fromEnvironment = try await parc.run("member", "list")
        #expect(fromEnvironment.status != 0 && fromEnvironment.stderr.contains("PARC_DATABASE gave this path"), "\(fromEnvironment.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parc.database))
        let made = try await parc.run("init", "--database", typo)
        #expect(made.status == 0 && FileManager.default.fileExists(atPath: typo))
        #expect(try await parc.run("device", "list", "--database", typo).status == 0)
    }

    /// French words parc prints are accepted where it reads a kind or a status, and listed.
    @Test func frenchLabelsAreAcceptedOnInputAndListedInHelp() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let add = try await parc.run("device", "add", "--kind", "Vidéoprojecteur", "--serial", "VP-1", "--school", "0572113M", "--room", "BCD")
        #expect(add.status == 0, "\(add.stderr)")
        let screens = try await parc.run("device", "list", "--kind", "TBI", "--status", "En service", "--csv")
        #expect(screens.status == 0 && screens.stdout.contains("interactiveScreen"), "\(screens.stderr)")
        let projectors = try await parc.run("device", "list", "--kind", "vidéoprojecteur", "--csv")
        #expect(projectors.stdout.contains("VP-1"))
        let help = try await parc.run("device", "list", "--help")
        let helpText = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(helpText.contains("PC portable") && helpText.contains("En service"), "the accepted words are listed in --help")
        let wrong = try await parc.run("device", "list", "--kind", "imprimante")
        #expect(wrong.status == 64 && wrong.stderr.contains("Classe mobile (chariot)"), "\(wrong.stderr)")
    }

    /// Laptops never contacted are findings of reconcile, with or without an address.
    @Test func reconcileReportsLaptopsNeverSeen() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let text = try await parc.run("reconcile", "all")
        #expect(text.status == 2 && !text.stdout.contains("agree") && text.stdout.contains("never seen, and no address"), "\(text.stdout)")
        let json = try await parc.run("reconcile", "all", "--json")
        let findings = try #require(try ParcRunner.json(json.stdout) as? [[String: Any]])
        let laptops = findings.filter { $0["kind"] as? String == "neverSeen" }
        #expect(laptops.count == 16, "the sample's 16 laptops, never contacted")
    }

    /// A cart's sheet has the cart's own label; devices without an asset tag are named in a
    /// warning; every QR code has a text alternative.
    @Test func labelsOfACartIncludeTheCartAndSayWhatLacksATag() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let added = try await parc.run("device", "add", "--kind", "laptop", "--serial", "NOTAG-1", "--cart", "NLV-2024-010")
        #expect(added.status == 0, "\(added.stderr)")
        let sheet = parc.dir.appendingPathComponent("chariot.html").path
        let r = try await parc.run("labels", "--cart", "NLV-2024-010", "-o", sheet)
        #expect(r.status == 0 && r.stderr.contains("NOTAG-1") && r.stderr.contains("without an asset tag"), "\(r.stderr)")
        let html = try String(contentsOfFile: sheet, encoding: .utf8)
        let labels = html.components(separatedBy: "class=\"etiquette\"").count - 1
        #expect(labels == 18 && html.contains("aria-label=\"QR code : NLV-2024-010\""), "the cart, its 16 laptops and the new one: \(labels)")
        #expect(html.components(separatedBy: "role=\"img\"").count - 1 == labels, "every QR code has a text alternative")
    }

    /// Listings have --json and --csv, in one shape: an array of objects keyed by field name.
    @Test func listingsHaveJSONAndCSVAndHistoryHasARowPerChange() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let groups = try #require(try ParcRunner.json(try await parc.run("groups", "--json").stdout) as? [[String: Any]])
        #expect(groups.contains { $0["group"] as? String == "commune_norroy_le_veneur" && ($0["serials"] as? [String])?.isEmpty == false })
        #expect(try await parc.run("groups", "--csv").stdout.hasPrefix("group,count,serials\r\n"))
        #expect(try await parc.run("pending", "--csv").stdout == "device,serial,playbook,reason,since,runId\r\n")
        #expect((try ParcRunner.json(try await parc.run("runs", "list", "--json").stdout) as? [Any])?.isEmpty == true)
        #expect(try await parc.run("runs", "list", "--csv").stdout.hasPrefix("id,startedAt,playbook,selector,checkMode,actor,exitCode"))
        #expect(try await parc.run("device", "edit", "PF4NLV31", "--model", "Autre modèle", "--notes", "vu").status == 0)
        let history = try await parc.run("history", "PF4NLV31", "--csv").stdout.split(separator: "\r\n").map(String.init)
        #expect(history.first == "at,actor,action,field,old,new")
        #expect(history.contains { $0.hasSuffix(",update,model,\"Ecran SMART MX275\",Autre modèle") || ($0.contains(",update,model,") && $0.hasSuffix(",Autre modèle")) })
        #expect(history.contains { $0.contains(",update,notes,") }, "one row per change: \(history)")
    }

    /// The report prints on A4 with page numbers, the commune as running header and a signature
    /// block; --format pdf goes through a real renderer; CSV for spreadsheets has ';' and a BOM,
    /// and the --excel export re-imports as it was (issue 15, item 8).
    @Test func theReportAsPDFAndSpreadsheetFiles() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let pdf = parc.dir.appendingPathComponent("rapport.pdf").path
        let made = try await parc.run("report", "member", "norroy-le-veneur", "--format", "pdf", "-o", pdf, "--date", "2025-01-15")
        #expect(made.status == 0, "\(made.stderr)")
        let text = try Self.pdftotext(pdf).replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
        #expect(text.contains("11 014,80") && text.contains("Reste à charge"), "the amounts are in the PDF")
        #expect(text.contains("Page 1 / ") && text.contains("Norroy-le-Veneur — équipement numérique"), "page numbers and the running header")
        #expect(text.contains("Fait à Norroy-le-Veneur, le 15/01/2025") && text.contains("Le maire"))
        #expect(try await parc.run("report", "member", "norroy-le-veneur", "--format", "pdf").status == 64, "a PDF needs -o")
        // Laid out, not piled up: no two lines of text overlap on a page, and no asset tag or serial
        // is broken across lines (issue 26: the summary's tables drawn on top of each other, "NLV-2024-0 / 10").
        let layout = try Self.pdfLayout(pdf)
        #expect(layout.pages >= 2)
        #expect(layout.overlaps.isEmpty, "overlapping text: \(layout.overlaps.prefix(5))")
        let devices = try #require(try ParcRunner.json(try await parc.run("device", "list", "--member", "norroy-le-veneur", "--json").stdout) as? [[String: Any]])
        let codes = devices.flatMap { [$0["serial"] as? String, $0["assetTag"] as? String].compactMap { $0 } }
        #expect(codes.count > 10)
        let missing = codes.filter { !layout.words.contains($0) }
        #expect(missing.isEmpty, "broken across lines or missing: \(missing)")
        let csv = try await parc.run("report", "member", "norroy-le-veneur", "--format", "csv")
        #expect(csv.stdout.hasPrefix("\u{FEFF}École;UAI;Salle;"))
        let export = parc.dir.appendingPathComponent("parc.csv").path
        #expect(try await parc.run("export", "devices", "--excel", "-o", export).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: export))
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF] && String(decoding: bytes, as: UTF8.self).contains("N° de série;N° d'inventaire;Type;"))
        let back = try await parc.run("import", "devices", export, "--update", "--dry-run", "--json")
        let report = try #require(try ParcRunner.json(back.stdout) as? [String: Any], "\(back.stderr)")
        #expect(report["unchanged"] as? Int == 18 && report["updated"] as? Int == 0 && report["created"] as? Int == 0, "\(back.stdout)")
    }

    /// Every line box of a PDF (`pdftotext -bbox-layout`) by page: the pairs that overlap, and the words.
    static func pdfLayout(_ path: String) throws -> (pages: Int, overlaps: [String], words: Set<String>) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pdftotext")
        p.arguments = ["-bbox-layout", path, "-"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let xml = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var overlaps: [String] = [], words = Set<String>()
        let pages = xml.components(separatedBy: "<page ").dropFirst()
        for (number, page) in pages.enumerated() {
            var lines: [(x0: Double, y0: Double, x1: Double, y1: Double, text: String)] = []
            for chunk in page.components(separatedBy: "<line ").dropFirst() {
                guard let m = chunk.firstMatch(of: /xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)"/) else { continue }
                let text = chunk.matches(of: />([^<]+)<\/word>/).map { String($0.output.1) }
                words.formUnion(text)
                lines.append((Double(m.output.1)!, Double(m.output.2)!, Double(m.output.3)!, Double(m.output.4)!, text.joined(separator: " ")))
            }
            for i in lines.indices {
                for j in lines.indices where j > i {
                    let a = lines[i], b = lines[j]
                    let w = min(a.x1, b.x1) - max(a.x0, b.x0), h = min(a.y1, b.y1) - max(a.y0, b.y0)
                    if w > 1 && h > 1 { overlaps.append("page \(number + 1): '\(a.text)' over '\(b.text)'") }
                }
            }
        }
        return (pages.count, overlaps, words)
    }

    static func pdftotext(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pdftotext")
        p.arguments = ["-layout", path, "-"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Replacement planning: by age and warranty, what to renew each year at the latest price paid (item 9).
    @Test func theRenewalPlanSaysWhatToRenewEachYearAndWhatItCosts() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let r = try await parc.run("report", "renewal", "norroy-le-veneur", "--date", "2027-01-15")
        let text = r.stdout.replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(text.contains("2029 : 16 équipements, coût estimé 12 960,00 €"), "16 laptops delivered in December 2024, 5 years, 810 € each: \(text)")
        #expect(text.contains("2032 : 1 équipement, coût estimé 4 980,00 €") && text.contains("2034 : 1 équipement,"))
        #expect(text.contains("n° de série PF4NLV31, livré le 16/12/2024 (2 ans), garantie jusqu'au 16/12/2027, à renouveler en 2029"))
        let longer = try await parc.run("report", "renewal", "norroy-le-veneur", "--date", "2027-01-15", "--life", "PC portable=6")
        #expect(longer.stdout.replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ").contains("2030 : 16 équipements"))
        let csv = try await parc.run("report", "renewal", "norroy-le-veneur", "--format", "csv")
        #expect(csv.stdout.hasPrefix("\u{FEFF}Type;Modèle;N° de série;") && csv.stdout.contains(";2029;810,00"))
    }

    /// Lending a mobile class to another school and getting it back (item 6).
    @Test func aCartIsLentAndReturnedFromTheCommandLine() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        try await parc.run("school", "add", "0572114N", "--name", "École de Plesnois", "--member", "norroy-le-veneur")
        try await parc.run("room", "add", "0572114N", "CM1")
        let lent = try await parc.run("cart", "lend", "NLV-2024-010", "--school", "0572114N", "--room", "CM1", "--until", "2099-06-30")
        #expect(lent.status == 0 && lent.stdout.contains("Lent cart NLV-2024-010 to 0572114N / CM1"), "\(lent.stderr)")
        let loans = try #require(try ParcRunner.json(try await parc.run("cart", "loans", "--open", "--json").stdout) as? [[String: Any]])
        #expect(loans.count == 1 && loans[0]["overdue"] as? Bool == false)
        #expect(try await parc.run("device", "list", "--school", "0572114N", "--csv").stdout.contains("PF4NLV31"))
        let back = try await parc.run("cart", "return", "NLV-2024-010")
        #expect(back.status == 0 && back.stdout.contains("is back in 0572113M"), "\(back.stdout) \(back.stderr)")
        #expect(try await parc.run("cart", "loans", "--overdue", "--csv").stdout == "id,cart,to,home,since,until,returnedOn,overdue\r\n")
    }
}
