import Foundation
import Lab
import ParcCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A UDP listener on loopback: what `parc wake` sends, as it arrives.
final class UDPListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr)
        let r = withUnsafePointer(to: &sa) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { close(s); throw CocoaError(.fileWriteUnknown) }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = Int(UInt16(bigEndian: bound.sin_port))
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The next datagram (nil after 30 s).
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer[0..<n]) : nil
    }

    /// The next datagram, waited for on a thread of its own.
    func next() async -> [UInt8]? {
        await withCheckedContinuation { c in Thread { c.resume(returning: self.receive()) }.start() }
    }
}

@Suite(.serialized) struct WakeCLITests {
    static func expected(_ mac: String) -> [UInt8] {
        let bytes = mac.split(separator: ":").map { UInt8($0, radix: 16)! }
        return [UInt8](repeating: 0xff, count: 6) + Array([[UInt8]](repeating: bytes, count: 16).joined())
    }

    @Test func theMagicPacketIsSixFFsAndTheMACSixteenTimes() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let serial = try s.lab.devices[0].serial
        #expect(try await s.run("device", "edit", serial, "--mac", "8c:16:45:3a:10:99").status == 0)
        let listener = try UDPListener()
        async let packet = listener.next()
        let r = try await s.run("wake", "lab-01", "--broadcast", "127.0.0.1", "--wol-port", String(listener.port))
        #expect(r.status == 0, "\(r.stderr)")
        let got = await packet
        #expect(got == Self.expected("8c:16:45:3a:10:99"))
        #expect(got?.count == 102)
        #expect(r.stdout.contains("1 magic packet(s) sent"), "\(r.stdout)")
        // The pure rules.
        #expect(WakeOnLAN.broadcast(of: "192.168.12.20/22") == "192.168.15.255")
        #expect(throws: InvalidValue.self) { try WakeOnLAN.packet(mac: "8c:16:45:3a:10") }
    }

    @Test func aDeviceAlreadyAwakeRelaysThePacketsWithItsOwnTool() async throws {
        let s = try await LabPingTests.Setup(devices: 2)
        let sleeper = try s.lab.devices[0].serial
        #expect(try await s.run("device", "edit", sleeper, "--mac", "aa:bb:cc:dd:ee:01").status == 0)
        // No tool on the relay yet: the error says what to install.
        let missing = try await s.run("wake", "lab-01", "--via", "lab-02", "--broadcast", "10.0.0.255")
        #expect(missing.status != 0 && missing.stderr.contains("apt install wakeonlan"), "\(missing.stderr)")
        // A stand-in wakeonlan that records what it was asked to send.
        let dir = s.parc.dir.appendingPathComponent("relay").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            - hosts: lab-02
              become: yes
              gather_facts: no
              tasks:
                - copy:
                    dest: /usr/local/bin/wakeonlan
                    mode: "0755"
                    content: "#!/bin/sh\\necho \\"$@\\" >> /var/tmp/wol-args\\n"
            """.write(toFile: dir + "/tool.yml", atomically: true, encoding: .utf8)
        let install = try await s.run("run", dir + "/tool.yml")
        #expect(install.status == 0, "\(install.stderr)")
        let relayed = try await s.run("wake", "lab-01", "--via", "auto", "--broadcast", "10.0.0.255", "--wol-port", "7")
        #expect(relayed.status == 0, "\(relayed.stderr)")
        #expect(relayed.stdout.contains("Sent from lab-02"), "\(relayed.stdout)")
        let args = try String(contentsOfFile: try s.lab.devices[1].hostPath(of: "/var/tmp/wol-args"), encoding: .utf8)
        #expect(args == "-i 10.0.0.255 -p 7 aa:bb:cc:dd:ee:01\n")
    }

    @Test func runWakeWakesTheDeviceWaitsForItThenRuns() async throws {
        let s = try await LabPingTests.Setup(devices: 1)
        let serial = try s.lab.devices[0].serial
        #expect(try await s.run("device", "edit", serial, "--mac", "02:00:00:00:00:07").status == 0)
        try s.lab.stop("lab-01")
        // The device's sshd starts only when its magic packet arrives.
        let listener = try UDPListener()
        let lab = try s.lab
        let woke = Task { () -> [UInt8]? in
            let p = await listener.next()
            if p == Self.expected("02:00:00:00:00:07") { try? lab.start("lab-01") }
            return p
        }
        let dir = s.parc.dir.appendingPathComponent("wake").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - copy: { content: \"awake\\n\", dest: /etc/parc-woke }\n"
            .write(toFile: dir + "/w.yml", atomically: true, encoding: .utf8)
        let r = try await s.run("run", dir + "/w.yml", "--limit", "lab-01", "--wake", "--broadcast", "127.0.0.1", "--wol-port", String(listener.port), "--wait-for", "30",
                               "--poweroff-after")
        #expect(await woke.value == Self.expected("02:00:00:00:00:07"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("1 device(s) woke"), "\(r.stderr)")
        #expect(try String(contentsOfFile: try s.lab.devices[0].hostPath(of: "/etc/parc-woke"), encoding: .utf8) == "awake\n")
        // --poweroff-after: the device this run woke is powered off (detached, after 2 s).
        #expect(r.stderr.contains("lab-01: powered off"), "\(r.stderr)")
        var off = false
        for _ in 0..<50 where !off {
            off = FileManager.default.fileExists(atPath: try s.lab.devices[0].hostPath(of: "/var/lib/parc-lab/poweroff"))
            if !off { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(off, "systemctl poweroff ran on the device")
    }
}
