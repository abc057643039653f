import Foundation
import Testing

/// `ParcApp` is the only door of the command line and the web app: `Package.swift` gives the
/// `parc` and `Web` targets `ParcApp` and `ParcCore` alone (and the libraries of their own trade:
/// argument parsing, logging, HTTP, form parsing), and no source file of theirs imports the store,
/// the engine, the transport or the lab. (The compiler keeps members of a module that is not
/// imported out of reach: `MemberImportVisibility` is on for every target.)
@Suite struct OnlyDoorTests {
    static let behindTheDoor = ["InventoryStore", "Exchange", "Provisioning", "Templating", "SSHTransport", "Lab", "CLibSSH2", "CQREncode", "CZlib", "GRDB", "Yams"]

    /// The dependency list of one target of `Package.swift`, as written there.
    static func dependencies(of target: String, in manifest: String) throws -> [String] {
        // The target's own declaration: its name, then its dependency list (not the package's name).
        let pattern = try NSRegularExpression(pattern: "name: \"\(target)\",\\s*dependencies: \\[([^\\]]*)\\]")
        let whole = NSRange(manifest.startIndex..., in: manifest)
        guard let match = pattern.firstMatch(in: manifest, range: whole), let range = Range(match.range(at: 1), in: manifest) else {
            throw ManifestError("no target \(target) with its dependency list in Package.swift")
        }
        let list = manifest[range]
        // Target names ("ParcApp") and products (.product(name: "Logging", …)) alike.
        return list.matches(of: /"([A-Za-z0-9_-]+)"/).map { String($0.output.1) }
    }

    struct ManifestError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    @Test func theManifestGivesTheFrontEndsParcAppAndParcCoreOnly() throws {
        let manifest = try String(contentsOf: ParcRunner.repo.appendingPathComponent("Package.swift"), encoding: .utf8)
        for target in ["Web", "parc"] {
            let deps = try Self.dependencies(of: target, in: manifest)
            #expect(deps.contains("ParcApp") && deps.contains("ParcCore"), "\(target): \(deps)")
            let behind = deps.filter { Self.behindTheDoor.contains($0) }
            #expect(behind.isEmpty, "\(target) depends on \(behind) in Package.swift: reach them through ParcApp")
        }
    }

    @Test func noSourceOfTheFrontEndsImportsWhatIsBehindTheDoor() throws {
        var found: [String] = []
        for folder in ["Sources/Web", "Sources/parc"] {
            let root = ParcRunner.repo.appendingPathComponent(folder)
            let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            #expect(!files.isEmpty, "\(folder) has Swift files")
            for file in files {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    guard let m = line.wholeMatch(of: /\s*(?:@[A-Za-z_]+\s+)*(?:(?:public|internal|package)\s+)?import\s+(?:(?:struct|class|enum|func|var|protocol)\s+)?([A-Za-z0-9_]+).*/) else { continue }
                    if Self.behindTheDoor.contains(String(m.output.1)) { found.append("\(folder)/\(file): \(line)") }
                }
            }
        }
        #expect(found.isEmpty, "imports behind ParcApp: \(found.joined(separator: "; "))")
    }
}
