import Foundation
import Lab
import Testing

/// A school on a network of its own (a network namespace the test makes), a central `parc serve`
/// on this machine, and `parc relay` inside the school: runs reach its devices only through the
/// relay, as in a département where the centre cannot open SSH to the schools.
@Suite(.serialized) struct RelayCLITests {
    static let school = "0572113M"
    static let directSchool = "0571234G"

    final class World: @unchecked Sendable {
        let parc: ParcRunner
        let home: URL
        let labDir: String, directLabDir: String
        var server: Process?
        var base = ""
        var techToken = ""
        let relayToken: String

        init() async throws {
            if let why = Lab.unavailableReason() { Issue.record("sshd is needed: \(why)") }
            #expect(geteuid() == 0, "network namespaces need root")
            parc = try ParcRunner()
            home = parc.dir
            labDir = home.appendingPathComponent("lab").path
            directLabDir = home.appendingPathComponent("lab-direct").path
            relayToken = home.appendingPathComponent("relay.token").path
            let playbooks = home.appendingPathComponent("playbooks")
            try FileManager.default.createDirectory(at: playbooks.appendingPathComponent("templates"), withIntermediateDirectories: true)
            try """
                - hosts: all
                  become: true
                  tasks:
                    - name: message of the day
                      template: { src: templates/motd.j2, dest: /etc/motd }
                    - name: the school's name
                      lineinfile: { path: /etc/parc-school, line: "school={{ parc_school }}", create: true }
                    - name: who am I
                      command: hostname
                      changed_when: false

                """.write(to: playbooks.appendingPathComponent("motd.yml"), atomically: true, encoding: .utf8)
            try "Bienvenue sur {{ inventory_hostname }} ({{ parc_school }})\n"
                .write(to: playbooks.appendingPathComponent("templates/motd.j2"), atomically: true, encoding: .utf8)
            try """
                - hosts: all
                  tasks:
                    - name: a long task
                      command: sleep 8

                """.write(to: playbooks.appendingPathComponent("slow.yml"), atomically: true, encoding: .utf8)
            #expect(try await run("init", "--sample", "--from", ParcRunner.repo.appendingPathComponent("inventory").path).status == 0)
            #expect(try await run("school", "add", RelayCLITests.directSchool, "--name", "École directe", "--member", "norroy-le-veneur").status == 0)
            let up = try await parc.run(["lab", "up", "3", "--school", RelayCLITests.school, "--isolated"], env: env(lab: labDir))
            #expect(up.status == 0, "\(up.stderr)")
            let direct = try await parc.run(["lab", "up", "3", "--school", RelayCLITests.directSchool], env: env(lab: directLabDir))
            #expect(direct.status == 0, "\(direct.stderr)")
            let pw = home.appendingPathComponent("pw").path
            try "un-mot-de-passe-long\n".write(toFile: pw, atomically: true, encoding: .utf8)
            #expect(try await run("user", "add", "tech", "--role", "technician", "--password-file", pw).status == 0)
            techToken = try await run("token", "add", "tech").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await run("user", "add", "relais-norroy", "--role", "relay", "--school", RelayCLITests.school).status == 0)
            let token = try await run("token", "add", "relais-norroy").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            FileManager.default.createFile(atPath: relayToken, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        }

        deinit {
            server?.terminate()
            _ = try? parc.runBlocking(["lab", "down"], env: env(lab: labDir))
            _ = try? parc.runBlocking(["lab", "down"], env: env(lab: directLabDir))
            (try? Lab.load(labDir))?.down()
            (try? Lab.load(directLabDir))?.down()
        }

        func env(lab: String? = nil) -> [String: String] {
            ["PARC_HOME": home.path, "PARC_LAB_DIR": lab ?? labDir, "XDG_CONFIG_HOME": home.appendingPathComponent("config").path]
        }

        @discardableResult
        func run(_ args: String...) async throws -> ParcRunner.Result { try await parc.run(args, env: env()) }

        @discardableResult
        func run(_ args: [String], env extra: [String: String] = [:]) async throws -> ParcRunner.Result {
            try await parc.run(args, env: env().merging(extra) { _, b in b })
        }

        /// The isolated school's network as `parc lab status --json` tells it.
        func network() async throws -> [String: Any] {
            let status = try ParcRunner.json(try await run("lab", "status", "--json").stdout) as! [String: Any]
            return (status["isolatedSchools"] as! [[String: Any]])[0]
        }

        /// The certificate of an https server (its address as the name), when the test wants one.
        var certificate: String?

