import Foundation
import Lab
import ParcCore
import SSHTransport
import Testing

@Suite(.serialized) struct CommandTests {
    @Test func stdoutStderrAndExitStatusComeBackAsBytesWithNonASCIIText() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let r = try await c.run("printf 'École élémentaire — salle n°2\\n'; printf 'attention: écran\\n' >&2; exit 3")
        #expect(r.exitStatus == 3)
        #expect(r.stdoutText == "École élémentaire — salle n°2\n")
        #expect(r.stderrText == "attention: écran\n")
        #expect(!r.succeeded)
    }

    @Test func largeOutputOverOneMebibyteArrivesWhole() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let r = try await c.run("head -c 3145728 /dev/zero | tr '\\0' 'é' ; echo fin >&2")
        #expect(r.exitStatus == 0)
        #expect(r.stdout.count == 3 * 1024 * 1024)
        #expect(r.stderrText == "fin\n")
    }

    @Test func standardInputReachesTheCommand() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let input = Array(String(repeating: "ligne accentuée ✓\n", count: 20_000).utf8)
        let r = try await c.run("sha256sum", stdin: input)
        #expect(r.stdoutText.hasPrefix(try sha256Hex(input)))
    }

    @Test func aCommandThatRunsTooLongTimesOut() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        await #expect {
            _ = try await c.run("sleep 5", stdin: nil, become: .none, timeout: .milliseconds(300))
        } throws: { error in
            if case TransportError.timeout(let host, _, let seconds) = error { return host == lab.device.name && seconds == 0.3 }
            return false
        }
    }

    @Test func fiftySessionsAtOnce() async throws {
        let lab = try LabFixture(devices: 5)
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<50 {
                let device = lab.lab.devices[i % 5]
                group.addTask {
                    let c = try await SSHConnection.connect(try lab.options(device, connectTimeout: .seconds(20)))
                    let r = try await c.run("echo \(i) $(hostname)")
                    await c.close()
                    return r.stdoutText
                }
            }
            var out: [String] = []
            for try await line in group { out.append(line) }
            return out
        }
        #expect(results.count == 50)
        #expect(Set(results).count == 50)
        #expect(results.contains("7 lab-03\n"))
    }
}

@Suite(.serialized) struct FileTests {
    @Test func a20MiBUploadArrivesIntactWithItsMode() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        let data = Array(try #require(try random.read(upToCount: 20 * 1024 * 1024)))
        #expect(data.count == 20 * 1024 * 1024)
        try await c.upload(data, to: "/home/parclab/image.bin", mode: 0o640)
        let r = try await c.run("sha256sum /home/parclab/image.bin; stat -c %a /home/parclab/image.bin; ls -a /home/parclab")
        let lines = r.stdoutText.split(separator: "\n")
        #expect(lines[0].hasPrefix(try sha256Hex(data)))
        #expect(lines[1] == "640")
        #expect(!r.stdoutText.contains(".parc-tmp"), "no temporary file is left behind")
        let info = try await c.stat("/home/parclab/image.bin")
        #expect(info?.size == UInt64(data.count))
        #expect(info?.permissions == 0o640)
        #expect(try await c.stat("/home/parclab/nothing-here") == nil)
    }

    @Test func uploadReplacesAnExistingFileAndDownloadReadsItBack() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        try await c.upload(Array("première version\n".utf8), to: "/home/parclab/note.txt", mode: 0o644)
        try await c.upload(Array("deuxième version\n".utf8), to: "/home/parclab/note.txt", mode: 0o600)
        #expect(try await c.download("/home/parclab/note.txt") == Array("deuxième version\n".utf8))
        #expect(try await c.stat("/home/parclab/note.txt")?.permissions == 0o600)
    }

    @Test func anUploadCutOffMidwayLeavesTheOldFileIntact() async throws {
        let lab = try LabFixture()
        let d = lab.device
        let c = try await lab.connect()
        let old = Array("Wi-Fi: ancienne configuration\n".utf8)
        try await c.upload(old, to: "/home/parclab/wifi.conf", mode: 0o600)
        let big = [UInt8](repeating: 0x41, count: 64 * 1024 * 1024)
        let upload = Task { try await c.upload(big, to: "/home/parclab/wifi.conf", mode: 0o600) }
        // Switch the device off while the transfer runs.
        let hostFile = d.root + "/upper/home/parclab"
        for _ in 0..<500 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: hostFile)) ?? []
            if names.contains(where: { $0.hasPrefix(".parc-tmp-wifi.conf") }) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        lab.lab.stop(d.name)
        await #expect(throws: TransportError.self) { try await upload.value }
        let onDevice = try Data(contentsOf: URL(fileURLWithPath: d.hostPath(of: "/home/parclab/wifi.conf")))
        #expect(Array(onDevice) == old)
    }

    @Test func writesStayInTheDevicesOwnFiles() async throws {
        let lab = try LabFixture(devices: 2)
        #expect(Lab.canIsolate, "the lab needs root to give devices their own files")
        let a = try await lab.connect(lab.lab.devices[0])
        let text = Array("proxy=http://proxy.ac-nancy-metz.fr:3128\n".utf8)
        #expect(try await a.shell("head -c \(text.count) <&3 > /etc/parc-lab-probe", input: text, become: .sudo).succeeded)
        #expect(try await a.run("cat /etc/parc-lab-probe").stdoutText.contains("proxy"))
        let b = try await lab.connect(lab.lab.devices[1])
        #expect(try await b.run("test -e /etc/parc-lab-probe").exitStatus == 1)
        #expect(!FileManager.default.fileExists(atPath: "/etc/parc-lab-probe"), "the machine itself is untouched")
        // root's home too: the device's own, private, with the lab's key as a device set up for Ansible.
        #expect(try await a.shell("touch /root/parc-lab-probe && stat -c %a /root && cat /root/.ssh/authorized_keys", become: .sudo).stdoutText
                == "700\n" + (try String(contentsOfFile: lab.lab.clientKey + ".pub", encoding: .utf8)))
        #expect(try await b.run("sudo test -e /root/parc-lab-probe").exitStatus == 1)
        #expect(!FileManager.default.fileExists(atPath: "/root/parc-lab-probe"), "this machine's /root is untouched")
    }
}

