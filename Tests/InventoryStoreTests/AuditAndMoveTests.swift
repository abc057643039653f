import Foundation
import InventoryStore
import ParcCore
import Testing

@Suite struct AuditTests {
    @Test func everyChangeWritesAnEventWithActorAndOldAndNewValues() throws {
        let t = try TempInventory(actor: "marie.technicienne").withSample()
        try t.inventory.write { tx in
            try tx.updateDevice("PF4NLV31") { $0.notes = "écran fêlé" }
            try tx.setStatus("PF4NLV31", .inRepair)
        }
        let history = try t.inventory.read { try $0.history("NLV-2024-011") }
        #expect(history.map(\.action) == [.create, .update, .update])
        #expect(history.allSatisfy { $0.actor == "marie.technicienne" })
        #expect(history[1].changes == [FieldChange(field: "notes", old: nil, new: "écran fêlé")])
        #expect(history[2].changes == [FieldChange(field: "status", old: "deployed", new: "inRepair")])
    }

    @Test func anEditThatChangesNothingWritesNoEvent() throws {
        let t = try TempInventory().withSample()
        let before = try t.count("SELECT count(*) FROM event")
        try t.inventory.write { tx in try tx.updateDevice("PF4NLV31") { $0.model = "ThinkPad 11e Yoga Gen 6" } }
        #expect(try t.count("SELECT count(*) FROM event") == before)
    }

    @Test func otherActorsAreNamed() throws {
        let t = try TempInventory().withSample()
        try t.inventory.acting(as: "mairie-norroy").write { try $0.updateMember("norroy-le-veneur") { $0.conventionSignatory = "le maire, M. Dupont" } }
        let last = try t.inventory.read { try $0.events(entity: "member", limit: 1) }
        #expect(last.first?.actor == "mairie-norroy")
        #expect(last.first?.changes == [FieldChange(field: "conventionSignatory", old: "le maire", new: "le maire, M. Dupont")])
    }

    @Test func macChangesAreInTheDevicesHistory() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.updateDevice("PF4NLV31", macs: MacChange(add: ["8c:16:45:3c:10:01"], remove: ["8c:16:45:3b:10:01"]))
        }
        let last = try t.inventory.read { try $0.history("PF4NLV31").last! }
        #expect(last.changes == [FieldChange(field: "macs", old: "8c:16:45:3a:10:01 8c:16:45:3b:10:01", new: "8c:16:45:3a:10:01 8c:16:45:3c:10:01")])
    }

    @Test func removingAMACTheDeviceDoesNotHaveIsAnError() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.updateDevice("PF4NLV31", macs: MacChange(remove: ["00:00:00:00:00:01"])) }
        } throws: { ($0 as? InventoryError)?.field == "mac" }
    }

    @Test func historySurvivesTheDevicesRemoval() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.move("PF4NLV46", to: .nowhere)
            try tx.removeDevice("PF4NLV46")
        }
        let history = try t.inventory.read { try $0.history("NLV-2024-026") }
        #expect(history.map(\.action) == [.create, .update, .delete])
        #expect(history.last?.changes.contains(FieldChange(field: "serial", old: "PF4NLV46", new: nil)) == true)
    }

    @Test func roomRenameShowsInLaterSnapshotsButKeepsOldEventsAsTheyWere() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { try $0.updateRoom(school: sampleUAI, name: "Classe CM2") { $0.name = "CM2" } }
        let screen = try t.inventory.read { try $0.history("SPX86E4A21907") }
        #expect(screen.first?.changes.first { $0.field == "room" }?.new == "\(sampleUAI) / Classe CM2")
        let rename = try t.inventory.read { try $0.events(entity: "room", limit: 1).first! }
        #expect(rename.changes == [FieldChange(field: "name", old: "Classe CM2", new: "CM2")])
        #expect(try t.inventory.read { try $0.deviceRow("SPX86E4A21907").room } == "CM2")
    }
}