        /// Starts the server on the host's side of the school's veth (`tls`: over https, with a
        /// certificate made for that address).
        func serve(tls: Bool = false) async throws {
            let host = try await network()["hostAddress"] as! String
            let port = try Lab.freePort()
            base = "\(tls ? "https" : "http")://\(host):\(port)"
            var args = ["serve", "--listen", "\(host):\(port)", "--relay-timeout", "4", "--relay-sweep", "2"]
            if tls {
                let cert = home.appendingPathComponent("cert.pem").path, key = home.appendingPathComponent("key.pem").path
                let made = try await PortalCLITests.tool(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                          "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=\(host)", "-addext", "subjectAltName=IP:\(host)"])
                #expect(made.status == 0)
                certificate = cert
                args += ["--tls-cert", cert, "--tls-key", key]
            }
            let (process, _, _) = try parc.start(args, env: env())
            server = process
            var up = false
            for _ in 0..<100 where !up {
                try await Task.sleep(for: .milliseconds(100))
                up = (try? await http("/api/v1/openapi.json", token: false))?.status == 200
            }
            #expect(up, "the server answers on \(base)")
        }

        func startRelay(trusting ca: String? = nil, expectConnected: Bool = true) async throws {
            let r = try await run(["lab", "relay", RelayCLITests.school, "--server", base, "--token-file", relayToken] + (ca.map { ["--ca-file", $0] } ?? []))
            #expect(r.status == 0, "\(r.stderr)")
            // Connected: the server lists it.
            var connected = false
            for _ in 0..<(expectConnected ? 100 : 30) where !connected {
                try await Task.sleep(for: .milliseconds(100))
                let relays = try await http("/api/v1/relays")
                connected = (try? JSONSerialization.jsonObject(with: relays.body) as? [[String: Any]])?.contains { $0["login"] as? String == "relais-norroy" } ?? false
            }
            #expect(connected == expectConnected, "the relay connected: \(connected)")
        }

