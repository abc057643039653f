import Foundation
import Lab
import ParcCore
import SSHTransport
import Testing

@Suite(.serialized) struct AuthenticationTests {
    @Test func ed25519KeyFromFileAuthenticatesAndRunsACommand() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let r = try await c.run("id -un; hostname")
        #expect(r.exitStatus == 0)
        #expect(r.stdoutText == "\(lab.device.user)\n\(lab.device.name)\n")
        #expect(c.hostKeyCheck == .pinned)
        await c.close()
    }

    @Test func ecdsaKeyAndPassphraseProtectedKeysWork() async throws {
        let lab = try LabFixture()
        let ecdsa = try lab.makeKey(type: "ecdsa")
        let c1 = try await SSHConnection.connect(try lab.options(credentials: [.keyFile(ecdsa)]))
        #expect(try await c1.run("true").exitStatus == 0)
        let protected = try lab.makeKey(type: "ed25519", passphrase: "cartable-vert")
        let c2 = try await SSHConnection.connect(try lab.options(credentials: [.keyFile(protected, passphrase: Secret("cartable-vert"))]))
        #expect(try await c2.run("echo ok").stdoutText == "ok\n")
    }

    @Test func wrongPassphraseIsAnAuthenticationFailureThatDoesNotShowIt() async throws {
        let lab = try LabFixture()
        let protected = try lab.makeKey(type: "ed25519", passphrase: "cartable-vert")
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(credentials: [.keyFile(protected, passphrase: Secret("trousse-rouge"))]))
        } throws: { error in
            guard case TransportError.authenticationFailed(let host, _, let reason) = error else { return false }
            return host == lab.device.name && reason.contains("wrong passphrase") && !"\(error)".contains("trousse-rouge")
        }
    }

    @Test func aKeyTheDeviceDoesNotKnowIsRefused() async throws {
        let lab = try LabFixture()
        let stranger = try lab.makeKey(type: "ed25519", install: false)
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(credentials: [.keyFile(stranger)]))
        } throws: { error in
            guard case TransportError.authenticationFailed(_, let user, let reason) = error else { return false }
            return user == lab.device.user && reason.contains("refused")
        }
    }

    @Test func anRSAKeyGetsAPlainWordsExplanation() async throws {
        let lab = try LabFixture()
        let rsa = try lab.makeKey(type: "rsa")
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(credentials: [.keyFile(rsa)]))
        } throws: { error in
            let text = "\(error)"
            return text.contains("RSA key") && text.contains("SHA-1") && text.contains("ssh-keygen -t ed25519")
        }
    }

    @Test func passwordLoginBootstrapsAFreshDevice() async throws {
        let lab = try LabFixture(options: LabOptions(password: "Rentree2026!", installKey: false))
        let c = try await SSHConnection.connect(try lab.options(credentials: [.keyFile(lab.lab.clientKey), .password(Secret("Rentree2026!"))]))
        #expect(try await c.run("id -un").stdoutText == "\(lab.device.user)\n")
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(credentials: [.password(Secret("wrong"))]))
        } throws: { error in
            guard case TransportError.authenticationFailed(_, _, let reason) = error else { return false }
            return reason.contains("password refused") && !"\(error)".contains("wrong")
        }
    }

    @Test func agentKeysAuthenticate() async throws {
        let lab = try LabFixture()
        let socket = lab.dir + "/agent.sock"
        let agent = try Spawn.start(["/usr/bin/ssh-agent", "-D", "-a", socket], output: lab.dir + "/agent.log", newSession: false)
        defer { Spawn.terminate(agent) }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { usleep(10_000) }
        let add = try Spawn.run(["/usr/bin/env", "SSH_AUTH_SOCK=\(socket)", "/usr/bin/ssh-add", lab.lab.clientKey])
        #expect(add.status == 0, "\(add.output)")
        // The socket is given, not put in the environment: changing the environment while other
        // tests start processes raced with Foundation's Process (a crash in CI).
        let c = try await SSHConnection.connect(try lab.options(credentials: [.agentSocket(socket)]))
        #expect(try await c.run("echo agent").stdoutText == "agent\n")
    }
}

