import Foundation
import Testing

/// The command line tried as an attacker, or a clumsy user, would.
@Suite struct SecurityCLITests {
    /// `-o` replaces a regular file atomically, writes a device or a FIFO in place (never turning
    /// it into a regular file), follows a link to its file, and `-o -` is standard output.
    @Test func outputFilesAreReplacedOnlyWhenTheyAreRegularFiles() throws {
        let parc = try ParcRunner()
        try parc.run("init", "--sample")
        let dir = parc.dir.path + "/out"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

        // A character device of our own (the same as /dev/null): still a device afterwards.
        #expect(mknod(dir + "/null", S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0, "root is needed to make a device node")
        let toDevice = try parc.run("export", "devices", "--csv", "-o", dir + "/null")
        #expect(toDevice.status == 0, "\(toDevice.stderr)")
        var st = stat()
        #expect(lstat(dir + "/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR, "the device node is still a device")

        // A FIFO: written in place, read by a reader at the other end.
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [dir + "/fifo"]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        let toFifo = try parc.run("export", "devices", "--csv", "-o", dir + "/fifo")
        let read = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(toFifo.status == 0)
        #expect(read.hasPrefix("serial;") || read.hasPrefix("serial,"), "\(read.prefix(40))")
        #expect(lstat(dir + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)

        // A regular file, and a link to one: the link stays a link, its file gets the new text, mode kept.
        try "old\n".write(toFile: dir + "/report.csv", atomically: true, encoding: .utf8)
        chmod(dir + "/report.csv", 0o640)
        try FileManager.default.createSymbolicLink(atPath: dir + "/latest.csv", withDestinationPath: "report.csv")
        #expect(try parc.run("export", "devices", "--csv", "-o", dir + "/latest.csv").status == 0)
        #expect(lstat(dir + "/latest.csv", &st) == 0 && st.st_mode & S_IFMT == S_IFLNK)
        #expect(lstat(dir + "/report.csv", &st) == 0 && st.st_mode & 0o777 == 0o640)
        #expect(try String(contentsOfFile: dir + "/report.csv", encoding: .utf8).contains("PF4NLV31"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.contains(".parc-") }, "no temporary left")

        // `-o -`: standard output; a folder: refused.
        let dash = try parc.run("export", "devices", "--csv", "-o", "-")
        #expect(dash.stdout.contains("PF4NLV31") && !FileManager.default.fileExists(atPath: parc.dir.path + "/-"))
        let folder = try parc.run("export", "devices", "--csv", "-o", dir)
        #expect(folder.status != 0 && folder.stderr.contains("it is a folder"))
    }
}
