import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import ParcCore
import Testing
@testable import Web

/// The portal in headless Chromium (Selenium): axe-core on every page for every role, and a
/// commune's and a technician's path through it, with screenshots kept in
/// `.build/test-artifacts/portal-browser/`.
@Suite(.serialized) struct BrowserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("axe-core finds no WCAG A/AA violation on any page, for any role; sign in, browse, report a problem, see it as a technician, sign out; another commune's URL gives 404")
    func realBrowser() async throws {
        let axe = Self.root.appendingPathComponent(".cache/axe-core/axe.min.js").path
        let script = Self.root.appendingPathComponent("Tests/WebTests/Browser/portal_browser.py").path
        for (path, how) in [(axe, "scripts/setup-axe"), ("/usr/bin/chromium", "scripts/setup-system"), ("/usr/bin/chromedriver", "scripts/setup-system")] {
            try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run \(how) (scripts/test does)")
        }
        let f = try PortalFixture()
        let shots = Self.root.appendingPathComponent(".build/test-artifacts/portal-browser").path
        try? FileManager.default.removeItem(atPath: shots)
        // The pages of each role: every GET page of the route table, filled with member A's objects.
        func pages(staff: Bool, admin: Bool) -> [String] {
            Portal.routes.filter { r in
                r.method == .get && !r.isAPI && !["/connexion", "/documents/{document}", "/communes/{member}/rapport.csv", "/communes/{member}/rapport.pdf", "/executions/{run}/evenements"].contains(r.path)
                    && (r.access != .staff || staff) && (r.access != .admin || admin)
            }.map { AccessTests.path($0, f.a) + ($0.path == "/recherche" ? "?q=SN" : "") }
        }
        let communePages = pages(staff: false, admin: false), techPages = pages(staff: true, admin: false), adminPages = pages(staff: true, admin: true)
        let options = f.options()
        let app = Application(router: Portal(inventory: f.inventory, options: options, logger: quietLogger).router(),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let plan: [String: Any] = [
                "base": "http://127.0.0.1:\(port)", "axe": axe, "screenshots": shots,
                "accounts": ["commune": ["login": "mairie-a", "password": PortalFixture.password],
                             "technician": ["login": "tech", "password": PortalFixture.password],
                             "admin": ["login": "admin", "password": PortalFixture.password]],
                "pages": ["commune": communePages, "technician": techPages, "admin": adminPages],
                "english": ["words": EnglishWatch.words.sorted(), "allowed": EnglishWatch.allowed.sorted()],
                "badNote": FrenchEverywhereTests.badNote,
                "scenario": ["memberName": "Montigny-lès-Metz", "memberSlug": f.a.slug, "schoolName": "École Montigny-lès-Metz", "roomName": "CM1", "cart": f.a.cart,
                             "device": f.a.device, "deviceLabel": "T-1-1", "otherDevice": f.b.device],
            ]
            let planFile = f.dir.appendingPathComponent("plan.json")
            try JSONSerialization.data(withJSONObject: plan).write(to: planFile)
            let result = try await Self.run(["/usr/bin/python3", script, planFile.path])
            #expect(result.status == 0, "browser test failed:\n\(result.output)")
            let summary = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            #expect((summary?["pagesChecked"] as? Int ?? 0) >= 50, "\(result.output)")
            #expect((summary?["screenshots"] as? [String] ?? []).count >= 10)
            let forms = summary?["formsChecked"] as? [String] ?? []
            #expect(forms.count >= 8 && forms.contains { $0.contains("POST /import") } && forms.contains { $0.contains("/signaler") }, "the forms sent wrong in the browser: \(forms)")
        }
        // The town hall's guide shows these pages: each image it names is one this walk took. A
        // missing one is put in docs/captures/ (PARC_UPDATE_CAPTURES=1 puts them all again).
        let guide = try String(contentsOf: Self.root.appendingPathComponent("docs/mairie.md"), encoding: .utf8)
        let named = guide.matches(of: /\(captures\/([a-z0-9-]+)\.png\)/).map { String($0.1) }
        #expect(named.count >= 8, "the guide shows the portal's pages: \(named)")
        let taken = (try? FileManager.default.contentsOfDirectory(atPath: shots)) ?? []
        let captures = Self.root.appendingPathComponent("docs/captures")
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        for name in named {
            guard let file = taken.first(where: { $0.hasSuffix("-\(name).png") }) else {
                Issue.record("docs/mairie.md shows captures/\(name).png, which the browser walk no longer takes")
                continue
            }
            let target = captures.appendingPathComponent("\(name).png")
            if ProcessInfo.processInfo.environment["PARC_UPDATE_CAPTURES"] == "1" || !FileManager.default.fileExists(atPath: target.path) {
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(atPath: shots + "/" + file, toPath: target.path)
            }
        }
        #expect(try f.count("SELECT COUNT(*) FROM problem WHERE reportedBy = 'mairie-a' AND description = 'Le pavé tactile ne répond plus'") == 1)
    }

    @Test("the console in a real browser: a check run on two lab devices whose recap arrives live, a delivery note with a bad row then a good one, a stale edit refused")
    func console() async throws {
        let axe = Self.root.appendingPathComponent(".cache/axe-core/axe.min.js").path
        let script = Self.root.appendingPathComponent("Tests/WebTests/Browser/console_browser.py").path
        for (path, how) in [(axe, "scripts/setup-axe"), ("/usr/bin/chromium", "scripts/setup-system"), ("/usr/bin/chromedriver", "scripts/setup-system")] {
            try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run \(how) (scripts/test does)")
        }
        let c = try await ConsoleFixture.start()
        let shots = Self.root.appendingPathComponent(".build/test-artifacts/console-browser").path
        try? FileManager.default.removeItem(atPath: shots)
        let app = Application(router: c.portal().router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger)
        let devicesBefore = try c.f.count("SELECT COUNT(*) FROM device")
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let plan: [String: Any] = [
                "base": "http://127.0.0.1:\(port)", "axe": axe, "screenshots": shots,
                "technician": ["login": "tech", "password": PortalFixture.password],
                "devices": c.serials,
                "badNote": "N° de série;Type\nBL-001;laptop\nBL-002;grille-pain\n", "badNoteError": "grille-pain",
                "goodNote": "N° de série;Type\nBL-001;laptop\nBL-002;laptop\n", "goodNoteSerial": "BL-002",
                "editDevice": c.f.a.device,
            ]
            let planFile = c.f.dir.appendingPathComponent("console-plan.json")
            try JSONSerialization.data(withJSONObject: plan).write(to: planFile)
            let result = try await Self.run(["/usr/bin/python3", script, planFile.path])
            #expect(result.status == 0, "console browser test failed:\n\(result.output)")
        }
        // What the browser did is in the inventory: the run recorded, the note imported, the stale edit not written.
        let runs = try c.f.inventory.read { try $0.runs() }.filter { $0.playbook.hasSuffix("check.yml") }
        #expect(runs.count == 1 && runs[0].actor == "tech" && runs[0].checkMode && runs[0].exitCode == 0)
        #expect(try c.f.count("SELECT COUNT(*) FROM device") == devicesBefore + 2)
        let edited = try c.f.inventory.read { try $0.device(c.f.a.device) }
        #expect(edited.notes == "Clavier remplacé" && edited.hostname != "poste-perime")
    }

    /// Runs a program off the cooperative pool; its standard output (standard error goes to the test log).
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: arguments[0])
                process.arguments = Array(arguments.dropFirst())
                let pipe = Pipe()
                process.standardOutput = pipe
                do {
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
