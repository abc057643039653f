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

/// Signing in and out through the real forms: CSRF, cookies, sessions in the database,
/// throttling, the audit log, password changes.
@Suite struct SignInTests {
    /// GET /connexion, then POST it: the response of the POST.
    static func signIn(_ client: any TestClientProtocol, login: String, password: String, address: String = "192.0.2.1",
                       next: String = "/") async throws -> TestResponse {
        let form = try await client.execute(uri: "/connexion?suite=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", method: .get)
        let cookie = form.setCookies.first { $0.hasPrefix("parc_login=") }!.split(separator: ";")[0]
        let csrf = form.text.components(separatedBy: "name=\"csrf\" value=\"")[1].components(separatedBy: "\"")[0]
        return try await client.execute(uri: "/connexion", method: .post,
                                        headers: headers([("Cookie", String(cookie)), ("X-Forwarded-For", address),
                                                          ("Content-Type", "application/x-www-form-urlencoded")]),
                                        body: formBody([("csrf", csrf), ("suite", next), ("login", login), ("password", password)]))
    }

    static func sessionCookie(_ r: TestResponse) -> String? {
        r.setCookies.first { $0.hasPrefix("parc_session=") }.map { String($0.split(separator: ";")[0]) }
    }

    @Test("signing in sets an HttpOnly SameSite=Lax session cookie kept in the database; it survives a restart; signing out ends it")
    func signInAndOut() async throws {
        let f = try PortalFixture()
        nonisolated(unsafe) var cookie = ""
        try await withRouter(f.portal()) { client in
            let wrong = try await Self.signIn(client, login: "mairie-a", password: "not-the-password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("Identifiant ou mot de passe incorrect"))
            #expect(wrong.text.contains("value=\"mairie-a\""), "the login typed is kept")
            #expect(!wrong.text.contains("not-the-password"), "the password is never sent back")
            #expect(Self.sessionCookie(wrong) == nil)

            let ok = try await Self.signIn(client, login: "mairie-a", password: PortalFixture.password, next: "/communes/\(f.a.slug)/chariots")
            #expect(ok.status == .seeOther)
            #expect(ok.header("Location") == "/communes/\(f.a.slug)/chariots")
            let set = ok.setCookies.first { $0.hasPrefix("parc_session=") }!
            #expect(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/") && !set.contains("Secure"))
            cookie = Self.sessionCookie(ok)!
            let home = try await client.execute(uri: "/", method: .get, headers: headers([("Cookie", cookie)]))
            #expect(home.status == .ok)
            #expect(home.text.contains("Montigny-lès-Metz"))
            // An outside address after signing in is refused.
            let away = try await Self.signIn(client, login: "mairie-a", password: PortalFixture.password, next: "//evil.example/")
            #expect(away.header("Location") == "/")
        }
        // The session is a row of the database (its digest, never the secret): a new server process reads it.
        let secret = String(cookie.dropFirst("parc_session=".count))
        #expect(try f.count("SELECT COUNT(*) FROM webSession WHERE digest = '\(Secrets.digest(secret))'") == 1)
        #expect(try f.count("SELECT COUNT(*) FROM webSession WHERE digest = '\(secret)'") == 0)
        let events = try f.inventory.read { try $0.events(entity: "account", limit: 20) }
        #expect(events.contains { $0.action == .signIn && $0.actor == "mairie-a" && $0.entityKey == "mairie-a" })
        #expect(events.contains { $0.action == .signInFailed && $0.entityKey == "mairie-a" && $0.changes.contains { $0.new == "wrong password" } })
        #expect(!events.contains { e in e.changes.contains { $0.new?.contains("not-the-password") == true } })

        try await withRouter(f.portal()) { client in
            let again = try await client.execute(uri: "/", method: .get, headers: headers([("Cookie", cookie)]))
            #expect(again.status == .ok, "the session survives a restart")
            let page = try await client.execute(uri: "/compte", method: .get, headers: headers([("Cookie", cookie)]))
            let csrf = page.text.components(separatedBy: "name=\"csrf\" value=\"")[1].components(separatedBy: "\"")[0]
            let forged = try await client.execute(uri: "/deconnexion", method: .post, headers: headers([("Cookie", cookie)]), body: formBody([("csrf", "forged")]))
            #expect(forged.status == .forbidden, "a sign-out without the session's CSRF token is refused")
            let out = try await client.execute(uri: "/deconnexion", method: .post, headers: headers([("Cookie", cookie)]), body: formBody([("csrf", csrf)]))
            #expect(out.status == .seeOther)
            #expect(out.setCookies.contains { $0.hasPrefix("parc_session=;") && $0.contains("Max-Age=0") })
            let after = try await client.execute(uri: "/", method: .get, headers: headers([("Cookie", cookie)]))
            #expect(after.status == .seeOther)
            #expect(after.header("Location")?.hasPrefix("/connexion") == true)
        }
        #expect(try f.inventory.read { try $0.events(entity: "account", limit: 20) }.contains { $0.action == .signOut && $0.actor == "mairie-a" })
    }

    @Test("with an https base URL the session cookie is Secure; a session expires after its lifetime")
    func secureAndExpiring() async throws {
        let f = try PortalFixture()
        try await withRouter(f.portal(baseURL: "https://parc.example.fr")) { client in
            let ok = try await Self.signIn(client, login: "tech", password: PortalFixture.password)
            #expect(ok.setCookies.first { $0.hasPrefix("parc_session=") }?.contains("Secure") == true)
            let cookie = Self.sessionCookie(ok)!
            #expect(try await client.execute(uri: "/recherche", method: .get, headers: headers([("Cookie", cookie)])).status == .ok)
            f.clock.advance(12 * 3600 + 1)
            let expired = try await client.execute(uri: "/recherche", method: .get, headers: headers([("Cookie", cookie)]))
            #expect(expired.status == .seeOther)
            #expect(expired.header("Location") == "/connexion?suite=%2Frecherche")
        }
    }

    @Test("five failures for one login, or from one address, within 15 minutes give 429 with when to retry; the right password waits too")
    func throttling() async throws {
        let f = try PortalFixture()
        try await withRouter(f.portal()) { client in
            for i in 0..<5 {
                let r = try await Self.signIn(client, login: "mairie-a", password: "wrong-\(i)", address: "198.51.100.\(i)")
                #expect(r.status == .unauthorized)
            }
            let locked = try await Self.signIn(client, login: "mairie-a", password: PortalFixture.password, address: "198.51.100.9")
            #expect(locked.status == .tooManyRequests)
            let retry = Int(locked.header("Retry-After") ?? "") ?? -1
            #expect(retry > 0 && retry <= 900)
            #expect(locked.text.contains("Réessayez dans"))
            #expect(Self.sessionCookie(locked) == nil)
            // Another login from a fresh address is not affected…
            #expect(try await Self.signIn(client, login: "mairie-b", password: PortalFixture.password, address: "198.51.100.20").status == .seeOther)
            // …but one address failing on five logins is stopped, whatever the login.
            for login in ["x1", "x2", "x3", "x4", "x5"] {
                _ = try await Self.signIn(client, login: login, password: "nope-nope-nope", address: "203.0.113.7")
            }
            #expect(try await Self.signIn(client, login: "tech", password: PortalFixture.password, address: "203.0.113.7").status == .tooManyRequests)
            // Fifteen minutes later, the right password works again.
            f.clock.advance(15 * 60 + 1)
            #expect(try await Self.signIn(client, login: "mairie-a", password: PortalFixture.password, address: "198.51.100.9").status == .seeOther)
        }
    }

    @Test("a disabled account cannot sign in, and its open sessions end")
    func disabledAccount() async throws {
        let f = try PortalFixture()
        let session = try f.session("mairie-a")
        try f.inventory.write { tx in try tx.setDisabled("mairie-a", true) }
        try await withRouter(f.portal()) { client in
            let old = try await client.execute(uri: "/", method: .get, headers: headers([("Cookie", session.cookie)]))
            #expect(old.status == .seeOther)
            let again = try await Self.signIn(client, login: "mairie-a", password: PortalFixture.password)
            #expect(again.status == .unauthorized)
        }
    }

    @Test("changing one's password checks the current one, keeps this browser signed in and ends the other sessions")
    func passwordChange() async throws {
        let f = try PortalFixture()
        let mine = try f.session("mairie-a"), other = try f.session("mairie-a")
        try await withRouter(f.portal()) { client in
            func post(_ fields: [(String, String)]) async throws -> TestResponse {
                try await client.execute(uri: "/compte", method: .post, headers: headers([("Cookie", mine.cookie)]), body: formBody([("csrf", mine.csrf)] + fields))
            }
            let wrong = try await post([("current", "nope"), ("new", "another-long-one"), ("confirm", "another-long-one")])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("Ce n&#39;est pas votre mot de passe actuel") && wrong.text.contains("aria-invalid=\"true\""))
            let short = try await post([("current", PortalFixture.password), ("new", "court"), ("confirm", "court")])
            #expect(short.text.contains("10 caractères au moins"))
            let differ = try await post([("current", PortalFixture.password), ("new", "another-long-one"), ("confirm", "another-long-two")])
            #expect(differ.text.contains("diffèrent"))
            let ok = try await post([("current", PortalFixture.password), ("new", "another-long-one"), ("confirm", "another-long-one")])
            #expect(ok.status == .seeOther)
            let fresh = Self.sessionCookie(ok)!
            #expect(try await client.execute(uri: "/", method: .get, headers: headers([("Cookie", fresh)])).status == .ok)
            #expect(try await client.execute(uri: "/", method: .get, headers: headers([("Cookie", other.cookie)])).status == .seeOther)
            #expect(try await Self.signIn(client, login: "mairie-a", password: "another-long-one").status == .seeOther)
        }
        #expect(try f.inventory.read { try $0.events(entity: "account", limit: 30) }.contains { $0.actor == "mairie-a" && $0.changes.contains { $0.field == "password" } })
    }
}
