import ParcCore
import Testing

/// Typed or imported text is bounded, one line where a value is one line, and shown as text.
@Suite struct InputBoundsTests {
    func refusal(_ d: Device) -> InvalidValue? {
        var d = d
        do { try d.validate(); return nil } catch { return error }
    }

    @Test func controlCharactersInIdentifiersAreRefusedAndShownAsEscapes() throws {
        let nul = try #require(refusal(Device(kind: .laptop, serial: "PF4\u{0}NLV")))
        #expect(nul.field == "serial" && nul.description.contains("PF4\\0NLV") && !nul.description.contains("\u{0}"))
        let esc = try #require(refusal(Device(kind: .laptop, model: "\u{1B}[2J\u{1B}[31mThinkPad", serial: "PF4")))
        #expect(esc.field == "model" && esc.description.contains("\\u{1B}[2J") && !esc.description.contains("\u{1B}"))
        let line = try #require(refusal(Device(kind: .laptop, serial: "PF4", assetTag: "NLV-1\nforged line")))
        #expect(line.field == "assetTag" && line.description.contains("NLV-1\\nforged line"))
        let bidi = try #require(refusal(Device(kind: .laptop, manufacturer: "Len\u{202E}ovo", serial: "PF4")))
        #expect(bidi.field == "manufacturer")
        // Notes may hold line breaks and tabs, nothing else.
        var notes = Device(kind: .laptop, serial: "PF4", notes: "écran fêlé\n\tcoin gauche")
        try notes.validate()
        #expect(notes.notes == "écran fêlé\n\tcoin gauche")
        #expect(refusal(Device(kind: .laptop, serial: "PF4", notes: "bip\u{7}")) != nil)
    }

    @Test func lengthsAreBoundedAndTheMessageStaysShort() throws {
        let big = String(repeating: "A", count: 1_000_000)
        let e = try #require(refusal(Device(kind: .laptop, serial: big)))
        #expect(e.field == "serial" && e.problem.english.contains("1000000 characters long; this field takes at most 64"))
        #expect(e.description.count < 300, "the message shows the start of the value, not a megabyte")
        #expect(refusal(Device(kind: .laptop, serial: String(repeating: "A", count: 64))) == nil)
        #expect(refusal(Device(kind: .laptop, model: String(repeating: "m", count: 201), serial: "S"))?.field == "model")
        var member = Member(kind: .commune, name: String(repeating: "N", count: 201), slug: "n", siren: "215705112")
        #expect(throws: InvalidValue.self) { try member.validate() }
    }

    @Test func addressesAreIPLiteralsOrHostNamesNothingElse() throws {
        for bad in ["-oProxyCommand=touch /tmp/x", "host name", "pc;reboot", "$(id)", "10.0.0.1:22", "::g", "-host", "a..b", "999.1.1.1"] {
            let e = refusal(Device(kind: .laptop, serial: "S", address: bad))
            #expect(e?.field == "address", "\(bad) is refused")
        }
        for (good, stored) in [("10.57.1.21", "10.57.1.21"), ("127.0.0.1", "127.0.0.1"), ("fe80::1", "fe80::1"), ("[::1]", "::1"),
                               ("PC-CM2-01.ecole.local", "pc-cm2-01.ecole.local"), ("nas", "nas")] {
            var d = Device(kind: .laptop, serial: "S", address: good)
            try d.validate()
            #expect(d.address == stored)
        }
    }

    @Test func loginNamesAreRefusedWhenTheyAreNotLoginNames() {
        #expect(refusal(Device(kind: .laptop, serial: "S", sshUser: "-oProxyCommand=x"))?.field == "sshUser")
        #expect(refusal(Device(kind: .laptop, serial: "S", sshUser: "root;id"))?.field == "sshUser")
        #expect(refusal(Device(kind: .laptop, serial: "S", sshUser: "parclab")) == nil)
    }

    @Test func visibleTextEscapesWhatATerminalWouldObey() {
        #expect("a\u{1B}]0;title\u{7}b".visible == "a\\u{1B}]0;title\\u{7}b")
        #expect("line\r\nnext".visible == "line\\r\\nnext")
        #expect(TextRules.visible(String(repeating: "x", count: 500), max: 10) == "xxxxxxxxxx… (500 characters)")
        #expect("École élémentaire".visible == "École élémentaire")
    }
}

@Suite struct VisibleTextTests {
    @Test func severalLinesKeepTheirBreaksButNotTheirEscapes() {
        #expect(TextRules.visible("a\n\tb\u{1B}[2Jc\r", max: 100, keepLineBreaks: true) == "a\n\tb\\u{1B}[2Jc\\r")
    }
}
