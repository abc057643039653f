import Foundation
import Hummingbird
import HummingbirdTesting
import InventoryStore
import Lab
import Logging
import ParcApp
import ParcCore
import Testing
@testable import Web

/// The notices of problems, by e-mail, through a real SMTP server on loopback (aiosmtpd).
@Suite struct MailTests {
    /// A real SMTP server (Tests/WebTests/Mail/smtp_sink.py) writing what it takes to a folder.
    final class Sink: @unchecked Sendable {
        let folder: URL
        let port: Int
        var process: Process?

        init(port: Int) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("parc-mail-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            self.port = port
        }

        func start() throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Mail/smtp_sink.py").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            p.arguments = [script, folder.path, String(port)]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            process = p
            let ready = out.fileHandleForReading.availableData
            guard String(decoding: ready, as: UTF8.self).contains("ready") else { throw SinkError(description: "the SMTP server did not start") }
        }

        /// The messages received so far, in order: (envelope recipient, decoded subject, raw text).
        func messages() -> [(to: String, subject: String, text: String)] {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
            return names.compactMap { name in
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { return nil }
                let text = String(decoding: data, as: UTF8.self)
                let to = text.firstMatch(of: /X-Envelope-To: ([^\r\n]+)/).map { String($0.output.1) } ?? ""
                // The subject's encoded words (RFC 2047, UTF-8 base64), decoded.
                let header = text.firstMatch(of: /\r\nSubject: ((?:[^\r\n]|\r\n )+)/).map { String($0.output.1) } ?? ""
                let subject = header.matches(of: /=\?UTF-8\?B\?([^?]+)\?=/).compactMap { Data(base64Encoded: String($0.output.1)) }
                    .map { String(decoding: $0, as: UTF8.self) }.joined()
                return (to, subject, text)
            }
        }

