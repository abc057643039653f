import Foundation
import GRDB
import InventoryStore
import ParcCore

/// A fresh inventory file in its own temporary folder, removed when the value goes away.
final class TempInventory {
    let dir: URL
    let path: String
    let inventory: Inventory

    init(actor: String = "test-technician") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("parc.sqlite").path
        inventory = try Inventory(path: path, actor: actor)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// The repository's `inventory/` folder, so that tests load the very files `parc init --sample` loads.
    static let repoInventory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("inventory")

    static var sampleFiles: [String] {
        let samples = repoInventory.appendingPathComponent("samples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: samples.path)) ?? []
        return [repoInventory.appendingPathComponent("fusee-lots.json").path]
            + names.filter { $0.hasSuffix(".json") }.sorted().map { samples.appendingPathComponent($0).path }
    }

    /// Loads the sample data and returns self.
    @discardableResult
    func withSample() throws -> TempInventory {
        try inventory.loadSamples(Self.sampleFiles)
        return self
    }

    /// Raw look at the file, outside parc's store.
    func count(_ sql: String) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }
}

let sampleUAI = "0572113M"
