import Foundation
import Lab
import ParcCore
import SSHTransport
import Testing

/// A lab of real sshd devices for one test, stopped and removed when the value goes away.
/// With CI=true (and anywhere else) a test that cannot start sshd fails; it never skips.
final class LabFixture: @unchecked Sendable {
    let lab: Lab
    let dir: String

    init(devices: Int = 1, options: LabOptions = LabOptions()) throws {
        if let why = Lab.unavailableReason() {
            Issue.record("sshd is needed for this test: \(why)")
            throw LabError.unavailable(why)
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-lab-\(UUID().uuidString.prefix(8))").path
        lab = try Lab.up(count: devices, in: dir, options: options)
    }

    deinit { lab.down() }

    var device: LabDevice { lab.devices[0] }

    /// Options to reach `device` with the lab's key and its pinned host key.
    func options(_ device: LabDevice? = nil, credentials: [SSHCredential]? = nil, policy: HostKeyPolicy? = nil,
                 connectTimeout: Duration = .seconds(5)) throws -> SSHOptions {
        let d = device ?? self.device
        return SSHOptions(name: d.name, address: d.address, port: d.port, user: d.user,
                          credentials: credentials ?? [.keyFile(lab.clientKey)],
                          hostKeyPolicy: try policy ?? HostKeyPolicy(mode: .strict, pinned: lab.hostKey(d.name)),
                          connectTimeout: connectTimeout)
    }

    func connect(_ device: LabDevice? = nil) async throws -> SSHConnection {
        try await SSHConnection.connect(try options(device))
    }

    /// Makes a user key with ssh-keygen and installs it on `device` (appends to its authorized_keys).
    func makeKey(type: String, passphrase: String = "", install: Bool = true, device: LabDevice? = nil) throws -> String {
        let d = device ?? self.device
        let path = dir + "/key-\(type)-\(UUID().uuidString.prefix(6))"
        var args = ["/usr/bin/ssh-keygen", "-q", "-t", type, "-N", passphrase, "-f", path]
        if type == "rsa" { args += ["-b", "2048"] }
        let r = try Spawn.run(args)
        #expect(r.status == 0, "ssh-keygen: \(r.output)")
        if install {
            let authorized = d.root + "/ssh/authorized_keys"
            let current = (try? String(contentsOfFile: authorized, encoding: .utf8)) ?? ""
            try (current + (try String(contentsOfFile: path + ".pub", encoding: .utf8))).write(toFile: authorized, atomically: true, encoding: .utf8)
        }
        return path
    }
}

/// SHA-256 of `bytes` by the system's sha256sum: a debug build of Swift code hashing 20 MiB would
/// hold a thread of the cooperative pool for seconds and slow every other test down.
func sha256Hex(_ bytes: [UInt8]) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("parc-sha-\(UUID().uuidString)").path
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    return String(try Spawn.run(["/usr/bin/sha256sum", file]).output.prefix(64))
}