@Suite struct MoveTests {
    @Test func movingACartMovesItsLaptopsAndTellsTheirHistories() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.move("NLV-2024-010", to: .room(try tx.room(school: sampleUAI, name: "Classe CM2").id!))
        }
        try t.inventory.read { r throws in
            let cm2 = try r.devices(DeviceFilter(school: sampleUAI, room: "Classe CM2"))
            #expect(cm2.filter { $0.kind == .laptop }.count == 16)
            #expect(cm2.allSatisfy { $0.room == "Classe CM2" })
            #expect(try r.devices(DeviceFilter(school: sampleUAI, room: "Classe CE2-CM1")).isEmpty)
            let laptopStory = try r.history("PF4NLV40")
            #expect(laptopStory.last?.action == .moveWithCart)
            #expect(laptopStory.last?.changes == [FieldChange(field: "room", old: "\(sampleUAI) / Classe CE2-CM1", new: "\(sampleUAI) / Classe CM2")])
        }
    }

    @Test func aLaptopTakenOutOfTheCartLeavesTheCartsRoom() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.move("PF4NLV31", to: .room(try tx.room(school: sampleUAI, name: "Local technique").id!))
            try tx.setStatus("PF4NLV31", .inRepair)
        }
        try t.inventory.read { r throws in
            #expect(try r.devices(DeviceFilter(cart: "NLV-2024-010")).count == 15)
            #expect(try r.deviceRow("PF4NLV31").room == "Local technique")
            #expect(try r.devices(DeviceFilter(status: .inRepair)).map(\.serial) == ["PF4NLV31"])
        }
    }

    @Test func aDeviceInStockStillBelongsToItsOrdersMember() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in try tx.move("SPX86E4A21907", to: .nowhere) }
        let row = try t.inventory.read { try $0.devices(DeviceFilter(member: "57511")).first { $0.serial == "SPX86E4A21907" } }
        #expect(row?.member == "norroy-le-veneur")
        #expect(row?.room == nil)
    }

    @Test func filtersCombine() throws {
        let t = try TempInventory().withSample()
        try t.inventory.read { r throws in
            #expect(try r.devices(DeviceFilter(member: "norroy-le-veneur", kind: .laptop)).count == 16)
            #expect(try r.devices(DeviceFilter(lot: "1")).map(\.serial) == ["SPX86E4A21907"])
            #expect(try r.devices(DeviceFilter(school: sampleUAI, kind: .cart, order: "BC-2024-042")).count == 1)
            #expect(try r.devices(DeviceFilter(kind: .tablet)).isEmpty)
        }
    }

    @Test("the search index follows every change: edits, MACs added and removed, devices removed; short texts are still found")
    func searchIndexFollowsChanges() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            _ = try tx.updateDevice("PF4NLV31") { $0.model = "Latitude 3140"; $0.hostname = "cm1-poste-07" }
        }
        try t.inventory.read { r throws in
            #expect(try r.find("latitude 31").rows.map(\.serial) == ["PF4NLV31"])
            #expect(try r.find("POSTE-07").rows.map(\.serial) == ["PF4NLV31"])
            #expect(try r.find("pf4nlv3").total == 9)
        }
        let mac = try t.inventory.read { try $0.macs(deviceId: try $0.device("PF4NLV31").id!) }.first!
        let hex = mac.replacingOccurrences(of: ":", with: "")
        try t.inventory.read { r throws in #expect(try r.find(hex).rows.map(\.serial) == ["PF4NLV31"]) }
        try t.inventory.write { tx in _ = try tx.updateDevice("PF4NLV31", macs: MacChange(add: ["02:00:00:aa:bb:cc"], replaceAll: true)) }
        try t.inventory.read { r throws in
            #expect(try r.find(hex).total == 0, "the old MAC is gone from the index")
            #expect(try r.find("02-00-00-AA-BB").rows.map(\.serial) == ["PF4NLV31"])
            #expect(try r.find("0200 00aa".replacingOccurrences(of: " ", with: "")).rows.map(\.serial) == ["PF4NLV31"])
            #expect(try r.find("31").total >= 1, "two characters: scanned, still found")
        }
        try t.inventory.write { tx in try tx.removeDevice("PF4NLV31") }
        try t.inventory.read { r throws in #expect(try r.find("latitude").total == 0) }
        #expect(try t.count("SELECT COUNT(*) FROM deviceText") == t.count("SELECT COUNT(*) FROM device"))
    }

    @Test func findMatchesSerialTagMACSchoolAndCommune() throws {
        let t = try TempInventory().withSample()
        try t.inventory.read { r throws in
            #expect(try r.find("pf4nlv3").total == 9)
            #expect(try r.find("NLV-2024-001").rows.map(\.serial) == ["SPX86E4A21907"])
            #expect(try r.find("001a6b520e41").rows.map(\.serial) == ["SPX86E4A21907"])
            #expect(try r.find("8C-16-45-3A-10-0").total == 15)
            #expect(try r.find("speechitouch").total == 1)
            #expect(try r.find("Norroy").total == 18)
            #expect(try r.find("primaire").total == 18)
            #expect(try r.find("100%").total == 0)
            #expect(try r.find("nothing-like-this").rows.isEmpty)
        }
    }

    @Test func aDeviceMatchingTwiceIsFoundOnce() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.addDevice(Device(kind: .laptop, serial: "PRIMAIRE-1", cartId: try tx.cart("NLV-2024-010").id))
        }
        let found = try t.inventory.read { try $0.find("primaire") }
        #expect(found.total == 19)
        #expect(found.rows.count == 19)
        #expect(Set(found.rows.map(\.serial)).count == 19)
        let limited = try t.inventory.read { try $0.find("primaire", limit: 5) }
        #expect(limited.total == 19)
        #expect(limited.rows.count == 5)
    }
}
