import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParcCore
import Testing
@testable import Web

/// What a page shows a person, and the English words or code identifiers in it.
enum EnglishWatch {
    /// English words that French does not use (not "a", "on", "en", "type", "note", "mode"…, which are French too).
    static let words: Set<String> = [
        "the", "and", "with", "without", "is", "are", "was", "were", "not", "no", "cannot", "must", "should", "already", "missing",
        "found", "unknown", "add", "use", "give", "create", "created", "update", "updated", "unchanged", "changed", "skipped",
        "failed", "unreachable", "refused", "error", "invalid", "false", "true", "none", "nothing", "written", "line", "field",
        "row", "room", "cart", "school", "device", "devices", "order", "serial", "kind", "status", "member", "problem", "address",
        "user", "host", "key", "run", "runs", "file", "between", "digits", "letters", "this", "that", "its", "of", "in", "to",
        "for", "from", "by", "at", "be", "has", "have", "only", "every", "each", "there", "here", "please", "see", "list", "show",
        "edit", "remove", "delete", "save", "cancel", "yes", "ok", "condition", "connection", "pending", "done", "still", "holds",
        "name", "names", "first", "then", "when", "which", "who", "what", "into", "onto", "inventory", "empty", "wrong", "must",
        "needs", "allowed", "characters", "long", "at most", "e.g.", "check for", "typing", "mistake", "would", "nowhere",
    ]
    /// Words French technicians use as they are, and names.
    static let allowed: Set<String> = ["playbook", "check", "diff", "tags", "skip-tags", "ssh", "sudo", "mac", "wi-fi", "csv", "pdf", "api",
                                       "uai", "ansible", "parc", "ok"]

