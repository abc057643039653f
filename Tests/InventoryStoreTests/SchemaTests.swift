import Foundation
import GRDB
@testable import InventoryStore
import ParcCore
import Testing

@Suite struct SchemaTests {
    @Test func migrationsFromEmptyCreateEveryTableInWALWithForeignKeys() throws {
        let t = try TempInventory()
        let queue = try DatabaseQueue(path: t.path)
        let tables = ["member", "school", "room", "lot", "purchaseOrder", "fundingLine", "device", "deviceMac", "event", "run", "runHost", "runTask",
                      "deviceFacts", "pending", "userGroup", "userGroupDevice", "cartLoan", "account", "webSession", "apiToken", "loginFailure",
                      "problem", "document", "deviceText", "accountSchool", "searchDeferred"]
        let (existing, journal, migrations) = try queue.read { db throws -> ([String], String?, Int?) in
            (try tables.filter { try db.tableExists($0) },
             try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations WHERE identifier LIKE 'v%'"))
        }
        #expect(existing == tables)
        #expect(journal == "wal")
        #expect(migrations == 18, "v1 (the domain), v2 (pinned host keys), v3 (runs), v4 (facts, pending work), v5 (groups of one's own), v6 (designation, price before tax), v7 (status follows place), v8 (pending run parameters), v9 (cart loans), v10 (web accounts, problems, documents), v11 (search index), v12 (run claims, why a run stopped), v13 (the process running a run), v14 (relays), v15 (device versions), v16 (problem follow-ups and outcomes), v17 (simulated lab devices), v18 (the search index filled at the end of a bulk import)")
        // The store's own connections enforce foreign keys: a device in a missing room is refused.
        #expect(throws: (any Error).self) {
            try t.inventory.write { tx in try tx.addDevice(Device(kind: .laptop, serial: "X", roomId: 999)) }
        }
    }

    @Test("v14 rebuilds the account table for the relay role: accounts, their sessions and tokens survive it")
    func accountsSurviveTheRelayMigration() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-v14-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v13: the process running a run")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO account (id, login, role, memberId, passwordHash, disabled, createdAt) VALUES (7, 'tech', 'technician', NULL, 'h', 0, 'now')")
            try db.execute(sql: "INSERT INTO webSession (digest, accountId, csrf, createdAt, expiresAt) VALUES ('d', 7, 'c', 0, 1e12)")
            try db.execute(sql: "INSERT INTO apiToken (accountId, name, digest, prefix, createdAt) VALUES (7, 't', 'td', 'parc_x', 'now')")
        }
        try queue.close()
        let inventory = try Inventory(path: path)
        #expect(try inventory.read { try $0.account("tech") }.role == .technician)
        #expect(try inventory.read { try $0.tokenAccount(digest: "td") }?.account.login == "tech")
        #expect(try inventory.read { try $0.session(digest: "d", now: Date()) }?.account.login == "tech")
        // The new role is accepted, with its schools; a relay without a school is refused.
        let sample = try TempInventory().withSample()
        let relay = try sample.inventory.write { try $0.addAccount(login: "relais", role: .relay, member: nil, passwordHash: "!", schools: ["0572113M"]) }
        #expect(try sample.inventory.read { try $0.relaySchools(relay) } == ["0572113M"])
        #expect(throws: (any Error).self) { try sample.inventory.write { try $0.addAccount(login: "relais2", role: .relay, member: nil, passwordHash: "!") } }
        #expect(throws: (any Error).self) {
            try sample.inventory.write { try $0.addAccount(login: "tech2", role: .technician, member: nil, passwordHash: "h", schools: ["0572113M"]) }
        }
    }

    @Test("v15: every change of a device bumps its version, a device going in or out of a cart bumps the cart's; an edit from an older version is refused and writes nothing")
    func versionsRefuseStaleEdits() throws {
        let t = try TempInventory().withSample()
        func version(_ ref: String) throws -> Int64 { try t.inventory.read { try $0.deviceRow(ref).version } }
        let laptop = "PF4NLV31"
        let cart = try t.inventory.read { r in try r.devices(DeviceFilter(kind: .cart)).first!.serial }
        let v0 = try version(laptop), c0 = try version(cart)
        #expect(v0 >= 1)
        try t.inventory.write { tx in _ = try tx.updateDevice(laptop) { $0.notes = "vu" } }
        #expect(try version(laptop) == v0 + 1)
        // Saved as it was: no change, no new version (a stale page stays valid).
        try t.inventory.write { tx in _ = try tx.updateDevice(laptop) { $0.notes = "vu" } }
        #expect(try version(laptop) == v0 + 1)
        // A MAC added is a change of the device.
        try t.inventory.write { tx in _ = try tx.updateDevice(laptop, macs: MacChange(add: ["02:00:00:00:99:01"])) }
        #expect(try version(laptop) == v0 + 2)
        try t.inventory.write { tx in _ = try tx.updateDevice(laptop, macs: MacChange(remove: ["02:00:00:00:99:01"])) }
        // A raw write (another tool on the same file) bumps it too: the trigger is in the database.
        let queue = try DatabaseQueue(path: t.path)
        try queue.write { try $0.execute(sql: "UPDATE device SET notes = 'brut' WHERE serial = ?", arguments: [laptop]) }
        #expect(try version(laptop) == v0 + 4)
        let v2 = try version(laptop)
        try t.inventory.write { tx in _ = try tx.move(laptop, to: .nowhere) }
        let c0b = try version(cart)
        #expect(c0b >= c0)
        try t.inventory.write { tx in _ = try tx.fillCart(cart, with: [laptop]) }
        #expect(try version(cart) > c0b, "the cart's contents changed")
        let c1 = try version(cart)
        try t.inventory.write { tx in _ = try tx.move(laptop, to: .nowhere) }
        #expect(try version(cart) > c1, "a device left the cart")
        // An edit made from version v0: refused, nothing written.
        #expect {
            try t.inventory.write { tx in
                try tx.expect(version: v2, of: laptop)
                _ = try tx.updateDevice(laptop) { $0.notes = "périmé" }
            }
        } throws: { error in
            guard case InventoryError.stale(_, _, let expected, let current, _) = error else { return false }
            return expected == v2 && current > v2 && "\(error)".contains("nothing was written")
        }
        #expect(try t.inventory.read { try $0.device(laptop).notes } != "périmé")
        let now = try version(laptop)
        try t.inventory.write { tx in try tx.expect(version: now, of: laptop); _ = try tx.updateDevice(laptop) { $0.notes = "à jour" } }
        #expect(try t.inventory.read { try $0.device(laptop).notes } == "à jour")
    }

    @Test func reopeningAnExistingFileKeepsItsData() throws {
        let t = try TempInventory().withSample()
        let again = try Inventory(path: t.path)
        #expect(try again.read { try $0.devices().count } == 18)
    }

    @Test func aFileThatIsNotAnInventoryGivesAClearError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("notes.sqlite").path
        try Data("these are not the droids".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try Inventory(path: path)
        } throws: { error in
            guard case InventoryError.database(let p, let reason) = error else { return false }
            return p == path && reason.english.contains("parc inventory")
        }
    }

    @Test func schemaChecksHoldEvenForRawWrites() throws {
        let t = try TempInventory().withSample()
        let queue = try DatabaseQueue(path: t.path)
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "UPDATE device SET status = 'broken' WHERE serial = 'PF4NLV31'") }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "UPDATE device SET kind = 'interactiveScreen' WHERE serial = 'PF4NLV31'") }
        }
    }
}

