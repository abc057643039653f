import Foundation
import Lab
import Testing

/// The command line against a central server prints what it prints on a local inventory file
/// (issue 24, part 2): the README guide's inventory commands, run both ways and compared; lab
/// devices recorded on the server.
@Suite(.serialized) struct RemoteCLITests {
    /// A server over its own inventory, a technician's token, and a client signed in to it.
    final class Central: @unchecked Sendable {
        let serverSide = try! ParcRunner()
        let client: URL
        var base = ""
        var server: Process?

        init() throws {
            client = serverSide.dir.appendingPathComponent("client")
            try FileManager.default.createDirectory(at: client, withIntermediateDirectories: true)
        }

        deinit {
            server?.terminate()
            server?.waitUntilExit()
        }

        var clientEnv: [String: String] { ["XDG_CONFIG_HOME": client.appendingPathComponent("config").path, "PARC_SERVER": base] }

        func start(role: String = "technician", sample: Bool = false) async throws {
            let initialised = try await serverSide.run(sample ? ["init", "--sample", "--from", ParcRunner.repo.appendingPathComponent("inventory").path] : ["init"])
            #expect(initialised.status == 0)
            let pw = serverSide.dir.appendingPathComponent("pw").path
            try "un-mot-de-passe-long\n".write(toFile: pw, atomically: true, encoding: .utf8)
            #expect(try await serverSide.run("user", "add", "tech", "--role", role, "--password-file", pw).status == 0)
            let token = try await serverSide.run("token", "add", "tech").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let tokenFile = client.appendingPathComponent("tech.token").path
            FileManager.default.createFile(atPath: tokenFile, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            let port = try Lab.freePort()
            base = "http://127.0.0.1:\(port)"
            let (process, _, _) = try serverSide.start(["serve", "--listen", "127.0.0.1:\(port)"], cwd: serverSide.dir)
            server = process
            var up = false
            for _ in 0..<100 where !up {
                try await Task.sleep(for: .milliseconds(100))
                up = (try? await PortalCLITests.get("\(base)/api/v1/openapi.json"))?.status == 200
            }
            #expect(up, "the server answers on \(base)")
            let login = try await serverSide.run(["login", base, "--token-file", tokenFile], env: ["XDG_CONFIG_HOME": client.appendingPathComponent("config").path])
            #expect(login.status == 0, "\(login.stderr)")
        }
    }

