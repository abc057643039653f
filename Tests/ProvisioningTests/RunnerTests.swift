import Foundation
import ParcCore
@testable import Provisioning
import Templating
import Testing

/// A transport that answers from a script: the runner's logic without a network.
final class ScriptedTransport: Transport, @unchecked Sendable {
    let host: String
    private let lock = NSLock()
    private(set) var commands: [String] = []
    let answer: @Sendable (String) -> CommandResult

    init(host: String, answer: @escaping @Sendable (String) -> CommandResult) {
        self.host = host
        self.answer = answer
    }

    func run(_ command: String, stdin: [UInt8]?, become: Become, timeout: Duration?) async throws -> CommandResult {
        lock.withLock { commands.append(command) }
        return answer(command)
    }
    func close() async {}
}

struct ScriptedConnector: Connector {
    var down: Set<String> = []
    var failing: Set<String> = []
    let transports = Box()

    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var all: [String: ScriptedTransport] = [:]
        func get(_ name: String) -> ScriptedTransport? { lock.lock(); defer { lock.unlock() }; return all[name] }
        func set(_ name: String, _ t: ScriptedTransport) { lock.lock(); all[name] = t; lock.unlock() }
    }

    func connect(_ host: HostTarget) async throws -> any Transport {
        if down.contains(host.name) { throw TransportError.unreachable(host: host.name, reason: "connection refused") }
        let failing = self.failing.contains(host.name)
        let t = ScriptedTransport(host: host.name) { command in
            if command.contains("==hostname==") {
                return CommandResult(exitStatus: 0, stdout: Array("==hostname==\n\(host.name)\n==os==\nID=debian\nVERSION_ID=12\n==kernel==\n6.1\nx86_64\n==end==\n".utf8), stderr: [])
            }
            let fails = command.contains("FAIL") || (failing && command.contains("risky"))
            return CommandResult(exitStatus: fails ? 1 : 0, stdout: Array("out of \(host.name)\n".utf8), stderr: fails ? Array("boom\n".utf8) : [])
        }
        transports.set(host.name, t)
        return t
    }
}

func hosts(_ n: Int) -> [HostTarget] {
    (1...n).map { i in HostTarget(name: "pc-\(i)", serial: "SN\(i)", groups: ["kind_laptop", i <= 2 ? "room_a" : "room_b"],
                                  vars: ["inventory_hostname": .string("pc-\(i)")]) }
}

func run(_ yaml: String, hosts: [HostTarget], connector: ScriptedConnector = ScriptedConnector(), options: RunOptions = RunOptions()) async throws -> RunResult {
    let book = try PlaybookLoader.load(try writePlaybook(yaml))
    return await Runner(playbook: book, hosts: hosts, connector: connector, options: options).run()
}

func outcomes(_ r: RunResult, host: String) -> [String] {
    r.records.filter { $0.host == host }.map { "\($0.task):\($0.outcome.rawValue)" }
}

@Suite struct RunnerTests {
    @Test func endPlayEndsThePlayForEveryHostAndTheNextPlayRuns() async throws {
        let r = try await run("""
            - hosts: all
              gather_facts: no
              tasks:
                - debug: msg=a
                - meta: end_play
                - debug: msg=b
            - hosts: all
              gather_facts: no
              tasks:
                - debug: msg=c
            """, hosts: hosts(2))
        #expect(r.exitCode == 0)
        for host in ["pc-1", "pc-2"] {
            #expect(r.records.filter { $0.host == host }.map { $0.message ?? "" } == ["a", "c"], "\(host): \(r.records.map { "\($0.host) \($0.message ?? "")" })")
        }
    }

    @Test func aFailedHostStopsItsOwnTasksAndNoOneElses() async throws {
        let connector = ScriptedConnector(failing: ["pc-2"])
        let r = try await run("""
            - hosts: all
              gather_facts: no
              tasks:
                - name: one
                  command: echo risky
                - name: two
                  command: echo after
            """, hosts: hosts(3), connector: connector)
        #expect(outcomes(r, host: "pc-2") == ["one:failed"])
        #expect(outcomes(r, host: "pc-1") == ["one:changed", "two:changed"])
        #expect(r.failedHosts == ["SN2"])
        #expect(r.exitCode == 2)
        #expect(r.recap["pc-3"] == HostRecap(ok: 2, changed: 2))
    }

