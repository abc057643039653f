import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import Lab
import NIOCore
import ParcApp
import ParcCore
import SSHTransport
import Testing
@testable import Web

/// The portal's fixture with lab devices (real sshd on loopback) in its inventory, reached with the lab's key.
final class ConsoleFixture: @unchecked Sendable {
    let f: PortalFixture
    let lab: Lab
    /// While this file exists, `playbooks/slow.yml` waits on its device.
    let gate: String

    private init() throws {
        if let why = Lab.unavailableReason() { Issue.record("sshd is needed: \(why)") }
        f = try PortalFixture()
        lab = try Lab.up(count: 2, in: f.dir.appendingPathComponent("lab").path)
        gate = f.dir.appendingPathComponent("slow.gate").path
        try f.inventory.write { tx in
            for d in lab.devices {
                _ = try tx.addDevice(Device(kind: .laptop, serial: d.serial))
                let key = try lab.hostKey(d.name)
                _ = try tx.updateDevice(d.serial) { $0.hostname = d.name; $0.address = d.address; $0.sshPort = d.port; $0.sshUser = d.user; $0.hostKey = key.openSSH }
            }
        }
        // The slow run waits, on the device, for the test to remove its gate (at most a minute), so
        // that it is still going on whatever the machine's load when the test looks at it.
        try """
            - hosts: all
              gather_facts: no
              tasks:
                - { command: "sh -c 'i=0; while [ -e \(gate) ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done'", register: one }
                - { command: 'true', when: one.rc == 0 }
            """.write(to: f.dir.appendingPathComponent("playbooks/slow.yml"), atomically: true, encoding: .utf8)
    }

    deinit { lab.down() }

    static func start() async throws -> ConsoleFixture {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try ConsoleFixture() }) }.start() }
    }

    func portal() -> Portal {
        var o = f.options()
        o.access = AccessSettings(credentials: [.keyFile(lab.clientKey)], timeout: 5)
        return Portal(inventory: f.inventory, options: o, logger: quietLogger)
    }

    var serials: [String] { lab.devices.map(\.serial) }
}

/// Server-sent events as (name, data object).
func sseEvents(_ text: String) -> [(String, [String: Any])] {
    text.components(separatedBy: "\n\n").compactMap { frame in
        var name = "", data = ""
        for line in frame.split(separator: "\n") {
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        guard !name.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return nil }
        return (name, object)
    }
}

/// The value of each hidden field of a page (`name` → `value`), unescaped.
func hiddenFields(_ html: String) -> [String: String] {
    var out: [String: String] = [:]
    let regex = try! NSRegularExpression(pattern: #"<input type="hidden" name="([^"]+)" value="([^"]*)">"#)
    for m in regex.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
        let name = String(html[Range(m.range(at: 1), in: html)!])
        let value = String(html[Range(m.range(at: 2), in: html)!]).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        out[name] = value
    }
    return out
}

