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

func runPlaybookBench(_ args: [String]) throws {
    let option = { (name: String, fallback: String) in benchOption(args, name, fallback) }
    let parc = option("--parc", "")
    let sizes = option("--sizes", "10,50").split(separator: ",").compactMap { Int($0) }
    guard !parc.isEmpty else { throw LabError.unavailable("give --parc PATH (scripts/bench-run does)") }
    let dir = NSTemporaryDirectory() + "parc-bench-run-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let lab = try Lab.up(count: sizes.max()!, in: dir + "/lab")
    defer {
        lab.down()
        try? FileManager.default.removeItem(atPath: dir)
    }

    // The inventory: the lab's devices, pinned.
    let db = dir + "/parc.sqlite"
    let inventory = try Inventory(path: db, actor: "bench")
    try inventory.write { tx in
        try tx.addMember(Member(kind: .commune, name: "Bench", insee: "57999"))
        try tx.addSchool(uai: "0750655E", name: "École bench", member: "bench")
        let room = try tx.addRoom(school: "0750655E", name: "Lab")
        for d in lab.devices {
            try tx.addDevice(Device(kind: .laptop, serial: d.serial, status: .deployed, roomId: room.id, hostname: d.name, address: d.address,
                                    sshPort: d.port, sshUser: d.user, hostKey: try lab.hostKey(d.name).openSSH))
        }
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
            - file: { path: "/srv/bench{{ size }}", state: directory, mode: "0755" }
            - copy: { src: data.txt, dest: "/srv/bench{{ size }}/data.txt", mode: "0644" }
            - template: { src: bench.conf.j2, dest: "/srv/bench{{ size }}/bench.conf", mode: "0644" }
            - lineinfile: { path: /etc/environment, regexp: "^PARC_BENCH{{ size }}=", line: "PARC_BENCH{{ size }}=1" }
            - command: "uptime"
              changed_when: false
        """.write(toFile: book + "/bench.yml", atomically: true, encoding: .utf8)
    // The same with facts gathered first (one round trip per device), to show what facts cost.
    try String(contentsOfFile: book + "/bench.yml", encoding: .utf8).replacingOccurrences(of: "gather_facts: no", with: "gather_facts: yes")
        .write(toFile: book + "/bench-facts.yml", atomically: true, encoding: .utf8)
    let knownHosts = dir + "/known_hosts"
    try lab.devices.map { "\($0.address) \(try lab.hostKey($0.name).openSSH)" }.joined(separator: "\n").appending("\n")
        .write(toFile: knownHosts, atomically: true, encoding: .utf8)
    let script = dir + "/openssh.sh"
    try """
        #!/bin/bash
        # The same work with OpenSSH, one multiplexed connection per host, hosts in parallel.
        # usage: openssh.sh SIZE FORKS < hosts (address user per line)
        set -e
        size=$1; forks=$2; dir=\(dir); key=\(lab.clientKey)
        one() {
          addr=$1; user=$2; name=$3
          opts=(-q -i "$key" -o BatchMode=yes -o UserKnownHostsFile=\(knownHosts) -o StrictHostKeyChecking=yes
                -o ControlMaster=auto -o ControlPath="$dir/cm-%C" -o ControlPersist=30)
          ssh "${opts[@]}" "$user@$addr" "sudo mkdir -p /srv/sh$size && sudo chmod 755 /srv/sh$size"
          scp "${opts[@]}" "\(book)/files/data.txt" "$user@$addr:/tmp/data.$size"
          printf 'host=%s\\nschool=0750655E\\n' "$name" > "$dir/conf.$name"
          scp "${opts[@]}" "$dir/conf.$name" "$user@$addr:/tmp/conf.$size"
          ssh "${opts[@]}" "$user@$addr" "sudo install -m 644 /tmp/data.$size /srv/sh$size/data.txt && sudo install -m 644 /tmp/conf.$size /srv/sh$size/bench.conf && rm -f /tmp/data.$size /tmp/conf.$size && (grep -q '^PARC_SH$size=' /etc/environment || echo PARC_SH$size=1 | sudo tee -a /etc/environment >/dev/null) && sudo uptime >/dev/null"
          ssh "${opts[@]}" -O exit "$user@$addr" 2>/dev/null || true
        }
        export -f one; export key dir size
        xargs -P "$forks" -n 3 bash -c 'one "$0" "$1" "$2"'
        """.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)

    out("parc playbook benchmark: directory + 4 KiB file + template + lineinfile + command, as root (sudo), lab devices on loopback")
    for size in sizes {
        let names = lab.devices.prefix(size).map(\.name)
        let limit = names.joined(separator: ":")
        let forks = String(min(size, 50))
        for pass in ["first run", "second run (no change)"] {
            let m = try measure([parc, "run", book + "/bench.yml", "--limit", limit, "--forks", forks, "-e", "size=\(size)",
                                 "--identity", lab.clientKey, "--database", db])
            guard m.status == 0 else { throw LabError.command("parc run", m.output.suffix(800).description) }
            out(String(format: "parc, %2d hosts, %@: wall %.2f s, CPU %.2f s, peak memory %.1f MiB", size, pass, m.wall, m.cpu, Double(m.maxRSSKiB) / 1024))
        }
        let facts = try measure([parc, "run", book + "/bench-facts.yml", "--limit", limit, "--forks", forks, "-e", "size=\(size)",
                                 "--identity", lab.clientKey, "--database", db])
        guard facts.status == 0 else { throw LabError.command("parc run", facts.output.suffix(800).description) }
        out(String(format: "parc, %2d hosts, second run with gather_facts: yes: wall %.2f s, CPU %.2f s, peak memory %.1f MiB", size, facts.wall, facts.cpu, Double(facts.maxRSSKiB) / 1024))
        let hostsFile = dir + "/hosts-\(size)"
        try lab.devices.prefix(size).map { "\($0.address) \($0.user) \($0.name)" }.joined(separator: "\n").appending("\n")
            .write(toFile: hostsFile, atomically: true, encoding: .utf8)
        for pass in ["first run", "second run"] {
            let m = try measure(["/bin/bash", "-c", "\(script) \(size) \(forks) < \(hostsFile)"])
            guard m.status == 0 else { throw LabError.command("openssh script", m.output.suffix(800).description) }
            out(String(format: "OpenSSH script, %2d hosts, %@: wall %.2f s, CPU %.2f s, peak memory %.1f MiB", size, pass, m.wall, m.cpu, Double(m.maxRSSKiB) / 1024))
        }
    }
}