    @Test func anUnreachableHostIsToldApartWhileTheOthersFinish() async throws {
        let r = try await run("- hosts: all\n  gather_facts: no\n  tasks:\n    - command: echo hi\n", hosts: hosts(3),
                              connector: ScriptedConnector(down: ["pc-3"]))
        #expect(r.unreachableHosts == ["SN3"])
        #expect(r.recap["pc-3"]?.unreachable == 1)
        #expect(r.recap["pc-1"]?.changed == 1)
        #expect(r.exitCode == 4)
    }

    @Test func handlersRunOnceAtTheEndWhenNotifiedByAChange() async throws {
        let connector = ScriptedConnector()
        let r = try await run("""
            - hosts: pc-1
              gather_facts: no
              tasks:
                - { name: a, command: echo a, notify: restart }
                - { name: b, command: echo b, notify: restart }
                - { name: c, debug: msg=unchanged, notify: other }
                - { name: d, command: echo d }
              handlers:
                - { name: restart, command: echo RESTART }
                - { name: other, command: echo OTHER }
            """, hosts: hosts(2), connector: connector)
        #expect(outcomes(r, host: "pc-1") == ["a:changed", "b:changed", "c:ok", "d:changed", "restart:changed"])
        #expect(connector.transports.get("pc-1")!.commands.filter { $0.contains("RESTART") }.count == 1)
        #expect(outcomes(r, host: "pc-2").isEmpty, "pc-2 is not in the play's hosts")
    }

    @Test func whenLoopAndRegisterWorkTogether() async throws {
        let r = try await run("""
            - hosts: pc-1
              gather_facts: no
              vars:
                rooms: [cp, ce1, cm2]
              tasks:
                - name: each room
                  command: echo {{ item }}
                  loop: "{{ rooms }}"
                  when: item != 'ce1'
                  register: made
                - name: count
                  debug: msg="{{ made.results | length }} results, changed={{ made.changed }}"
                  register: summary
                - name: only when changed
                  debug: msg=yes
                  when: made.changed
                - name: never
                  debug: msg=no
                  when: summary.msg is not defined
            """, hosts: hosts(1))
        let records = r.records.filter { $0.host == "pc-1" }
        #expect(records.map(\.outcome) == [.changed, .skipped, .changed, .ok, .ok, .skipped])
        #expect(records.map(\.item) == ["cp", "ce1", "cm2", nil, nil, nil])
        // Jinja prints booleans as Python does; the skipped item is among the results, as Ansible registers it.
        #expect(records[3].message == "3 results, changed=True")
    }

    @Test func tagsAndSkipTagsSelectTasks() async throws {
        let yaml = """
            - hosts: pc-1
              gather_facts: no
              tasks:
                - { name: wifi, command: echo w, tags: [wifi] }
                - { name: proxy, command: echo p, tags: [proxy] }
                - { name: always, command: echo a, tags: [always] }
                - { name: untagged, command: echo u }
            """
        let only = try await run(yaml, hosts: hosts(1), options: RunOptions(tags: ["wifi"]))
        #expect(only.records.map(\.task) == ["wifi", "always"])
        let skip = try await run(yaml, hosts: hosts(1), options: RunOptions(skipTags: ["wifi"]))
        #expect(skip.records.map(\.task) == ["proxy", "always", "untagged"])
    }

    @Test func changedWhenFailedWhenAndIgnoreErrors() async throws {
        let r = try await run("""
            - hosts: pc-1
              gather_facts: no
              tasks:
                - { name: probe, command: echo FAIL, register: p, failed_when: false, changed_when: false }
                - { name: rc, debug: "msg={{ p.rc }}" }
                - { name: tolerated, shell: echo FAIL, ignore_errors: yes }
                - { name: still runs, command: echo ok }
            """, hosts: hosts(1))
        #expect(r.records.map(\.outcome) == [.ok, .ok, .failed, .changed])
        #expect(r.records[1].message == "1")
        #expect(r.records[2].ignored)
        #expect(r.exitCode == 0)
        #expect(r.recap["pc-1"]?.ignored == 1)
    }