        /// An HTTP request with curl (URLSession on Linux was seen spinning on a request to a veth address).
        func http(_ path: String, post json: String? = nil, token: Bool = true) async throws -> (status: Int, body: Data) {
            var args = ["curl", "-s", "-m", "60", "-w", "\n%{http_code}"] + (certificate.map { ["--cacert", $0] } ?? [])
            if token { args += ["-H", "Authorization: Bearer \(techToken)"] }
            if let json { args += ["-H", "Content-Type: application/json", "-d", json] }
            let r = try await PortalCLITests.tool(args + [base + path])
            let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, Data(lines.dropLast().joined(separator: "\n").utf8))
        }

        func post(_ path: String, _ json: String) async throws -> (status: Int, body: [String: Any]) {
            let r = try await http(path, post: json)
            return (r.status, (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? [:])
        }

        /// A run's record as `parc runs show --json` prints it.
        func record(_ id: Int) async throws -> [String: Any] {
            try ParcRunner.json(try await run("runs", "show", String(id), "--json").stdout) as! [String: Any]
        }

        /// Waits for a run's end (its record has an exit code).
        func waitForEnd(_ id: Int, within seconds: Double) async throws -> [String: Any]? {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                let r = try await record(id)
                if (r["run"] as? [String: Any])?["exitCode"] != nil { return r }
                try await Task.sleep(for: .milliseconds(200))
            }
            return nil
        }
    }

    @Test("a relay reaches an https server whose certificate it trusts (--ca-file), and refuses one it does not")
    func relayOverHTTPS() async throws {
        let w = try await World()
        try await w.serve(tls: true)
        // Without the certificate's CA: no connection (the relay keeps trying and says why).
        try await w.startRelay(expectConnected: false)
        // (The HTTP client tries the handshake again until its connect timeout, 10 s.)
        var log = ""
        for _ in 0..<100 where !log.contains("cannot reach the server") {
            try await Task.sleep(for: .milliseconds(200))
            log = (try? String(contentsOfFile: w.labDir + "/relay.log", encoding: .utf8)) ?? ""
        }
        #expect(log.contains("cannot reach the server") && log.lowercased().contains("certificate"), "\(log)")
        #expect(try await w.http("/api/v1/relays").body.count <= 2, "no relay connected")
        let pid = try #require(try await w.network()["relayPid"] as? Int)
        kill(pid_t(pid), SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        try await w.startRelay(trusting: w.certificate)
        let started = try await w.post("/api/v1/runs", #"{"playbook":"motd.yml","limit":"room_\#(Self.school.lowercased())_lab_parc","check":true}"#)
        let id = try #require(started.body["id"] as? Int)
        let record = try #require(try await w.waitForEnd(id, within: 60))
        #expect((record["hosts"] as! [[String: Any]]).allSatisfy { $0["relay"] as? String == "relais-norroy" && $0["outcome"] as? String != "unreachable" }, "\(record)")
    }

    /// Each device's tasks and outcomes in a run's record: [host: [task: outcome]].
    static func outcomes(_ record: [String: Any]) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for t in record["tasks"] as? [[String: Any]] ?? [] {
            out[t["host"] as! String, default: [:]][t["task"] as! String] = t["outcome"] as? String
        }
        return out
    }

    @Test("through a relay in an isolated school: unreachable directly, a run from the API and one from `parc --server … run` finish with the same records as a direct run; a killed relay's devices end unreachable within the bound and get pending work, which the restarted relay serves, and the relay's sweep serves a laptop back on; Wake-on-LAN of the isolated laptops is broadcast by their relay on the school's network; pings and facts asked of the server go through the relay")
    func relayedRuns() async throws {
        let w = try await World()
        // From this machine's namespace, the school's devices cannot be reached.
        let ping = try await w.run("ping", "school_\(Self.school.lowercased())")
        #expect(ping.status != 0 && ping.stdout.contains("unreachable"), "\(ping.stdout)")
        #expect(!ping.stdout.contains(" ok "), "no device of the isolated school answers directly")
        try await w.serve()
        try await w.startRelay()

        // A direct run of the same playbook on the other school's devices, for comparison.
        let direct = try await w.run(["run", w.home.appendingPathComponent("playbooks/motd.yml").path, "--limit", "school_\(Self.directSchool.lowercased())", "--json"], env: ["PARC_LAB_DIR": w.directLabDir])
        #expect(direct.status == 0, "\(direct.stderr)")
        let directRecord = try ParcRunner.json(direct.stdout) as! [String: Any]

        // 1. Started through the API.
        let started = try await w.post("/api/v1/runs", #"{"playbook":"motd.yml","limit":"school_\#(Self.school.lowercased())","check":false}"#)
        #expect(started.status == 202, "\(started.body)")
        let id = try #require(started.body["id"] as? Int)
        let first = try #require(try await w.waitForEnd(id, within: 60), "the relayed run ends")
        #expect((first["run"] as? [String: Any])?["exitCode"] as? Int == 0)
        let hosts = first["hosts"] as! [[String: Any]]
        #expect(hosts.count == 3)
        #expect(hosts.allSatisfy { $0["relay"] as? String == "relais-norroy" && $0["outcome"] as? String == "changed" }, "\(hosts)")
        // The same tasks and decisions as the direct run, device for device.
        let relayedOutcomes = Set(Self.outcomes(first).values.map { $0 })
        let directOutcomes = Set(Self.outcomes(directRecord).values.map { $0 })
        #expect(relayedOutcomes == directOutcomes && relayedOutcomes.count == 1, "relayed \(relayedOutcomes) vs direct \(directOutcomes)")
        #expect((directRecord["hosts"] as! [[String: Any]]).allSatisfy { $0["relay"] == nil })
        // The devices got the files (the template rendered with the inventory's data).
        let lab = try Lab.load(w.labDir)
        for d in lab.devices {
            #expect((try? String(contentsOfFile: d.hostPath(of: "/etc/motd"), encoding: .utf8)) == "Bienvenue sur \(d.name) (\(Self.school))\n")
        }
        let runsShow = try await w.run("runs", "show", String(id))
        #expect(runsShow.stdout.contains("RELAY") && runsShow.stdout.contains("relais-norroy"))

        // 2. From a technician's command line against the server: nothing changes the second time.
        let techTokenFile = w.home.appendingPathComponent("tech.token").path
        FileManager.default.createFile(atPath: techTokenFile, contents: Data((w.techToken + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let loggedIn = try await w.run("login", w.base, "--token-file", techTokenFile)
        #expect(loggedIn.status == 0, "\(loggedIn.stderr)")
        let remote = try await w.run(["--server", w.base, "run", "motd.yml", "--limit", "school_\(Self.school.lowercased())"])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stderr.contains("ok: [lab-01] message of the day") && remote.stdout.contains("PLAY RECAP"), "\(remote.stderr)\n\(remote.stdout)")
        let secondID = try #require(Int(remote.stdout.components(separatedBy: "Recorded as run ").last?.split(separator: ":").first ?? ""))
        let second = try await w.record(secondID)
        #expect((second["hosts"] as! [[String: Any]]).allSatisfy { $0["relay"] as? String == "relais-norroy" && $0["outcome"] as? String == "ok" })
        #expect((second["run"] as? [String: Any])?["actor"] as? String == "tech", "the audit names the account")
        // The remote listing is the local one.
        let localList = try await w.run("device", "list", "--school", Self.school, "--json")
        let remoteList = try await w.run(["device", "list", "--school", Self.school, "--json"], env: ["PARC_SERVER": w.base])
        #expect(localList.stdout == remoteList.stdout && !localList.stdout.isEmpty)
        for format in [[], ["--json"], ["--csv"]] {
            let local = try await w.run(["device", "list", "--kind", "laptop"] + format)
            let remote = try await w.run(["device", "list", "--kind", "laptop"] + format, env: ["PARC_SERVER": w.base])
            #expect(local.stdout == remote.stdout && local.stderr == remote.stderr && !local.stdout.isEmpty, "device list \(format)")
        }
        for format in [[], ["--json"], ["--csv"]] {
            let local = try await w.run(["school", "list"] + format), remote = try await w.run(["school", "list"] + format, env: ["PARC_SERVER": w.base])
            #expect(local.stdout == remote.stdout && !local.stdout.isEmpty, "school list \(format)")
        }
        for format in [[], ["--json"], ["--csv"]] {
            let local = try await w.run(["member", "list"] + format), remote = try await w.run(["member", "list"] + format, env: ["PARC_SERVER": w.base])
            #expect(local.stdout == remote.stdout && !local.stdout.isEmpty, "member list \(format)")
        }

        // Pings and facts from the command line against the server: the isolated school's devices
        // answer through their relay (the server cannot reach them), their facts are kept on the server.
        let pinged = try await w.run(["--server", w.base, "ping", "school_\(Self.school.lowercased())", "--json"])
        #expect(pinged.status == 0, "\(pinged.stderr)")
        let answers = (try? ParcRunner.json(pinged.stdout) as? [[String: Any]]) ?? []
        #expect(answers.count == 3 && answers.allSatisfy { $0["status"] as? String == "ok" && $0["hostKey"] as? String == "pinned" }, "\(pinged.stdout)")
        let gathered = try await w.run(["--server", w.base, "facts", "school_\(Self.school.lowercased())", "--json"])
        #expect(gathered.status == 0, "\(gathered.stderr)")
        let facts = (try? ParcRunner.json(gathered.stdout) as? [String: Any]) ?? [:]
        #expect(Set(facts.keys) == Set(lab.devices.map(\.name)), "\(gathered.stdout.prefix(400))")
        let kept = try await w.run("device", "show", lab.devices[0].serial, "--json")
        #expect((try? ParcRunner.json(kept.stdout) as? [String: Any])?["factsSeenAt"] is String, "the facts are kept in the central inventory")

        // 3. The relay killed mid-run: unreachable within the bound, pending work owed.
        let slow = try await w.post("/api/v1/runs", #"{"playbook":"slow.yml","limit":"school_\#(Self.school.lowercased())","check":false}"#)
        let slowID = try #require(slow.body["id"] as? Int)
        try await Task.sleep(for: .seconds(2))
        let relayPid = try #require(try await w.network()["relayPid"] as? Int)
        let killedAt = Date()
        kill(pid_t(relayPid), SIGKILL)
        let lost = try #require(try await w.waitForEnd(slowID, within: 30), "the run ends without its relay")
        let bound = Date().timeIntervalSince(killedAt)
        #expect(bound < 12, "ended \(bound) s after the relay died (timeout 4 s + one held request)")
        #expect((lost["hosts"] as! [[String: Any]]).allSatisfy { $0["outcome"] as? String == "unreachable" && $0["relay"] as? String == "relais-norroy" })
        let pending = try await w.run("pending", "--json")
        let owed = try ParcRunner.json(pending.stdout) as? [[String: Any]] ?? []
        #expect(Set(owed.map { $0["device"] as? String ?? "" }) == ["lab-01", "lab-02", "lab-03"], "\(pending.stdout)")
        let remotePending = try await w.run(["pending", "--json"], env: ["PARC_SERVER": w.base])
        #expect(remotePending.stdout == pending.stdout, "the server's pending work, as the local command prints it")
        let remoteTable = try await w.run(["pending"], env: ["PARC_SERVER": w.base])
        #expect(remoteTable.stdout == (try await w.run("pending")).stdout)

        // 4. The relay back: it serves the pending work.
        try await w.startRelay()
        var served = false
        for _ in 0..<150 where !served {
            try await Task.sleep(for: .milliseconds(200))
            served = (try ParcRunner.json(try await w.run("pending", "--json").stdout) as? [[String: Any]])?.isEmpty ?? false
        }
        #expect(served, "the pending work was served through the relay")
        let runs = try ParcRunner.json(try await w.run("runs", "list", "--json").stdout) as! [[String: Any]]
        let latest = try await w.record(try #require(runs.first?["id"] as? Int))
        #expect((latest["run"] as? [String: Any])?["playbook"] as? String == w.home.appendingPathComponent("playbooks/slow.yml").path)
        // 5. A laptop off during a run owes it; once on again, the relay's sweep finds it and serves it.
        let off = try Lab.load(w.labDir)
        off.stop("lab-03")
        // (A serving of pending work that the sweep started may still hold the devices: wait for it.)
        var partial = try await w.post("/api/v1/runs", #"{"playbook":"motd.yml","limit":"room_\#(Self.school.lowercased())_lab_parc","check":false}"#)
        for _ in 0..<60 where partial.status == 409 || partial.status == 0 {
            try await Task.sleep(for: .milliseconds(500))
            partial = try await w.post("/api/v1/runs", #"{"playbook":"motd.yml","limit":"room_\#(Self.school.lowercased())_lab_parc","check":false}"#)
        }
        let partialID = try #require(partial.body["id"] as? Int, "\(partial)")
        let partialRecord = try #require(try await w.waitForEnd(partialID, within: 60))
        #expect((partialRecord["hosts"] as! [[String: Any]]).first { $0["host"] as? String == "lab-03" }?["outcome"] as? String == "unreachable")
        #expect((try ParcRunner.json(try await w.run("pending", "--json").stdout) as? [[String: Any]])?.map { $0["device"] as? String } == ["lab-03"])
        try off.start("lab-03")
        var swept = false
        for _ in 0..<100 where !swept {
            try await Task.sleep(for: .milliseconds(200))
            swept = (try ParcRunner.json(try await w.run("pending", "--json").stdout) as? [[String: Any]])?.isEmpty ?? false
        }
        #expect(swept, "the sweep served lab-03 once it was on again")

        // 6. Wake-on-LAN of the isolated school's laptops: their relay broadcasts on the school's network,
        // where a listener (inside the namespace) gets every magic packet.
        var macs: [String] = []
        for (i, d) in lab.devices.enumerated() {
            let mac = String(format: "02:00:00:00:10:%02x", i + 1)
            macs.append(mac)
            #expect(try await w.run("device", "edit", d.serial, "--mac", mac).status == 0)
        }
        let heard = w.home.appendingPathComponent("heard.txt").path
        let namespace = try #require(try await w.network()["namespace"] as? String)
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        listener.arguments = ["netns", "exec", namespace, "python3", "-c", """
            import socket
            r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            r.bind(("0.0.0.0", 9)); r.settimeout(20)
            out = open("\(heard)", "w"); out.write("listening\\n"); out.flush()
            for _ in range(\(macs.count)):
                d, a = r.recvfrom(200)
                if d[:6] == b"\\xff" * 6: out.write(":".join("%02x" % b for b in d[6:12]) + "\\n"); out.flush()
            """]
        listener.standardOutput = FileHandle.nullDevice
        listener.standardError = FileHandle.nullDevice
        try listener.run()
        for _ in 0..<100 where !((try? String(contentsOfFile: heard, encoding: .utf8))?.hasPrefix("listening") ?? false) { try await Task.sleep(for: .milliseconds(50)) }
        let woken = try await w.run(["--server", w.base, "wake", "room_\(Self.school.lowercased())_lab_parc"])
        #expect(woken.status == 0, "\(woken.stderr)")
        #expect(woken.stdout.contains("(through the relay relais-norroy)") && woken.stdout.contains("3 magic packet(s) sent for 3 device(s)"), "\(woken.stdout)")
        try await ParcRunner.offPool { listener.waitUntilExit() }
        let got = Set(((try? String(contentsOfFile: heard, encoding: .utf8)) ?? "").split(separator: "\n").dropFirst().map(String.init))
        #expect(got == Set(macs), "the packets heard on the school's network: \(got)")

        // (a command counts as a change, as Ansible's)
        #expect((latest["hosts"] as! [[String: Any]]).allSatisfy { $0["relay"] as? String == "relais-norroy" && $0["outcome"] as? String == "changed" }, "\(latest)")
    }
}
