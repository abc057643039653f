import Exchange
import Foundation
import InventoryStore

/// The device importer on arbitrary bytes: decoding, CSV parsing, header mapping and every row
/// check, as a dry run against an inventory holding the sample data. Any outcome but a crash,
/// a hang or a memory error is fine: a bad file must give an error, never take parc down.
nonisolated(unsafe) let inventory: Inventory = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-fuzz-csv-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let inventory = try! Inventory(path: dir + "/fuzz.sqlite", actor: "fuzz")
    let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("inventory")
    _ = try? inventory.loadSamples([samples.appendingPathComponent("fusee-lots.json").path,
                                    samples.appendingPathComponent("samples/norroy-le-veneur.json").path])
    return inventory
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var options = DeviceImportOptions()
    options.dryRun = true
    if let table = try? CSVTable(bytes: bytes, file: "fuzz.csv") {
        _ = try? DeviceImport.run(table, options: options, into: inventory)
    }
    return 0
}
