// The import benchmark: a 100,000-row device CSV imported by `parc import devices` (checks, MACs,
// one import event plus a creation marker per device, one transaction), next to
// `sqlite3 -csv DB ".import FILE t"` of the same file into a bare table: the floor.
import Foundation
import InventoryStore
import Lab
import ParcCore
import Templating

func runImportBench(_ args: [String]) throws {
    let option = { (name: String, fallback: String) in benchOption(args, name, fallback) }
    let rows = Int(option("--rows", "100000"))!
    let schools = Int(option("--schools", "700"))!
    let parc = option("--parc", "")
    guard !parc.isEmpty else { throw LabError.unavailable("give --parc PATH (scripts/bench-import does)") }
    let dir = NSTemporaryDirectory() + "parc-bench-import-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { if !args.contains("--keep") { try? FileManager.default.removeItem(atPath: dir) } }
    let db = dir + "/parc.sqlite"
    let csv = dir + "/devices.csv"

    // An inventory with its schools and rooms, and a CSV of devices placed in them.
    let inventory = try Inventory(path: db, actor: "bench")
    try inventory.write { tx in
        for c in 0..<schools {
            let m = try tx.addMember(Member(kind: .commune, name: "Commune \(c)", insee: String(format: "57%03d", c + 1)))
            let digits = String(format: "057%04d", c)
            let uai = digits + String(Array("ABCDEFGHJKLMNPRSTUVWXYZ")[Int(digits)! % 23])
            try tx.addSchool(uai: uai, name: "École \(c)", member: m.slug)
            for room in ["CP", "CE", "CM"] { try tx.addRoom(school: uai, name: room) }
        }
    }
    var text = "serial,assetTag,kind,manufacturer,model,macs,uai,room,warrantyEnd,purchasePrice\n"
    text.reserveCapacity(rows * 110)
    for i in 0..<rows {
        let c = i % schools
        let digits = String(format: "057%04d", c)
        let uai = digits + String(Array("ABCDEFGHJKLMNPRSTUVWXYZ")[Int(digits)! % 23])
        text += "SN\(String(format: "%07d", i)),T\(i),laptop,Lenovo,ThinkPad 11e,"
            + String(format: "02:%02x:%02x:%02x:%02x:00", (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
            + ",\(uai),\(["CP", "CE", "CM"][i % 3]),2029-06-30,810.00\n"
    }
    try text.write(toFile: csv, atomically: true, encoding: .utf8)
    let size = (try FileManager.default.attributesOfItem(atPath: csv)[.size] as? Int) ?? 0
    out("parc import benchmark: \(rows) rows (\(size / 1024) KiB) into an inventory of \(schools) schools")

    let start = ContinuousClock.now
    let result = try Spawn.run([parc, "import", "devices", csv, "--database", db])
    let parcSeconds = (ContinuousClock.now - start).ms / 1000
    guard result.status == 0 else { throw LabError.command("parc import devices", result.output) }
    out(String(format: "parc import devices: %.2f s (%@)", parcSeconds, result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
    let count = try Inventory(path: db).read { try $0.countForTests("SELECT count(*) FROM device") }
    out("devices in the inventory afterwards: \(count)")

    let floorDB = dir + "/floor.sqlite"
    let floorStart = ContinuousClock.now
    let floor = try Spawn.run(["/usr/bin/sqlite3", "-csv", floorDB, ".import \(csv) t"])
    let floorSeconds = (ContinuousClock.now - floorStart).ms / 1000
    guard floor.status == 0 else { throw LabError.command("sqlite3 .import", floor.output) }
    out(String(format: "sqlite3 -csv DB \".import FILE t\" (bare table, the floor): %.2f s", floorSeconds))
    out(String(format: "ratio: %.1f× the floor (goal: within 3×)", parcSeconds / floorSeconds))
}