@Suite(.serialized) struct ConsoleTests {
    @Test("a run started through the API streams each task live, then the recap; a busy device refuses a second run naming the first; a cancel stops it")
    func runsThroughTheAPI() async throws {
        let c = try await ConsoleFixture.start()
        let token = try c.f.token("tech"), communeToken = try c.f.token("mairie-a")
        let tech = try c.f.session("tech")
        let serials = c.serials
        try await withRouter(c.portal()) { client in
            let auth = headers([("Authorization", "Bearer \(token)")])
            // A check run on both lab devices.
            let started = try await client.execute(uri: "/api/v1/runs", method: .post, headers: auth,
                                                   body: ByteBuffer(string: #"{"playbook":"check.yml","devices":["\#(serials[0])","\#(serials[1])"],"diff":true}"#))
            #expect(started.status == .accepted, "\(started.text)")
            let id = try #require((started.json as? [String: Any])?["id"] as? Int)
            #expect(started.header("Location") == "/api/v1/runs/\(id)")
            let stream = try await client.execute(uri: "/api/v1/runs/\(id)/events", method: .get, headers: auth)
            #expect(stream.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            let events = sseEvents(stream.text)
            #expect(events.first?.0 == "start" && events.last?.0 == "recap", "\(events.map(\.0)) \(stream.text.prefix(3000))")
            #expect(events.filter { $0.0 == "task" }.count == 2, "one task on each device")
            #expect(events.allSatisfy { $0.1["at"] is Int }, "each event says when it happened")
            let recap = try #require(events.last?.1)
            #expect(recap["exitCode"] as? Int == 0 && recap["check"] as? Bool == true)
            let hosts = recap["hosts"] as? [[String: Any]] ?? []
            #expect(Set(hosts.compactMap { $0["host"] as? String }) == ["lab-01", "lab-02"] && hosts.allSatisfy { $0["changed"] as? Int == 1 })
            // The record says the same, by the account.
            let recorded = try c.f.inventory.read { try $0.run(Int64(id)) }
            #expect(recorded.run.actor == "tech" && recorded.run.checkMode && recorded.tasks.count == 2)
            // Once over, the same events come from the record.
            let replay = sseEvents(try await client.execute(uri: "/api/v1/runs/\(id)/events", method: .get, headers: auth).text)
            #expect(replay.map(\.0) == events.map(\.0))

            // A slow real run on lab-01 (held until the gate goes); a second run naming lab-01 is refused with the first's id.
            FileManager.default.createFile(atPath: c.gate, contents: Data())
            defer { try? FileManager.default.removeItem(atPath: c.gate) }
            let slow = try await client.execute(uri: "/api/v1/runs", method: .post, headers: auth,
                                                body: ByteBuffer(string: #"{"playbook":"slow.yml","devices":["\#(serials[0])"],"check":false}"#))
            let slowID = try #require((slow.json as? [String: Any])?["id"] as? Int)
            let busy = try await client.execute(uri: "/api/v1/runs", method: .post, headers: auth,
                                                body: ByteBuffer(string: #"{"playbook":"check.yml","devices":["\#(serials[0])","\#(serials[1])"]}"#))
            #expect(busy.status == .conflict)
            #expect((busy.json as? [String: Any])?["run"] as? Int == slowID, "\(busy.text)")
            #expect(((busy.json as? [String: Any])?["detail"] as? String ?? "").contains("run \(slowID)"))
            // The live page shows it going on, with the script and the no-script refresh; cancel from the page.
            let live = try await client.execute(uri: "/executions/\(slowID)", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(live.text.contains("data-evenements=\"/executions/\(slowID)/evenements\"") && live.text.contains("<script src=\"/static/console.js\""))
            #expect(live.text.contains("<noscript><meta http-equiv=\"refresh\""))
            let cancel = try await client.execute(uri: "/executions/\(slowID)/annuler", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                  body: formBody([("csrf", tech.csrf)]))
            #expect(cancel.status == .seeOther)
            try? FileManager.default.removeItem(atPath: c.gate)
            let ended = sseEvents(try await client.execute(uri: "/executions/\(slowID)/evenements", method: .get, headers: headers([("Cookie", tech.cookie)])).text)
            #expect((ended.last?.1["aborted"] as? String ?? "").contains("cancelled by tech"), "\(ended.last.map { "\($0.1)" } ?? "")")
            #expect(try c.f.inventory.read { try $0.busyDevices() }.isEmpty)

            // Bad requests say what is wrong; a commune's token gets 404.
            let unknown = try await client.execute(uri: "/api/v1/runs", method: .post, headers: auth, body: ByteBuffer(string: #"{"playbook":"../../etc/passwd","limit":"all"}"#))
            #expect(unknown.status == .unprocessableContent && unknown.text.contains("is not a playbook"))
            let typo = try await client.execute(uri: "/api/v1/runs", method: .post, headers: auth, body: ByteBuffer(string: #"{"playbok":"check.yml"}"#))
            #expect(typo.status == .badRequest && typo.text.contains("unknown field 'playbok'"))
            let commune = try await client.execute(uri: "/api/v1/runs", method: .post, headers: headers([("Authorization", "Bearer \(communeToken)")]),
                                                   body: ByteBuffer(string: #"{"playbook":"check.yml","limit":"all"}"#))
            #expect(commune.status == .notFound)
        }
    }

    @Test("a delivery note: each row's plan or its problems, nothing written; then all rows imported, through the API and the upload form")
    func imports() async throws {
        let f = try PortalFixture()
        let token = try f.token("tech")
        let tech = try f.session("tech")
        let bad = "N° de série;Type;Adresse MAC\nNEW-1;laptop;02:00:00:00:aa:01\nNEW-2;grille-pain;02:00:00:00:aa:02\nSN-1-1;laptop;\n"
        let good = "N° de série;Type;Adresse MAC\nNEW-1;laptop;02:00:00:00:aa:01\nNEW-2;laptop;02:00:00:00:aa:02\n"
        let devicesBefore = try f.count("SELECT COUNT(*) FROM device")
        try await withRouter(f.portal()) { client in
            let auth = headers([("Authorization", "Bearer \(token)")])
            let plan = try await client.execute(uri: "/api/v1/imports?dryRun=true&file=bl.csv", method: .post, headers: auth, body: ByteBuffer(string: bad))
            #expect(plan.status == .ok)
            let object = try #require(plan.json as? [String: Any])
            #expect(object["clean"] as? Bool == false)
            let rows = object["rows"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["line"] as? Int } == [2, 3, 4])
            #expect(rows[0]["action"] as? String == "create" && (rows[0]["problems"] as? [Any])?.isEmpty == true)
            #expect(((rows[1]["problems"] as? [[String: Any]])?.first?["field"] as? String) == "kind")
            let duplicate = (rows[2]["problems"] as? [[String: Any]])?.first?["problem"] as? String
            #expect(duplicate?.contains("already in the inventory") == true, "\(duplicate ?? "no problem")")
            #expect(try f.count("SELECT COUNT(*) FROM device") == devicesBefore, "a dry run writes nothing")
            let refused = try await client.execute(uri: "/api/v1/imports", method: .post, headers: auth, body: ByteBuffer(string: bad))
            #expect(refused.status == .unprocessableContent)
            #expect(try f.count("SELECT COUNT(*) FROM device") == devicesBefore, "all rows or none")

            // The browser's way: upload, preview, confirm.
            func upload(_ csv: String) async throws -> TestResponse {
                let boundary = "----parc\(UUID().uuidString.prefix(8))"
                var body = ""
                for (k, v) in [("csrf", tech.csrf), ("commande", ""), ("chariot", ""), ("type", "")] {
                    body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n"
                }
                body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"bon-de-livraison.csv\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
                return try await client.execute(uri: "/import", method: .post,
                                                headers: headers([("Cookie", tech.cookie), ("Content-Type", "multipart/form-data; boundary=\(boundary)")]),
                                                body: ByteBuffer(string: body))
            }
            let preview = try await upload(bad)
            #expect(preview.status == .unprocessableContent)
            #expect(preview.text.contains("rien ne sera importé") && preview.text.contains("grille-pain") && !preview.text.contains("/import/confirmer"))
            let okPreview = try await upload(good)
            #expect(okPreview.status == .ok && okPreview.text.contains("action=\"/import/confirmer\""))
            #expect(okPreview.text.contains("créer : Ordinateur portable"), "\(okPreview.text)")
            #expect(okPreview.text.contains("Attention : aucun des appareils créés n&#39;appartiendra à aucune commune"), "no order, no school: no commune would see them")
            let placed = try await upload("N° de série;Type;École;Salle\nNEW-9;laptop;\(f.a.uai);CM1\nNEW-10;laptop;;\n")
            #expect(placed.status == .ok && placed.text.contains("1 des appareils créés (lignes 3)"), "only the row with no school: \(placed.text)")
            #expect(try f.count("SELECT COUNT(*) FROM device") == devicesBefore)
            let confirm = hiddenFields(okPreview.text)
            let done = try await client.execute(uri: "/import/confirmer", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                body: formBody(confirm.map { ($0.key, $0.value) }))
            #expect(done.status == .ok && done.text.contains("2\u{00A0}appareils créés"), "\(done.text)")
            #expect(try f.count("SELECT COUNT(*) FROM device") == devicesBefore + 2)
            #expect(try f.inventory.read { try $0.history("NEW-1") }.first?.actor == "tech")
            // Confirming twice: the serials exist now; refused, nothing more written.
            let again = try await client.execute(uri: "/import/confirmer", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                 body: formBody(confirm.map { ($0.key, $0.value) }))
            #expect(again.status == .unprocessableContent && again.text.contains("Rien n&#39;a été importé"))
            #expect(try f.count("SELECT COUNT(*) FROM device") == devicesBefore + 2)
        }
    }

    @Test("an edit made on a stale page is refused, showing what changed meanwhile; a fresh one is recorded with the account as actor")
    func staleEdits() async throws {
        let f = try PortalFixture()
        let tech = try f.session("tech")
        let serial = f.a.device
        try await withRouter(f.portal()) { client in
            let cookie = headers([("Cookie", tech.cookie)])
            let form = try await client.execute(uri: "/materiels/\(serial)/modifier", method: .get, headers: cookie)
            #expect(form.status == .ok)
            var fields = hiddenFields(form.text)
            #expect(fields["avant_assetTag"] == "T-1-1")
            for (k, v) in fields where k.hasPrefix("avant_") { fields[String(k.dropFirst(6))] = v }
            fields["hostname"] = "montigny-cm1-01"
            // Meanwhile someone else writes a note.
            try f.inventory.acting(as: "autre").write { tx in _ = try tx.updateDevice(serial) { $0.notes = "écran changé" } }
            let stale = try await client.execute(uri: "/materiels/\(serial)/modifier", method: .post, headers: cookie, body: formBody(fields.map { ($0.key, $0.value) }))
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("modifié par quelqu&#39;un d&#39;autre") && stale.text.contains("écran changé"))
            #expect(try f.inventory.read { try $0.device(serial).hostname } == nil, "nothing written")
            // From the fresh page: recorded, audited as the account.
            var fresh = hiddenFields(stale.text)
            for (k, v) in fresh where k.hasPrefix("avant_") { fresh[String(k.dropFirst(6))] = v }
            fresh["hostname"] = "montigny-cm1-01"
            fresh["status"] = "inRepair"
            let saved = try await client.execute(uri: "/materiels/\(serial)/modifier", method: .post, headers: cookie, body: formBody(fresh.map { ($0.key, $0.value) }))
            #expect(saved.status == .seeOther, "\(saved.text)")
            let device = try f.inventory.read { try $0.device(serial) }
            #expect(device.hostname == "montigny-cm1-01" && device.status == .inRepair && device.notes == "écran changé")
            // One edit, one event naming the account, with both changes.
            let byTech = try f.inventory.read { try $0.history(serial) }.filter { $0.actor == "tech" }
            #expect(byTech.count == 1 && Set(byTech[0].changes.map(\.field)).isSuperset(of: ["hostname", "status"]), "\(byTech)")

            // A cart filled from a stale page: refused, saying what came in meanwhile.
            let cartForm = try await client.execute(uri: "/chariots/\(f.a.cart)/remplir", method: .get, headers: cookie)
            var cartFields = hiddenFields(cartForm.text)
            cartFields["appareils"] = "SCR-1"
            try f.inventory.write { tx in _ = try tx.addDevice(Device(kind: .laptop, serial: "SN-1-2", status: .deployed, cartId: try tx.cart(f.a.cart).id)) }
            let staleCart = try await client.execute(uri: "/chariots/\(f.a.cart)/remplir", method: .post, headers: cookie, body: formBody(cartFields.map { ($0.key, $0.value) }))
            #expect(staleCart.status == .conflict && staleCart.text.contains("SN-1-2"))
            // From the fresh page, a screen cannot go in a cart: a clear refusal, nothing moved.
            var freshCart = hiddenFields(staleCart.text)
            freshCart["appareils"] = "SCR-1"
            let screen = try await client.execute(uri: "/chariots/\(f.a.cart)/remplir", method: .post, headers: cookie, body: formBody(freshCart.map { ($0.key, $0.value) }))
            #expect(screen.status == .unprocessableContent)
            #expect(try f.inventory.read { try $0.device("SCR-1").cartId } == nil)
        }
    }
}

/// Waits (polling) until `condition` holds, at most `seconds`.
func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

@Suite(.serialized) struct ConsoleWorkTests {
    @Test("the run page agrees with itself: skip-tags from the form, outcomes in French, the playbook as named in playbooks/, a caption that is not the heading again, the header's end and result for the script to fill")
    func runPageAgrees() async throws {
        let c = try await ConsoleFixture.start()
        let tech = try c.f.session("tech")
        try """
            - hosts: all
              gather_facts: no
              tasks:
                - { name: always, command: 'true', changed_when: false }
                - { name: packages step, command: 'true', tags: [packages] }
                - { name: never runs, command: 'true', when: false }
                - { name: tolerated, command: 'false', ignore_errors: true }
            """.write(to: c.f.dir.appendingPathComponent("playbooks/etiquettes.yml"), atomically: true, encoding: .utf8)
        try await withRouter(c.portal()) { client in
            let cookie = headers([("Cookie", tech.cookie)])
            let form = try await client.execute(uri: "/executions/nouvelle", method: .get, headers: cookie)
            #expect(form.text.contains("name=\"sauf\"") && form.text.contains("skip-tags"))
            let started = try await client.execute(uri: "/executions", method: .post, headers: cookie,
                                                   body: formBody([("csrf", tech.csrf), ("playbook", "etiquettes.yml"), ("appareil[]", c.serials[0]), ("sauf", "packages")]))
            let location = try #require(started.header("Location"), "\(started.status) \(started.text.prefix(2000))")
            let id = try #require(Int64(location.split(separator: "/").last ?? ""))
            _ = try await client.execute(uri: "\(location)/evenements", method: .get, headers: cookie)
            let recorded = try c.f.inventory.read { try $0.run(id) }
            #expect(recorded.tasks.map(\.task) == ["always", "never runs", "tolerated"], "the packages task was skipped by tag")
            let page = try await client.execute(uri: location, method: .get, headers: cookie)
            #expect(page.text.contains("<dd>etiquettes.yml</dd>"), "the playbook as named in playbooks/, not \(c.f.dir.path)/playbooks/…")
            #expect(!page.text.contains(c.f.dir.path))
            for word in ["inchangé", "ignoré", "échec toléré"] { #expect(page.text.contains(">\(word)</span>"), "\(word)") }
            for english in [">ok<", ">changed<", ">skipped<", ">failed<"] { #expect(!page.text.contains(english), "\(english)") }
            #expect(page.text.contains("id=\"fin-execution\"") && page.text.contains("id=\"resultat-execution\""))
            // No heading repeated by its table's caption.
            let headings = Set(page.text.matches(of: /<h2[^>]*>([^<]+)<\/h2>/).map { String($0.1) })
            let captions = Set(page.text.matches(of: /<caption>([^<]+)<\/caption>/).map { String($0.1) })
            #expect(headings.isDisjoint(with: captions), "\(headings.intersection(captions))")
            // The runs list names the playbook the same way.
            let list = try await client.execute(uri: "/executions", method: .get, headers: cookie)
            #expect(list.text.contains(">etiquettes.yml<") && !list.text.contains(c.f.dir.path))
            // The script's words come from the same catalogue.
            let script = try await client.execute(uri: "/static/console.js", method: .get)
            #expect(script.text.contains("\"skipped\":\"ignoré\"") && script.text.contains("fin-execution") && script.text.contains(Portal.recapCaption))
        }
    }

    @Test("from the browser: a run leaves an offline device pending; serve pending work once it is back; rerun a run's failed devices")
    func pendingAndReruns() async throws {
        let c = try await ConsoleFixture.start()
        let tech = try c.f.session("tech")
        let (one, two) = (c.serials[0], c.serials[1])
        c.lab.stop("lab-02")
        try await withRouter(c.portal()) { client in
            let cookie = headers([("Cookie", tech.cookie)])
            // A real run (check mode unticked) on both devices; lab-02 is off.
            let started = try await client.execute(uri: "/executions", method: .post, headers: cookie,
                                                   body: formBody([("csrf", tech.csrf), ("playbook", "check.yml"), ("appareil[]", one), ("appareil[]", two)]))
            #expect(started.status == .seeOther)
            let location = try #require(started.header("Location"))
            let id = try #require(Int64(location.split(separator: "/").last ?? ""))
            let events = sseEvents(try await client.execute(uri: "\(location)/evenements", method: .get, headers: cookie).text)
            #expect(events.last?.1["exitCode"] as? Int == 4, "\(events.map(\.0))")
            #expect(events.contains { $0.0 == "unreachable" && $0.1["host"] as? String == "lab-02" })
            #expect(try c.f.inventory.read { try $0.pending() }.map(\.serial) == [two])
            let page = try await client.execute(uri: location, method: .get, headers: cookie)
            #expect(page.text.contains("action=\"/executions/\(id)/relancer\""))

            // lab-02 is back: serving pending work runs check.yml on it, as it was asked for.
            try await ParcRunner.offPool { try c.lab.start("lab-02") }
            let runsBefore = try c.f.inventory.read { try $0.runs() }.count
            let serve = try await client.execute(uri: "/en-attente/servir", method: .post, headers: cookie, body: formBody([("csrf", tech.csrf)]))
            #expect(serve.status == .seeOther && (serve.header("Location") ?? "").hasPrefix("/executions?avis="))
            let served0 = try await eventually { try c.f.inventory.read { try $0.pending() }.isEmpty }
            #expect(served0, "the pending work was served")
            let served = try c.f.inventory.read { try $0.runs() }
            #expect(served.count == runsBefore + 1)
            #expect(try c.f.inventory.read { try $0.run(served[0].id!).hosts.map(\.serial) } == [two])

            // Rerun the failed devices of the first run: only lab-02, recorded as a retry of it.
            let rerun = try await client.execute(uri: "/executions/\(id)/relancer", method: .post, headers: cookie, body: formBody([("csrf", tech.csrf)]))
            #expect(rerun.status == .seeOther)
            let newID = try #require(Int64((rerun.header("Location") ?? "").split(separator: "/").last ?? ""))
            let rerunEvents = sseEvents(try await client.execute(uri: "/executions/\(newID)/evenements", method: .get, headers: cookie).text)
            #expect(rerunEvents.last?.1["exitCode"] as? Int == 0)
            let recorded = try c.f.inventory.read { try $0.run(newID) }
            #expect(recorded.run.retryOf == id && recorded.hosts.map(\.serial) == [two] && !recorded.run.checkMode)
        }
    }

    @Test("onboarding from the browser: the fingerprint is shown to confirm, then the device is onboarded; the password is never stored")
    func onboarding() async throws {
        let f = try PortalFixture()
        let password = "Rentree-2026-motdepasse"
        let labDir = f.dir.appendingPathComponent("fresh-lab").path
        let lab = try await ParcRunner.offPool { try Lab.up(count: 1, in: labDir, options: LabOptions(password: password, sudoNeedsPassword: true, installKey: false)) }
        defer { lab.down() }
        let d = lab.devices[0]
        let tech = try f.session("tech")
        var options = f.options()
        options.access = AccessSettings(credentials: [], timeout: 5)
        let portal = Portal(inventory: f.inventory, options: options, logger: quietLogger)
        try await withRouter(portal) { client in
            let cookie = headers([("Cookie", tech.cookie)])
            let form: [(String, String)] = [("csrf", tech.csrf), ("adresses", "\(d.address):\(d.port)"), ("utilisateur", d.user), ("motdepasse", password),
                                            ("creer", "1"), ("commande", "BC-1"), ("type", "laptop"), ("regle", "{commune}-{serial}")]
            let first = try await client.execute(uri: "/mise-en-service", method: .post, headers: cookie, body: formBody(form))
            #expect(first.status == .seeOther)
            let follow = try #require(first.header("Location"))
            var page = ""
            let firstDone = try await eventually {
                page = try await client.execute(uri: follow, method: .get, headers: cookie).text
                return !page.contains("http-equiv=\"refresh\"")
            }
            #expect(firstDone)
            let fingerprint = try lab.hostKey(d.name).fingerprint
            #expect(page.contains("empreinte à confirmer") && page.contains(fingerprint), "\(page)")
            #expect(try f.inventory.read { try $0.deviceID(serial: d.serial) } == nil, "nothing done before the confirmation")
            // Confirmed (the password typed again): onboarded.
            var confirm = hiddenFields(page).map { ($0.key, $0.value) }
            confirm += [("empreinte[]", "\(d.address)=\(fingerprint)"), ("motdepasse", password)]
            let second = try await client.execute(uri: "/mise-en-service", method: .post, headers: cookie, body: formBody(confirm))
            let follow2 = try #require(second.header("Location"))
            let secondDone = try await eventually {
                page = try await client.execute(uri: follow2, method: .get, headers: cookie).text
                return !page.contains("http-equiv=\"refresh\"")
            }
            #expect(secondDone)
            #expect(page.contains("mis en service"), "\(page)")
        }
        let device = try f.inventory.read { try $0.device(d.serial) }
        let key = try lab.hostKey(d.name).openSSH
        #expect(device.address == d.address && device.sshPort == d.port && device.hostKey == key)
        #expect(try f.inventory.read { try $0.history(d.serial) }.allSatisfy { $0.actor == "tech" })
        // The password is in no file parc writes.
        for file in try FileManager.default.contentsOfDirectory(atPath: f.dir.path) where file.hasPrefix("parc.sqlite") {
            let bytes = try Data(contentsOf: f.dir.appendingPathComponent(file))
            #expect(bytes.range(of: Data(password.utf8)) == nil, "\(file) holds the password")
        }
    }

    @Test("labels: a cart's A4 sheet with its QR codes, for technicians only")
    func labels() async throws {
        let f = try PortalFixture()
        let tech = try f.session("tech"), commune = try f.session("mairie-a")
        try await withRouter(f.portal(baseURL: "https://parc.example.fr")) { client in
            let sheet = try await client.execute(uri: "/etiquettes?chariot=\(f.a.cart)", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(sheet.status == .ok)
            #expect(sheet.text.contains(f.a.device) && sheet.text.contains("<svg") && sheet.text.contains("T-1-1"))
            #expect(sheet.text.contains("https://parc.example.fr/materiels/\(f.a.device)"), "the QR codes open the device's page")
            // Under the portal's own policy: its print styles are a file, nothing inline.
            #expect(sheet.header("Content-Security-Policy")?.contains("style-src 'self'") == true && !sheet.text.contains("<style"))
            #expect(sheet.text.contains("<link rel=\"stylesheet\" href=\"/static/etiquettes.css\"/>"))
            let css = try await client.execute(uri: "/static/etiquettes.css", method: .get)
            #expect(css.status == .ok && css.text.contains("@page{size:A4"))
            let picked = try await client.execute(uri: "/etiquettes?appareils=SCR-1", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(picked.status == .ok && picked.text.contains("SCR-1") && !picked.text.contains(f.a.device))
            let other = try await client.execute(uri: "/etiquettes?appareils=NOPE-9", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(other.status == .notFound)
            let refused = try await client.execute(uri: "/etiquettes?chariot=\(f.a.cart)", method: .get, headers: headers([("Cookie", commune.cookie)]))
            #expect(refused.status == .notFound)
        }
    }
}

/// Blocking work (starting sshd) off the cooperative pool.
enum ParcRunner {
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try body() }) }.start() }
    }
}

@Suite struct OtherProcessRunTests {
    @Test("a run another process goes on with is waited for, then told whole from its record; one whose process is gone is said so, not waited for")
    func runsOfAnotherProcess() async throws {
        let f = try PortalFixture()
        let token = try f.token("tech")
        let serial = f.a.device
        // Recorded as `parc run` in a terminal would: this process holds the claim, the console knows nothing of it.
        let live = try f.inventory.write { tx in
            try tx.startRun(playbook: "baseline.yml", hash: "h", selector: serial, checkMode: true, claiming: [(serial, serial)], pid: getpid())
        }
        // Over a real socket, read as it comes: the run is finished only once the follower is seen waiting.
        let app = Application(router: f.portal().router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let text = try await ParcRunner.offPool { () throws -> String in
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = in_port_t(UInt16(port).bigEndian)
                sa.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                guard connected == 0 else { throw AppError("cannot connect to the test server") }
                let request = "GET /api/v1/runs/\(live)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n"
                _ = request.withCString { send(fd, $0, strlen($0), 0) }
                var received = "", finished = false
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n <= 0 { break }
                    received += String(decoding: buffer[0..<n], as: UTF8.self)
                    if !finished && received.contains(": waiting") {
                        finished = true
                        try f.inventory.write { tx in
                            try tx.finishRun(live, exitCode: 0, endedAt: Date(),
                                             hosts: [RunHostSummary(host: serial, serial: serial, ok: 1, changed: 1, failed: 0, skipped: 0, unreachable: 0)],
                                             tasks: [RunTaskEntry(serial: serial, host: serial, play: "p", task: "proxy", item: nil, outcome: .changed, changed: true,
                                                                  ignored: false, message: nil, output: nil, diff: nil, milliseconds: 5)])
                        }
                    }
                    if received.contains("event: recap") && received.hasSuffix("\r\n0\r\n\r\n") { break }
                }
                return received
            }
            #expect(sseEvents(text).map(\.0) == ["note", "start", "task", "recap"], "\(text)")
            #expect(text.contains(": waiting"), "a comment while it waits, so that a follower who left ends the wait")
        }
        // A run whose process died before recording its end.
        let orphan = try f.inventory.write { tx in
            try tx.startRun(playbook: "baseline.yml", hash: "h", selector: "SCR-1", checkMode: true, claiming: [("SCR-1", "SCR-1")], pid: 999_999_999)
        }
        try await withRouter(f.portal()) { client in
            let r = try await client.execute(uri: "/api/v1/runs/\(orphan)/events", method: .get, headers: headers([("Authorization", "Bearer \(token)")]))
            #expect(sseEvents(r.text).map(\.0) == ["note"])
            #expect(r.text.contains("left unfinished"))
        }
    }
}
