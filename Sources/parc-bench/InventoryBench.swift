// The inventory benchmark: generates 100,000 devices across 700 communes through parc's store,
// then times `parc device list --member X` and `parc find` on that database, in process and
// through the `parc` binary.
import Foundation
import InventoryStore
import ParcCore
import Templating

func out(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Median and max over `runs` runs, in milliseconds.
func timed(_ runs: Int, _ body: () throws -> Void) rethrows -> (median: Double, max: Double) {
    var samples: [Double] = []
    for _ in 0..<runs { samples.append(try seconds(body) * 1000) }
    samples.sort()
    return (samples[samples.count / 2], samples.last!)
}

func runInventoryBench(_ args: [String]) throws {
    let option = { (name: String, fallback: String) in benchOption(args, name, fallback) }
    let deviceCount = Int(option("--devices", "100000"))!
    let communeCount = Int(option("--communes", "700"))!
    let parcBinary = option("--parc", "")
    let dir = URL(fileURLWithPath: option("--dir", NSTemporaryDirectory() + "parc-bench-\(getpid())"))
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("bench.sqlite").path
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }


    func uai(_ n: Int) -> String {
        let digits = String(format: "057%04d", n)
        return digits + String(Array("ABCDEFGHJKLMNPRSTUVWXYZ")[Int(digits)! % 23])
    }

    let inventory = try Inventory(path: path, actor: "bench")
    out("parc inventory benchmark: \(deviceCount) devices across \(communeCount) communes")
    out("database: \(path)")

    // Organisation: members, one school each with three rooms, one order each.
    let orgTime = try seconds {
        try inventory.write { tx in
            try tx.addLot(Lot(number: "2", title: "Classes mobiles"))
            for c in 0..<communeCount {
                let m = try tx.addMember(Member(kind: .commune, name: "Commune \(c)", insee: String(format: "57%03d", c + 1)))
                try tx.addSchool(uai: uai(c), name: "École \(c)", member: m.slug)
                for room in ["CP", "CE", "CM"] { try tx.addRoom(school: uai(c), name: room) }
                try tx.addOrder(Order(memberId: m.id!, lotId: try tx.lot("2").id, number: "BC-\(c)"))
            }
        }
    }
    out(String(format: "organisation (%d members, schools, %d rooms, orders): %.2f s", communeCount, communeCount * 3, orgTime))

    // Devices: per commune, carts of 16 laptops in the CM room, the rest in the rooms, one MAC each.
    let perCommune = deviceCount / communeCount
    let batch = 5000
    var pending: [(commune: Int, index: Int)] = []
    for c in 0..<communeCount {
        let n = perCommune + (c < deviceCount % communeCount ? 1 : 0)
        for i in 0..<n { pending.append((c, i)) }
    }
    var roomIds: [String: Int64] = [:]
    var cartIds: [Int: Int64] = [:]
    var orderIds: [Int: Int64] = [:]
    let insertTime = try seconds {
        var start = 0
        while start < pending.count {
            let slice = pending[start..<min(start + batch, pending.count)]
            try inventory.write { tx in
                for (c, i) in slice {
                    let key = "\(c)/\(["CP", "CE", "CM"][i % 3])"
                    if roomIds[key] == nil { roomIds[key] = try tx.room(school: uai(c), name: ["CP", "CE", "CM"][i % 3]).id! }
                    let serial = String(format: "SN%03d%05d", c, i)
                    let mac = String(format: "02:%02x:%02x:%02x:%02x:%02x", (c >> 8) & 0xff, c & 0xff, (i >> 8) & 0xff, i & 0xff, 0)
                    if orderIds[c] == nil { orderIds[c] = try tx.order("BC-\(c)").id! }
                    let orderId = orderIds[c]!
                    if i % 17 == 0 {
                        let cart = try tx.addDevice(Device(kind: .cart, model: "Chariot 16", serial: serial, assetTag: "C\(c)-\(i)",
                                                           status: .deployed, roomId: roomIds["\(c)/CM"] ?? roomIds[key], orderId: orderId))
                        cartIds[c] = cart.id
                    } else if let cart = cartIds[c], i % 17 != 0, i < (perCommune / 17) * 17 {
                        try tx.addDevice(Device(kind: .laptop, manufacturer: "Lenovo", model: "ThinkPad 11e", serial: serial,
                                                assetTag: "T\(c)-\(i)", status: .deployed, cartId: cart, orderId: orderId), macs: [mac])
                    } else {
                        try tx.addDevice(Device(kind: i % 5 == 0 ? .interactiveScreen : .laptop, model: "Modèle \(i % 7)", serial: serial,
                                                status: .deployed, roomId: roomIds[key], orderId: orderId), macs: [mac])
                    }
                }
            }
            start += batch
        }
    }
    let total = try inventory.read { try $0.devices().count }
    out(String(format: "insert %d devices through the store (validation, MACs, audit events; transactions of %d): %.2f s, %.0f devices/s",
               total, batch, insertTime, Double(total) / insertTime))
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    out(String(format: "database size: %.1f MiB", Double(size) / 1_048_576))

    // Queries in process (the store's own cost).
    let members = [0, communeCount / 2, communeCount - 1].map { "commune-\($0)" }
    for m in members {
        var count = 0
        let t = try timed(21) { count = try inventory.read { try $0.devices(DeviceFilter(member: m)) }.count }
        out(String(format: "in process: device list --member %@ → %d devices: median %.2f ms, max %.2f ms", m, count, t.median, t.max))
    }
    let middle = communeCount / 2
    let macPrefix = String(format: "02:%02x:%02x", (middle >> 8) & 0xff, middle & 0xff)
    for needle in [String(format: "SN%03d00012", middle), macPrefix, "ThinkPad", "Commune \(middle)"] {
        var found = 0
        let t = try timed(11) { found = try inventory.read { try $0.find(needle, limit: 500) }.total }
        out(String(format: "in process: find %@ → %d devices: median %.2f ms, max %.2f ms", needle, found, t.median, t.max))
    }

    // The same through the binary, as a technician runs it (process start, open, query, print).
    if !parcBinary.isEmpty {
        // posix_spawn + waitpid: Foundation's Process.waitUntilExit polls and would add ~40 ms per run.
        func runParc(_ arguments: [String]) throws {
            let argv = ([parcBinary] + arguments + ["--database", path]).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var pid: pid_t = 0
            guard posix_spawn(&pid, parcBinary, &actions, nil, argv, environ) == 0 else {
                throw InventoryError.database(path: path, reason: "cannot start \(parcBinary)")
            }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            guard status == 0 else { throw InventoryError.database(path: path, reason: "parc \(arguments) failed") }
        }
        let m = "commune-\(middle)", serial = String(format: "SN%03d00012", middle)
        for (label, arguments) in [("parc device list --member \(m)", ["device", "list", "--member", m]),
                                   ("parc device list --member \(m) --json", ["device", "list", "--member", m, "--json"]),
                                   ("parc find \(serial)", ["find", serial]),
                                   ("parc find '\(macPrefix)'", ["find", macPrefix]),
                                   ("parc find 'Commune \(middle)'", ["find", "Commune \(middle)"]),
                                   ("parc --version (process start only)", ["--version"])] {
            let t = try timed(21) { try runParc(arguments) }
            out(String(format: "binary: %@: median %.1f ms, max %.1f ms", label, t.median, t.max))
        }
    }
    if args.contains("--keep") {
        out("kept \(path)")
    } else {
        try? FileManager.default.removeItem(at: dir)
    }
}
