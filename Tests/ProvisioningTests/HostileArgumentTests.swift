import Foundation
import ParcCore
@testable import Provisioning
import Testing

/// Arguments that would turn into commands or extra lines on a device, tried as an attacker would.
@Suite struct HostileArgumentTests {
    /// reboot's message is text to `shutdown`, never shell code; when `shutdown` fails the
    /// fallback `reboot` runs. Checked with a real shell and stand-ins for both programs.
    @Test func rebootQuotesItsMessageOnceAndFallsBackToReboot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-reboot-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shutdown = dir + "/shutdown", reboot = dir + "/reboot"
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(dir)/shutdown-args\nexit 1\n".write(toFile: shutdown, atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho rebooted > \(dir)/reboot-ran\n".write(toFile: reboot, atomically: true, encoding: .utf8)
        chmod(shutdown, 0o755); chmod(reboot, 0o755)
        let message = "Mise à jour' $(touch \(dir)/pwned) `touch \(dir)/pwned2` \"; touch \(dir)/pwned3"
        // The line the device runs, without its detaching (nohup … &), so the test can wait for it.
        let line = RebootModule.command(message: message, delay: 0, shutdown: shutdown, reboot: reboot)
        #expect(line.hasPrefix("nohup /bin/sh -c ") && line.hasSuffix(" >/dev/null 2>&1 &"))
        let inner = String(line.dropFirst("nohup ".count).dropLast(" >/dev/null 2>&1 &".count))
        let r = try LocalProcess.run(["/bin/sh", "-c", inner], stdin: nil)
        #expect(r.exitStatus == 0)
        let args = try String(contentsOfFile: dir + "/shutdown-args", encoding: .utf8)
        #expect(args == "-r\nnow\n\(message)\n", "the message reaches shutdown as one argument, as written")
        #expect(try String(contentsOfFile: dir + "/reboot-ran", encoding: .utf8) == "rebooted\n", "the fallback ran")
        for p in ["pwned", "pwned2", "pwned3"] { #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(p)")) }
    }
}