@Suite struct SampleTests {
    @Test func sampleLoadsTheNorroyMembershipSchoolOrdersAndDevices() throws {
        let t = try TempInventory().withSample()
        try t.inventory.read { r throws in
            let m = try r.member("215705112")
            #expect(m.slug == "norroy-le-veneur")
            #expect(m.insee == "57511")
            #expect(m.deliberationNumber == "1.4-033/2024")
            #expect(m.deliberationDate?.description == "2024-09-23")
            #expect(m.prefectureReceipt == "057-215705112-20240923-2024DEL033-DE")
            #expect(m.conventionSignatory == "le maire")
            #expect(try r.schools(memberId: m.id!).map(\.uai) == [sampleUAI])
            let orders = try r.orders(memberId: m.id!)
            #expect(orders.count == 2)
            #expect(try orders.allSatisfy { try !r.fundingLines(orderId: $0.id!).isEmpty })
            let devices = try r.devices(DeviceFilter(member: "norroy-le-veneur"))
            #expect(devices.filter { $0.kind == .interactiveScreen }.count == 1)
            let cart = try #require(devices.first { $0.kind == .cart })
            #expect(try r.devices(DeviceFilter(cart: cart.serial)).count == 16)
        }
    }

    @Test func sampleAmountsAddUp() throws {
        let t = try TempInventory().withSample()
        try t.inventory.read { r throws in
            for order in try r.orders() {
                let requested = try r.fundingLines(orderId: order.id!).reduce(Money.zero) { $0 + $1.requested }
                #expect(requested == order.amountInclTax, "funding requested for \(order.number) equals its amount incl. tax")
                let devices = try r.devices(DeviceFilter(order: order.number))
                let prices = devices.reduce(Money.zero) { $0 + ($1.purchasePrice ?? .zero) }
                #expect(prices == order.amountInclTax, "device prices of \(order.number) equal its amount incl. tax")
            }
        }
    }

    @Test func loadingTheSampleTwiceLoadsNothingTheSecondTime() throws {
        let t = try TempInventory().withSample()
        let events = try t.count("SELECT count(*) FROM event")
        let loaded = try t.inventory.loadSamples(TempInventory.sampleFiles)
        #expect(loaded.isEmpty)
        #expect(try t.count("SELECT count(*) FROM event") == events)
    }

    @Test func aMistakeInAFileNamesTheFileAndTheEntryAndLoadsNothing() throws {
        let t = try TempInventory()
        let file = t.dir.appendingPathComponent("bad.json")
        try Data("""
            {"members": [{"kind": "commune", "name": "Plappeville", "insee": "57545",
                          "schools": [{"uai": "0570001B", "name": "École", "rooms": ["A"]}]}]}
            """.utf8).write(to: file)
        #expect {
            try t.inventory.loadSamples([file.path])
        } throws: { error in
            let text = "\(error)"
            return text.contains("bad.json") && text.contains("members[0].schools[0]") && text.contains("uai")
        }
        #expect(try t.count("SELECT count(*) FROM member") == 0)
        #expect(try t.count("SELECT count(*) FROM event") == 0)
    }

    @Test func aJSONSyntaxMistakeNamesTheFile() throws {
        let t = try TempInventory()
        let file = t.dir.appendingPathComponent("broken.json")
        try Data("{\"lots\": [ {\"number\": \"1\", \"title\": }]}".utf8).write(to: file)
        #expect {
            try t.inventory.loadSamples([file.path])
        } throws: { "\($0)".contains("broken.json") }
    }
}