        func waitFor(_ count: Int, seconds: Double = 20) async throws -> [(to: String, subject: String, text: String)] {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let got = messages()
                if got.count >= count { return got }
                try await Task.sleep(for: .milliseconds(100))
            }
            return messages()
        }

        deinit {
            // SIGKILL: the test runner's threads block SIGTERM, and a child started from one inherits that.
            if let p = process, p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: folder)
        }
    }

    struct SinkError: Error, CustomStringConvertible { var description: String }

    @Test("a problem reported, taken and closed mails the technicians then the commune, in French; a mail server that is down delays the mails and loses nothing")
    func problemNotices() async throws {
        let f = try PortalFixture()
        try f.inventory.write { tx in
            try tx.addAccount(login: "secretariat-a", role: .commune, member: f.a.slug, passwordHash: "!", email: "secretariat@mairie-a.fr", displayName: "Mme Lambert")
            try tx.addAccount(login: "tech-mail", role: .technician, member: nil, passwordHash: "!", email: "technicien@fusee.fr")
            // A commune of another member, with an address: it must hear nothing of member A's problems.
            try tx.addAccount(login: "secretariat-b", role: .commune, member: f.b.slug, passwordHash: "!", email: "secretariat@mairie-b.fr")
        }
        let sink = try Sink(port: try Lab.freePort())
        var options = f.options(baseURL: "https://parc.example.fr")
        var mail = try MailSettings(url: "smtp://127.0.0.1:\(sink.port)", from: "parc@fusee.fr")
        mail.interval = .milliseconds(200)
        mail.firstRetry = 0.5
        options.mail = mail
        let commune = try f.session("mairie-a"), tech = try f.session("tech")
        let problemsBefore = try f.count("SELECT COUNT(*) FROM problem")
        try await withRouter(Portal(inventory: f.inventory, options: options, logger: quietLogger)) { client in
            // The mail server is down: the problem is recorded, its notice waits in the outbox and is retried.
            let reported = try await client.execute(uri: "/materiels/\(f.a.device)/signaler", method: .post, headers: headers([("Cookie", commune.cookie)]),
                                                    body: formBody([("csrf", commune.csrf), ("kind", "broken"), ("description", "L'écran clignote puis s'éteint"),
                                                                    ("contactName", "Mme Lambert"), ("contactPhone", "03 87 11 22 33")]))
            #expect(reported.status == .seeOther)
            #expect(try f.count("SELECT COUNT(*) FROM problem") == problemsBefore + 1)
            let id = Int64(reported.header("Location")!.components(separatedBy: "/").last!.components(separatedBy: "?").first!)!
            var tried = 0
            for _ in 0..<100 where tried < 2 {
                try await Task.sleep(for: .milliseconds(100))
                tried = try f.count("SELECT COALESCE(MAX(attempts), 0) FROM mailOutbox WHERE sentAt IS NULL AND lastError LIKE '%cannot reach%'")
            }
            #expect(tried >= 2, "the notice was tried again while the server was down")
            #expect(try f.count("SELECT COUNT(*) FROM mailOutbox") == 1, "one notice: the technician with an address")

            // The server comes up: the waiting notice goes.
            try sink.start()
            let first = try await sink.waitFor(1)
            #expect(first.count == 1)
            #expect(first.first?.to == "technicien@fusee.fr")
            #expect(first.first?.subject == "Nouveau signalement n° \(id) : en panne — T-1-1 — ThinkPad 11e", "\(first.first?.subject ?? "")")
            #expect(first.first?.text.contains("L'écran clignote puis s'éteint") == true && first.first?.text.contains("https://parc.example.fr/signalements/\(id)") == true)
            #expect(first.first?.text.contains("Commune : Montigny-lès-Metz") == true, "the commune's name, not its slug: \(first.first?.text ?? "")")

            // Taken in charge, then closed, in the browser: the commune's address hears of both, member B's of neither.
            _ = try await client.execute(uri: "/signalements/\(id)/prendre", method: .post, headers: headers([("Cookie", tech.cookie)]), body: formBody([("csrf", tech.csrf)]))
            _ = try await client.execute(uri: "/signalements/\(id)/clore", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                         body: formBody([("csrf", tech.csrf), ("issue", "repaired"), ("fait", "Nappe de l'écran changée.")]))
            let all = try await sink.waitFor(3)
            #expect(all.count == 3)
            #expect(all.dropFirst().allSatisfy { $0.to == "secretariat@mairie-a.fr" }, "\(all.map(\.to))")
            #expect(all.count == 3 && all[1].subject == "Votre signalement n° \(id) est pris en charge")
            #expect(all.count == 3 && all[2].subject == "Votre signalement n° \(id) est clos" && all[2].text.contains("Nappe de l'écran changée.")
                    && all[2].text.contains("réparé, remis en service"))
            // Marked sent once the server has said so (just after it wrote the last one).
            var waiting = 1
            for _ in 0..<100 where waiting > 0 {
                waiting = try f.count("SELECT COUNT(*) FROM mailOutbox WHERE sentAt IS NULL")
                if waiting > 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(waiting == 0, "every notice went")
        }
    }

    @Test("an e-mail address or a name that is not one is refused, and nothing is written")
    func addressesAreChecked() throws {
        let f = try PortalFixture()
        let before = try f.count("SELECT COUNT(*) FROM account")
        for (email, name) in [("pas-une-adresse", "Mme Lambert"), ("a@b.fr\r\nBcc: x@y.fr", "Mme Lambert"), ("x@mairie.fr", "Mme\nLambert")] {
            #expect(throws: InventoryError.self) {
                try f.inventory.write { tx in try tx.addAccount(login: "nouveau", role: .technician, member: nil, passwordHash: "!", email: email, displayName: name) }
            }
        }
        #expect(try f.count("SELECT COUNT(*) FROM account") == before)
        #expect(throws: (any Error).self) { try MailSettings(url: "http://127.0.0.1:25", from: "parc@fusee.fr") }
    }
}
