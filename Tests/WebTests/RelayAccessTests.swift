import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InventoryStore
import NIOCore
import NIOFoundationEssentialsCompat
import ParcApp
import ParcCore
@testable import Provisioning
import Synchronization
import Templating
import Testing
@testable import Web

/// Relays' accounts: work for their own schools only, nothing else of the portal or the API.
@Suite struct RelayAccessTests {
    static func auth(_ token: String) -> HTTPFields { headers([("Authorization", "Bearer \(token)")]) }

    @Test("a relay's token answers 404 on every route that is not a relay's, and a relay account cannot sign in; people's tokens answer 404 on relays' routes")
    func relaysReadNothingElse() async throws {
        let f = try PortalFixture()
        let relay = try f.token("relais-a"), commune = try f.token("mairie-a"), tech = try f.token("tech")
        try await withRouter(f.portal()) { client in
            var walked = 0
            for route in Portal.routes where route.isAPI && route.access != .anyone && route.access != .relay {
                let r = try await client.execute(uri: AccessTests.path(route, f.a), method: route.method, headers: Self.auth(relay),
                                                 body: AccessTests.body(route, f.a, csrf: ""))
                #expect(r.status == .notFound, "\(route.method) \(route.path) as a relay: \(r.status)")
                #expect(!r.text.contains(f.a.device), "\(route.path): a relay's 404 shows nothing")
                walked += 1
            }
            #expect(walked >= 14)
            for token in [commune, tech] {
                let poll = try await client.execute(uri: "/api/v1/relay/work", method: .get, headers: Self.auth(token))
                #expect(poll.status == .notFound)
                let report = try await client.execute(uri: "/api/v1/relay/jobs/x/events", method: .post, headers: Self.auth(token),
                                                      body: ByteBuffer(string: #"{"from":0,"events":[]}"#))
                #expect(report.status == .notFound)
            }
            // No password opens a relay's account (it has none); the refusal is the usual one.
            let signIn = try await SignInTests.signIn(client, login: "relais-a", password: "!")
            #expect(signIn.status == .unauthorized)
            #expect(SignInTests.sessionCookie(signIn) == nil)
        }
        #expect(try f.count("SELECT COUNT(*) FROM loginFailure WHERE login = 'relais-a'") == 1)
        let events = try f.inventory.read { try $0.events(entity: "account", limit: 20) }
        #expect(events.contains { $0.entityKey == "relais-a" && $0.changes.contains { $0.field == "reason" && ($0.new ?? "").hasPrefix("relay account") } })
    }

    /// A piece of work for `hosts` (nothing is run: the test plays the relay).
    static func work(_ id: String, hosts: [String]) -> RelayWork {
        RelayWork(id: id, run: 1, playbook: "p.yml", files: ["p.yml": Data("- hosts: all\n  tasks: []\n".utf8)],
                  hosts: hosts.map { HostTarget(name: $0, serial: $0, groups: ["all"]) }, ssh: [:],
                  options: .init(check: true, diff: false, forks: 5, tags: [], skipTags: [], extraVars: [:], extraData: ["x": .string("{{ 1 }}")],
                                 become: "sudo", becomeUser: nil, startAtTask: nil, knownNames: []))
    }

    @Test("a relay gets work for its own schools only: another school is 404, another relay's work is 404 and left untouched; its owner's reports are taken once each, in order, and end the work")
    func relaysGetOnlyTheirOwnWork() async throws {
        let f = try PortalFixture()
        let portal = f.portal()
        let hub = try #require(portal.console.workspace.relays)
        let a = try f.token("relais-a"), b = try f.token("relais-b")
        try await withRouter(portal) { client in
            let foreign = try await client.execute(uri: "/api/v1/relay/work?schools=\(f.b.uai)", method: .get, headers: Self.auth(a))
            #expect(foreign.status == .notFound)
            #expect(hub.relay(forSchool: f.b.uai) == nil, "a refused poll connects nobody")
            // No work: 204 after the wait, and the relay now serves its school.
            let idle = try await client.execute(uri: "/api/v1/relay/work", method: .get, headers: Self.auth(b))
            #expect(idle.status == .noContent)
            #expect(hub.relay(forSchool: f.b.uai) == "relais-b")
            #expect(hub.relay(forSchool: f.a.uai) == nil)
            // The technicians' console lists it with its school.
            let tech = try f.session("tech")
            let runsPage = try await client.execute(uri: "/executions", method: .get, headers: headers([("Cookie", tech.cookie)]))
            #expect(runsPage.text.contains("Relais connectés maintenant") && runsPage.text.contains("relais-b") && runsPage.text.contains(f.b.uai))

            // The server hands work to relais-b (as a run of its school's devices would).
            let forwarded = Mutex<[String]>([])
            let cancellation = RunCancellation()
            let outcome = Task {
                await hub.dispatch(Self.work("job-b", hosts: ["SN-2-1"]), to: "relais-b", cancellation: cancellation) { e in
                    if case .task(let r) = e { forwarded.withLock { $0.append(r.task) } }
                }
            }
            let poll = try await client.execute(uri: "/api/v1/relay/work", method: .get, headers: Self.auth(b))
            #expect(poll.status == .ok)
            let work = try JSONDecoder().decode(RelayWork.self, from: Data(buffer: poll.body))
            #expect(work.id == "job-b" && work.hosts.map(\.serial) == ["SN-2-1"])
            #expect(work.options.extraData["x"] == .string("{{ 1 }}"), "data travels as data")
            let doc = try OpenAPITests.document()
            let schemas = ((doc["components"] as! [String: Any])["schemas"] as! [String: Any])
            OpenAPITests.check(poll.json!, schemas["RelayWork"] as! [String: Any], doc, at: "relay work")

            func record(_ task: String) -> RelayEvent {
                .task(TaskRecord(play: "p", task: task, host: "SN-2-1", serial: "SN-2-1", item: nil, outcome: .ok, changed: false, ignored: false,
                                 message: nil, output: nil, diff: [], milliseconds: 1, location: nil))
            }
            func report(_ token: String, _ r: RelayReport) async throws -> TestResponse {
                try await client.execute(uri: "/api/v1/relay/jobs/job-b/events", method: .post, headers: Self.auth(token),
                                         body: ByteBuffer(bytes: try JSONEncoder().encode(r)))
            }
            // Another relay cannot report on it.
            let stolen = try await report(a, RelayReport(from: 0, events: [record("forged")]))
            #expect(stolen.status == .notFound)
            // Its owner's events: a report sent twice (a retry) is taken once.
            let first = try await report(b, RelayReport(from: 0, events: [record("one"), record("two")]))
            #expect(first.status == .ok)
            OpenAPITests.check(first.json!, schemas["RelayReply"] as! [String: Any], doc, at: "relay reply")
            #expect((first.json as? [String: Any])?["next"] as? Int == 2)
            cancellation.cancel(by: "tech")
            let again = try await report(b, RelayReport(from: 1, events: [record("two"), record("three")]))
            #expect((again.json as? [String: Any])?["next"] as? Int == 3)
            #expect((again.json as? [String: Any])?["cancelledBy"] as? String == "tech", "a cancelled run tells its relay")
            var recap = HostRecap()
            recap.ok = 3
            let done = RelayOutcome(result: RunResult(records: [], recap: ["SN-2-1": recap], failedHosts: [], unreachableHosts: []), newKeys: [:])
            let last = try await report(b, RelayReport(from: 3, events: [], outcome: done))
            #expect(last.status == .ok)
            let ended = await outcome.value
            #expect(ended.result.recap["SN-2-1"]?.ok == 3)
            #expect(forwarded.withLock { $0 } == ["one", "two", "three"])
            // Ended work is no one's any more.
            let late = try await report(b, RelayReport(from: 3, events: [record("four")]))
            #expect(late.status == .notFound)
        }
    }
}
