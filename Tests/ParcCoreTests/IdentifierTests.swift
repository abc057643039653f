import Testing
@testable import ParcCore

@Suite struct IdentifierTests {
    @Test func uaiWithRightCheckLetterIsAcceptedAndUppercased() throws {
        #expect(try UAI.normalize("0750655e") == "0750655E")
        #expect(try UAI.normalize(" 0572113M ") == "0572113M")
    }

    @Test func uaiWithWrongCheckLetterNamesTheExpectedLetter() {
        #expect {
            try UAI.normalize("0572113A")
        } throws: { error in
            let e = error as! InvalidValue
            return e.field == "uai" && e.problem.english.contains("check letter of 0572113 is M")
        }
    }

    @Test(arguments: ["057211M", "05721134", "A572113M", "", "0572113MM"])
    func malformedUAIIsRejected(_ raw: String) {
        #expect(throws: InvalidValue.self) { try UAI.normalize(raw) }
    }

    @Test func sirenIsCheckedWithLuhn() throws {
        #expect(try SIREN.normalize("215 705 112") == "215705112")
        #expect(throws: InvalidValue.self) { try SIREN.normalize("215705113") }
        #expect(throws: InvalidValue.self) { try SIREN.normalize("21570511") }
    }

    @Test func inseeCodeAcceptsCorsicaAndRejectsOtherShapes() throws {
        #expect(try INSEECode.normalize("57511") == "57511")
        #expect(try INSEECode.normalize("2a004") == "2A004")
        #expect(throws: InvalidValue.self) { try INSEECode.normalize("5751") }
        #expect(throws: InvalidValue.self) { try INSEECode.normalize("3A004") }
    }

    @Test(arguments: ["8C:16:45:3A:10:01", "8c-16-45-3a-10-01", "8c16.453a.1001", "8c16453a1001", " 8c:16:45:3a:10:01 "])
    func macAddressesAreNormalisedToLowerColons(_ raw: String) throws {
        #expect(try MACAddress.normalize(raw) == "8c:16:45:3a:10:01")
    }

    @Test(arguments: ["8c:16:45:3a:10", "8c:16:45:3a:10:0g", "8c:16-45:3a:10:01", "8c16453a10011", "hello"])
    func badMACAddressIsRejectedNamingTheField(_ raw: String) {
        #expect {
            try MACAddress.normalize(raw)
        } throws: { ($0 as? InvalidValue)?.field == "mac" }
    }

    @Test func slugDropsAccentsAndPunctuation() {
        #expect(slugify("Norroy-le-Veneur") == "norroy-le-veneur")
        #expect(slugify("École Jean  Moulin (Metz)") == "ecole-jean-moulin-metz")
        #expect(slugify("SIVOS de l'Orne") == "sivos-de-l-orne")
        #expect(slugify("Cœur de Moselle") == "coeur-de-moselle")
    }

    @Test func hostnamesFollowRFC1123() throws {
        #expect(try Hostname.normalize("NLV-CM2-01") == "nlv-cm2-01")
        #expect(throws: InvalidValue.self) { try Hostname.normalize("salle info") }
        #expect(throws: InvalidValue.self) { try Hostname.normalize("-bad") }
        #expect(throws: InvalidValue.self) { try Hostname.normalize("école") }
    }
}

@Suite struct ValueTests {
    @Test func dayParsesISOAndFrenchForms() throws {
        #expect(try Day(parsing: "2024-09-23") == Day(year: 2024, month: 9, day: 23))
        #expect(try Day(parsing: "23/09/2024").description == "2024-09-23")
        #expect(try Day(parsing: "2024-09-23").french == "23/09/2024")
        #expect(try Day(parsing: "2024-02-29").day == 29)
    }

