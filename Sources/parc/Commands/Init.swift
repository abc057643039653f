import ArgumentParser
import ParcApp
import Foundation
import ParcCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create (or migrate) the inventory database; with --sample, load the sample data.",
        discussion: """
            --sample loads the Fus@é lots (inventory/fusee-lots.json) and every file of \
            inventory/samples/ in one transaction: the Norroy-le-Veneur membership, its school and \
            rooms, two orders with their funding, an interactive screen and a cart of 16 laptops.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Load the catalogue of lots and the sample members, schools, orders and devices.")
    var sample = false

    @Option(help: ArgumentHelp("The folder holding fusee-lots.json and samples/ (default: the parc folder's inventory/).", valueName: "dir"))
    var from: String?

    func run() throws {
        let inventory = try global.open(access: AccessSettings(credentials: []), create: true)
        // init promises an up-to-date, writable inventory: say plainly when it is not.
        if let why = inventory.readOnlyReason { throw ValidationError("database \(inventory.databasePath): \(why)") }
        emit("Inventory: \(inventory.databasePath)\n")
        guard sample else { return }
        let dir = from.map { URL(fileURLWithPath: $0) } ?? ParcHome.locate().appendingPathComponent("inventory")
        let files = try SampleFiles.list(in: dir)
        let loaded = try inventory.loadSamples(files)
        if loaded.isEmpty {
            emit("The sample data is already in this inventory; nothing loaded.\n")
        } else {
            for (path, counts) in loaded { emit("Loaded \((path as NSString).lastPathComponent): \(counts)\n") }
        }
    }
}

enum SampleFiles {
    /// `fusee-lots.json` then the files of `samples/`, sorted.
    static func list(in dir: URL) throws -> [String] {
        let lots = dir.appendingPathComponent("fusee-lots.json").path
        let samplesDir = dir.appendingPathComponent("samples")
        guard FileManager.default.fileExists(atPath: lots),
              let names = try? FileManager.default.contentsOfDirectory(atPath: samplesDir.path) else {
            throw ValidationError("no sample data in \(dir.path) (it needs fusee-lots.json and samples/); run parc from its folder, set PARC_HOME, or give --from DIR")
        }
        return [lots] + names.filter { $0.hasSuffix(".json") }.sorted().map { samplesDir.appendingPathComponent($0).path }
    }
}
