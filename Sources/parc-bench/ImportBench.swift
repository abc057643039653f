// The import benchmark: a 100,000-row device CSV imported by `parc import devices` (checks, MACs,
// one creation event per device and one for the file, the search index, one transaction), next to
// the floor: `sqlite3` loading the same file into parc's own schema (devices placed in their rooms,
// their MACs, one creation event each, the trigram index kept by the schema's triggers, one
// transaction). Goal: parc within 2× of the floor.
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

    // An inventory with its schools and rooms (twice: one for parc, one for the floor), and a CSV of devices placed in them.
    func organisation(_ path: String) throws {
        let inventory = try Inventory(path: path, actor: "bench")
        try inventory.write { tx in
            for c in 0..<schools {
                let m = try tx.addMember(Member(kind: .commune, name: "Commune \(c)", insee: String(format: "57%03d", c + 1)))
                let digits = String(format: "057%04d", c)
                let uai = digits + String(Array("ABCDEFGHJKLMNPRSTUVWXYZ")[Int(digits)! % 23])
                try tx.addSchool(uai: uai, name: "École \(c)", member: m.slug)
                for room in ["CP", "CE", "CM"] { try tx.addRoom(school: uai, name: room) }
            }
        }
    }
    try organisation(db)
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

    // The floor: sqlite3 alone, into parc's schema, in one transaction.
    let floorDB = dir + "/floor.sqlite"
    try organisation(floorDB)
    let script = """
        .bail on
        PRAGMA foreign_keys = ON;
        BEGIN;
        CREATE TEMP TABLE staging (serial, assetTag, kind, manufacturer, model, macs, uai, room, warrantyEnd, purchasePrice);
        .import --csv --skip 1 \(csv) staging
        INSERT INTO device (kind, manufacturer, model, serial, assetTag, status, roomId, warrantyEnd, purchasePrice, priceExclTax)
            SELECT s.kind, s.manufacturer, s.model, s.serial, s.assetTag, 'deployed', r.id, s.warrantyEnd,
                   CAST(round(s.purchasePrice * 100) AS INTEGER), CAST(round(s.purchasePrice * 100 / 1.2) AS INTEGER)
            FROM staging s JOIN school sc ON sc.uai = s.uai JOIN room r ON r.schoolId = sc.id AND r.name = s.room;
        INSERT INTO deviceMac (mac, deviceId) SELECT s.macs, d.id FROM staging s JOIN device d ON d.serial = s.serial;
        INSERT INTO event (at, actor, entity, entityId, entityKey, action, changes)
            SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'bench', 'device', id, serial, 'create',
                   json_array(json_object('field', 'import', 'new', 'devices.csv:' || (id + 1))) FROM device;
        COMMIT;
        """
    let floorStart = ContinuousClock.now
    let floor = try Spawn.run(["/usr/bin/sqlite3", floorDB], input: script)
    let floorSeconds = (ContinuousClock.now - floorStart).ms / 1000
    guard floor.status == 0 else { throw LabError.command("sqlite3 load into parc's schema", floor.output) }
    let floorCount = try Inventory(path: floorDB).read { try $0.countForTests("SELECT count(*) FROM device") }
    let floorIndexed = try Inventory(path: floorDB).read { try $0.countForTests("SELECT count(*) FROM deviceText WHERE macs IS NOT NULL") }
    out(String(format: "floor: sqlite3 loading the same file into parc's schema (devices, MACs, events, trigram index; one transaction): %.2f s, %d devices, %d indexed with their MAC",
               floorSeconds, floorCount, floorIndexed))
    out(String(format: "ratio: parc takes %.2f× the floor (goal: at most 2×)", parcSeconds / floorSeconds))
}
