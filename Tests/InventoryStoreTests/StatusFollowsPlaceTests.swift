import Foundation
import GRDB
import InventoryStore
import ParcCore
import Testing

/// One rule for a device's status wherever its place changes (issue 15, item 5).
@Suite struct StatusFollowsPlaceTests {
    func setUp(_ t: TempInventory) throws {
        try t.inventory.write { tx in
            try tx.addMember(Member(kind: .commune, name: "Norroy-le-Veneur", insee: "57511"))
            try tx.addSchool(uai: "0572113M", name: "École de Norroy", member: "norroy-le-veneur")
            try tx.addRoom(school: "0572113M", name: "Salle informatique")
        }
    }

    @Test("a problem closed as repaired puts its device back by the same rule: a laptop of a cart standing nowhere is in stock, one in a room deployed; replaced retires it")
    func aRepairedDeviceGoesBackWhereItsPlaceSays() throws {
        let t = try TempInventory()
        try setUp(t)
        let room = try t.inventory.read { try $0.room(school: "0572113M", name: "Salle informatique") }
        try t.inventory.write { tx in
            let cart = try tx.addDevice(Device(kind: .cart, serial: "CHR-1"))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-1", cartId: cart.id))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-2", roomId: room.id))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-3", roomId: room.id))
        }
        func status(_ s: String) throws -> DeviceStatus { try t.inventory.read { try $0.device(s).status } }
        func cycle(_ serial: String, _ outcome: ProblemOutcome) throws {
            try t.inventory.write { tx in
                let p = try tx.reportProblem(ProblemReport(serial: serial, kind: .broken, description: "Ne démarre plus", since: nil,
                                                           contactName: "Mme Lambert", contactPhone: "03 87 00 00 00"))
                _ = try tx.acceptProblem(p.id)
            }
            #expect(try status(serial) == .inRepair, "taken in charge: in repair")
            let id = try t.inventory.read { try $0.problems().first { $0.serial == serial }!.id }
            try t.inventory.write { tx in _ = try tx.closeProblem(id, resolution: "fait", outcome: outcome) }
        }
        try cycle("PC-1", .repaired)
        #expect(try status("PC-1") == .inStock, "its cart stands nowhere: in stock, not deployed")
        try cycle("PC-2", .repaired)
        #expect(try status("PC-2") == .deployed)
        try cycle("PC-3", .replaced)
        #expect(try status("PC-3") == .retired)
        let story = try t.inventory.read { try $0.history("PC-1") }
        #expect(story.contains { $0.changes.contains(FieldChange(field: "status", old: "inRepair", new: "inStock")) }, "its history says so")
    }

    @Test func laptopsInACartStandingNowhereAreInStockAndFollowTheCartIntoARoom() throws {
        let t = try TempInventory()
        try setUp(t)
        let room = try t.inventory.read { try $0.room(school: "0572113M", name: "Salle informatique") }
        try t.inventory.write { tx in
            let cart = try tx.addDevice(Device(kind: .cart, serial: "CHR-1", status: .deployed))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-1", status: .deployed, cartId: cart.id))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-2", status: .inRepair, cartId: cart.id))
        }
        func status(_ s: String) throws -> DeviceStatus { try t.inventory.read { try $0.device(s).status } }
        #expect(try status("CHR-1") == .inStock && status("PC-1") == .inStock, "a cart standing nowhere, and what it holds, are in stock")
        try t.inventory.write { tx in _ = try tx.move("CHR-1", to: .room(room.id!)) }
        #expect(try status("CHR-1") == .deployed && status("PC-1") == .deployed)
        #expect(try status("PC-2") == .inRepair, "in repair is kept until someone changes it")
        let moved = try t.inventory.read { try $0.history("PC-1") }.last!
        #expect(moved.action == .moveWithCart && moved.changes.contains(FieldChange(field: "status", old: "inStock", new: "deployed")))
        try t.inventory.write { tx in _ = try tx.move("CHR-1", to: .nowhere) }
        #expect(try status("CHR-1") == .inStock && status("PC-1") == .inStock)
        // Set by hand: in stock or deployed come from the place, not from the hand.
        try t.inventory.write { tx in _ = try tx.setStatus("PC-1", .deployed) }
        #expect(try status("PC-1") == .inStock)
        try t.inventory.write { tx in _ = try tx.setStatus("PC-1", .lost) }
        #expect(try status("PC-1") == .lost)
    }

    /// Devices written before the rule are put right by the migration, each with an audit event.
    @Test func theMigrationPutsExistingDevicesRightWithAnEventEach() throws {
        let t = try TempInventory()
        try setUp(t)
        let room = try t.inventory.read { try $0.room(school: "0572113M", name: "Salle informatique") }
        try t.inventory.write { tx in
            let cart = try tx.addDevice(Device(kind: .cart, serial: "CHR-2", roomId: room.id))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-3", cartId: cart.id))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-4"))
            try tx.addDevice(Device(kind: .laptop, serial: "PC-5", status: .retired))
        }
        // As an older parc left them, and the migration not applied yet.
        let queue = try DatabaseQueue(path: t.path)
        try queue.write { db in
            try db.execute(sql: "UPDATE device SET status = 'inStock' WHERE serial IN ('CHR-2', 'PC-3'); UPDATE device SET status = 'deployed' WHERE serial = 'PC-4'")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v7:%'")
        }
        try queue.close()
        let reopened = try Inventory(path: t.path, actor: "test")
        let statuses = try reopened.read { r in try ["CHR-2", "PC-3", "PC-4", "PC-5"].map { try r.device($0).status } }
        #expect(statuses == [.deployed, .deployed, .inStock, .retired])
        let event = try reopened.read { try $0.history("PC-4") }.last!
        #expect(event.actor == "parc (migration v7)" && event.changes == [FieldChange(field: "status", old: "deployed", new: "inStock")])
        #expect(try reopened.read { try $0.history("PC-5") }.count == 1, "a retired device is left alone")
    }
}
