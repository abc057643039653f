import Foundation
import InventoryStore
import ParcCore
import Testing

/// A SIVOS shares one mobile class between its schools (issue 15, item 6).
@Suite struct CartLoanTests {
    @Test func aLentCartTakesItsLaptopsAlongAndComesBackWhereItWas() throws {
        let t = try TempInventory()
        try t.inventory.loadSamples(TempInventory.sampleFiles)
        let day = { (s: String) in try Day(parsing: s) }
        try t.inventory.write { tx in
            try tx.addSchool(uai: "0572114N", name: "École de Plesnois", member: "norroy-le-veneur")
            try tx.addRoom(school: "0572114N", name: "CM1")
        }
        let home = try t.inventory.read { try $0.deviceRow("NLV-2024-010").room }
        let target = try t.inventory.read { try $0.room(school: "0572114N", name: "CM1") }
        let loan = try t.inventory.write { try $0.lendCart("NLV-2024-010", to: target.id!, until: try day("2025-01-20"), today: try day("2025-01-10")) }
        #expect(loan.to == "0572114N / CM1" && loan.home == "0572113M / \(home!)")
        let laptop = try t.inventory.read { try $0.deviceRow("PF4NLV31") }
        #expect(laptop.uai == "0572114N" && laptop.room == "CM1" && laptop.status == .deployed, "the laptops follow the cart")
        #expect(try t.inventory.read { try $0.history("NLV-2024-010") }.contains { $0.changes.contains { $0.field == "loan" } }, "the loan is in the cart's history")
        #expect(throws: InventoryError.self) { try t.inventory.write { try $0.lendCart("NLV-2024-010", to: target.id!, until: try day("2025-02-01"), today: try day("2025-01-11")) } }
        #expect(try t.inventory.read { try $0.loans(open: true) }.first?.isOverdue(on: try day("2025-02-01")) == true)
        #expect(try t.inventory.read { try $0.loans(open: true) }.first?.isOverdue(on: try day("2025-01-20")) == false)
        let back = try t.inventory.write { try $0.returnCart("NLV-2024-010", today: try day("2025-01-19")) }
        #expect(back.returnedOn == (try day("2025-01-19")))
        #expect(try t.inventory.read { try $0.deviceRow("PF4NLV31") }.room == home, "back where it came from")
        #expect(try t.inventory.read { try $0.loans(open: true) }.isEmpty && t.inventory.read { try $0.loans() }.count == 1)
        #expect(throws: InventoryError.self) { try t.inventory.write { try $0.returnCart("NLV-2024-010", today: try day("2025-01-19")) } }
    }
}
