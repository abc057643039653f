import Foundation
import Testing
@testable import ParcCore

@Suite struct HashTests {
    @Test func sha256MatchesFIPSVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hostKeyFingerprintIsOpenSSHs() throws {
        // `ssh-keygen -lf` of this public key prints SHA256:1hRfixI/5hevpfrW8Pb4Pd/H9egdUYu2Bag14H9hylk.
        let key = try HostKey(openSSH: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0jh3U2EB2cKDpvz0I+dVDu9thBj2EqcqJbPkyUDlTs lab-01")
        #expect(key.algorithm == "ssh-ed25519")
        #expect(key.fingerprint == "SHA256:1hRfixI/5hevpfrW8Pb4Pd/H9egdUYu2Bag14H9hylk")
        #expect(key.openSSH == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0jh3U2EB2cKDpvz0I+dVDu9thBj2EqcqJbPkyUDlTs")
        // And for keys made now, of each type devices use, against ssh-keygen itself.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-fp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func keygen(_ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        for type in ["ed25519", "ecdsa"] {
            _ = try keygen(["-q", "-t", type, "-N", "", "-f", "\(dir)/\(type)"])
            let made = try HostKey(openSSH: String(contentsOfFile: "\(dir)/\(type).pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            let printed = try keygen(["-lf", "\(dir)/\(type).pub"]).split(separator: " ")
            #expect(printed.count >= 2 && made.fingerprint == String(printed[1]), "\(type): \(printed)")
        }
    }

    @Test func aHostKeyWhoseDataIsAnotherTypeIsRejected() {
        #expect(throws: InvalidValue.self) {
            try HostKey(openSSH: "ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIE0jh3U2EB2cKDpvz0I+dVDu9thBj2EqcqJbPkyUDlTs")
        }
        #expect(throws: InvalidValue.self) { try HostKey(openSSH: "ssh-ed25519") }
    }

    @Test func secretsNeverPrintTheirValue() {
        let s = Secret("Directrice-57")
        #expect("\(s)" == "********")
        #expect(String(reflecting: s) == "Secret(********)")
        #expect(!"\(Become.sudoPassword(s))".contains("Directrice"))
        #expect(s.reveal() == "Directrice-57")
    }

    @Test func shellQuotingSurvivesQuotes() {
        #expect(shellQuote("plain-word_1.conf") == "plain-word_1.conf")
        #expect(shellQuote("it's here") == "'it'\\''s here'")
        #expect(shellQuote("") == "''")
        #expect(shellQuote("$(rm -rf /)") == "'$(rm -rf /)'")
    }
}

@Suite struct HostPatternTests {
    let groups: [String: Set<String>] = [
        "all": ["a", "b", "c", "d"], "school_0572113m": ["a", "b", "c"], "kind_laptop": ["b", "c", "d"], "lab-03": ["c"],
    ]

    func select(_ pattern: String) throws -> Set<String> {
        try HostPattern(pattern).evaluate { groups[$0] ?? [] }
    }

    @Test func unionIntersectionAndExclusionFollowAnsible() throws {
        #expect(try select("school_0572113m") == ["a", "b", "c"])
        #expect(try select("school_0572113m:kind_laptop") == ["a", "b", "c", "d"])
        #expect(try select("school_0572113m:&kind_laptop") == ["b", "c"])
        #expect(try select("school_0572113m:&kind_laptop:!lab-03") == ["b"])
        #expect(try select("!lab-03:&kind_laptop") == ["b", "d"])
        #expect(try select("kind_laptop,school_0572113m") == ["a", "b", "c", "d"])
    }

    @Test func anEmptyTermIsAnError() {
        #expect(throws: InvalidValue.self) { try HostPattern("school_x::kind_laptop") }
        #expect(throws: InvalidValue.self) { try HostPattern("") }
    }

    @Test func wildcardsMatchCaseInsensitively() {
        #expect(GroupName.matches("lab-0*", "LAB-03"))
        #expect(GroupName.matches("room_0572113m_*", "room_0572113m_classe_cm2"))
        #expect(!GroupName.matches("lab-0?", "lab-100"))
        #expect(GroupName.part("Classe CE2-CM1") == "classe_ce2_cm1")
    }
}
