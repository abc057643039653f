import ParcCore
import Testing

/// Every French label parc prints is read back (issue 15, item 3), with the words people write.
@Suite struct FrenchWordsTests {
    @Test func everyKindAndStatusReadsBackFromItsFrenchLabel() throws {
        for kind in DeviceKind.allCases {
            #expect(try DeviceKind(parsing: kind.french) == kind, "\(kind.french)")
            #expect(try DeviceKind(parsing: kind.french.uppercased()) == kind)
        }
        for status in DeviceStatus.allCases {
            #expect(try DeviceStatus(parsing: status.french) == status, "\(status.french)")
        }
    }

    @Test(arguments: [("Écran numérique interactif", DeviceKind.interactiveScreen), ("ecran numerique interactif", .interactiveScreen),
                      ("TBI", .interactiveScreen), ("ENI", .interactiveScreen), ("Classe mobile (chariot)", .cart), ("classe mobile", .cart),
                      ("PC portable", .laptop), ("Vidéoprojecteur", .projector), ("videoprojecteur", .projector), ("point d'accès", .accessPoint),
                      ("interactiveScreen", .interactiveScreen), ("interactive-screen", .interactiveScreen)])
    func kindsAsPeopleWriteThem(_ c: (String, DeviceKind)) throws {
        #expect(try DeviceKind(parsing: c.0) == c.1)
    }

    @Test func statusesAsPeopleWriteThemAndAnUnknownWordListsTheAcceptedOnes() throws {
        #expect(try DeviceStatus(parsing: "En service") == .deployed)
        #expect(try DeviceStatus(parsing: "en réparation") == .inRepair)
        #expect(try DeviceStatus(parsing: "Perdu / volé") == .lost)
        #expect(try DeviceStatus(parsing: "réformé") == .retired)
        #expect(throws: InvalidValue.self) { try DeviceStatus(parsing: "cassé") }
        do { _ = try DeviceKind(parsing: "imprimante") } catch {
            #expect("\(error)".contains("PC portable") && "\(error)".contains("Classe mobile (chariot)") && "\(error)".contains("TBI"))
        }
    }
}
