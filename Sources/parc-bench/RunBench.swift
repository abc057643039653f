// The playbook benchmark: the baseline-like workload (a directory, a 4 KiB file, a template, a
// lineinfile, one command; as root through sudo) on 10 and 50 lab devices, first run and
// idempotent second run, through the `parc` binary; next to a plain OpenSSH script doing the same
// work in parallel with connection multiplexing. Prints wall time, control-node CPU and peak memory.
import Foundation
import InventoryStore
import Lab
import ParcCore
import Templating
#if canImport(Glibc)
import Glibc
#endif

struct Measured {
    var wall: Double
    var cpu: Double
    var maxRSSKiB: Int
    var status: Int32
    var output: String
}

/// Runs a program and measures it (and every process it waited for) with wait4.
func measure(_ arguments: [String], environment: [String: String] = [:]) throws -> Measured {
    let dir = NSTemporaryDirectory() + "parc-measure-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/out"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    guard posix_spawn(&pid, arguments[0], &actions, nil, argv, envp) == 0 else { throw LabError.command(arguments[0], "cannot start") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let wall = (ContinuousClock.now - start).ms / 1000
    let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return Measured(wall: wall, cpu: cpu, maxRSSKiB: Int(usage.ru_maxrss), status: (status >> 8) & 0xff,
                    output: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
}

/// CPU time the devices spent (seconds): their sshd listeners' own and reaped children's
/// (every session, shell, sudo and command ends as a reaped descendant of its device's listener).
func deviceCPU(_ lab: Lab, _ names: [String]) -> Double {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    for name in names {
        guard let pid = lab.device(name)?.pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state(0) … utime(11) stime(12) cutime(13) cstime(14).
        guard fields.count > 14 else { continue }
        total += (11...14).map { Double(fields[$0]) ?? 0 }.reduce(0, +) / ticks
    }
    return total
}

/// A TCP relay in front of each device that delays every chunk by half the round trip each way
/// (this kernel has no netem): started with Python's asyncio, its ports read back from a file.
func startRelay(_ dir: String, targets: [(address: String, port: Int)], rttMilliseconds: Int) throws -> (process: Process, ports: [Int]) {
    let script = dir + "/relay.py"
    try #"""
        import asyncio, json, socket, sys
        delay = float(sys.argv[1]) / 2000.0
        targets = json.loads(sys.argv[2])
        out = sys.argv[3]

        async def pump(reader, writer):
            loop = asyncio.get_running_loop()
            queue = asyncio.Queue()
            async def send():
                while True:
                    due, data = await queue.get()
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if not data:
                        try:
                            writer.write_eof()
                        except Exception:
                            writer.close()
                        return
                    writer.write(data)
                    await writer.drain()
            sender = asyncio.ensure_future(send())
            try:
                while True:
                    data = await reader.read(65536)
                    queue.put_nowait((loop.time() + delay, data))
                    if not data:
                        break
                await sender
            except Exception:
                sender.cancel()
                writer.close()

        async def handle(cr, cw, address, port):
            try:
                sr, sw = await asyncio.open_connection(address, port)
            except Exception:
                cw.close()
                return
            for w in (cw, sw):
                s = w.get_extra_info("socket")
                if s is not None:
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await asyncio.gather(pump(cr, sw), pump(sr, cw), return_exceptions=True)
            cw.close()
            sw.close()

        async def main():
            servers, ports = [], []
            for address, port in targets:
                server = await asyncio.start_server(lambda r, w, a=address, p=port: handle(r, w, a, p), address, 0, backlog=256)
                servers.append(server)
                ports.append(server.sockets[0].getsockname()[1])
            with open(out + ".tmp", "w") as f:
                json.dump(ports, f)
            import os
            os.rename(out + ".tmp", out)
            await asyncio.gather(*(s.serve_forever() for s in servers))

        asyncio.run(main())
        """#.write(toFile: script, atomically: true, encoding: .utf8)
    let portsFile = dir + "/relay-ports.json"
    try? FileManager.default.removeItem(atPath: portsFile)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    let list = "[" + targets.map { "[\"\($0.address)\", \($0.port)]" }.joined(separator: ",") + "]"
    process.arguments = [script, String(rttMilliseconds), list, portsFile]
    try process.run()
    let end = Date().addingTimeInterval(20)
    while Date() < end {
        if let data = FileManager.default.contents(atPath: portsFile), let ports = try? JSONDecoder().decode([Int].self, from: data) {
            return (process, ports)
        }
        usleep(50_000)
    }
    process.terminate()
    throw LabError.unavailable("the delaying relay did not start")
}

/// One measured pass: wall, CPU, memory, the devices' CPU, and (parc) round trips per device.
struct Pass {
    var measured: Measured
    var device: Double
    var trips: [Int]
    var tripsText: String { trips.isEmpty ? "—" : trips.min() == trips.max() ? "\(trips[0])" : "\(trips.min()!)–\(trips.max()!)" }
}

func runPlaybookBench(_ args: [String]) throws {
    let option = { (name: String, fallback: String) in benchOption(args, name, fallback) }
    let parc = option("--parc", "")
    let sizes = option("--sizes", "10,50").split(separator: ",").compactMap { Int($0) }
    let delays = option("--delays", "0,20").split(separator: ",").compactMap { Int($0) }
    guard !parc.isEmpty else { throw LabError.unavailable("give --parc PATH (scripts/bench-run does)") }
    let dir = NSTemporaryDirectory() + "parc-bench-run-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let lab = try Lab.up(count: sizes.max()!, in: dir + "/lab")
    var relay: Process? = nil
    defer {
        relay?.terminate()
        lab.down()
        try? FileManager.default.removeItem(atPath: dir)
    }

    // The workload, as a playbook and as an OpenSSH script.
    let book = dir + "/book"
    try FileManager.default.createDirectory(atPath: book + "/files", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: book + "/templates", withIntermediateDirectories: true)
    let blob = String(repeating: "parc bench line of text for a 4 KiB file.\n", count: 96).prefix(4096)
    try String(blob).write(toFile: book + "/files/data.txt", atomically: true, encoding: .utf8)
    try "host={{ inventory_hostname }}\nschool={{ parc_school }}\n".write(toFile: book + "/templates/bench.conf.j2", atomically: true, encoding: .utf8)
    try """
        - hosts: all
          become: yes
          gather_facts: no
          tasks:
            - file: { path: "/opt/bench{{ size }}", state: directory, mode: "0755" }
            - copy: { src: data.txt, dest: "/opt/bench{{ size }}/data.txt", mode: "0644" }
            - template: { src: bench.conf.j2, dest: "/opt/bench{{ size }}/bench.conf", mode: "0644" }
            - lineinfile: { path: /etc/environment, regexp: "^PARC_BENCH{{ size }}=", line: "PARC_BENCH{{ size }}=1" }
            - command: "uptime"
              changed_when: false
        """.write(toFile: book + "/bench.yml", atomically: true, encoding: .utf8)

    // Relays in front of every device (one per delay other than 0), and an inventory per delay.
    var endpoints: [Int: [(address: String, port: Int)]] = [:]
    for delay in delays {
        if delay == 0 { endpoints[0] = lab.devices.map { ($0.address, $0.port) }; continue }
        let started = try startRelay(dir, targets: lab.devices.map { ($0.address, $0.port) }, rttMilliseconds: delay)
        relay = started.process
        endpoints[delay] = zip(lab.devices, started.ports).map { ($0.address, $1) }
        break
    }
    var databases: [Int: String] = [:]
    for (delay, ends) in endpoints {
        let db = dir + "/parc-\(delay).sqlite"
        let inventory = try Inventory(path: db, actor: "bench")
        try inventory.write { tx in
            try tx.addMember(Member(kind: .commune, name: "Bench", insee: "57999"))
            try tx.addSchool(uai: "0750655E", name: "École bench", member: "bench")
            let room = try tx.addRoom(school: "0750655E", name: "Lab")
            for (d, end) in zip(lab.devices, ends) {
                try tx.addDevice(Device(kind: .laptop, serial: d.serial, status: .deployed, roomId: room.id, hostname: d.name, address: end.address,
                                        sshPort: end.port, sshUser: d.user, hostKey: try lab.hostKey(d.name).openSSH))
            }
        }
        databases[delay] = db
    }
    let knownHosts = dir + "/known_hosts"
    var lines: [String] = []
    for (_, ends) in endpoints {
        for (d, end) in zip(lab.devices, ends) {
            lines.append("\(end.port == 22 ? end.address : "[\(end.address)]:\(end.port)") \(try lab.hostKey(d.name).openSSH)")
        }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
    let script = dir + "/openssh.sh"
    try """
        #!/bin/bash
        # The same work with OpenSSH, one multiplexed connection per host, hosts in parallel.
        # usage: openssh.sh TAG FORKS < hosts (address port user name per line)
        set -e
        size=$1; forks=$2; dir=\(dir); key=\(lab.clientKey)
        one() {
          addr=$1; port=$2; user=$3; name=$4
          opts=(-q -i "$key" -o BatchMode=yes -o UserKnownHostsFile=\(knownHosts) -o StrictHostKeyChecking=yes
                -o ControlMaster=auto -o ControlPath="$dir/cm-%C" -o ControlPersist=30)
          ssh "${opts[@]}" -p "$port" "$user@$addr" "sudo mkdir -p /opt/sh$size && sudo chmod 755 /opt/sh$size"
          scp "${opts[@]}" -P "$port" "\(book)/files/data.txt" "$user@$addr:/tmp/data.$size"
          printf 'host=%s\\nschool=0750655E\\n' "$name" > "$dir/conf.$name"
          scp "${opts[@]}" -P "$port" "$dir/conf.$name" "$user@$addr:/tmp/conf.$size"
          ssh "${opts[@]}" -p "$port" "$user@$addr" "sudo install -m 644 /tmp/data.$size /opt/sh$size/data.txt && sudo install -m 644 /tmp/conf.$size /opt/sh$size/bench.conf && rm -f /tmp/data.$size /tmp/conf.$size && (grep -q '^PARC_SH$size=' /etc/environment || echo PARC_SH$size=1 | sudo tee -a /etc/environment >/dev/null) && sudo uptime >/dev/null"
          ssh "${opts[@]}" -p "$port" -O exit "$user@$addr" 2>/dev/null || true
        }
        export -f one; export key dir size
        xargs -P "$forks" -n 4 bash -c 'one "$0" "$1" "$2" "$3"'
        """.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)

    out("parc playbook benchmark: directory + 4 KiB file + template + lineinfile + command, as root (sudo), lab devices on loopback")
    out("(device CPU: every sshd, shell, sudo and command of the devices; round trips: waits on each device after authentication, counted by parc's transport)")
    for delay in delays {
        guard let db = databases[delay], let ends = endpoints[delay] else { continue }
        for size in sizes {
            let names = lab.devices.prefix(size).map(\.name)
            let limit = names.joined(separator: ":")
            let forks = String(min(size, 50))
            let tag = "\(size)d\(delay)"
            var parcPasses: [Pass] = []
            for _ in 0..<2 {
                let before = deviceCPU(lab, names)
                let m = try measure([parc, "run", book + "/bench.yml", "--limit", limit, "--forks", forks, "-e", "size=\(tag)",
                                     "--identity", lab.clientKey, "--database", db, "--json"])
                guard m.status == 0 else { throw LabError.command("parc run", m.output.suffix(800).description) }
                let json = m.output.firstIndex(of: "{").map { String(m.output[$0...]) } ?? ""
                let whole = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
                let trips = ((whole?["hosts"] as? [[String: Any]]) ?? []).compactMap { $0["roundTrips"] as? Int }
                usleep(400_000)  // the devices' sessions end and are reaped
                parcPasses.append(Pass(measured: m, device: deviceCPU(lab, names) - before, trips: trips))
            }
            let hostsFile = dir + "/hosts-\(tag)"
            try zip(lab.devices.prefix(size), ends).map { "\($0.address == $1.address ? $1.address : $1.address) \($1.port) \($0.user) \($0.name)" }
                .joined(separator: "\n").appending("\n").write(toFile: hostsFile, atomically: true, encoding: .utf8)
            var scriptPasses: [Pass] = []
            for _ in 0..<2 {
                let before = deviceCPU(lab, names)
                let m = try measure(["/bin/bash", "-c", "\(script) \(tag) \(forks) < \(hostsFile)"])
                guard m.status == 0 else { throw LabError.command("openssh script", m.output.suffix(800).description) }
                usleep(400_000)
                scriptPasses.append(Pass(measured: m, device: deviceCPU(lab, names) - before, trips: []))
            }
            for (i, pass) in ["first run", "second run"].enumerated() {
                let p = parcPasses[i], o = scriptPasses[i]
                out(String(format: "%2d hosts, RTT +%2d ms, %@: parc wall %.2f s (%.2f× the script), device CPU %.2f s, round trips/device %@, control CPU %.2f s, peak %.1f MiB | OpenSSH script wall %.2f s, device CPU %.2f s, control CPU %.2f s",
                           size, delay, pass, p.measured.wall, p.measured.wall / o.measured.wall, p.device, p.tripsText, p.measured.cpu,
                           Double(p.measured.maxRSSKiB) / 1024, o.measured.wall, o.device, o.measured.cpu))
            }
        }
    }
}