    @Test(arguments: ["2023-02-29", "2024-13-01", "24-09-2024", "2024/09/23", "tomorrow", ""])
    func impossibleDayIsRejectedNamingTheField(_ raw: String) {
        #expect {
            try Day(parsing: raw, field: "deliveredOn")
        } throws: { ($0 as? InvalidValue)?.field == "deliveredOn" }
    }

    @Test func moneyReadsFrenchAndEnglishForms() throws {
        #expect(try Money(parsing: "1234.56").cents == 123_456)
        #expect(try Money(parsing: "1 234,56 €").cents == 123_456)
        #expect(try Money(parsing: "5683,2").cents == 568_320)
        #expect(try Money(parsing: "810").cents == 81_000)
        #expect(throws: InvalidValue.self) { try Money(parsing: "12.345") }
        #expect(throws: InvalidValue.self) { try Money(parsing: "douze") }
    }

    @Test func moneyPrintsMachineAndFrenchForms() {
        let m = Money(cents: 1_420_800)
        #expect(m.description == "14208.00")
        #expect(m.french == "14\u{202F}208,00\u{00A0}€", "groups and the unit held by no-break spaces")
        #expect(Money(cents: 5).description == "0.05")
    }

    @Test func auditDiffListsOnlyChangedFields() {
        let changes = AuditEvent.diff(old: [("status", "inStock"), ("room", nil), ("notes", "x")],
                                      new: [("status", "deployed"), ("room", "0572113M / CM2"), ("notes", "x")])
        #expect(changes == [FieldChange(field: "status", old: "inStock", new: "deployed"),
                            FieldChange(field: "room", old: nil, new: "0572113M / CM2")])
    }
}

@Suite struct DeviceRuleTests {
    @Test func onlyLaptopsAndTabletsGoInACart() {
        var screen = Device(kind: .interactiveScreen, serial: "S1", cartId: 4)
        #expect { try screen.validate() } throws: { ($0 as? InvalidValue)?.field == "cart" }
        var laptop = Device(kind: .laptop, serial: "L1", cartId: 4)
        #expect(throws: Never.self) { try laptop.validate() }
    }

    @Test func aDeviceIsInARoomOrACartNotBoth() {
        var d = Device(kind: .laptop, serial: "L1", roomId: 1, cartId: 2)
        #expect { try d.validate() } throws: { ($0 as? InvalidValue)?.field == "place" }
    }

    @Test func serialIsRequiredAndTrimmed() throws {
        var empty = Device(kind: .laptop, serial: "  ")
        #expect { try empty.validate() } throws: { ($0 as? InvalidValue)?.field == "serial" }
        var d = Device(kind: .laptop, serial: " PF4NLV31 ", assetTag: "  ")
        try d.validate()
        #expect(d.serial == "PF4NLV31")
        #expect(d.assetTag == nil)
    }

    @Test func kindsParseWithAliases() throws {
        #expect(try DeviceKind(parsing: "interactive-screen") == .interactiveScreen)
        #expect(try DeviceKind(parsing: "ENI") == .interactiveScreen)
        #expect(try DeviceStatus(parsing: "in_repair") == .inRepair)
        #expect(throws: InvalidValue.self) { try DeviceKind(parsing: "toaster") }
    }

    @Test func memberNeedsSirenOrInseeAndOnlyCommunesHaveInsee() throws {
        var none = Member(kind: .commune, name: "X")
        #expect { try none.validate() } throws: { ($0 as? InvalidValue)?.field == "siren" }
        var sivos = Member(kind: .sivos, name: "SIVOS", insee: "57511")
        #expect { try sivos.validate() } throws: { ($0 as? InvalidValue)?.field == "insee" }
    }

    @Test func orderDeliveredBeforeOrderedIsRejected() throws {
        var o = Order(memberId: 1, number: "BC-1", orderedOn: try Day(parsing: "2024-11-04"), deliveredOn: try Day(parsing: "2024-10-01"))
        #expect { try o.validate() } throws: { ($0 as? InvalidValue)?.field == "deliveredOn" }
    }
}
