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

/// `Words.fold`, written without Foundation's locale-aware folding (an import folded a kind per row).
@Suite struct WordFoldingTests {
    @Test("case, accents, spaces and punctuation do not count; ASCII and accented text fold alike; designations still name their kind")
    func folding() throws {
        #expect(Words.fold("Écran n° 2") == "ecrann2")
        #expect(Words.fold("ÉCRAN NUMÉRIQUE-interactif") == "ecrannumeriqueinteractif")
        #expect(Words.fold("Point d'accès") == "pointdacces")
        #expect(Words.fold("PC portable") == "pcportable")
        #expect(Words.fold("Œuvre à çà") == "œuvreaca")
        #expect(Words.fold("Classe mobile / chariot", keepingSpaces: true) == "classe mobile   chariot")
        #expect(Words.fold("Vidéo-projecteur", keepingSpaces: true) == "video projecteur")
        #expect(try DeviceKind(parsing: "point d’accès") == .accessPoint)
        #expect(try DeviceKind(parsing: "ÉCRAN NUMÉRIQUE INTERACTIF") == .interactiveScreen)
        #expect(try DeviceStatus(parsing: "déployé") == .deployed)
        #expect(try DeviceStatus(parsing: "PERDU / VOLÉ") == .lost)
        #expect(DeviceKind.infer(fromDesignation: "Ordinateur PORTABLE Lenovo 14\"") == .laptop)
        #expect(DeviceKind.infer(fromDesignation: "Vidéo-projecteur Epson") == .projector)
        #expect(DeviceKind.infer(fromDesignation: "ENI 86 pouces") == .interactiveScreen)
        #expect(DeviceKind.infer(fromDesignation: "Écran numérique interactif 75\"") == .interactiveScreen)
        #expect(DeviceKind.infer(fromDesignation: "Borne Wi-Fi") == .accessPoint)
        // A word inside another is not that word: "portables" is, "transportable" is not.
        #expect(DeviceKind.infer(fromDesignation: "Sac transportable") == nil)
        #expect(DeviceKind.infer(fromDesignation: "") == nil)
    }
}
