import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Lab
import Testing

/// The portal's command line: accounts, tokens, problems, documents, labels with the portal's
/// address, and `parc serve` itself as a process (HTTP on loopback, SIGTERM).
@Suite struct PortalCLITests {
    static func sample() async throws -> ParcRunner {
        let parc = try ParcRunner()
        let r = try await parc.run("init", "--sample")
        #expect(r.status == 0, "\(r.stderr)")
        return parc
    }

    func passwordFile(_ parc: ParcRunner, _ text: String) throws -> String {
        let path = parc.dir.appendingPathComponent("pw-\(UUID().uuidString)").path
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("user add/list/passwd/disable/remove: bcrypt hashes only, clear errors")
    func users() async throws {
        let parc = try await Self.sample()
        let pw = try passwordFile(parc, "un-mot-de-passe-long")
        let add = try await parc.run("user", "add", "mairie.norroy", "--role", "commune", "--member", "norroy-le-veneur", "--password-file", pw)
        #expect(add.status == 0, "\(add.stderr)")
        let tech = try await parc.run("user", "add", "tech", "--role", "technician", "--password-file", pw)
        #expect(tech.status == 0)
        let noMember = try await parc.run("user", "add", "mairie.x", "--role", "commune", "--password-file", pw)
        #expect(noMember.status != 0 && noMember.stderr.contains("--member"), "\(noMember.stderr)")
        let memberForTech = try await parc.run("user", "add", "tech2", "--role", "technician", "--member", "norroy-le-veneur", "--password-file", pw)
        #expect(memberForTech.status != 0 && memberForTech.stderr.contains("only commune accounts belong to a member"))
        let short = try await parc.run("user", "add", "court", "--role", "admin", "--password-file", try passwordFile(parc, "court"))
        #expect(short.status != 0 && short.stderr.contains("at least 10 characters"))
        let duplicate = try await parc.run("user", "add", "TECH", "--role", "admin", "--password-file", pw)
        #expect(duplicate.status != 0 && duplicate.stderr.contains("already exists"))
        let badRole = try await parc.run("user", "add", "someone", "--role", "mayor", "--password-file", pw)
        #expect(badRole.status != 0 && badRole.stderr.contains("admin, technician, commune"))
        let noTerminal = try await parc.run("user", "add", "someone", "--role", "admin")
        #expect(noTerminal.status != 0 && noTerminal.stderr.contains("--password-file"))

        let list = try ParcRunner.json(try await parc.run("user", "list", "--json").stdout) as! [[String: Any]]
        #expect(list.map { $0["login"] as! String } == ["mairie.norroy", "tech"])
        #expect(list[0]["member"] as? String == "norroy-le-veneur" && list[0]["role"] as? String == "commune")
        let db = try Data(contentsOf: URL(fileURLWithPath: parc.database))
        #expect(db.range(of: Data("un-mot-de-passe-long".utf8)) == nil, "no password in clear in the database")
        #expect(db.range(of: Data("$2b$".utf8)) != nil || db.range(of: Data("$2a$".utf8)) != nil, "a bcrypt hash")

        #expect(try await parc.run("user", "passwd", "tech", "--password-file", try passwordFile(parc, "encore-un-autre-mot")).status == 0)
        #expect(try await parc.run("user", "disable", "tech").status == 0)
        let disabled = try ParcRunner.json(try await parc.run("user", "list", "--json").stdout) as! [[String: Any]]
        #expect(disabled[1]["disabled"] as? Bool == true)
        #expect(try await parc.run("user", "remove", "tech").status == 0)
        let gone = try await parc.run("user", "passwd", "tech", "--password-file", pw)
        #expect(gone.status != 0 && gone.stderr.contains("no account 'tech'"))
        let log = try ParcRunner.json(try await parc.run("user", "log", "tech", "--json").stdout) as! [[String: Any]]
        #expect(log.map { $0["action"] as! String } == ["delete", "update", "update", "create"], "newest first: removed, disabled, password, created")
        #expect((log[2]["details"] as? String)?.contains("password=(changed)") == true)
        #expect(!(try await parc.run("user", "log", "--json").stdout.contains("un-mot-de-passe-long")))
    }

    @Test("token add prints the token once; list shows its prefix only; revoke stops it")
    func tokens() async throws {
        let parc = try await Self.sample()
        let pw = try passwordFile(parc, "un-mot-de-passe-long")
        #expect(try await parc.run("user", "add", "tech", "--role", "technician", "--password-file", pw).status == 0)
        let add = try await parc.run("token", "add", "tech", "--name", "glpi")
        #expect(add.status == 0)
        let token = add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("parc_") && token.count > 40)
        #expect(add.stderr.contains("shown only now"))
        let list = try await parc.run("token", "list")
        #expect(list.stdout.contains("glpi") && list.stdout.contains(String(token.prefix(10))) && !list.stdout.contains(token))
        let db = try Data(contentsOf: URL(fileURLWithPath: parc.database))
        #expect(db.range(of: Data(token.utf8)) == nil, "only the digest is kept")
        let revoke = try await parc.run("token", "revoke", String(token.prefix(10)))
        #expect(revoke.status == 0 && revoke.stdout.contains("revoked"))
        let again = try await parc.run("token", "revoke", String(token.prefix(10)))
        #expect(again.status != 0 && again.stderr.contains("no token"))
    }

