import Foundation
import ParcCore
import Testing
@testable import SSHTransport

@Suite struct KnownHostsParsingTests {
    @Test func hmacSHA1MatchesRFC2202() {
        let mac = HMACSHA1.mac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(mac.map { String(format: "%02x", $0) }.joined() == "b617318655057264e28bc0b6fb378c8ef146be00")
    }

    @Test func patternsFollowOpenSSH() {
        #expect(KnownHosts.matches(patterns: "lab-01,127.0.0.1", name: "127.0.0.1"))
        #expect(KnownHosts.matches(patterns: "[127.0.0.1]:2222", name: "[127.0.0.1]:2222"))
        #expect(!KnownHosts.matches(patterns: "127.0.0.1", name: "[127.0.0.1]:2222"))
        #expect(KnownHosts.matches(patterns: "*.ecole.local", name: "cm2-01.ecole.local"))
        #expect(!KnownHosts.matches(patterns: "*.ecole.local,!cm2-01.ecole.local", name: "cm2-01.ecole.local"))
    }

    @Test func anRSAKeyFileIsRecognisedInBothFormats() throws {
        #expect(KeyFiles.isRSA("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"))
        #expect(!KeyFiles.isRSA("-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"))
    }

    @Test func becomeWrapsTheCommandAndKeepsThePasswordOffTheCommandLine() throws {
        let (line, input, exchange) = SSHConnection.wrap("echo 'a b'", stdin: Array("x".utf8), become: .sudoPassword(.init("Directrice-57")))
        #expect(line.hasPrefix("sudo -k -S -p '[parc-sudo-"))
        #expect(line.hasSuffix(" sh 'echo '\\''a b'\\'''"))
        #expect(!line.contains("Directrice"))
        #expect(input == Array("x".utf8), "standard input is the command's own")
        let sudo = try #require(exchange)
        #expect(sudo.password == Array("Directrice-57\n".utf8))
        #expect(line.contains(String(decoding: sudo.prompt, as: UTF8.self)) && line.contains(String(decoding: sudo.started, as: UTF8.self)))
        let (again, _, other) = SSHConnection.wrap("id", stdin: nil, become: .sudoPassword(.init("Directrice-57")))
        #expect(other?.prompt != sudo.prompt && !again.isEmpty, "a marker unique to each call")
        #expect(SSHConnection.wrap("id", stdin: nil, become: .sudo).0 == "sudo -n -- /bin/sh -c id")
    }
}
