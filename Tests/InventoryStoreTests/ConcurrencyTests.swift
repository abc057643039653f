import Dispatch
import Foundation
import InventoryStore
import ParcCore
import Testing

@Suite struct ConcurrencyTests {
    /// Two connections to one file, as two `parc` processes have, writing at the same time: the busy
    /// timeout makes each wait for the other instead of failing with "database is locked".
    @Test func twoWritersAtOnceBothSucceed() throws {
        let t = try TempInventory().withSample()
        let writers = [try Inventory(path: t.path, actor: "one"), try Inventory(path: t.path, actor: "two")]
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            for i in 0..<150 {
                do {
                    try writers[w].write { tx in
                        try tx.addDevice(Device(kind: .tablet, serial: "W\(w)-\(i)"), macs: [String(format: "02:00:00:00:%02x:%02x", w, i)])
                        try tx.updateDevice("W\(w)-\(i)") { $0.notes = "written by \(w)" }
                    }
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        #expect(failures.all.isEmpty)
        #expect(try t.count("SELECT count(*) FROM device WHERE kind = 'tablet'") == 300)
        #expect(try t.count("SELECT count(*) FROM event WHERE actor IN ('one', 'two')") == 600)
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
