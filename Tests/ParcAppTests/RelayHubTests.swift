import Foundation
import ParcApp
import ParcCore
@testable import Provisioning
import Synchronization
import Templating
import Testing

/// The server's side of relays, on its own: work handed out, reports taken, a silent relay's work
/// ended within the bound.
@Suite struct RelayHubTests {
    static func work(_ id: String, hosts: [String]) -> RelayWork {
        RelayWork(id: id, run: 1, playbook: "p.yml", files: [:], hosts: hosts.map { HostTarget(name: $0, serial: $0, groups: []) }, ssh: [:],
                  options: .init(check: false, diff: false, forks: 5, tags: [], skipTags: [], extraVars: [:], extraData: [:],
                                 become: "sudo", becomeUser: nil, startAtTask: nil, knownNames: []))
    }

    @Test("a relay that goes silent mid-work: within its timeout (plus one held poll) every host of the work is unreachable, the tasks it reported kept")
    func silentRelayEndsItsWorkUnreachable() async throws {
        let hub = RelayHub(timeout: .seconds(4), pollWait: .milliseconds(200))
        #expect(await hub.poll(relay: "relais", schools: ["0571234G"]) == nil)
        #expect(hub.relay(forSchool: "0571234g") == "relais", "UAI in any case")
        let unreachable = Mutex<[String]>([])
        let started = ContinuousClock.now
        let outcome = Task {
            await hub.dispatch(Self.work("w1", hosts: ["a", "b"]), to: "relais") { e in
                if case .unreachable(let host, let message) = e { unreachable.withLock { $0.append("\(host): \(message)") } }
            }
        }
        let work = await hub.poll(relay: "relais", schools: ["0571234G"])
        #expect(work?.id == "w1")
        let r = TaskRecord(play: "p", task: "t", host: "a", serial: "a", item: nil, outcome: .changed, changed: true, ignored: false,
                           message: nil, output: nil, diff: [], milliseconds: 1, location: nil)
        _ = try hub.report(relay: "relais", job: "w1", RelayReport(from: 0, events: [.task(r)]))
        // Then nothing: the relay was killed.
        let ended = await outcome.value
        let waited = ContinuousClock.now - started
        #expect(waited < .seconds(12), "ended within the bound, even on a loaded machine (\(waited))")
        #expect(waited >= .milliseconds(3900), "not before the timeout (\(waited))")
        #expect(Set(ended.result.unreachableHosts) == ["a", "b"])
        #expect(ended.result.recap["a"]?.changed == 1 && ended.result.recap["a"]?.unreachable == 1)
        #expect(ended.result.records.map(\.task) == ["t"])
        #expect(unreachable.withLock { $0 }.count == 2)
        #expect(unreachable.withLock { $0 }.allSatisfy { $0.contains("relais") && $0.contains("stopped answering") })
        #expect(hub.relay(forSchool: "0571234G") == nil, "a silent relay serves nothing")
        #expect(throws: RelayHub.ReportError.self) { try hub.report(relay: "relais", job: "w1", RelayReport(from: 1, events: [])) }
    }

    @Test("work for a relay that is not connected ends at once, its hosts unreachable; a relay that comes back is announced once")
    func workForAnAbsentRelay() async throws {
        let hub = RelayHub(timeout: .seconds(5), pollWait: .milliseconds(100))
        let arrivals = Mutex<[String]>([])
        hub.onArrival { login, schools in arrivals.withLock { $0.append("\(login) \(schools.joined(separator: ","))") } }
        let ended = await hub.dispatch(Self.work("w2", hosts: ["x"]), to: "nobody") { _ in }
        #expect(ended.result.unreachableHosts == ["x"])
        _ = await hub.poll(relay: "r1", schools: ["0571234G", "0572113M"])
        _ = await hub.poll(relay: "r1", schools: ["0571234G", "0572113M"])
        #expect(arrivals.withLock { $0 } == ["r1 0571234G,0572113M"])
        #expect(hub.status.map(\.login) == ["r1"])
        #expect(hub.status.first?.schools == ["0571234G", "0572113M"])
    }

    @Test("values travel between server and relay exactly: a float stays a float, a mapping keeps its order")
    func valuesRoundTrip() throws {
        var m = OrderedMap()
        m["zeta"] = .double(1.0)
        m["alpha"] = .list([.int(1), .bool(true), .null, .string("{{ x }}")])
        let v = Value.map(m)
        let back = try JSONDecoder().decode(Value.self, from: try JSONEncoder().encode(v))
        #expect(back == v)
        #expect(back.ordered?.keys == ["zeta", "alpha"])
        #expect(back.description == v.description)
    }
}
