import Foundation
import Testing

@Suite struct ExchangeCLITests {
    static let imports = ParcRunner.repo.appendingPathComponent("inventory/imports")

    @Test func theReadmeOnboardingOfADeliveryWorks() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let members = try await parc.run("import", "members", Self.imports.appendingPathComponent("membres-fusee.csv").path)
        #expect(members.status == 0, "\(members.stderr)")
        #expect(try await parc.run("import", "schools", Self.imports.appendingPathComponent("ecoles-fusee.csv").path).status == 0)
        #expect(try await parc.run("order", "add", "BC-2025-007", "--member", "plappeville", "--lot", "2").status == 0)
        let note = Self.imports.appendingPathComponent("bl-ene-25-02417.csv").path
        let dry = try await parc.run("import", "devices", note, "--order", "BC-2025-007", "--dry-run")
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("17 rows (Windows-1252, ';' separated): would create 17"))
        #expect(try await parc.run("find", "PF5PLP01", "--json").stdout.contains("[]"))
        let real = try await parc.run("import", "devices", note, "--order", "BC-2025-007")
        #expect(real.stdout.contains("created 17"))
        let move = try await parc.run("device", "move", "PLP-2025-100", "--school", "0571815N", "--room", "Salle informatique")
        #expect(move.stdout.contains("with the 16 device(s) it holds"))
        let report = try await parc.run("report", "school", "0571815N", "--date", "2026-11-29")
        #expect(report.stdout.contains("Salle informatique"))
        #expect(report.stdout.contains("17\u{00A0}équipements"))
    }

    @Test func aBadFileIsRefusedWithEveryLineAndAnExitStatus() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let file = parc.dir.appendingPathComponent("mauvais.csv").path
        try "serial;kind;school;room\nA-1;laptop;0572113M;Gymnase\nA-1;laptop;0572113M;BCD\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await parc.run("import", "devices", file)
        #expect(r.status != 0)
        #expect(r.stderr.contains("mauvais.csv:2: room: no room 'Gymnase'"))
        #expect(r.stderr.contains("mauvais.csv:3: serial: A-1 is already on line 2"))
        #expect(r.stderr.contains("nothing was imported"))
    }

    @Test("an unclosed quote is named with its line; a missing file is not a line to correct; every problem of a row is said, not the first")
    func fileMistakesAreNamedAsSuch() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let quote = parc.dir.appendingPathComponent("guillemet.csv").path
        try "N° de série;Type;Modèle\nA-1;laptop;Écran 65\" tactile\n\"A-2;laptop;x\nA-3;laptop;y\n".write(toFile: quote, atomically: true, encoding: .utf8)
        let q = try await parc.run("import", "devices", quote)
        #expect(q.status != 0)
        #expect(q.stderr.contains("guillemet.csv:3: file: a quote (\") opens a cell on this line and is never closed"), "\(q.stderr)")
        let absent = try await parc.run("import", "devices", parc.dir.appendingPathComponent("absent.csv").path)
        #expect(absent.status != 0 && absent.stderr.contains("there is no such file"), "\(absent.stderr)")
        #expect(!absent.stderr.contains(":0:") && !absent.stderr.contains("Correct the file"), "nothing in a missing file to correct: \(absent.stderr)")
        let many = parc.dir.appendingPathComponent("plusieurs.csv").path
        try "N° de série;Type;Adresse MAC;Port SSH;Nom d'hôte\nA 1;grille-pain;zz;99999;-mauvais-\n".write(toFile: many, atomically: true, encoding: .utf8)
        let m = try await parc.run("import", "devices", many)
        #expect(m.status != 0)
        for field in ["kind", "mac", "serial", "hostname", "sshPort"] {
            #expect(m.stderr.contains("plusieurs.csv:2: \(field):"), "\(field) is reported too: \(m.stderr)")
        }
        #expect(m.stderr.contains("5 problems"))
        #expect(try await parc.run("device", "list", "--json").stdout.contains("A-1") == false, "nothing was imported")
    }

    @Test func exportThenImportIntoAnotherInventoryGivesTheSameDevices() async throws {
        let a = try ParcRunner()
        try await a.run("init", "--sample")
        let csv = a.dir.appendingPathComponent("export.csv").path
        #expect(try await a.run("export", "devices", "-o", csv).status == 0)
        let b = try ParcRunner()
        // The same organisation without devices: load the sample, then empty it through the CLI.
        try await b.run("init", "--sample")
        for serial in (try await b.run("device", "list", "--kind", "laptop", "--csv").stdout.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",")[0] }) {
            #expect(try await b.run("device", "remove", String(serial)).status == 0)
        }
        #expect(try await b.run("device", "remove", "NLV-2024-010").status == 0)
        #expect(try await b.run("device", "remove", "NLV-2024-001").status == 0)
        let imported = try await b.run("import", "devices", csv)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try await a.run("device", "list", "--json").stdout == (try await b.run("device", "list", "--json").stdout))
    }

    @Test func reportAndLabelsWriteTheirFiles() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let html = parc.dir.appendingPathComponent("rapport.html").path
        let r = try await parc.run("report", "member", "norroy-le-veneur", "--format", "html", "-o", html)
        #expect(r.status == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("lang=\"fr\"") && page.contains("Équipement numérique — Norroy-le-Veneur"))
        let labels = parc.dir.appendingPathComponent("etiquettes.html").path
        let l = try await parc.run("labels", "--cart", "NLV-2024-010", "-o", labels)
        #expect(l.stdout.contains("17 labels on 1 A4 sheet"), "the cart's own label and its 16 laptops")
        #expect(try String(contentsOfFile: labels, encoding: .utf8).components(separatedBy: "<svg").count == 18)
        let yaml = try await parc.run("export", "ansible-inventory", "--all")
        #expect(yaml.stdout.contains("cart_nlv_2024_010:"))
    }
}