    /// What may differ between the two runs: times of the audit log.
    static func normalised(_ text: String) -> String {
        text.replacingOccurrences(of: #"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?"#, with: "<time>", options: .regularExpression)
    }

    /// Runs `commands` on a local file (naming `tech` as the actor of changes) and against the
    /// server, and compares what each prints and how it exits.
    static func bothWays(_ commands: [[String]], local: ParcRunner, here: URL, central: Central, there: URL, extra: (([String]) -> [String])? = nil) async throws {
        for args in commands {
            let more = extra?(args) ?? []
            let mine = try await local.run(args + more + (Self.changes(args) ? ["--actor", "tech"] : []), cwd: here)
            let theirs = try await central.serverSide.run(args + more, cwd: there, env: central.clientEnv)
            let shown = "parc " + args.joined(separator: " ")
            #expect(mine.status == theirs.status, "\(shown): exit \(mine.status) locally, \(theirs.status) against the server: \(theirs.stderr.suffix(400))")
            #expect(Self.normalised(mine.stdout) == Self.normalised(theirs.stdout), "\(shown): standard output differs\n--- local\n\(mine.stdout.prefix(1500))\n--- server\n\(theirs.stdout.prefix(1500))")
            #expect(Self.normalised(mine.stderr) == Self.normalised(theirs.stderr), "\(shown): standard error differs\n--- local\n\(mine.stderr)\n--- server\n\(theirs.stderr)")
        }
    }

    @Test("the portal section's commands for accounts, problems and documents print the same on a local file and against a server (as an administrator); a technician may not manage accounts there")
    func accountsProblemsAndDocumentsBothWays() async throws {
        let central = try Central()
        try await central.start(role: "admin", sample: true)
        let local = try ParcRunner()
        let here = local.dir.appendingPathComponent("here"), there = central.client.appendingPathComponent("work")
        for dir in [here, there] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("inventory"), withDestinationURL: ParcRunner.repo.appendingPathComponent("inventory"))
        }
        #expect(try await local.run("init", "--sample", "--from", ParcRunner.repo.appendingPathComponent("inventory").path).status == 0)
        let pw = central.client.appendingPathComponent("pw").path
        try "un-autre-mot-de-passe\n".write(toFile: pw, atomically: true, encoding: .utf8)
        let commands: [[String]] = [
            ["user", "add", "mairie.norroy", "--role", "commune", "--member", "norroy-le-veneur"],
            ["user", "add", "mairie.norroy", "--role", "commune", "--member", "norroy-le-veneur"],
            ["user", "add", "relais-norroy", "--role", "relay", "--school", "0572113M"],
            ["user", "disable", "mairie.norroy"], ["user", "enable", "mairie.norroy"], ["user", "passwd", "personne"],
            ["problem", "report", "PF4NLV32", "--kind", "broken", "--description", "Ne démarre plus", "--contact-name", "Mme Lambert", "--contact-phone", "03 87 00 00 00"],
            ["problem", "list"], ["problem", "show", "1", "--json"], ["problem", "accept", "1"], ["problem", "note", "1", "Écran commandé, retour lundi"],
            ["problem", "close", "1", "--done", "Écran remplacé sous garantie", "--outcome", "repaired"], ["problem", "note", "1", "trop tard"],
            ["problem", "list", "--all", "--csv"], ["problem", "accept", "9"],
            ["document", "add", "inventory/imports/deliberation-2024-033.pdf", "--member", "norroy-le-veneur", "--kind", "deliberation", "--title", "Délibération d'adhésion"],
            ["document", "list", "--json"], ["token", "list", "mairie.norroy"],
        ]
        try await Self.bothWays(commands, local: local, here: here, central: central, there: there) { args in
            args.starts(with: ["user", "add"]) || args.starts(with: ["user", "passwd"]) ? ["--password-file", pw] : []
        }
        // Accounts as the server keeps them: the relay has no password, the commune's works.
        let accounts = try await central.serverSide.run("user", "list", "--json")
        let logins = ((try? ParcRunner.json(accounts.stdout)) as? [[String: Any]] ?? []).compactMap { $0["login"] as? String }
        #expect(Set(logins) == ["tech", "mairie.norroy", "relais-norroy"], "\(accounts.stdout)")
        // A token made from the laptop: shown there once, only its digest on the server, and it works.
        let made = try await central.serverSide.run(["token", "add", "mairie.norroy", "--name", "tableur"], cwd: there, env: central.clientEnv)
        #expect(made.status == 0 && made.stdout.hasPrefix("parc_"), "\(made.stderr)")
        let secret = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let database = try String(decoding: Data(contentsOf: URL(fileURLWithPath: central.serverSide.database)), as: UTF8.self)
        #expect(!database.contains(secret), "the secret is not in the server's file")
        #expect((try await PortalCLITests.get("\(central.base)/api/v1/members", token: secret)).status == 200)
        // A technician of the same server may not manage accounts: refused, nothing added.
        #expect(try await central.serverSide.run("user", "add", "tech2", "--role", "technician", "--password-file", pw).status == 0)
        let techToken = try await central.serverSide.run("token", "add", "tech2").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let techFile = central.client.appendingPathComponent("tech2.token").path
        FileManager.default.createFile(atPath: techFile, contents: Data((techToken + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let techConfig = ["XDG_CONFIG_HOME": central.client.appendingPathComponent("config2").path]
        #expect(try await central.serverSide.run(["login", central.base, "--token-file", techFile], env: techConfig).status == 0)
        let refused = try await central.serverSide.run(["user", "add", "intrus", "--role", "admin", "--password-file", pw], cwd: there,
                                                       env: techConfig.merging(["PARC_SERVER": central.base]) { _, b in b })
        #expect(refused.status == 1 && refused.stderr.contains("administrators"), "\(refused.stderr)")
        #expect(!(try await central.serverSide.run("user", "list").stdout.contains("intrus")))
    }

    @Test("the README guide's inventory commands print the same on a local file and against a server, exit codes, files written and refusals too")
    func theGuideBothWays() async throws {
        let central = try Central()
        try await central.start()
        let local = try ParcRunner()
        // Two working folders that see the repository's inventory/ (the imports' sample files).
        let here = local.dir.appendingPathComponent("here"), there = central.client.appendingPathComponent("work")
        for dir in [here, there] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("inventory"), withDestinationURL: ParcRunner.repo.appendingPathComponent("inventory"))
        }
        #expect(try await local.run("init").status == 0)
        let commands = try GuideTests.commands(in: "docs/technician.md", from: "\n### Members, schools, rooms\n", to: "\n### Reaching devices over SSH")
        #expect(commands.count > 60, "the guide's inventory commands were found: \(commands.count)")
        // Mistakes too: each is refused with the same words both ways, and changes nothing.
        let mistakes: [[String]] = [
            ["member", "show", "nulle-part"], ["device", "move", "PF4NLV99", "--school", "0999999Z", "--room", "CM2"],
            ["device", "add", "--kind", "laptop", "--serial", "PF4NLV99"], ["order", "edit", "BC-2024-042", "--delivered", "32/13/2024"],
            ["import", "devices", "inventory/imports/absent.csv"], ["cart", "fill", "NLV-2024-010", "PF4NLV99", "NOPE"],
            ["device", "list", "--school", "0572113M", "--room", "Nulle part"], ["funding", "edit", "99", "--granted", "abc"],
        ]
        for args in commands + mistakes + [["device", "list", "--json"], ["history", "PF4NLV99", "--csv"], ["device", "show", "PF4NLV99", "--json"]] {
            let mine = try await local.run(args + (Self.changes(args) ? ["--actor", "tech"] : []), cwd: here)
            let theirs = try await central.serverSide.run(args, cwd: there, env: central.clientEnv)
            let shown = "parc " + args.joined(separator: " ")
            #expect(mine.status == theirs.status, "\(shown): exit \(mine.status) locally, \(theirs.status) against the server: \(theirs.stderr.suffix(400))")
            #expect(Self.normalised(mine.stdout) == Self.normalised(theirs.stdout), "\(shown): standard output differs\n--- local\n\(mine.stdout.prefix(1500))\n--- server\n\(theirs.stdout.prefix(1500))")
            #expect(Self.normalised(mine.stderr) == Self.normalised(theirs.stderr), "\(shown): standard error differs\n--- local\n\(mine.stderr)\n--- server\n\(theirs.stderr)")
            if let o = args.firstIndex(where: { $0 == "-o" }), o + 1 < args.count {
                let name = args[o + 1]
                let a = FileManager.default.contents(atPath: here.appendingPathComponent(name).path)
                let b = FileManager.default.contents(atPath: there.appendingPathComponent(name).path)
                #expect(a != nil && b != nil, "\(shown) wrote \(name) both ways")
                if name.hasSuffix(".pdf") {
                    #expect(a?.starts(with: Data("%PDF".utf8)) == true && b?.starts(with: Data("%PDF".utf8)) == true)
                } else {
                    #expect(a == b, "\(shown): \(name) differs")
                }
            }
        }
        #expect(commands.contains { $0.starts(with: ["import", "devices"]) } && commands.contains { $0.starts(with: ["report", "member"]) })
        // The server's audit log names the account; nothing the mistakes asked for was written.
        let history = try await central.serverSide.run("history", "PF4NLV99")
        #expect(history.status == 0 && history.stdout.contains("  tech  create") && !history.stdout.contains("root"), "\(history.stdout)")
        let localDB = try await local.run("export", "devices", "--json", cwd: here)
        let serverDB = try await central.serverSide.run("export", "devices", "--json", cwd: central.serverSide.dir)
        #expect(localDB.stdout == serverDB.stdout && localDB.stdout.count > 100, "the two inventories hold the same devices")

        // Lab devices run on this machine and are recorded in the server's inventory (and removed from it).
        let labDir = central.client.appendingPathComponent("lab").path
        defer { (try? Lab.load(labDir))?.down() }
        let up = try await central.serverSide.run(["lab", "up", "2", "--school", "0572113M", "--lab-dir", labDir], cwd: there, env: central.clientEnv)
        #expect(up.status == 0, "\(up.stderr)")
        let inLab = try await central.serverSide.run(["device", "list", "--school", "0572113M", "--room", "Lab parc", "--json"], cwd: central.serverSide.dir)
        #expect((try? ParcRunner.json(inLab.stdout) as? [[String: Any]])?.count == 2, "\(inLab.stdout)")
        let down = try await central.serverSide.run(["lab", "down", "--lab-dir", labDir], cwd: there, env: central.clientEnv)
        #expect(down.status == 0 && down.stdout.contains("and 2 device(s) from the inventory"), "\(down.stdout)\(down.stderr)")
        let gone = try await central.serverSide.run(["device", "list", "--school", "0572113M", "--room", "Lab parc", "--json"], cwd: central.serverSide.dir)
        #expect((try? ParcRunner.json(gone.stdout) as? [[String: Any]])?.isEmpty == true)
    }

    /// Whether a guide command writes to the inventory (the local run then names the same actor as the server's account).
    static func changes(_ args: [String]) -> Bool {
        guard let verb = args.dropFirst().first else { return false }
        if args.first == "import" { return true }
        if args.first == "group" { return ["add", "remove", "add-device", "remove-device", "var"].contains(verb) }
        return ["add", "edit", "remove", "move", "status", "fill", "lend", "return", "report", "accept", "close", "disable", "enable", "passwd", "revoke"].contains(verb)
    }
}