    @Test("documents: PDFs only, 20 MB at most, listed per member")
    func documents() async throws {
        let parc = try await Self.sample()
        let pdf = parc.dir.appendingPathComponent("deliberation.pdf")
        try Data("%PDF-1.4\n%%EOF\n".utf8).write(to: pdf)
        let add = try await parc.run("document", "add", pdf.path, "--member", "norroy-le-veneur", "--kind", "deliberation", "--title", "Délibération d'adhésion")
        #expect(add.status == 0, "\(add.stderr)")
        let onOrder = try await parc.run("document", "add", pdf.path, "--member", "norroy-le-veneur", "--order", "BC-2024-042", "--kind", "deliveryNote")
        #expect(onOrder.status == 0, "\(onOrder.stderr)")
        let docx = parc.dir.appendingPathComponent("note.docx")
        try Data("PK\u{3}\u{4}rest".utf8).write(to: docx)
        let refused = try await parc.run("document", "add", docx.path, "--member", "norroy-le-veneur")
        #expect(refused.status != 0 && refused.stderr.contains("not a PDF"), "\(refused.stderr)")
        let big = parc.dir.appendingPathComponent("big.pdf")
        FileManager.default.createFile(atPath: big.path, contents: Data("%PDF-".utf8))
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: 21 * 1024 * 1024)
        try handle.close()
        let tooBig = try await parc.run("document", "add", big.path, "--member", "norroy-le-veneur")
        #expect(tooBig.status != 0 && tooBig.stderr.contains("at most 20 MB"))
        let list = try ParcRunner.json(try await parc.run("document", "list", "--json").stdout) as! [[String: Any]]
        #expect(list.count == 2)
        #expect(list[1]["order"] as? String == "BC-2024-042" && list[1]["kind"] as? String == "deliveryNote")
        let sum = try await Self.tool(["sha256sum", pdf.path]).out.prefix(64)
        #expect(list.allSatisfy { $0["sha256"] as? String == String(sum) }, "the store records the content's own digest")
    }

    static func get(_ url: String, token: String? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: url)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, data)
    }

    @Test("parc serve: the API over the CLI's own database answers what `parc device list --json` prints; a problem reported there reaches `parc problem`; SIGTERM stops it cleanly")
    func serve() async throws {
        let parc = try await Self.sample()
        let pw = try passwordFile(parc, "un-mot-de-passe-long")
        #expect(try await parc.run("user", "add", "mairie", "--role", "commune", "--member", "norroy-le-veneur", "--password-file", pw).status == 0)
        let token = try await parc.run("token", "add", "mairie").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try Lab.freePort()
        let (process, _, err) = try parc.start(["serve", "--listen", "127.0.0.1:\(port)"])
        defer { if process.isRunning { process.terminate() } }
        var up = false
        for _ in 0..<100 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? await Self.get("http://127.0.0.1:\(port)/api/v1/openapi.json"))?.status == 200
        }
        #expect(up, "the portal answers on 127.0.0.1:\(port)")
        let api = try await Self.get("http://127.0.0.1:\(port)/api/v1/devices", token: token)
        #expect(api.status == 200)
        let cli = try await parc.run("device", "list", "--member", "norroy-le-veneur", "--json")
        let fromAPI = try JSONSerialization.jsonObject(with: api.body) as! [[String: Any]]
        let fromCLI = try ParcRunner.json(cli.stdout) as! [[String: Any]]
        #expect(fromAPI.count == fromCLI.count && fromAPI.count == 18)
        #expect(NSArray(array: fromAPI).isEqual(to: fromCLI), "the same objects, keyed the same")
        // A write from the CLI while the server runs is seen at once (one database file, WAL).
        #expect(try await parc.run("device", "status", "PF4NLV33", "lost").status == 0)
        let lost = try await Self.get("http://127.0.0.1:\(port)/api/v1/devices/PF4NLV33", token: token)
        #expect(String(decoding: lost.body, as: UTF8.self).contains("\"status\":\"lost\""))
        let page = try await Self.get("http://127.0.0.1:\(port)/materiels/PF4NLV31")
        #expect(page.status == 200, "the sign-in page, after a redirect")
        #expect(String(decoding: page.body, as: UTF8.self).contains("Connexion"))

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/problems")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let serial = fromCLI.first { $0["kind"] as? String == "laptop" }!["serial"] as! String
        request.httpBody = Data(#"{"serial":"\#(serial)","kind":"missing","description":"Introuvable depuis la sortie","contactName":"M. Dupont","contactPhone":"03 87 00 11 22"}"#.utf8)
        let (_, posted) = try await URLSession.shared.data(for: request)
        #expect((posted as! HTTPURLResponse).statusCode == 201)
        let problems = try ParcRunner.json(try await parc.run("problem", "list", "--json").stdout) as! [[String: Any]]
        #expect(problems.count == 1 && problems[0]["serial"] as? String == serial && problems[0]["reportedBy"] as? String == "mairie")
        let accept = try await parc.run("problem", "accept", "1")
        #expect(accept.status == 0 && accept.stdout.contains("inRepair"))
        let again = try await parc.run("problem", "accept", "1")
        #expect(again.status != 0 && again.stderr.contains("already accepted"))
        let device = try ParcRunner.json(try await parc.run("device", "show", serial, "--json").stdout) as! [String: Any]
        #expect(device["status"] as? String == "inRepair")
        #expect(try await parc.run("problem", "note", "1", "Recherché dans les autres salles").status == 0)
        let close = try await parc.run("problem", "close", "1", "--done", "Retrouvé dans la salle des maîtres", "--outcome", "repaired")
        #expect(close.status == 0)
        let shown = try ParcRunner.json(try await parc.run("problem", "show", "1", "--json").stdout) as! [String: Any]
        #expect(shown["state"] as? String == "closed" && shown["resolution"] as? String == "Retrouvé dans la salle des maîtres" && shown["outcome"] as? String == "repaired")
        #expect((shown["followUps"] as? [String])?.first?.hasSuffix(": Recherché dans les autres salles") == true, "\(shown)")
        let back = try ParcRunner.json(try await parc.run("device", "show", serial, "--json").stdout) as! [String: Any]
        #expect(back["status"] as? String == "deployed", "closed as repaired: back in service in its cart")
        let followed = try await Self.get("http://127.0.0.1:\(port)/api/v1/problems/1", token: token)
        #expect(String(decoding: followed.body, as: UTF8.self).contains("\"state\":\"closed\""))

        kill(process.processIdentifier, SIGTERM)
        let stopped = try await ParcRunner.offPool { () -> Bool in
            for _ in 0..<100 { if !process.isRunning { return true }; Thread.sleep(forTimeInterval: 0.05) }
            return false
        }
        #expect(stopped, "SIGTERM stops the server within 5 s")
        #expect(process.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
    }

    /// Runs a program (openssl, curl) and returns its status and standard output.
    static func tool(_ args: [String]) async throws -> (status: Int32, out: String) {
        try await ParcRunner.offPool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

    @Test("parc serve --tls-cert/--tls-key serves HTTPS itself; one without the other is refused")
    func tls() async throws {
        let parc = try await Self.sample()
        let cert = parc.dir.appendingPathComponent("cert.pem").path, key = parc.dir.appendingPathComponent("key.pem").path
        let made = try await Self.tool(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                        "-days", "1", "-subj", "/CN=127.0.0.1"])
        #expect(made.status == 0)
        let half = try await parc.run("serve", "--tls-cert", cert)
        #expect(half.status != 0 && half.stderr.contains("give both --tls-cert and --tls-key"))
        let port = try Lab.freePort()
        let (process, _, _) = try parc.start(["serve", "--listen", "127.0.0.1:\(port)", "--tls-cert", cert, "--tls-key", key])
        defer { if process.isRunning { process.terminate() } }
        var answer = ""
        for _ in 0..<100 where answer.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            answer = try await Self.tool(["curl", "-sk", "https://127.0.0.1:\(port)/api/v1/openapi.json"]).out
        }
        #expect(answer.contains("\"openapi\":\"3.1.0\""), "HTTPS answers")
        let plain = try await Self.tool(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/api/v1/openapi.json"])
        #expect(plain.out != "200", "plain HTTP is not served on the TLS port")
        kill(process.processIdentifier, SIGTERM)
    }

    @Test("problem report records a call taken by phone; bad input names the field and writes nothing")
    func problemReport() async throws {
        let parc = try await Self.sample()
        let badDay = try await parc.run("problem", "report", "PF4NLV32", "--kind", "broken", "--description", "Ne démarre plus",
                                        "--since", "31/02/2026", "--contact-name", "Mme Lambert", "--contact-phone", "03 87 00 00 00")
        #expect(badDay.status != 0 && badDay.stderr.contains("since"), "\(badDay.stderr)")
        let noText = try await parc.run("problem", "report", "PF4NLV32", "--kind", "broken", "--description", "  ",
                                        "--contact-name", "Mme Lambert", "--contact-phone", "03 87 00 00 00")
        #expect(noText.status != 0 && noText.stderr.contains("say what is wrong"), "\(noText.stderr)")
        let unknown = try await parc.run("problem", "report", "NOPE", "--kind", "broken", "--description", "x",
                                         "--contact-name", "Mme Lambert", "--contact-phone", "03 87 00 00 00")
        #expect(unknown.status != 0 && unknown.stderr.contains("no device 'NOPE'"))
        for phone in ["abc", "", "03 87"] {
            let bad = try await parc.run("problem", "report", "PF4NLV32", "--kind", "broken", "--description", "Ne démarre plus",
                                         "--contact-name", "Mme Lambert", "--contact-phone", phone)
            #expect(bad.status != 0 && bad.stderr.contains("contactPhone") && bad.stderr.contains("10 digits"), "'\(phone)': \(bad.stderr)")
        }
        #expect(try await parc.run("problem", "list", "--all", "--csv").stdout.split(separator: "\n").count == 1, "nothing written")
        let ok = try await parc.run("problem", "report", "NLV-2024-012", "--actor", "accueil-mairie", "--kind", "damaged", "--description", "Coque fendue",
                                    "--since", "02/11/2026", "--contact-name", "Mme Lambert", "--contact-phone", "03 87 00 00 00")
        #expect(ok.status == 0 && ok.stdout.contains("problem #1 recorded on PF4NLV32"), "\(ok.stdout) \(ok.stderr)")
        let shown = try ParcRunner.json(try await parc.run("problem", "show", "1", "--json").stdout) as! [String: Any]
        #expect(shown["since"] as? String == "2026-11-02" && shown["reportedBy"] as? String == "accueil-mairie" && shown["state"] as? String == "open")
    }

    @Test("labels with --base-url: each QR code holds the device's page in the portal")
    func labelsWithBaseURL() async throws {
        let parc = try await Self.sample()
        let sheet = parc.dir.appendingPathComponent("labels.html").path
        let r = try await parc.run("labels", "--cart", "NLV-2024-010", "-o", sheet, "--base-url", "https://parc.mairie-norroy.fr/")
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: sheet, encoding: .utf8)
        #expect(html.contains("QR code : https://parc.mairie-norroy.fr/materiels/PF4NLV31"))
        #expect(html.contains("QR code : https://parc.mairie-norroy.fr/materiels/CHR16-240877"))
        #expect(html.contains("Scannez pour ouvrir la fiche"))
        let bad = try await parc.run("labels", "--cart", "NLV-2024-010", "-o", sheet, "--base-url", "parc.mairie-norroy.fr")
        #expect(bad.status != 0 && bad.stderr.contains("not a web address"))
    }
}
