import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import Lab
import ParcApp
import ParcCore
import Testing
@testable import Web

/// The portal's answers kept in memory (`AnswerCache`): per viewer, dropped by any write to the
/// inventory (this process's or another's), revalidated with ETag / If-None-Match.
@Suite struct AnswerCacheTests {
    func get(_ client: any TestClientProtocol, _ uri: String, _ pairs: [(String, String)]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers(pairs))
    }

    @Test("a kept page is each viewer's own: two communes and a technician asking the same URIs again and again, at once, each get their own page")
    func keptPagesArePerViewer() async throws {
        let f = try PortalFixture()
        let portal = f.portal()
        #expect(portal.cache != nil)
        let a = try f.session("mairie-a"), b = try f.session("mairie-b"), tech = try f.session("tech")
        let tokenA = try f.token("mairie-a"), tokenB = try f.token("mairie-b")
        try await withRouter(portal) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<60 {
                    group.addTask {
                        switch round % 5 {
                        case 0:
                            let r = try await get(client, "/", [("Cookie", a.cookie)])
                            #expect(r.status == .ok && r.text.contains("Montigny-lès-Metz") && !r.text.contains("Norroy-le-Veneur"))
                            #expect(r.text.contains(a.csrf) && !r.text.contains(b.csrf))
                        case 1:
                            let r = try await get(client, "/", [("Cookie", b.cookie)])
                            #expect(r.status == .ok && r.text.contains("Norroy-le-Veneur") && !r.text.contains("Montigny-lès-Metz"))
                            #expect(r.text.contains(b.csrf) && !r.text.contains(a.csrf))
                        case 2:
                            // The members' list: both communes.
                            let r = try await get(client, "/", [("Cookie", tech.cookie)])
                            #expect(r.status == .ok && r.text.contains("Norroy-le-Veneur") && r.text.contains("Montigny-lès-Metz"))
                        case 3:
                            let r = try await get(client, "/api/v1/devices", [("Authorization", "Bearer \(tokenA)")])
                            #expect(r.status == .ok && r.text.contains("SN-1-1") && !r.text.contains("SN-2-1"))
                        default:
                            let r = try await get(client, "/api/v1/devices", [("Authorization", "Bearer \(tokenB)")])
                            #expect(r.status == .ok && r.text.contains("SN-2-1") && !r.text.contains("SN-1-1"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            // One answer kept per viewer and URI.
            #expect(portal.cache?.count == 5)
            // Another commune's objects stay unknown to a viewer whose own pages are kept.
            #expect(try await get(client, "/materiels/SN-2-1", [("Cookie", a.cookie)]).status == .notFound)
            #expect(try await get(client, "/api/v1/devices/SN-2-1", [("Authorization", "Bearer \(tokenA)")]).status == .notFound)
        }
    }

    @Test("a write by another process (sqlite3) or by this one shows on the next request; ETag and If-None-Match answer 304 only while nothing changed")
    func writesDropKeptAnswers() async throws {
        let f = try PortalFixture()
        let a = try f.session("mairie-a")
        let room = "/ecoles/\(f.a.uai)/salles/\(f.a.roomId)"
        try await withRouter(f.portal()) { client in
            let first = try await get(client, room, [("Cookie", a.cookie)])
            #expect(first.status == .ok && first.text.contains("Écran 75"))
            #expect(first.header("Cache-Control") == "private, no-cache")
            let etag = try #require(first.header("ETag"))
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))

            // The client holds this version: 304, no body, the same tag.
            let same = try await get(client, room, [("Cookie", a.cookie), ("If-None-Match", etag)])
            #expect(same.status == .notModified && same.body.readableBytes == 0 && same.header("ETag") == etag)
            #expect(try await get(client, room, [("Cookie", a.cookie), ("If-None-Match", "\"autre\", W/\(etag)")]).status == .notModified)
            #expect(try await get(client, room, [("Cookie", a.cookie), ("If-None-Match", "\"autre\"")]).status == .ok)

            // Another process changes the screen's model behind the portal's back.
            let sql = try Spawn.run(["/usr/bin/sqlite3", f.path, "UPDATE device SET model = 'Écran 86 tactile' WHERE serial = 'SCR-1'"])
            #expect(sql.status == 0, "\(sql.output)")
            let changed = try await get(client, room, [("Cookie", a.cookie), ("If-None-Match", etag)])
            #expect(changed.status == .ok && changed.text.contains("Écran 86 tactile") && !changed.text.contains("Écran 75"))
            let newTag = try #require(changed.header("ETag"))
            #expect(newTag != etag)

            // This process writes through its own store (another connection than the watch's).
            try f.inventory.write { tx in _ = try tx.updateDevice("SCR-1") { $0.model = "Écran 98" } }
            let again = try await get(client, room, [("Cookie", a.cookie), ("If-None-Match", newTag)])
            #expect(again.status == .ok && again.text.contains("Écran 98"))

            // A write that changes nothing this page shows: rendered again, the same tag, so 304.
            try f.inventory.write { tx in _ = try tx.updateDevice("SCR-2") { $0.notes = "rien pour la commune A" } }
            let unchanged = try await get(client, room, [("Cookie", a.cookie), ("If-None-Match", again.header("ETag") ?? "")])
            #expect(unchanged.status == .notModified)
        }
    }

    @Test("a session that ends, a session closed, a token revoked: refused at once though their pages were kept")
    func endedSessionsAreRefused() async throws {
        let f = try PortalFixture()
        let a = try f.session("mairie-a"), b = try f.session("mairie-b")
        let token = try f.token("mairie-a")
        try await withRouter(f.portal()) { client in
            #expect(try await get(client, "/", [("Cookie", a.cookie)]).status == .ok)
            #expect(try await get(client, "/", [("Cookie", a.cookie)]).status == .ok)
            // The clock passes the sessions' end (an hour): nothing was written, the kept viewer still expires.
            f.clock.advance(3601)
            let late = try await get(client, "/", [("Cookie", a.cookie)])
            #expect(late.status == .seeOther && late.header("Location")?.hasPrefix("/connexion") == true)

            // B signs in again (a new session, written), then signs out: the kept page is not given.
            let b2 = try f.session("mairie-b")
            #expect(try await get(client, "/", [("Cookie", b2.cookie)]).status == .ok)
            let out = try await client.execute(uri: "/deconnexion", method: .post, headers: headers([("Cookie", b2.cookie), ("Content-Type", "application/x-www-form-urlencoded")]),
                                               body: formBody([("csrf", b2.csrf)]))
            #expect(out.status == .seeOther)
            #expect(try await get(client, "/", [("Cookie", b2.cookie)]).status == .seeOther)
            _ = b

            #expect(try await get(client, "/api/v1/devices", [("Authorization", "Bearer \(token)")]).status == .ok)
            try f.inventory.write { tx in _ = try tx.revokeToken(digest: Secrets.digest(token)) }
            #expect(try await get(client, "/api/v1/devices", [("Authorization", "Bearer \(token)")]).status == .unauthorized)
        }
    }

    @Test("without the cache (serve --no-cache) every answer is rendered: no ETag, nothing kept, the same pages")
    func noCache() async throws {
        let f = try PortalFixture()
        var options = f.options()
        options.keepAnswers = false
        let portal = Portal(inventory: f.inventory, options: options, logger: quietLogger)
        #expect(portal.cache == nil)
        let a = try f.session("mairie-a")
        try await withRouter(portal) { client in
            let r = try await get(client, "/", [("Cookie", a.cookie)])
            #expect(r.status == .ok && r.text.contains("Montigny-lès-Metz") && r.header("ETag") == nil)
        }
    }
}
