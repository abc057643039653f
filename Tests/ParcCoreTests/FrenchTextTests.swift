import Foundation
import ParcCore
import Testing

/// How numbers, amounts, sizes and counts are written for French readers.
@Suite struct FrenchTextTests {
    let nnbsp = "\u{202F}", nbsp = "\u{00A0}"

    @Test("thousands are grouped with a narrow no-break space; the € is held to its amount")
    func numbersAndMoney() {
        #expect(FrenchText.number(0) == "0")
        #expect(FrenchText.number(999) == "999")
        #expect(FrenchText.number(11_014) == "11\(nnbsp)014")
        #expect(FrenchText.number(-1_234_567) == "-1\(nnbsp)234\(nnbsp)567")
        #expect(Money(cents: 1_101_480).french == "11\(nnbsp)014,80\(nbsp)€")
        #expect(FrenchText.money(nil) == "—")
        #expect(EquipmentReport.rate(Money(cents: 4_000), of: Money(cents: 10_000)) == "40\(nbsp)%")
        #expect(EquipmentReport.rate(Money(cents: 817_320), of: Money(cents: 959_400)) == "85,2\(nbsp)%")
    }

    @Test("counts agree with their noun: 0 and 1 in the singular, as French does")
    func counts() {
        #expect(FrenchText.count(1, "école") == "1\(nbsp)école")
        #expect(FrenchText.count(0, "école") == "0\(nbsp)école")
        #expect(FrenchText.count(2, "école") == "2\(nbsp)écoles")
        #expect(FrenchText.count(1_200, "appareil créé", "appareils créés") == "1\(nnbsp)200\(nbsp)appareils créés")
    }

    @Test("sizes in octets, Ko, Mo, Go: a 13 KiB file is 13 Ko, never 0,0 Mo")
    func sizes() {
        #expect(FrenchText.size(512) == "512\(nbsp)octets")
        #expect(FrenchText.size(1) == "1\(nbsp)octet")
        #expect(FrenchText.size(13 * 1024) == "13\(nbsp)Ko")
        #expect(FrenchText.size(13 * 1024 + 1) == "14\(nbsp)Ko", "rounded up: a file is never smaller than said")
        #expect(FrenchText.size(1_258_291) == "1,2\(nbsp)Mo")
        #expect(FrenchText.size(25 * 1_048_576) == "25\(nbsp)Mo")
        #expect(FrenchText.megabytes(3_891) == "3,8\(nbsp)Go")
        #expect(FrenchText.decimal(0.04, decimals: 1) == "0,0")
        #expect(FrenchText.decimal(2.05, decimals: 2) == "2,05")
    }

    @Test("times in Paris, JJ/MM/AAAA à HHhMM")
    func times() throws {
        let winter = try Date("2026-12-07T13:05:00Z", strategy: .iso8601)
        #expect(FrenchText.when(winter) == "07/12/2026 à 14h05")
        #expect(FrenchText.when("2026-07-01T10:00:00Z") == "01/07/2026 à 12h00")
        #expect(FrenchText.when("pas une date") == "pas une date")
    }
}
