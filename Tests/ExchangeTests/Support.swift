import Foundation
import InventoryStore
import ParcCore

/// A fresh inventory file with the sample loaded, in its own folder, plus helpers to write files.
final class Workspace {
    let dir: URL
    let path: String
    let inventory: Inventory

    init(sample: Bool = true, devices: Bool = true) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-exchange-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("parc.sqlite").path
        inventory = try Inventory(path: path, actor: "test-technician")
        guard sample else { return }
        var files = [Self.repoInventory.appendingPathComponent("fusee-lots.json").path]
        let sampleFile = Self.repoInventory.appendingPathComponent("samples/norroy-le-veneur.json").path
        if devices {
            files.append(sampleFile)
        } else {
            // The same organisation, without its devices.
            var file = try InventoryFile(contentsOf: sampleFile)
            file.devices = nil
            let stripped = dir.appendingPathComponent("organisation.json")
            try JSONEncoder().encode(file).write(to: stripped)
            files.append(stripped.path)
        }
        try inventory.loadSamples(files)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let repoInventory = repo.appendingPathComponent("inventory")

    /// Writes `text` to a file of the workspace (UTF-8, or the given bytes) and returns its path.
    @discardableResult
    func file(_ name: String, _ text: String, bom: Bool = false, windows1252: Bool = false) throws -> String {
        let url = dir.appendingPathComponent(name)
        var data = Data()
        if bom { data.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
        if windows1252 {
            data.append(try require_data(text.data(using: .windowsCP1252)))
        } else {
            data.append(Data(text.utf8))
        }
        try data.write(to: url)
        return url.path
    }

    func count(_ sql: String) throws -> Int {
        try inventory.read { r in try r.countForTests(sql) }
    }
}

func require_data(_ d: Data?) throws -> Data {
    guard let d else { throw InvalidValue(field: "file", value: "", problem: "cannot encode") }
    return d
}