@Suite(.serialized) struct BecomeTests {
    @Test func sudoWithoutPasswordRunsAsRootAndPushesRootOwnedFiles() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        #expect(try await c.run("id -u", become: .sudo).stdoutText == "0\n")
        let text = Array("[connection]\nid=ecole\n".utf8)
        #expect(try await c.shell("umask 077; head -c \(text.count) <&3 > /etc/NetworkManager-ecole.nmconnection", input: text, become: .sudo).succeeded)
        let r = try await c.run("stat -c '%a %U %G' /etc/NetworkManager-ecole.nmconnection", become: .sudo)
        #expect(r.stdoutText == "600 root root\n")
        #expect(try await c.shell("cat /etc/NetworkManager-ecole.nmconnection", become: .sudo).stdout == text)
    }

    @Test func sudoWithAPasswordWorksAndAWrongOneIsAClearErrorWithoutThePassword() async throws {
        let lab = try LabFixture(options: LabOptions(password: "Directrice-57", sudoNeedsPassword: true))
        let c = try await lab.connect()
        let r = try await c.run("id -u; cat", stdin: Array("entrée\n".utf8), become: .sudoPassword(Secret("Directrice-57")))
        #expect(r.stdoutText == "0\nentrée\n", "the password is consumed by sudo, not passed to the command")
        await #expect {
            _ = try await c.run("id -u", stdin: nil, become: .sudoPassword(Secret("Mauvais-mot")), timeout: .seconds(20))
        } throws: { error in
            guard case TransportError.becomeFailed(let host, _) = error else { return false }
            return host == lab.device.name && !"\(error)".contains("Mauvais-mot")
        }
        await #expect {
            _ = try await c.run("id -u", become: .sudo)
        } throws: { error in
            if case TransportError.becomeFailed(_, let reason) = error { return reason.contains("password is required") }
            return false
        }
        // sudo's prompt marker never shows in what the command printed.
        let quiet = try await c.run("echo ok >&2", stdin: nil, become: .sudoPassword(Secret("Directrice-57")))
        #expect(quiet.stderrText == "ok\n")
    }

    /// A NUL in a command would make OpenSSH drop the connection: refused before sending, and the
    /// connection stays usable.
    @Test func aCommandWithANulIsRefusedAndTheConnectionStays() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        await #expect {
            _ = try await c.run("echo a\u{0}b", stdin: nil, become: .none, timeout: .seconds(10))
        } throws: { error in
            guard case TransportError.channelFailure(_, let reason) = error else { return false }
            return reason.contains("NUL")
        }
        #expect(try await c.run("echo still here").stdoutText == "still here\n")
    }

    /// A known become password with a sudo that asks for none (NOPASSWD): the password must not
    /// reach the command, whose standard input is its own.
    @Test func aBecomePasswordNeverReachesTheCommandWhenSudoAsksNone() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let r = try await c.run("id -u; cat", stdin: Array("entrée\n".utf8), become: .sudoPassword(Secret("Directrice-57")))
        #expect(r.stdoutText == "0\nentrée\n")
        #expect(!r.stdoutText.contains("Directrice") && !r.stderrText.contains("Directrice"))
        let empty = try await c.run("cat; echo end", stdin: nil, become: .sudoUser("root", Secret("Directrice-57")))
        #expect(empty.stdoutText == "end\n", "a command that reads its input gets nothing, not the password")
        #expect(empty.stderrText.isEmpty)
    }
}
