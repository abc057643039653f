import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import NIOCore
import NIOFoundationEssentialsCompat
import ParcCore
import Testing
@testable import Web

/// The pages themselves: what a commune reads, the problem form, documents, the technician's pages.
@Suite struct PagesTests {
    static func get(_ client: any TestClientProtocol, _ uri: String, _ cookie: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers([("Cookie", cookie)]))
    }

    @Test("the problem form: errors next to each field in French, what was typed kept, nothing written; a good report reaches the technicians")
    func problemForm() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a"), tech = try f.session("tech")
        let before = try f.count("SELECT COUNT(*) FROM problem")
        try await withRouter(f.portal()) { client in
            let uri = "/materiels/\(f.a.device)/signaler"
            let form = try await Self.get(client, uri, commune.cookie)
            #expect(form.status == .ok)
            #expect(form.text.contains("<label for=\"champ-description\">"))
            let long = String(repeating: "é", count: 2001)
            let bad = try await client.execute(uri: uri, method: .post, headers: headers([("Cookie", commune.cookie)]), body: formBody([
                ("csrf", commune.csrf), ("kind", "exploded"), ("description", long), ("since", "31/02/2026"), ("contactName", "Mme <b>Martin</b>"), ("contactPhone", "abc"),
            ]))
            #expect(bad.status == .unprocessableContent)
            let text = bad.text
            #expect(text.contains("Choisissez la nature du problème"))
            #expect(text.contains("La description fait 2001 caractères ; 2000 au plus."))
            #expect(text.contains("Date incomprise"))
            #expect(text.contains("Numéro incompris"))
            #expect(text.contains("value=\"31/02/2026\"") && text.contains("value=\"Mme &lt;b&gt;Martin&lt;/b&gt;\"") && text.contains(long),
                    "what was typed comes back, escaped")
            #expect(text.components(separatedBy: "aria-invalid=\"true\"").count - 1 == 4)
            let missing = try await client.execute(uri: uri, method: .post, headers: headers([("Cookie", commune.cookie)]), body: formBody([("csrf", commune.csrf)]))
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("Décrivez le problème.") && missing.text.contains("Indiquez qui rappeler."))
            let noToken = try await client.execute(uri: uri, method: .post, headers: headers([("Cookie", commune.cookie)]), body: formBody([
                ("kind", "broken"), ("description", "x"), ("contactName", "M. Test"), ("contactPhone", "0387112233"),
            ]))
            #expect(noToken.status == .forbidden)
            #expect(try f.count("SELECT COUNT(*) FROM problem") == before)

            let good = try await client.execute(uri: uri, method: .post, headers: headers([("Cookie", commune.cookie)]), body: formBody([
                ("csrf", commune.csrf), ("kind", "damaged"), ("description", "Charnière cassée\nà gauche"), ("since", "2/11/2026"),
                ("contactName", "Mme Martin"), ("contactPhone", "03 87 11 22 33"),
            ]))
            #expect(good.status == .seeOther)
            let location = good.header("Location")!
            let id = Int64(location.components(separatedBy: "/").last!.components(separatedBy: "?").first!)!
            let page = try await Self.get(client, location, commune.cookie)
            #expect(page.text.contains("Votre signalement est enregistré") && page.text.contains("02/11/2026") && page.text.contains("endommagé"))
            let queue = try await Self.get(client, "/signalements", tech.cookie)
            #expect(queue.text.contains("/signalements/\(id)") && queue.text.contains(f.a.slug))
            // The technician accepts it from the command line's store call: the device goes in repair, audited.
            try f.inventory.acting(as: "tech").write { tx in _ = try tx.acceptProblem(id) }
            #expect(try f.inventory.read { try $0.deviceRow(f.a.device) }.status == .inRepair)
            let followed = try await Self.get(client, "/signalements/\(id)", commune.cookie)
            #expect(followed.text.contains("pris en charge"))
            let device = try await Self.get(client, "/materiels/\(f.a.device)", commune.cookie)
            #expect(device.text.contains("en réparation") || device.text.contains("En réparation"))
            #expect(device.text.contains("état : en service → en réparation") || device.text.contains("état : En service → En réparation"), "history in words")
            try f.inventory.acting(as: "tech").write { tx in _ = try tx.closeProblem(id, resolution: "Charnière remplacée sous garantie") }
            #expect(try await Self.get(client, "/signalements/\(id)", commune.cookie).text.contains("Charnière remplacée sous garantie"))
        }
        let events = try f.inventory.read { try $0.history(f.a.device) }
        #expect(events.contains { $0.actor == "tech" && $0.changes.contains { $0.field == "status" && $0.new == "inRepair" } })
    }

    @Test("documents download under the access rules, as PDF; non-PDF and over-20-MB files are refused with nothing written")
    func documents() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a")
        try await withRouter(f.portal()) { client in
            let list = try await Self.get(client, "/communes/\(f.a.slug)/documents", commune.cookie)
            #expect(list.text.contains("/documents/\(f.a.documentId)") && list.text.contains("Délibération 1"))
            let r = try await Self.get(client, "/documents/\(f.a.documentId)", commune.cookie)
            #expect(r.status == .ok)
            #expect(r.header("Content-Type") == "application/pdf")
            #expect(r.header("Content-Disposition") == "attachment; filename=\"deliberation-1.pdf\"")
            #expect(Data(buffer: r.body) == pdfBytes)
            #expect(try await Self.get(client, "/documents/\(f.b.documentId)", commune.cookie).status == .notFound)
            #expect(try await Self.get(client, "/documents/99999", commune.cookie).status == .notFound)
        }
        let before = try f.count("SELECT COUNT(*) FROM document")
        #expect(throws: InventoryError.self) {
            try f.inventory.write { tx in _ = try tx.addDocument(member: f.a.slug, order: nil, kind: .other, title: "t", fileName: "a.docx", content: Data("PK\u{3}\u{4}".utf8)) }
        }
        #expect(throws: InventoryError.self) {
            try f.inventory.write { tx in
                _ = try tx.addDocument(member: f.a.slug, order: nil, kind: .other, title: "t", fileName: "big.pdf",
                                       content: pdfBytes + Data(count: DocumentInfo.maxSize))
            }
        }
        #expect(try f.count("SELECT COUNT(*) FROM document") == before)
    }

    @Test("a problem handled in the browser: taken in charge (the device in repair), follow-ups the commune reads, closed with what was done; the device's state follows")
    func problemCycle() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a"), tech = try f.session("tech")
        let inventory = f.inventory
        @Sendable func status(_ serial: String) throws -> String {
            try inventory.read { r in try r.deviceRow(serial).status.rawValue }
        }
        try await withRouter(f.portal()) { client in
            let base = "/signalements/\(f.a.problemId)"
            func post(_ step: String, _ fields: [(String, String)], as who: (cookie: String, csrf: String)) async throws -> TestResponse {
                try await client.execute(uri: base + "/" + step, method: .post, headers: headers([("Cookie", who.cookie)]),
                                         body: formBody([("csrf", who.csrf)] + fields))
            }
            // The technician's page has the forms; the commune's none, and its posts are "not found".
            #expect(try await Self.get(client, base, tech.cookie).text.contains("action=\"\(base)/prendre\""))
            #expect(!(try await Self.get(client, base, commune.cookie).text.contains("/prendre")))
            #expect(try await post("prendre", [], as: commune).status == .notFound)
            // Without the form's token nothing happens.
            let stale = try await client.execute(uri: base + "/prendre", method: .post, headers: headers([("Cookie", tech.cookie)]), body: formBody([]))
            #expect(stale.status == .forbidden)
            #expect(try status(f.a.device) == "deployed")

            let taken = try await post("prendre", [], as: tech)
            #expect(taken.status == .seeOther)
            #expect(try status(f.a.device) == "inRepair")
            #expect(try await Self.get(client, base, commune.cookie).text.contains("pris en charge"))

            let empty = try await post("suivi", [("suivi", "   ")], as: tech)
            #expect(empty.status == .unprocessableContent && empty.text.contains("Écrivez le message de suivi"))
            #expect(try f.count("SELECT COUNT(*) FROM problemNote") == 0)
            #expect(try await post("suivi", [("suivi", "Écran commandé chez le fournisseur, retour prévu lundi.")], as: tech).status == .seeOther)
            let followed = try await Self.get(client, base, commune.cookie).text
            #expect(followed.contains("Écran commandé chez le fournisseur, retour prévu lundi.") && followed.contains("par tech"), "the commune reads the follow-up")

            let noOutcome = try await post("clore", [("fait", "Écran remplacé")], as: tech)
            #expect(noOutcome.status == .unprocessableContent && noOutcome.text.contains("Choisissez ce que devient le matériel"))
            let closed = try await post("clore", [("issue", "repaired"), ("fait", "Écran remplacé sous garantie.")], as: tech)
            #expect(closed.status == .seeOther)
            #expect(try status(f.a.device) == "deployed", "repaired: back in service in its cart")
            let done = try await Self.get(client, base, commune.cookie).text
            #expect(done.contains("Réparé, remis en service") && done.contains("Écran remplacé sous garantie.") && done.contains("clos"))
            #expect(!done.contains("pas encore pris en charge"))
            // The device's history says it, in words.
            let device = try await Self.get(client, "/materiels/\(f.a.device)", commune.cookie).text
            #expect(device.contains("En réparation → En service"), "the device's history")
            // A closed problem takes no more steps.
            #expect(try await post("suivi", [("suivi", "encore")], as: tech).status == .unprocessableContent)

            // Replaced: the device is retired.
            let screen = try f.inventory.write { tx in
                try tx.reportProblem(ProblemReport(serial: "SCR-1", kind: .broken, description: "Plus d'image", since: nil, contactName: "M. Roux", contactPhone: "03 87 00 00 09")).id
            }
            let replaced = try await client.execute(uri: "/signalements/\(screen)/clore", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                    body: formBody([("csrf", tech.csrf), ("issue", "replaced"), ("fait", "Écran remplacé par un neuf.")]))
            #expect(replaced.status == .seeOther)
            #expect(try status("SCR-1") == "retired")
            let api = try await client.execute(uri: "/api/v1/problems/\(f.a.problemId)", method: .get, headers: headers([("Authorization", "Bearer " + f.token("mairie-a"))]))
            let json = try #require(api.json as? [String: Any])
            #expect(json["outcome"] as? String == "repaired" && (json["notes"] as? [[String: Any]])?.first?["text"] as? String == "Écran commandé chez le fournisseur, retour prévu lundi.")
        }
    }

    @Test("every page a commune or a technician opens: one h1, French, captions and header scopes on tables, a label for every field")
    func pagesStructure() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a"), tech = try f.session("admin")
        try await withRouter(f.portal()) { client in
            var pages = 0
            for (cookie, asStaff) in [(commune.cookie, false), (tech.cookie, true)] {
                for route in Portal.routes where route.method == .get && !route.isAPI
                    && !["/documents/{document}", "/communes/{member}/rapport.csv", "/communes/{member}/rapport.pdf", "/connexion", "/executions/{run}/evenements"].contains(route.path) {
                    if route.access == .staff || route.access == .admin, !asStaff { continue }
                    let uri = AccessTests.path(route, f.a) + (route.path == "/recherche" ? "?q=SN" : "")
                    let r = try await Self.get(client, uri, cookie)
                    #expect(r.status == .ok, "\(uri)")
                    let html = r.text
                    #expect(html.contains("<html lang=\"fr\">") || html.contains(" lang=\"fr\">"), "\(uri)")
                    #expect(html.components(separatedBy: "<h1").count == 2, "\(uri): one h1")
                    // The printable report is a document of its own (Exchange's, also sent as PDF): tables under headings.
                    let report = route.path == "/communes/{member}/rapport"
                    #expect(report || html.components(separatedBy: "<table").count == html.components(separatedBy: "<caption>").count, "\(uri): a caption per table")
                    #expect(!html.contains("<th>"), "\(uri): every header cell has a scope")
                    let inputs = html.components(separatedBy: "<input ").dropFirst().filter { !$0.hasPrefix("type=\"hidden\"") }.count
                        + html.components(separatedBy: "<select ").count - 1 + html.components(separatedBy: "<textarea ").count - 1
                    #expect(html.components(separatedBy: "<label for=").count - 1 == inputs, "\(uri): a label per field")
                    #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"), "\(uri): no script, no external asset")
                    // The policy allows stylesheets from the portal only: no style inside a page (the report's too).
                    #expect(!html.contains("<style") && !html.contains(" style=\""), "\(uri): no inline style (the Content-Security-Policy would block it)")
                    #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\""), "\(uri): sized for phones")
                    pages += 1
                }
            }
            #expect(pages > 20)
            let css = try await client.execute(uri: "/static/parc.css", method: .get)
            #expect(css.status == .ok && css.text.contains(":focus-visible"))
            let report = try await Self.get(client, "/communes/\(f.a.slug)/rapport", commune.cookie)
            #expect(report.text.contains("<link rel=\"stylesheet\" href=\"/static/rapport.css\"/>") && report.text.contains("href=\"rapport.pdf\""))
            let reportCSS = try await client.execute(uri: "/static/rapport.css", method: .get)
            #expect(reportCSS.status == .ok && reportCSS.header("Content-Type") == "text/css; charset=utf-8" && reportCSS.text.contains("@page{size:A4"))
            let pdf = try await Self.get(client, "/communes/\(f.a.slug)/rapport.pdf", commune.cookie)
            #expect(pdf.status == .ok && pdf.header("Content-Type") == "application/pdf" && pdf.text.hasPrefix("%PDF-"))
            let csv = try await Self.get(client, "/communes/\(f.a.slug)/rapport.csv", commune.cookie)
            #expect(csv.header("Content-Type") == "text/csv; charset=utf-8")
            #expect(Array(csv.body.readableBytesView.prefix(3)) == [0xEF, 0xBB, 0xBF], "a UTF-8 BOM")
            #expect(csv.text.contains("N° de série;") && csv.text.contains(f.a.device))
        }
    }

    @Test("a path no route answers gets the portal's French 404 page, or JSON under /api; every answer forbids scripts and framing")
    func unknownPaths() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a")
        try await withRouter(f.portal()) { client in
            let page = try await Self.get(client, "/nulle-part", commune.cookie)
            #expect(page.status == .notFound && page.text.contains("Page introuvable") && page.text.contains("<html lang=\"fr\">"))
            let api = try await client.execute(uri: "/api/v1/nowhere", method: .get)
            #expect(api.status == .notFound && (api.json as? [String: Any])?["error"] as? String == "not_found")
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            // HEAD is GET without the body, on every route; the browser's icon is answered.
            let head = try await client.execute(uri: "/communes/\(f.a.slug)", method: .head, headers: headers([("Cookie", commune.cookie)]))
            let get = try await Self.get(client, "/communes/\(f.a.slug)", commune.cookie)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.header("Content-Length") == String(get.body.readableBytes) && head.header("Content-Type") == get.header("Content-Type"))
            #expect(try await client.execute(uri: "/api/v1/openapi.json", method: .head).status == .ok)
            let icon = try await client.execute(uri: "/favicon.ico", method: .get)
            #expect(icon.status == .ok && icon.header("Content-Type") == "image/x-icon")
            #expect(Array(icon.body.readableBytesView.prefix(4)) == [0, 0, 1, 0] && icon.body.readableBytes == 1150, "an ICO file: one 16×16 image")
        }
    }

    @Test("people and communes by their names, not logins or slugs: the session bar, the account page (the role in words), the problem's history and follow-ups, the device's history")
    func namesNotLogins() async throws {
        let f = try PortalFixture()
        try f.inventory.write { tx in
            _ = try tx.addAccount(login: "mlambert", role: .commune, member: f.a.slug, passwordHash: PortalFixture.hash, email: "mairie@example.org", displayName: "Mme Lambert")
            _ = try tx.addAccount(login: "mdurand", role: .technician, member: nil, passwordHash: PortalFixture.hash, displayName: "M. Durand")
        }
        let commune = try f.session("mlambert"), tech = try f.session("mdurand")
        try await withRouter(f.portal()) { client in
            let account = try await Self.get(client, "/compte", commune.cookie).text
            #expect(account.contains("Connecté : Mme Lambert (commune de Montigny-lès-Metz)"), "\(account.prefix(3000))")
            #expect(account.contains("commune : consulter le matériel de sa commune") && account.contains("<dd>Montigny-lès-Metz</dd>"))
            #expect(!account.contains(">\(f.a.slug)<"), "the commune's name, not its slug")
            // A problem reported by the commune, taken and followed up by the technician.
            let form = try await Self.get(client, "/materiels/\(f.a.device)/signaler", commune.cookie)
            #expect(form.status == .ok)
            let sent = try await client.execute(uri: "/materiels/\(f.a.device)/signaler", method: .post, headers: headers([("Cookie", commune.cookie)]),
                                                body: formBody([("csrf", commune.csrf), ("kind", "broken"), ("description", "Ne démarre plus.\nÉcran noir."),
                                                                ("since", ""), ("contactName", "Mme Lambert"), ("contactPhone", "03 87 00 00 00")]))
            #expect(sent.status == .seeOther, "\(sent.text.prefix(2000))")
            let id = try #require(try f.inventory.read { try $0.problems() }.map(\.id).max())
            let take = try await client.execute(uri: "/signalements/\(id)/prendre", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                body: formBody([("csrf", tech.csrf)]))
            #expect(take.status == .seeOther, "\(take.text.prefix(2000))")
            let note = try await client.execute(uri: "/signalements/\(id)/suivi", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                body: formBody([("csrf", tech.csrf), ("suivi", "Passage jeudi.")]))
            #expect(note.status == .seeOther, "\(note.text.prefix(2000))")
            let page = try await Self.get(client, "/signalements/\(id)", commune.cookie).text
            #expect(page.contains("<dd>Mme Lambert</dd>") && page.contains("par M. Durand") && !page.contains("mdurand") && !page.contains("par mlambert"), "\(page)")
            #expect(page.contains("<p class=\"description\">Ne démarre plus.\nÉcran noir.</p>"), "the description in the page's font, its lines kept")
            let device = try await Self.get(client, "/materiels/\(f.a.device)", tech.cookie).text
            #expect(device.contains("<td>M. Durand</td>"), "the device's history names the technician")
            // The technician's lists name communes, not their slugs.
            for path in ["/signalements", "/recherche?q=SN", "/executions/nouvelle", "/etiquettes"] {
                let page = try await Self.get(client, path, tech.cookie).text
                #expect(!page.contains(">\(f.a.slug)<") && !page.contains("(\(f.a.slug))") && !page.contains("/ \(f.a.slug) /"), "\(path) shows the slug")
            }
            #expect(try await Self.get(client, "/signalements", tech.cookie).text.contains(">Montigny-lès-Metz</a>"))
        }
    }

    @Test("the commune's overview: equipment per school and kind, warranties ending, purchases with the commune's own share")
    func overview() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a")
        try await withRouter(f.portal()) { client in
            let text = try await Self.get(client, "/", commune.cookie).text
            #expect(text.contains("<strong>3</strong>\u{00A0}équipements") && text.contains("<strong>1</strong>\u{00A0}école<"), "the noun agrees with its figure")
            #expect(text.contains("BC-1") && text.contains("10\u{202F}000,00\u{00A0}€") && text.contains("4\u{202F}000,00\u{00A0}€") && text.contains("6\u{202F}000,00\u{00A0}€"),
                    "TTC, granted, reste à charge: thousands grouped, the € held to its amount")
            #expect(text.contains("Reste à charge") || text.contains("reste à charge"))
            #expect(text.contains("Département (Ambition Moselle)"))
            let device = try await Self.get(client, "/materiels/\(f.a.device)", commune.cookie).text
            #expect(device.contains("15/01/2027"))
            #expect(device.contains("Dernière configuration") && device.contains("réussie"))
            #expect(!device.contains("/executions/"), "a commune gets no link to the technicians' run pages")
        }
    }
}
