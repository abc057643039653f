import Exchange
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

/// Per-member isolation, walked over every route of the portal and the API.
@Suite struct AccessTests {
    /// The path of `route` with its parameters filled from `objects`.
    static func path(_ route: Route, _ objects: MemberObjects) -> String {
        var path = route.path
        for p in route.parameters { path = path.replacingOccurrences(of: "{\(p.name)}", with: objects.value(p.kind)) }
        return path
    }

    /// Every path of `route` over all of the member's objects of each parameter's kind.
    static func allPaths(_ route: Route, _ objects: MemberObjects) -> [String] {
        route.parameters.reduce([route.path]) { paths, p in
            paths.flatMap { path in objects.values(p.kind).map { path.replacingOccurrences(of: "{\(p.name)}", with: $0) } }
        }
    }

    /// A valid body for the routes that take one, so that a refusal cannot come from a bad body.
    static func body(_ route: Route, _ objects: MemberObjects, csrf: String, path: String = "", inventory: Inventory? = nil) -> ByteBuffer? {
        switch (route.method, route.path) {
        case (.post, "/materiels/{device}/modifier"):
            // The page's values as they are (nothing stale), with a new note.
            let serial = String(path.split(separator: "/")[1])
            guard let device = try? inventory?.read({ try $0.device(serial) }) else { return formBody([("csrf", csrf)]) }
            let now = DeviceSnapshot(device)
            let version = (try? inventory?.read({ try $0.deviceRow(serial).version })) ?? 0
            let head: [(String, String)] = [("csrf", csrf), ("version", String(version))]
            return formBody(head + DeviceSnapshot.fields.flatMap { [("avant_\($0.key)", now.values[$0.key] ?? ""), ($0.key, now.values[$0.key] ?? "")] }
                            .map { $0.0 == "notes" ? ($0.0, "vu") : $0 })
        case (.post, "/chariots/{cart}/remplir"):
            let content = (try? inventory?.read({ try $0.devices(DeviceFilter(cart: objects.cart)).map(\.serial).sorted() })) ?? []
            let version = (try? inventory?.read({ try $0.deviceRow(objects.cart).version })) ?? 0
            return formBody([("csrf", csrf), ("avant", content.joined(separator: ",")), ("version", String(version)), ("appareils", objects.device)])
        case (.post, "/materiels/{device}/signaler"):
            return formBody([("csrf", csrf), ("kind", "broken"), ("description", "Ne démarre plus"), ("contactName", "M. Test"), ("contactPhone", "03 87 11 22 33")])
        case (.post, "/admin/comptes/{account}/etat"):
            // Enabling an active account: a real change request that leaves B able to go on.
            return formBody([("csrf", csrf), ("etat", "actif")])
        case (.post, "/signalements/{problem}/suivi"):
            return formBody([("csrf", csrf), ("suivi", "Pièce commandée")])
        case (.post, "/signalements/{problem}/clore"):
            return formBody([("csrf", csrf), ("issue", "repaired"), ("fait", "Réparé")])
        case (.post, "/api/v1/problems"):
            return ByteBuffer(string: #"{"serial":"\#(objects.device)","kind":"missing","description":"Disparu","contactName":"M. Test","contactPhone":"0387112233"}"#)
        case (.post, _):
            return formBody([("csrf", csrf)])
        default:
            return nil
        }
    }

    @Test("every route naming member B's objects answers 404 to member A's session and token, and works for B and for a technician")
    func everyRouteIsolatesMembers() async throws {
        let f = try PortalFixture()
        let (a, b) = (f.a!, f.b!)
        let sessionA = try f.session("mairie-a"), sessionB = try f.session("mairie-b"), tech = try f.session("tech"), admin = try f.session("admin")
        let tokenA = try f.token("mairie-a"), tokenB = try f.token("mairie-b"), techToken = try f.token("tech")
        let problemsBefore = try f.count("SELECT COUNT(*) FROM problem")
        nonisolated(unsafe) var walked: [String] = []
        try await withRouter(f.portal()) { client in
            // Relays' routes: RelayAccessTests (their objects are work in flight).
            for route in Portal.routes where !route.parameters.isEmpty && route.access != .relay {
                for path in Self.allPaths(route, b) {
                    func send(_ session: (cookie: String, csrf: String), token: String) async throws -> TestResponse {
                        let h = route.isAPI ? headers([("Authorization", "Bearer \(token)")]) : headers([("Cookie", session.cookie)])
                        return try await client.execute(uri: path, method: route.method, headers: h,
                                                        body: Self.body(route, b, csrf: session.csrf, path: path, inventory: f.inventory))
                    }
                    let refused = try await send(sessionA, token: tokenA)
                    #expect(refused.status == .notFound, "\(route.method) \(path) as member A: \(refused.status)")
                    if route.isAPI { #expect((refused.json as? [String: Any])?["error"] as? String == "not_found", "\(path): JSON error") }
                    #expect(!b.devices.contains { refused.text.contains($0) }, "\(path): A's 404 must not show B's data")
                    // The same URL works for its owner (technicians for technicians' routes), so the 404 above is the access rule.
                    let owner = route.access == .admin ? try await send(admin, token: techToken)
                        : route.access == .staff ? try await send(tech, token: techToken) : try await send(sessionB, token: tokenB)
                    #expect([.ok, .created, .seeOther].contains(owner.status), "\(route.method) \(path) as its owner: \(owner.status)")
                    walked.append("\(route.method) \(path)")
                }
            }
        }
        #expect(walked.count == Portal.routes.filter { !$0.parameters.isEmpty && $0.access != .relay }.reduce(0) { $0 + Self.allPaths($1, b).count })
        #expect(walked.count > 30)
        // Kinds covered: every kind of object a route can name.
        #expect(Set(Portal.routes.flatMap { $0.parameters.map(\.kind) }) == Set(ParameterKind.allCases))
        // A's refused POSTs wrote nothing; B's own reports did (one per device of B).
        #expect(try f.count("SELECT COUNT(*) FROM problem") == problemsBefore + b.devices.count)
        #expect(try f.count("SELECT COUNT(*) FROM problem p JOIN device d ON d.id = p.deviceId WHERE d.serial = '\(b.device)' AND p.reportedBy = 'mairie-a'") == 0)
    }

    @Test("technician and admin routes answer 404 to communes, and accounts only to admins")
    func staffRoutesAreHidden() async throws {
        let f = try PortalFixture()
        let commune = try f.session("mairie-a"), tech = try f.session("tech"), admin = try f.session("admin")
        let communeToken = try f.token("mairie-a")
        try await withRouter(f.portal()) { client in
            for route in Portal.routes where route.access == .staff || route.access == .admin {
                let path = Self.path(route, f.a)
                let h = route.isAPI ? headers([("Authorization", "Bearer \(communeToken)")]) : headers([("Cookie", commune.cookie)])
                let r = try await client.execute(uri: path, method: route.method, headers: h)
                #expect(r.status == .notFound, "\(path) as a commune: \(r.status)")
            }
            let asTech = try await client.execute(uri: "/admin/comptes", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(asTech.status == .notFound)
            let asAdmin = try await client.execute(uri: "/admin/comptes", method: .get, headers: headers([("Cookie", admin.cookie)]))
            #expect(asAdmin.status == .ok)
            #expect(asAdmin.text.contains("mairie-b"))
            // Only an admin changes an account: a technician's POST is refused as if the page did not exist.
            let byTech = try await client.execute(uri: "/admin/comptes/mairie-b/etat", method: .post, headers: headers([("Cookie", tech.cookie)]),
                                                  body: formBody([("csrf", tech.csrf), ("etat", "desactive")]))
            #expect(byTech.status == .notFound)
            #expect(try f.inventory.read { try $0.account("mairie-b") }.disabled == false)
            let byAdmin = try await client.execute(uri: "/admin/comptes/mairie-b/etat", method: .post, headers: headers([("Cookie", admin.cookie)]),
                                                   body: formBody([("csrf", admin.csrf), ("etat", "desactive")]))
            #expect(byAdmin.status == .seeOther)
            #expect(try f.inventory.read { try $0.account("mairie-b") }.disabled == true)
            let events = try f.inventory.read { try $0.events(entity: "account", limit: 10) }
            #expect(events.contains { $0.actor == "admin" && $0.entityKey == "mairie-b" && $0.changes.contains { $0.field == "disabled" && $0.new == "yes" } })
            let own = try await client.execute(uri: "/admin/comptes/admin/etat", method: .post, headers: headers([("Cookie", admin.cookie)]),
                                               body: formBody([("csrf", admin.csrf), ("etat", "desactive")]))
            #expect(own.status == .badRequest, "an admin cannot lock themselves out")
            let unknown = try await client.execute(uri: "/admin/comptes/nobody/etat", method: .post, headers: headers([("Cookie", admin.cookie)]),
                                                   body: formBody([("csrf", admin.csrf), ("etat", "desactive")]))
            #expect(unknown.status == .notFound)
            let search = try await client.execute(uri: "/recherche?q=SN-", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(search.status == .ok)
            #expect(search.text.contains("SN-1-1") && search.text.contains("SN-2-1"), "a technician's search spans every member")
        }
    }

    @Test("a commune's lists and filters hold only its own member's objects; naming another's answers 404")
    func listsAreScoped() async throws {
        let f = try PortalFixture()
        let (a, b) = (f.a!, f.b!)
        let token = try f.token("mairie-a"), tech = try f.token("tech")
        let auth = headers([("Authorization", "Bearer \(token)")])
        try await withRouter(f.portal()) { client in
            for list in ["/api/v1/members", "/api/v1/devices", "/api/v1/schools", "/api/v1/orders", "/api/v1/funding", "/api/v1/problems"] {
                let r = try await client.execute(uri: list, method: .get, headers: auth)
                #expect(r.status == .ok, "\(list)")
                #expect(!r.text.contains(b.slug) && !r.text.contains(b.uai) && !r.text.contains("BC-2") && !r.text.contains(b.device), "\(list) leaks B: \(r.text)")
                #expect(r.text.contains(a.slug) || r.text.contains(a.uai) || r.text.contains("BC-1"), "\(list) shows A's own: \(r.text)")
            }
            for filter in ["member=\(b.slug)", "school=\(b.uai)", "cart=\(b.cart)", "order=BC-2"] {
                let r = try await client.execute(uri: "/api/v1/devices?\(filter)", method: .get, headers: auth)
                #expect(r.status == .notFound, "devices?\(filter) as A: \(r.status) \(r.text)")
            }
            let own = try await client.execute(uri: "/api/v1/devices?school=\(a.uai)&kind=laptop", method: .get, headers: auth)
            #expect((own.json as? [[String: Any]])?.map { $0["serial"] as? String } == [a.device])
            let all = try await client.execute(uri: "/api/v1/devices", method: .get, headers: headers([("Authorization", "Bearer \(tech)")]))
            #expect((all.json as? [Any])?.count == 6, "a technician sees both members' devices")
            let before = try f.count("SELECT COUNT(*) FROM problem")
            let foreign = try await client.execute(uri: "/api/v1/problems", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"serial":"\#(b.device)","kind":"missing","description":"x","contactName":"M. Test","contactPhone":"0387112233"}"#))
            #expect(foreign.status == .notFound, "reporting on B's device as A")
            #expect(try f.count("SELECT COUNT(*) FROM problem") == before)
            let bad = try await client.execute(uri: "/api/v1/devices?colour=red", method: .get, headers: auth)
            #expect(bad.status == .badRequest)
            #expect(((bad.json as? [String: Any])?["detail"] as? String)?.contains("unknown filter 'colour'") == true)
            let badKind = try await client.execute(uri: "/api/v1/devices?kind=toaster", method: .get, headers: auth)
            #expect(badKind.status == .badRequest)
            // Pages: the overview and the problem list of A hold nothing of B.
            let session = try f.session("mairie-a")
            for page in ["/", "/communes/\(a.slug)", "/communes/\(a.slug)/signalements", "/communes/\(a.slug)/rapport.csv"] {
                let r = try await client.execute(uri: page, method: .get, headers: headers([("Cookie", session.cookie)]))
                #expect(r.status == .ok, "\(page)")
                #expect(!r.text.contains(b.device) && !r.text.contains("Norroy"), "\(page) leaks B")
            }
        }
    }

    @Test("the API's devices are keyed as `parc device list --json`")
    func devicesKeyedAsTheCLI() async throws {
        let f = try PortalFixture()
        let token = try f.token("mairie-a")
        try await withRouter(f.portal()) { client in
            let r = try await client.execute(uri: "/api/v1/devices/\(f.a.device)", method: .get, headers: headers([("Authorization", "Bearer \(token)")]))
            #expect(r.status == .ok)
            let row = try f.inventory.read { try $0.deviceRow(f.a.device) }
            #expect(r.text == DeviceListing.json(row).serialized(indent: Int?.none))
            #expect(r.text.hasPrefix(#"{"serial":"SN-1-1","assetTag":"T-1-1","kind":"laptop""#))
        }
    }

    @Test("a run through the API is the JSON `parc runs show --json` prints (one encoder for both)")
    func runsShapedAsTheCLI() async throws {
        let f = try PortalFixture()
        let token = try f.token("tech")
        try await withRouter(f.portal()) { client in
            let r = try await client.execute(uri: "/api/v1/runs/\(f.a.runId)", method: .get, headers: headers([("Authorization", "Bearer \(token)")]))
            #expect(r.status == .ok)
            let detail = try f.inventory.read { try $0.run(f.a.runId) }
            let cli = try RunJSON.render(detail.run, hosts: detail.hosts, tasks: detail.tasks)
            let fromAPI = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as! NSDictionary
            let fromCLI = try JSONSerialization.jsonObject(with: Data(cli.utf8)) as! NSDictionary
            #expect(fromAPI.isEqual(fromCLI))
            #expect(((fromAPI["tasks"] as? [[String: Any]])?.first?["diff"] as? String) == "--- a\n+++ b\n")
        }
    }

    @Test("without a valid token the API answers 401 in JSON; revoked tokens and disabled accounts stop working")
    func apiNeedsALiveToken() async throws {
        let f = try PortalFixture()
        let token = try f.token("mairie-a")
        try await withRouter(f.portal()) { client in
            let none = try await client.execute(uri: "/api/v1/devices", method: .get)
            #expect(none.status == .unauthorized)
            #expect(none.header("WWW-Authenticate") == "Bearer")
            #expect((none.json as? [String: Any])?["error"] as? String == "unauthorized")
            let wrong = try await client.execute(uri: "/api/v1/devices", method: .get, headers: headers([("Authorization", "Bearer parc_nope")]))
            #expect(wrong.status == .unauthorized)
            let cookieOnly = try await client.execute(uri: "/api/v1/devices", method: .get, headers: headers([("Cookie", try f.session("tech").cookie)]))
            #expect(cookieOnly.status == .unauthorized, "the API takes tokens, not browser cookies (no CSRF on the API)")
            let ok = try await client.execute(uri: "/api/v1/devices", method: .get, headers: headers([("Authorization", "Bearer \(token)")]))
            #expect(ok.status == .ok)
            try f.inventory.write { tx in try tx.setDisabled("mairie-a", true) }
            let disabled = try await client.execute(uri: "/api/v1/devices", method: .get, headers: headers([("Authorization", "Bearer \(token)")]))
            #expect(disabled.status == .unauthorized)
            try f.inventory.write { tx in try tx.setDisabled("mairie-a", false) }
            _ = try f.inventory.write { tx in try tx.revokeToken(String(token.prefix(10))) }
            let revoked = try await client.execute(uri: "/api/v1/devices", method: .get, headers: headers([("Authorization", "Bearer \(token)")]))
            #expect(revoked.status == .unauthorized)
        }
        // The database keeps digests only.
        #expect(try f.count("SELECT COUNT(*) FROM apiToken WHERE digest = '\(token)' OR prefix = '\(token)'") == 0)
    }
}