    /// The text a person sees: the page without its head, scripts and tags; what labels say to
    /// screen readers (`aria-label`, `title`, `alt`, `placeholder`) with it.
    static func visibleText(_ html: String) -> String {
        var s = html
        // Code is code: a command to type (`<code>parc user add</code>`) is not a sentence.
        for pattern in [#"(?s)<head>.*?</head>"#, #"(?s)<script.*?</script>"#, #"(?s)<style.*?</style>"#, #"(?s)<code>.*?</code>"#] {
            s = s.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        var said: [String] = []
        let attributes = try! NSRegularExpression(pattern: #"\b(?:aria-label|title|alt|placeholder)="([^"]*)""#)
        for m in attributes.matches(in: s, range: NSRange(s.startIndex..., in: s)) { said.append(String(s[Range(m.range(at: 1), in: s)!])) }
        s = s.replacingOccurrences(of: #"<[^>]*>"#, with: " ", options: .regularExpression)
        s = ([s] + said).joined(separator: " ")
        for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&nbsp;", " "), ("&amp;", "&")] {
            s = s.replacingOccurrences(of: entity, with: char)
        }
        return s
    }

    /// The English words and camelCase identifiers of `text` (data that cannot be French — host
    /// keys, fingerprints, addresses — taken out first).
    static func find(_ text: String) -> [String] {
        var s = text.replacingOccurrences(of: #"(SHA256:|ssh-ed25519 |ssh-rsa )[A-Za-z0-9+/=]+"#, with: " ", options: .regularExpression)
        s = s.replacingOccurrences(of: #"https?://\S+"#, with: " ", options: .regularExpression)
        var found: [String] = []
        for raw in s.split(whereSeparator: { $0.isWhitespace || "()[]{},;:«»!?\"“”/|=".contains($0) }) {
            let token = raw.trimmingCharacters(in: CharacterSet(charactersIn: ".'’-…*"))
            guard !token.isEmpty else { continue }
            let lower = token.lowercased()
            if allowed.contains(lower) { continue }
            if token.range(of: #"^[a-z]+[A-Z][A-Za-z]*$"#, options: .regularExpression) != nil { found.append(token); continue }
            if words.contains(lower) && token.range(of: #"^[A-Za-z]+$"#, options: .regularExpression) != nil { found.append(token) }
        }
        return found
    }
}

/// Everything a commune or a technician reads in the portal is French: every page for each
/// role, and what every form answers to empty and wrong input, including imports.
@Suite(.serialized) struct FrenchEverywhereTests {
    struct Form {
        var action: String
        var multipart: Bool
        var hidden: [(String, String)]
        var fields: [(name: String, kind: String, options: [String])]
    }

    /// The POST forms of a page, with their fields.
    static func forms(_ html: String) -> [Form] {
        let formPattern = try! NSRegularExpression(pattern: #"(?s)<form([^>]*)>(.*?)</form>"#)
        let fieldPattern = try! NSRegularExpression(pattern: #"(?s)<(input|textarea|select)([^>]*)>(.*?(?=<(?:input|textarea|select|/form|/select)))?"#)
        func attribute(_ name: String, _ tag: String) -> String? {
            guard let r = tag.range(of: "\\b\(name)=\"([^\"]*)\"", options: .regularExpression) else { return nil }
            return String(tag[r].dropFirst(name.count + 2).dropLast()).replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&quot;", with: "\"")
        }
        var out: [Form] = []
        for m in formPattern.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            let head = String(html[Range(m.range(at: 1), in: html)!]), body = String(html[Range(m.range(at: 2), in: html)!])
            guard attribute("method", head) == "post", let action = attribute("action", head) else { continue }
            var form = Form(action: action, multipart: head.contains("multipart/form-data"), hidden: [], fields: [])
            for f in fieldPattern.matches(in: body, range: NSRange(body.startIndex..., in: body)) {
                let tag = String(body[Range(f.range(at: 1), in: body)!]), attrs = String(body[Range(f.range(at: 2), in: body)!])
                guard let name = attribute("name", attrs) else { continue }
                let type = attribute("type", attrs) ?? tag
                if type == "hidden" { form.hidden.append((name, attribute("value", attrs) ?? "")); continue }
                var options: [String] = []
                if tag == "select", f.range(at: 3).location != NSNotFound {
                    let inner = String(body[Range(f.range(at: 3), in: body)!])
                    options = inner.matches(of: /value="([^"]*)"/).map { String($0.1) }
                }
                form.fields.append((name, type, options))
            }
            out.append(form)
        }
        return out
    }

    static func multipart(_ parts: [(String, String, filename: String?)]) -> (String, ByteBuffer) {
        let boundary = "----parc\(UUID().uuidString.prefix(8))"
        var body = ""
        for (name, value, filename) in parts {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"" + (filename.map { "; filename=\"\($0)\"\r\nContent-Type: text/csv" } ?? "") + "\r\n\r\n\(value)\r\n"
        }
        return ("multipart/form-data; boundary=\(boundary)", ByteBuffer(string: body + "--\(boundary)--\r\n"))
    }

    /// A delivery note with every kind of row mistake, and a file that is no CSV at all.
    static let badNote = "N° de série;Type;Adresse MAC;École;Salle;Port SSH;Nom d'hôte;Fin de garantie;Prix TTC\n"
        + "A 1;grille-pain;zz;0579999Z;Gymnase;99999;-x-;31/02/2027;douze\n"
        + "A-2;laptop;;;Gymnase;;;;\n"
        + "A-2;screen;02:00:00:00:aa:01;0571234Q;;;;;\n"
        + ";laptop;;;;;;;\n"
        + "\"A-3;laptop;\n"

    @Test("every page for each role, and what each form answers to empty and wrong input (imports too), is French: no English word, no code identifier")
    func frenchEverywhere() async throws {
        let f = try PortalFixture()
        final class Tally: @unchecked Sendable { var seen = 0; var findings: [String] = [] }
        let tally = Tally()
        try await withRouter(f.portal()) { client in
            for (login, staff, admin) in [("mairie-a", false, false), ("tech", true, false), ("admin", true, true)] {
                let session = try f.session(login)
                let cookie = headers([("Cookie", session.cookie)])
                func look(_ label: String, _ response: TestResponse) async throws {
                    var page = response
                    if page.status == .seeOther, let location = page.header("Location") {
                        page = try await client.execute(uri: location, method: .get, headers: cookie)
                        // A page that follows work in progress (it reloads itself): read it once the work is over.
                        for _ in 0..<150 where page.text.contains("http-equiv=\"refresh\"") && location.hasPrefix("/mise-en-service") {
                            try await Task.sleep(for: .milliseconds(100))
                            page = try await client.execute(uri: location, method: .get, headers: cookie)
                        }
                    }
                    tally.seen += 1
                    if page.status == .internalServerError { tally.findings.append("\(login) \(label): a server error (500)") }
                    let english = EnglishWatch.find(EnglishWatch.visibleText(page.text))
                    if !english.isEmpty { tally.findings.append("\(login) \(label): \(Set(english).sorted().joined(separator: ", "))") }
                }
                let pages = Portal.routes.filter { r in
                    r.method == .get && !r.isAPI && !["/connexion", "/documents/{document}", "/communes/{member}/rapport.csv", "/communes/{member}/rapport.pdf",
                                                       "/executions/{run}/evenements"].contains(r.path)
                        && (r.access != .staff || staff) && (r.access != .admin || admin) && r.access != .relay
                }.map { AccessTests.path($0, f.a) + ($0.path == "/recherche" ? "?q=SN" : "") }
                var forms: [String: Form] = [:]
                for path in pages {
                    let page = try await client.execute(uri: path, method: .get, headers: cookie)
                    try await look("GET \(path)", page)
                    for form in Self.forms(page.text) where forms[form.action] == nil && form.action != "/deconnexion" { forms[form.action] = form }
                }
                // Each form, empty then wrong: the answer says what to fix, in French.
                for (action, form) in forms.sorted(by: { $0.key < $1.key }) {
                    for wrong in [false, true] {
                        var values = form.hidden
                        for field in form.fields where field.kind != "checkbox" && field.kind != "file" {
                            values.append((field.name, !wrong ? "" : field.kind == "select" ? "zz-inconnu" : field.kind == "email" ? "pas-une-adresse" : "zz<>\u{7}"))
                        }
                        let response: TestResponse
                        if form.multipart {
                            var parts = values.map { ($0.0, $0.1, filename: String?.none) }
                            for field in form.fields where field.kind == "file" {
                                parts.append((field.name, wrong ? Self.badNote : "", filename: wrong ? "bon.csv" : "vide.csv"))
                            }
                            let (type, body) = Self.multipart(parts)
                            response = try await client.execute(uri: action, method: .post, headers: headers([("Cookie", session.cookie), ("Content-Type", type)]), body: body)
                        } else {
                            response = try await client.execute(uri: action, method: .post, headers: cookie, body: formBody(values))
                        }
                        try await look("POST \(action) (\(wrong ? "wrong" : "empty"))", response)
                    }
                }
                #expect(forms.count >= (admin ? 12 : staff ? 10 : 2), "\(login): the forms were found: \(forms.keys.sorted())")
            }
        }
        #expect(tally.seen > 100, "pages and answers looked at: \(tally.seen)")
        #expect(tally.findings.isEmpty, "\(tally.findings.count) pages with English or identifiers:\n\(tally.findings.joined(separator: "\n"))")
    }

    @Test("the watch finds English words and identifiers, and lets French, data and allowed words through")
    func theWatchCanFail() {
        #expect(EnglishWatch.find("a MAC address is 6 hexadecimal bytes") == ["address", "is"])
        #expect(EnglishWatch.find("no room 'Classe CM9' in 0572113M") == ["no", "room", "in"])
        #expect(EnglishWatch.find("champ warrantyEnd : invalide") == ["warrantyEnd"])
        #expect(EnglishWatch.find("Une adresse MAC s'écrit en 6 octets ; essai (check) du playbook, clé SHA256:abcDefGhi+/x").isEmpty)
        #expect(EnglishWatch.find(EnglishWatch.visibleText("<head><title>x</title></head><p title=\"the key\">Bonjour</p><script>var noSuch = 1;</script>")) == ["the", "key"])
    }
}

/// Pages are written as `SafeHTML`: a value put in markup is escaped unless it is markup itself.
@Suite struct SafeHTMLTests {
    @Test("a value in markup is escaped by default, markup in markup is not escaped twice, text is always escaped")
    func escapingIsTheDefault() {
        let serial = "X\"><script>alert(1)</script>&"
        let link: SafeHTML = "<a href=\"/materiels/\(serial)\">fiche</a>"
        #expect(link.markup == "<a href=\"/materiels/X&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;\">fiche</a>")
        let wrapped: SafeHTML = "<p>\(link) \(7)</p>"
        #expect(wrapped.markup.hasPrefix("<p><a href=\"/materiels/X&quot;") && wrapped.markup.hasSuffix("fiche</a> 7</p>"), "\(wrapped.markup)")
        var w = HTMLWriter()
        w.html("<li>\(serial)</li>")
        w.text(serial)
        w.facts([("Note", .text("<b>gras</b>"))], ids: ["Note": "a\"b"])
        #expect(!w.out.contains("<script>") && !w.out.contains("<b>") && w.out.contains("id=\"a&quot;b\""), "\(w.out)")
        var field = HTMLWriter()
        FormField(name: "serie", label: "N° de série", value: serial, help: "aide", required: true, maxLength: 64).write(into: &field)
        #expect(field.out.contains(" id=\"champ-serie\" name=\"serie\" required maxlength=\"64\" aria-describedby=\"champ-serie-aide\""), "\(field.out)")
        #expect(field.out.contains("value=\"X&quot;&gt;&lt;script&gt;"))
        // The templates' parts: a table's caption, headers and cells; a link's address; markup as it is.
        var table = HTMLWriter()
        table.table(caption: "<i>c</i>", ["N°", "Nom"], [[.link("a\"b", href: "/x?\"y"), .text("<b>"), .html("<em>ok</em>")]], numeric: [0], rowHeader: true)
        #expect(table.out.contains("<caption>&lt;i&gt;c&lt;/i&gt;</caption>") && table.out.contains("<th scope=\"col\" class=\"n\">N°</th>"), "\(table.out)")
        #expect(table.out.contains("<th scope=\"row\" class=\"n\"><a href=\"/x?&quot;y\">a&quot;b</a></th>") && table.out.contains("<td>&lt;b&gt;</td>"))
        #expect(table.out.contains("<td><em>ok</em></td>"), "markup made as SafeHTML is written whole")
    }
}

/// Forms are read by Hummingbird's URLEncodedFormDecoder.
@Suite struct FormFieldsTests {
    @Test("a form's values with escapes and pluses, its lists (name[]); a field sent twice is a bad request, said in French")
    func formsAreDecodedByTheLibrary() throws {
        let f = try FormFields.decode("csrf=abc&description=Ne+d%C3%A9marre+plus%0A%C3%A9cran&appareil%5B%5D=SN-1&appareil%5B%5D=SN-2&vide=")
        #expect(f["csrf"] == "abc" && f["description"] == "Ne démarre plus\nécran" && f["vide"] == "")
        #expect(f.list("appareil") == ["SN-1", "SN-2"] && f["appareil"] == nil && f.list("absent").isEmpty)
        #expect(try FormFields.decode("").values.isEmpty)
        do {
            _ = try FormFields.decode("csrf=a&csrf=b")
            Issue.record("a field sent twice is refused")
        } catch let error as WebError {
            #expect("\(error)".contains("mal formé") || { if case .badRequest(let m) = error { return m.contains("mal formé") }; return false }())
        }
    }
}