@Suite(.serialized) struct HostKeyTests {
    @Test func strictPolicyRefusesAnUnknownKeyShowingItsFingerprint() async throws {
        let lab = try LabFixture()
        let fingerprint = try lab.lab.hostKey(lab.device.name).fingerprint
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .strict)))
        } throws: { error in
            guard case TransportError.hostKeyUnknown(let host, let shown) = error else { return false }
            return host == lab.device.name && shown.contains(fingerprint) && "\(error)".contains("accept-new")
        }
    }

    @Test func acceptNewTakesTheFirstKeyThenRefusesAChangedOne() async throws {
        let lab = try LabFixture()
        let first = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .acceptNew)))
        #expect(first.hostKeyCheck == .new)
        let pinned = first.hostKey
        #expect(pinned == (try lab.lab.hostKey(lab.device.name)))
        await first.close()

        let again = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .acceptNew, pinned: pinned)))
        #expect(again.hostKeyCheck == .pinned)
        await again.close()

        try lab.lab.regenerateHostKey(lab.device.name)
        let newKey = try lab.lab.hostKey(lab.device.name)
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .acceptNew, pinned: pinned)))
        } throws: { error in
            guard case TransportError.hostKeyChanged(_, let expected, let actual) = error else { return false }
            return expected.contains(pinned.fingerprint) && actual.contains(newKey.fingerprint)
                && pinned.fingerprint.hasPrefix("SHA256:") && "\(error)".contains("HOST KEY CHANGED")
        }
    }

    @Test func aKnownHostsFileIsHonouredIncludingHashedNamesAndPorts() async throws {
        let lab = try LabFixture()
        let d = lab.device
        let key = try lab.lab.hostKey(d.name)
        let name = d.port == 22 ? d.address : "[\(d.address)]:\(d.port)"
        let plain = lab.dir + "/known_hosts"
        try "# a comment\n\(name) \(key.openSSH) lab\n".write(toFile: plain, atomically: true, encoding: .utf8)
        let c = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .strict, knownHostsFiles: [plain])))
        #expect(c.hostKeyCheck == .knownHosts(file: plain, line: 2))

        // ssh-keygen -H hashes the names, as Debian's ssh does by default.
        #expect(try Spawn.run(["/usr/bin/ssh-keygen", "-H", "-f", plain]).status == 0)
        #expect(try !String(contentsOfFile: plain, encoding: .utf8).contains(d.address))
        let hashed = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .strict, knownHostsFiles: [plain])))
        #expect(hashed.hostKeyCheck != .new)

        let other = try lab.makeKey(type: "ecdsa", install: false)
        let wrong = lab.dir + "/known_hosts_wrong"
        try "\(name) \(try String(contentsOfFile: other + ".pub", encoding: .utf8))".write(toFile: wrong, atomically: true, encoding: .utf8)
        await #expect {
            _ = try await SSHConnection.connect(try lab.options(policy: HostKeyPolicy(mode: .acceptNew, knownHostsFiles: [wrong])))
        } throws: { error in
            if case TransportError.hostKeyChanged(_, let expected, _) = error { return expected.contains("ecdsa") && expected.contains(wrong) }
            return false
        }
    }
}

@Suite struct ReachabilityTests {
    /// A refusal is known at once (0.5 ms: `scripts/bench-ssh` prints it) and is said as a refusal: had
    /// the connection waited for its bound instead, the error would be a timeout naming 600 s. No clock
    /// here: under the whole suite on two cores, resuming this test once took 50 s (CI, stop 35).
    @Test func aClosedPortIsRefusedRatherThanWaitedFor() async throws {
        await #expect {
            _ = try await SSHConnection.connect(SSHOptions(name: "salle-info-03", address: "127.0.0.1", port: 9, user: "x", credentials: [],
                                                           connectTimeout: .seconds(600)))
        } throws: { error in
            guard case TransportError.unreachable(let host, let reason) = error else { return false }
            return host == "salle-info-03" && reason.contains("refused")
        }
    }

    @Test func anAddressThatNeverAnswersTimesOutWithinTheBound() async throws {
        // A listening socket whose backlog is full and that never accepts: the TCP handshake or the
        // SSH banner never comes, like a laptop that went to sleep.
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        listen(s, 0)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let start = ContinuousClock.now
        await #expect {
            _ = try await SSHConnection.connect(SSHOptions(name: "sleeping", address: "127.0.0.1", port: port, user: "x", credentials: [],
                                                           connectTimeout: .milliseconds(700)))
        } throws: { error in
            if case TransportError.timeout(let host, _, let seconds) = error { return host == "sleeping" && seconds == 0.7 }
            return false
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(650))
        // A blocking connect to such an address takes minutes (the kernel's SYN retries). The margin
        // is wide: under a sanitizer, with the end-to-end tests' synchronous process waits holding
        // the two cooperative threads of this machine, resuming this test took 27 s once.
        #expect(elapsed < .seconds(60), "the bound holds (the message names the bound)")
    }

    @Test func ipv6AddressesWork() async throws {
        let lab = try LabFixture()
        let port = try #require(lab.device.ipv6Port, "this machine has an IPv6 loopback")
        var options = try lab.options()
        options.address = "::1"
        options.port = port
        let c = try await SSHConnection.connect(options)
        #expect(try await c.run("echo v6").stdoutText == "v6\n")
    }

    @Test func anUnknownNameIsUnreachable() async throws {
        await #expect {
            _ = try await SSHConnection.connect(SSHOptions(address: "no-such-host.invalid", user: "x", credentials: [], connectTimeout: .seconds(2)))
        } throws: { ($0 as? TransportError)?.isUnreachable == true }
    }
}
