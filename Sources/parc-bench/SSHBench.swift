// The SSH transport benchmark: on lab devices (real sshd, each with its own address), connect +
// authenticate + one command + one 8 KiB atomic upload per host, for 10 and 50 hosts at forks 10
// and 50; prints per-host milliseconds and the total wall time. Needs root (the lab isolates devices).
import Foundation
import Lab
import ParcCore
import Templating
import SSHTransport

func runSSHBench(_ args: [String]) async throws {
    let sizes = [10, 50]
    let forksList = [10, 50]
    let dir = NSTemporaryDirectory() + "parc-bench-ssh-\(getpid())"
    out("parc SSH benchmark: connect + auth + `echo` + 8 KiB upload per host (lab devices on loopback)")
    let lab = try Lab.up(count: sizes.max()!, in: dir)
    defer { lab.down() }
    let payload = [UInt8](repeating: 0x23, count: 8 * 1024)
    let hostKeys = try Dictionary(uniqueKeysWithValues: lab.devices.map { ($0.name, try lab.hostKey($0.name)) })

    // Unreachable detection: a refused port, and the connect bound.
    let refusedStart = ContinuousClock.now
    _ = try? await SSHConnection.connect(SSHOptions(address: "127.0.0.1", port: 9, user: "x", credentials: []))
    out(String(format: "connection refused reported after %.1f ms", (ContinuousClock.now - refusedStart).ms))

    // One host at a time: where the time goes (median of 10).
    var phases: [[Double]] = [[], [], [], [], []]
    let d = lab.devices[0]
    for _ in 0..<10 {
        let c = try await SSHConnection.connect(SSHOptions(
            name: d.name, address: d.address, port: d.port, user: d.user, credentials: [.keyFile(lab.clientKey)],
            hostKeyPolicy: HostKeyPolicy(mode: .strict, pinned: hostKeys[d.name])))
        phases[0].append(c.timings.tcp.ms)
        phases[1].append(c.timings.handshake.ms)
        phases[2].append(c.timings.authentication.ms)
        var t = ContinuousClock.now
        _ = try await c.run("echo ok")
        phases[3].append((ContinuousClock.now - t).ms)
        t = ContinuousClock.now
        try await c.upload(payload, to: "/home/\(d.user)/bench.bin", mode: 0o644)
        phases[4].append((ContinuousClock.now - t).ms)
        await c.close()
    }
    let medians = phases.map { $0.sorted()[$0.count / 2] }
    out(String(format: "1 host, sequential (median of 10): tcp %.1f ms, handshake %.1f ms, auth %.1f ms, exec %.1f ms, 8 KiB atomic upload %.1f ms",
               medians[0], medians[1], medians[2], medians[3], medians[4]))

    for size in sizes {
        for forks in forksList where forks <= size || forks == forksList.first {
            let devices = Array(lab.devices.prefix(size))
            let wallStart = ContinuousClock.now
            let perHost: [Double] = await boundedMap(devices, limit: forks) { d in
                let start = ContinuousClock.now
                do {
                    let c = try await SSHConnection.connect(SSHOptions(
                        name: d.name, address: d.address, port: d.port, user: d.user, credentials: [.keyFile(lab.clientKey)],
                        hostKeyPolicy: HostKeyPolicy(mode: .strict, pinned: hostKeys[d.name]), connectTimeout: .seconds(30)))
                    _ = try await c.run("echo ok")
                    try await c.upload(payload, to: "/home/\(d.user)/bench.bin", mode: 0o644)
                    await c.close()
                    return (ContinuousClock.now - start).ms
                } catch {
                    out("  \(d.name): \(error)")
                    return -1
                }
            }
            let wall = (ContinuousClock.now - wallStart).ms
            let ok = perHost.filter { $0 >= 0 }.sorted()
            guard !ok.isEmpty else { continue }
            out(String(format: "%2d hosts, forks %2d: wall %.0f ms; per host median %.0f ms, p95 %.0f ms, max %.0f ms (%d ok)",
                       size, forks, wall, ok[ok.count / 2], ok[min(ok.count - 1, Int(Double(ok.count) * 0.95))], ok.last!, ok.count))
            out("   per host (ms): " + perHost.map { String(format: "%.0f", $0) }.joined(separator: " "))
        }
    }
}

func boundedMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R) async -> [R] {
    await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        while next < min(limit, items.count) {
            let i = next, item = items[i]
            group.addTask { (i, await body(item)) }
            next += 1
        }
        while let (i, r) = await group.next() {
            results[i] = r
            if next < items.count {
                let j = next, item = items[j]
                group.addTask { (j, await body(item)) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}

extension Duration {
    var ms: Double {
        let (s, atto) = components
        return Double(s) * 1000 + Double(atto) / 1e15
    }
}
