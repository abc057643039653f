import Foundation
import InventoryStore
import ParcCore
import Testing

/// Every rule is refused with a message naming the field, and a refused change writes nothing.
@Suite struct ConstraintTests {
    func laptop(_ serial: String, tag: String? = nil) -> Device {
        Device(kind: .laptop, manufacturer: "Lenovo", model: "ThinkPad", serial: serial, assetTag: tag)
    }

    @Test func duplicateSerialIsRejectedWhateverItsCase() throws {
        let t = try TempInventory().withSample()
        let before = try t.count("SELECT count(*) FROM event")
        #expect {
            try t.inventory.write { try $0.addDevice(laptop("pf4nlv31")) }
        } throws: { error in
            guard case InventoryError.duplicate(_, "serial", "pf4nlv31", let holder) = error else { return false }
            return holder.contains("PF4NLV31") && "\(error)".contains("must be unique")
        }
        #expect(try t.count("SELECT count(*) FROM device") == 18)
        #expect(try t.count("SELECT count(*) FROM event") == before)
    }

    @Test func duplicateAssetTagIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.addDevice(laptop("NEW-1", tag: "nlv-2024-011")) }
        } throws: { ($0 as? InventoryError)?.field == "assetTag" }
    }

    @Test func macOfAnotherDeviceIsRejectedNamingTheHolder() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.addDevice(laptop("NEW-1"), macs: ["8C16453A1001"]) }
        } throws: { error in
            guard case InventoryError.duplicate(_, "mac", "8c:16:45:3a:10:01", let holder) = error else { return false }
            return holder.contains("PF4NLV31")
        }
    }

    @Test func badMACIsRejectedAndNothingIsWritten() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.addDevice(laptop("NEW-1"), macs: ["8c:16:45:3a:10"]) }
        } throws: { ($0 as? InventoryError)?.field == "mac" }
        #expect(try t.count("SELECT count(*) FROM device WHERE serial = 'NEW-1'") == 0)
    }

    @Test func badUAIIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.addSchool(uai: "0570001A", name: "École", member: "norroy-le-veneur") }
        } throws: { ($0 as? InventoryError)?.field == "uai" }
        #expect(try t.count("SELECT count(*) FROM school") == 1)
    }

    @Test func unknownSchoolIsRejectedWithAHint() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { tx in try tx.addRoom(school: "0750655E", name: "CM1") }
        } throws: { error in
            guard case InventoryError.notFound("school", "0750655E", let hint) = error else { return false }
            return hint.english.contains("parc school list")
        }
    }

    @Test func unknownRoomListsTheSchoolsRooms() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.read { try $0.placeIDs(school: sampleUAI, room: "Gymnase", cart: nil) }
        } throws: { error in
            guard case InventoryError.notFound("room", _, let hint) = error else { return false }
            return hint.english.contains("Classe CM2")
        }
    }

    @Test func removingASchoolThatStillHasDevicesIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.removeSchool(sampleUAI) }
        } throws: { error in
            guard case InventoryError.inUse("school", sampleUAI, let reason, _) = error else { return false }
            return reason.english.contains("18 device")
        }
        #expect(try t.count("SELECT count(*) FROM school") == 1)
        #expect(try t.count("SELECT count(*) FROM room") == 5)
    }

    @Test func removingAnEmptySchoolRemovesItsRoomsWithEvents() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.addSchool(uai: "0750655E", name: "École test", member: "norroy-le-veneur")
            try tx.addRoom(school: "0750655E", name: "A")
            try tx.addRoom(school: "0750655E", name: "B")
        }
        try t.inventory.write { try $0.removeSchool("0750655e") }
        #expect(try t.count("SELECT count(*) FROM room") == 5)
        #expect(try t.count("SELECT count(*) FROM event WHERE action = 'delete' AND entity = 'room'") == 2)
        #expect(try t.count("SELECT count(*) FROM event WHERE action = 'delete' AND entity = 'school' AND entityKey = '0750655E'") == 1)
    }

    @Test func removingACartThatHoldsDevicesIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.removeDevice("NLV-2024-010") }
        } throws: { error in
            guard case InventoryError.inUse("cart", _, let reason, _) = error else { return false }
            return reason.english.contains("16")
        }
    }

    @Test func aScreenCannotGoInACart() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { tx in try tx.move("SPX86E4A21907", to: .cart(try tx.cart("NLV-2024-010").id!)) }
        } throws: { ($0 as? InventoryError)?.field == "cart" }
    }

    @Test func aCartIsOnlyACart() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { tx in try tx.fillCart("PF4NLV31", with: ["PF4NLV32"]) }
        } throws: { ($0 as? InventoryError)?.field == "cart" }
    }

    @Test func duplicateMemberSirenIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.addMember(Member(kind: .commune, name: "Autre", siren: "215705112")) }
        } throws: { ($0 as? InventoryError)?.field == "siren" }
    }

    @Test func removingAMemberWithSchoolsIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.removeMember("norroy-le-veneur") }
        } throws: { error in
            if case InventoryError.inUse("member", _, _, _) = error { return true }
            return false
        }
    }

    @Test func removingAnOrderWithDevicesIsRejected() throws {
        let t = try TempInventory().withSample()
        #expect {
            try t.inventory.write { try $0.removeOrder("BC-2024-041") }
        } throws: { error in
            if case InventoryError.inUse("order", _, _, _) = error { return true }
            return false
        }
        #expect(try t.count("SELECT count(*) FROM fundingLine") == 5)
    }

    @Test func orderNumberUsedByTwoMembersNeedsTheMember() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            let plappeville = try tx.addMember(Member(kind: .commune, name: "Plappeville", insee: "57545"))
            try tx.addOrder(Order(memberId: plappeville.id!, number: "BC-2024-041"))
        }
        #expect {
            try t.inventory.read { try $0.order("BC-2024-041") }
        } throws: { error in
            if case InventoryError.ambiguous("order", _, let candidates, let hint) = error {
                return candidates.count == 2 && hint.english.contains("--member")
            }
            return false
        }
        let o = try t.inventory.read { try $0.order("BC-2024-041", member: "plappeville") }
        #expect(o.amountInclTax == nil)
    }

    @Test func aFailureMidTransactionUndoesEverythingBeforeIt() throws {
        let t = try TempInventory().withSample()
        let events = try t.count("SELECT count(*) FROM event")
        #expect(throws: InventoryError.self) {
            try t.inventory.write { tx in
                try tx.addDevice(self.laptop("FINE-1"))
                try tx.move("PF4NLV31", to: .nowhere)
                try tx.addDevice(self.laptop("PF4NLV32"))
            }
        }
        #expect(try t.count("SELECT count(*) FROM device WHERE serial = 'FINE-1'") == 0)
        #expect(try t.count("SELECT count(*) FROM device WHERE serial = 'PF4NLV31' AND cartId IS NOT NULL") == 1)
        #expect(try t.count("SELECT count(*) FROM event") == events)
    }

    @Test func fillingACartIsAllOrNothing() throws {
        let t = try TempInventory().withSample()
        try t.inventory.write { tx in
            try tx.addDevice(self.laptop("SPARE-1"))
        }
        #expect(throws: InventoryError.self) {
            try t.inventory.write { try $0.fillCart("NLV-2024-010", with: ["SPARE-1", "NO-SUCH-SERIAL"]) }
        }
        #expect(try t.count("SELECT count(*) FROM device WHERE serial = 'SPARE-1' AND cartId IS NULL") == 1)
    }
}
