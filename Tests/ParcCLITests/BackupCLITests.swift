import Foundation
import Lab
import Testing

/// `parc backup` and `parc restore`: SQLite's online backup, consistent while a server holds the
/// inventory open and another process writes; a restore that keeps the inventory it replaces.
@Suite(.serialized) struct BackupCLITests {
    /// `sqlite3 FILE SQL`, its output trimmed.
    static func sqlite(_ file: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = ["-readonly", file, sql]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `parc serve` on a free port of loopback, once `path` answers 200.
    static func serve(_ parc: ParcRunner, path: String, token: String? = nil) async throws -> (Process, Int) {
        let port = try Lab.freePort()
        let (server, _, _) = try parc.start(["serve", "--listen", "127.0.0.1:\(port)"])
        var up = false
        for _ in 0..<100 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? await PortalCLITests.get("http://127.0.0.1:\(port)\(path)", token: token))?.status == 200
        }
        if !up { server.terminate() }
        try #require(up, "the server answers \(path)")
        return (server, port)
    }

    @Test("a backup taken while the server holds the inventory open and another process writes has every committed change, each with its audit event")
    func backupWhileWriting() async throws {
        let parc = try await PortalCLITests.sample()
        let (server, _) = try await Self.serve(parc, path: "/api/v1/openapi.json")
        defer { if server.isRunning { server.terminate() } }
        // Committed while the server keeps the file open: in the write-ahead log, not yet in the file.
        #expect(try await parc.run("device", "add", "--kind", "laptop", "--serial", "BK-LAST-1").status == 0)
        let file = parc.dir.appendingPathComponent("sauvegarde.sqlite").path
        let first = try await parc.run("backup", "-o", file, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try #require(try ParcRunner.json(first.stdout) as? [String: Any])
        #expect(summary["devices"] as? Int == 19 && summary["members"] as? Int == 1, "\(summary)")
        #expect(try Self.sqlite(file, "SELECT COUNT(*) FROM device WHERE serial = 'BK-LAST-1'") == "1", "the latest committed change is in the backup")
        #expect(try Self.sqlite(file, "PRAGMA journal_mode") == "delete", "one self-contained file")
        #expect(!FileManager.default.fileExists(atPath: file + "-wal"))
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the backup holds password hashes: only its owner reads it")

        // Another process writes all along; each backup is one moment: every device has its creation event.
        let writer = Task {
            for i in 0..<15 { _ = try await parc.run("device", "add", "--kind", "tablet", "--serial", "BK-W-\(i)") }
        }
        for n in 0..<3 {
            let f = parc.dir.appendingPathComponent("pendant-\(n).sqlite").path
            let r = try await parc.run("backup", "-o", f)
            #expect(r.status == 0 && r.stdout.contains("Backup written to \(f)"), "\(r.stderr)")
            let devices = try Self.sqlite(f, "SELECT COUNT(*) FROM device")
            let created = try Self.sqlite(f, "SELECT COUNT(DISTINCT entityId) FROM event WHERE entity = 'device' AND action = 'create'")
            #expect(devices == created, "backup \(n): \(devices) devices, \(created) creation events")
            #expect(try Self.sqlite(f, "PRAGMA integrity_check") == "ok")
        }
        try await writer.value

        // An existing file is kept unless --overwrite; the inventory itself never.
        let exists = try await parc.run("backup", "-o", file)
        #expect(exists.status != 0 && exists.stderr.contains("the file exists") && exists.stderr.contains("--overwrite"), "\(exists.stderr)")
        #expect(try Self.sqlite(file, "SELECT COUNT(*) FROM device") == "19", "the earlier backup is untouched")
        #expect(try await parc.run("backup", "-o", file, "--overwrite").status == 0)
        #expect(try Self.sqlite(file, "SELECT COUNT(*) FROM device") == "34")
        let itself = try await parc.run("backup", "-o", parc.database, "--overwrite")
        #expect(itself.status != 0 && itself.stderr.contains("the inventory itself"), "\(itself.stderr)")
        let noFolder = try await parc.run("backup", "-o", parc.dir.appendingPathComponent("absent/x.sqlite").path)
        #expect(noFolder.status != 0 && noFolder.stderr.contains("does not exist"), "\(noFolder.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: parc.dir.path).filter { $0.contains(".partial-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("restore: says what it would replace and waits for --yes; keeps the inventory it replaces; a running server sees the restored one; a file that is not a backup changes nothing")
    func restore() async throws {
        let parc = try await PortalCLITests.sample()
        let file = parc.dir.appendingPathComponent("sauvegarde.sqlite").path
        #expect(try await parc.run("backup", "-o", file).status == 0)
        #expect(try await parc.run("device", "add", "--kind", "laptop", "--serial", "AFTER-1").status == 0)
        #expect(try await parc.run("device", "status", "PF4NLV33", "lost").status == 0)

        let pw = parc.dir.appendingPathComponent("pw").path
        try "un-mot-de-passe-long\n".write(toFile: pw, atomically: true, encoding: .utf8)
        #expect(try await parc.run("user", "add", "tech", "--role", "technician", "--password-file", pw).status == 0)
        let token = try await parc.run("token", "add", "tech").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The backup has no account: a token made before it must not survive the restore, so the
        // server is checked with the restored inventory's own (none): its API refuses the token.
        let (server, port) = try await Self.serve(parc, path: "/api/v1/devices/AFTER-1", token: token)
        defer { if server.isRunning { server.terminate() } }

        let ask = try await parc.run("restore", file)
        #expect(ask.status != 0 && ask.stderr.contains("--yes") && ask.stderr.contains("19 devices") && ask.stderr.contains("18 devices"), "\(ask.stderr)")
        #expect(try await parc.run("device", "show", "AFTER-1").status == 0, "nothing changed without --yes")

        let notParc = parc.dir.appendingPathComponent("notes.sqlite").path
        try "pas une base".write(toFile: notParc, atomically: true, encoding: .utf8)
        let bad = try await parc.run("restore", notParc, "--yes")
        #expect(bad.status != 0 && bad.stderr.contains(notParc) && bad.stderr.contains("not a parc inventory"), "\(bad.stderr)")
        #expect(try await parc.run("device", "show", "AFTER-1").status == 0, "a bad file changes nothing")

        let done = try await parc.run("restore", file, "--yes", "--json")
        #expect(done.status == 0, "\(done.stderr)")
        let result = try #require(try ParcRunner.json(done.stdout) as? [String: Any])
        let saved = try #require(result["previousSavedTo"] as? String)
        #expect(saved.contains(".before-restore-") && (result["restored"] as? [String: Any])?["devices"] as? Int == 18)
        #expect(try await parc.run("device", "show", "AFTER-1").status != 0, "the change made after the backup is gone")
        #expect(!(try await parc.run("device", "show", "PF4NLV33").stdout.contains("lost")))
        #expect(try Self.sqlite(saved, "SELECT COUNT(*) FROM device WHERE serial = 'AFTER-1'") == "1", "the replaced inventory is kept whole")
        let logged = try Self.sqlite(parc.database, "SELECT action || ' ' || entityKey || ' ' || changes FROM event WHERE entity = 'inventory'")
        #expect(logged.hasPrefix("restore sauvegarde.sqlite") && logged.contains((saved as NSString).lastPathComponent), "the audit log says what was restored, and where the old one went: \(logged)")
        // The running server reads the restored inventory: the device and the token made after the backup are gone.
        #expect(try await PortalCLITests.get("http://127.0.0.1:\(port)/api/v1/devices/AFTER-1", token: token).status == 401)
        #expect(try await parc.run("user", "list").stdout.contains("tech") == false)
    }
}
