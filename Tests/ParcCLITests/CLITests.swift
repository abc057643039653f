import Foundation
import Testing

@Suite struct CLITests {
    @Test func initSampleThenListingTheCommuneShowsItsEquipment() async throws {
        let parc = try ParcRunner()
        let initRun = try await parc.run("init", "--sample")
        #expect(initRun.status == 0, "\(initRun.stderr)")
        #expect(initRun.stdout.contains("Loaded norroy-le-veneur.json: 1 member, 1 school, 5 rooms, 2 orders, 5 funding lines, 18 devices"))
        // A command opens one connection (no pool): the file it creates is still in WAL mode
        // (bytes 18 and 19 of the header), so that other processes read while it writes.
        let header = try #require(FileManager.default.contents(atPath: parc.database)).prefix(20)
        #expect(header.count == 20 && header[header.startIndex + 18] == 2 && header[header.startIndex + 19] == 2)

        let list = try await parc.run("device", "list", "--member", "norroy-le-veneur")
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 19)
        #expect(lines[0].hasPrefix("SERIAL"))
        #expect(lines.contains { $0.contains("SPX86E4A21907") && $0.contains("interactiveScreen") && $0.contains("Classe CM2") })
        #expect(list.stderr.contains("18 devices"))
    }

    @Test("global options before the command, as git and ansible take them: --database, --actor, -v")
    func globalOptionsBeforeTheCommand() async throws {
        let parc = try ParcRunner()
        let other = parc.dir.appendingPathComponent("autre.sqlite").path
        #expect(try await parc.run("--database", other, "init", "--sample").status == 0)
        let before = try await parc.run("--database=\(other)", "-v", "device", "list", "--member", "norroy-le-veneur", "--json")
        #expect(before.status == 0, "\(before.stderr)")
        #expect((try ParcRunner.json(before.stdout) as? [[String: Any]])?.count == 18)
        #expect(!FileManager.default.fileExists(atPath: parc.database), "the default of this runner was not used")
        #expect(try await parc.run("--database", other, "--actor", "mme.lambert", "device", "status", "PF4NLV33", "lost").status == 0)
        let history = try await parc.run("history", "PF4NLV33", "--database", other)
        #expect(history.stdout.contains("mme.lambert") && history.stdout.contains("lost"), "\(history.stdout)")
        // An unknown option before the command is still named as such.
        let unknown = try await parc.run("--databse", other, "device", "list")
        #expect(unknown.status != 0 && unknown.stderr.contains("--databse"), "\(unknown.stderr)")
    }

    @Test("the domain's messages in French when the terminal's locale is French, in English otherwise")
    func messagesFollowTheLocale() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let french = try await parc.run(["device", "show", "NOPE-1"], env: ["LANG": "fr_FR.UTF-8"])
        #expect(french.status != 0 && french.stderr.contains("matériel « NOPE-1 » introuvable"), "\(french.stderr)")
        let english = try await parc.run(["device", "show", "NOPE-1"], env: ["LANG": "en_GB.UTF-8"])
        #expect(english.stderr.contains("no device 'NOPE-1'"), "\(english.stderr)")
        let messages = try await parc.run(["device", "add", "--kind", "laptop", "--serial", "A 1"], env: ["LANG": "C.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"])
        #expect(messages.stderr.contains("un numéro de série n'a pas d'espace"), "LC_MESSAGES wins over LANG: \(messages.stderr)")
        let file = parc.dir.appendingPathComponent("bl.csv").path
        try "N° de série;Type;Adresse MAC\nA-1;laptop;zz\n".write(toFile: file, atomically: true, encoding: .utf8)
        let row = try await parc.run(["import", "devices", file], env: ["LANG": "fr_FR.UTF-8"])
        #expect(row.stderr.contains("bl.csv:2: mac: « zz » : une adresse MAC s'écrit en 6 octets hexadécimaux"), "\(row.stderr)")
    }

    @Test func jsonIsAnArrayOfObjectsKeyedByFieldName() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let r = try await parc.run("device", "list", "--cart", "NLV-2024-010", "--json")
        #expect(r.status == 0)
        let rows = try #require(try ParcRunner.json(r.stdout) as? [[String: Any]])
        #expect(rows.count == 16)
        let first = try #require(rows.first)
        #expect(first["serial"] as? String == "PF4NLV31")
        #expect(first["assetTag"] as? String == "NLV-2024-011")
        #expect(first["uai"] as? String == "0572113M")
        #expect(first["room"] as? String == "Classe CE2-CM1")
        #expect(first["cart"] as? String == "NLV-2024-010")
        #expect(first["macs"] as? [String] == ["8c:16:45:3a:10:01", "8c:16:45:3b:10:01"])
        #expect(first.keys.contains("hostname"), "absent values are null, not missing")
    }

    @Test func csvHasAHeaderOfFieldNamesAndQuotesWhereNeeded() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let r = try await parc.run("device", "list", "--kind", "interactiveScreen", "--csv")
        let lines = r.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("serial,assetTag,kind,manufacturer,model,status,member,uai,school,room"))
        #expect(lines[1].contains("\"SpeechiTouch 86\"\" 4K\""))
    }

    @Test func aBadValueExitsNonZeroNamingTheFieldAndChangesNothing() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let r = try await parc.run("device", "add", "--kind", "laptop", "--serial", "NEW-1", "--mac", "8c:16:45:3a:10", "--school", "0572113M", "--room", "BCD")
        #expect(r.status != 0)
        #expect(r.stderr.contains("mac '8c:16:45:3a:10'"))
        #expect(r.stderr.contains("6 hexadecimal bytes"))
        let find = try await parc.run("find", "NEW-1", "--json")
        #expect(try ParcRunner.json(find.stdout) as? [Any] != nil)
        #expect((try ParcRunner.json(find.stdout) as? [Any])?.isEmpty == true)
    }

    @Test func unknownSchoolAndDuplicateSerialSayWhatToDo() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let unknown = try await parc.run("room", "add", "0750655E", "CM1")
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no school '0750655E'"))
        #expect(unknown.stderr.contains("parc school list"))
        let dup = try await parc.run("device", "add", "--kind", "laptop", "--serial", "PF4NLV31")
        #expect(dup.status != 0)
        #expect(dup.stderr.contains("serial 'PF4NLV31' is already used by device PF4NLV31"))
    }

    @Test func movingTheCartMovesItsLaptopsAndHistoryShowsIt() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        let move = try await parc.run("device", "move", "NLV-2024-010", "--school", "0572113M", "--room", "Classe CM2", "--actor", "jeanne")
        #expect(move.status == 0, "\(move.stderr)")
        #expect(move.stdout.contains("with the 16 device(s) it holds"))
        let room = try await parc.run("device", "list", "--school", "0572113M", "--room", "Classe CM2", "--json")
        let rows = try #require(try ParcRunner.json(room.stdout) as? [[String: Any]])
        #expect(rows.count == 18)
        let history = try await parc.run("history", "PF4NLV31")
        #expect(history.stdout.contains("jeanne  moveWithCart"))
        #expect(history.stdout.contains("room: 0572113M / Classe CE2-CM1 → 0572113M / Classe CM2"))
    }

    @Test func theWholeLifeOfAMemberSchoolOrderAndDevice() async throws {
        let parc = try ParcRunner()
        @discardableResult
        func ok(_ args: String...) async throws -> ParcRunner.Result {
            let r = try await parc.run(args)
            #expect(r.status == 0, "parc \(args.joined(separator: " ")): \(r.stderr)")
            return r
        }
        try await ok("init")
        try await ok("lot", "add", "2", "--title", "Classes mobiles")
        try await ok("member", "add", "--name", "Plappeville", "--kind", "commune", "--insee", "57545",
               "--deliberation", "2024-12", "--deliberation-date", "14/10/2024")
        try await ok("school", "add", "0750655E", "--name", "École du Mont", "--member", "plappeville", "--room", "CM1", "--room", "CM2")
        try await ok("order", "add", "BC-7", "--member", "57545", "--lot", "2", "--ordered", "2024-11-02", "--amount-excl-tax", "1000", "--amount-incl-tax", "1200,00")
        try await ok("funding", "add", "BC-7", "--funder", "departement", "--requested", "600", "--granted", "600")
        try await ok("cart", "add", "--serial", "CART-1", "--asset-tag", "PLP-001", "--school", "0750655E", "--room", "CM1", "--order", "BC-7")
        try await ok("device", "add", "--kind", "laptop", "--serial", "LAP-1", "--asset-tag", "PLP-002", "--cart", "PLP-001", "--mac", "02:00:00:00:00:01")
        try await ok("device", "edit", "LAP-1", "--hostname", "plp-cm1-01", "--warranty-end", "2028-11-02", "--mac", "02-00-00-00-00-02")
        try await ok("device", "status", "PLP-002", "inRepair")

        let show = try await ok("device", "show", "LAP-1", "--json")
        let d = try #require(try ParcRunner.json(show.stdout) as? [String: Any])
        #expect(d["hostname"] as? String == "plp-cm1-01")
        #expect(d["status"] as? String == "inRepair")
        #expect(d["room"] as? String == "CM1")
        #expect(d["member"] as? String == "plappeville")
        #expect(d["macs"] as? [String] == ["02:00:00:00:00:01", "02:00:00:00:00:02"])

        let order = try await ok("order", "show", "BC-7", "--json")
        let o = try #require(try ParcRunner.json(order.stdout) as? [String: Any])
        #expect(o["amountInclTax"] as? String == "1200.00")
        #expect(o["fundingGranted"] as? String == "600.00")
        #expect(o["devices"] as? Int == 1)

        let found = try await ok("find", "020000000002", "--json")
        #expect((try ParcRunner.json(found.stdout) as? [[String: Any]])?.first?["serial"] as? String == "LAP-1")

        let blocked = try await parc.run("school", "remove", "0750655E")
        #expect(blocked.status != 0)
        #expect(blocked.stderr.contains("2 device(s) are still in it"))

        try await ok("device", "move", "LAP-1", "--nowhere")
        try await ok("device", "remove", "LAP-1")
        try await ok("device", "remove", "PLP-001")
        try await ok("school", "remove", "0750655E")
        let history = try await ok("history", "LAP-1", "--json")
        let events = try #require(try ParcRunner.json(history.stdout) as? [[String: Any]])
        #expect(events.map { $0["action"] as? String } == ["create", "update", "update", "update", "delete"])
    }

    @Test func twoProcessesWritingAtOnceBothSucceed() async throws {
        let parc = try ParcRunner()
        try await parc.run("init", "--sample")
        // Twelve `parc device add` processes started together, each writing its own device.
        let running = try (0..<12).map { i in
            try parc.start(["device", "add", "--kind", "tablet", "--serial", "TAB-\(i)", "--mac", String(format: "02:00:00:00:01:%02x", i)])
        }
        for (p, _, err) in running {
            p.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(p.terminationStatus == 0, "\(message)")
        }
        let list = try await parc.run("device", "list", "--kind", "tablet", "--json")
        #expect((try ParcRunner.json(list.stdout) as? [Any])?.count == 12)
    }

    @Test func helpIsThereForEveryCommand() async throws {
        let parc = try ParcRunner()
        for command in [["--help"], ["device", "--help"], ["device", "move", "--help"], ["cart", "fill", "--help"], ["find", "--help"],
                        ["history", "--help"], ["member", "add", "--help"], ["funding", "add", "--help"]] {
            let r = try await parc.run(command)
            #expect(r.status == 0, "\(command)")
            #expect(r.stdout.contains("USAGE: parc"), "\(command)")
        }
    }

    @Test func theDefaultDatabaseIsInTheInventoryFolderOfParcHome() async throws {
        let parc = try ParcRunner()
        let home = parc.dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("inventory"), withIntermediateDirectories: true)
        let r = try await parc.run(["init"], cwd: home, env: ["PARC_DATABASE": ""])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\(home.path)/inventory/parc.sqlite"))
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("inventory/parc.sqlite").path))
    }
}