    @Test func serialBatchesStopOverMaxFailPercentage() async throws {
        let connector = ScriptedConnector(failing: ["pc-1", "pc-2"])
        let r = try await run("""
            - hosts: all
              gather_facts: no
              serial: 2
              max_fail_percentage: 40
              tasks:
                - command: echo risky
            """, hosts: hosts(6), connector: connector)
        #expect(r.aborted?.contains("max_fail_percentage") == true)
        #expect(Set(r.records.map(\.host)) == ["pc-1", "pc-2"], "the second batch never starts")
        #expect(r.exitCode == 2)
        let tolerant = try await run("""
            - hosts: all
              gather_facts: no
              serial: "50%"
              max_fail_percentage: 80
              tasks:
                - command: echo risky
            """, hosts: hosts(6), connector: ScriptedConnector(failing: ["pc-1"]))
        #expect(tolerant.aborted == nil)
        #expect(Set(tolerant.records.map(\.host)).count == 6)
    }

    @Test func noLogHidesOutputAndItems() async throws {
        let r = try await run("""
            - hosts: pc-1
              gather_facts: no
              tasks:
                - { name: secret, command: "echo {{ item }}", loop: [hunter2], no_log: true }
            """, hosts: hosts(1))
        #expect(r.records[0].item == "(hidden)")
        #expect(r.records[0].output == "(output hidden by no_log)")
        #expect(!"\(r.records)".contains("hunter2"))
    }

    @Test func factsAreGatheredInOneRoundTrip() async throws {
        let connector = ScriptedConnector()
        let r = try await run("- hosts: pc-1\n  tasks:\n    - debug: msg=\"{{ ansible_distribution }} {{ ansible_facts.os_family }} {{ ansible_architecture }}\"\n",
                              hosts: hosts(1), connector: connector)
        #expect(r.records[0].message == "Debian Debian x86_64")
        #expect(connector.transports.get("pc-1")!.commands.count == 1)
    }

    /// with_list: anything but a list is a list of one; a loop that cannot be made under a false
    /// `when` is skipped, else failed and registered; loop_var may be a template; the label is
    /// made with the item's own result, a skipped item whose label cannot be made fails.
    @Test func loopsAsAnsiblesLoopsTargetWantsThem() async throws {
        let yaml = """
            - hosts: all
              gather_facts: no
              tasks:
                - debug: { msg: "{{ item }}" }
                  with_list: "{{ {'a': 1} }}"
                  register: listed
                - debug: { msg: never }
                  loop: "{{ nowhere }}"
                  when: false
                  register: never
                - debug: { msg: never }
                  with_dict: [1, 2]
                  register: notadict
                  ignore_errors: yes
                - assert: { that: "ansible_loop_var == 'alvin' and alvin == 1 and ansible_search_path | length >= 1" }
                  loop: [1]
                  loop_control: { loop_var: "{{ name_of_var }}" }
                  vars: { name_of_var: alvin }
                - ping:
                  register: p
                - command: "echo {{ item }}"
                  register: r
                  loop: [changed, skipped]
                  loop_control: { label: "{{ r.stdout }}" }
                  when: item == "changed"
                  ignore_errors: yes
                - assert:
                    that:
                      - "listed.results | length == 1 and listed.results[0].item == {'a': 1}"
                      - never is skipped
                      - notadict is failed and 'expects a dictionary' in notadict.msg
                      - p.ping == 'pong'
                      - r.results[0] is changed
                      - r.results[1] is failed and r.results[1] is skipped
                      - r.results[1].msg is contains("Failed to template loop_control.label") and r.results[1].msg is contains("stdout")
            """
        let r = try await run(yaml, hosts: hosts(1))
        let outcomes = r.records.map { "\($0.task): \($0.outcome) \($0.message ?? "")" }
        #expect(r.records.last?.outcome == .ok && r.records.last?.task == "assert", "\(outcomes)")
    }

    @Test func patternsSelectAPlaysHosts() async throws {
        let r = try await run("- hosts: kind_laptop:&room_a:!pc-2\n  gather_facts: no\n  tasks:\n    - debug: msg=x\n", hosts: hosts(4))
        #expect(r.records.map(\.host) == ["pc-1"])
    }
}
