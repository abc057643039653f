import Foundation
import Lab
import Testing

/// The technician's guide (docs/technician.md), followed in order on a new inventory: every command it shows works
/// (issue 15, item 15).
@Suite(.serialized) struct GuideTests {
    /// The `parc …` commands of the guide's shell blocks, in order (continuation lines joined,
    /// trailing comments removed), as argument lists.
    static func commands(in file: String = "docs/technician.md", from: String? = "\n## Guide\n", to: String? = "\n## A delivery") throws -> [[String]] {
        let readme = try String(contentsOf: ParcRunner.repo.appendingPathComponent(file), encoding: .utf8)
        guard let start = from.map({ readme.range(of: $0) }) ?? readme.startIndex..<readme.startIndex,
              let end = to.map({ readme.range(of: $0, range: start.upperBound..<readme.endIndex) }) ?? readme.endIndex..<readme.endIndex else {
            throw GuideError.notFound
        }
        var out: [[String]] = []
        var inBlock = false
        var pending = ""
        for line in readme[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inBlock = line == "```sh"; continue }
            guard inBlock else { continue }
            var text = line
            if let comment = text.range(of: "  #") { text = String(text[..<comment.lowerBound]) }
            text = text.trimmingCharacters(in: .whitespaces)
            if text.hasSuffix("\\") { pending += String(text.dropLast()) + " "; continue }
            text = pending + text
            pending = ""
            guard text.hasPrefix("parc ") else { continue }
            out.append(try words(String(text.dropFirst(5))))
        }
        return out
    }

    enum GuideError: Error { case notFound, unclosedQuote(String) }

    /// Shell words: blanks separate, '…' and "…" quote.
    static func words(_ text: String) throws -> [String] {
        var words: [String] = [], current = "", quote: Character? = nil, started = false
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                started = true
            } else if c == " " {
                if started || !current.isEmpty { words.append(current); current = ""; started = false }
            } else {
                current.append(c)
            }
        }
        if quote != nil { throw GuideError.unclosedQuote(text) }
        if started || !current.isEmpty { words.append(current) }
        return words
    }

    @Test func everyCommandOfTheGuideWorksInOrderOnANewInventory() async throws {
        if let why = Lab.unavailableReason() { Issue.record("sshd is needed for the guide's lab: \(why)") }
        let parc = try ParcRunner()
        // A folder of one's own (files the guide writes land there) that sees the repository's inventory/.
        let work = parc.dir.appendingPathComponent("guide")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("inventory"), withDestinationURL: ParcRunner.repo.appendingPathComponent("inventory"))
        let labDir = parc.dir.appendingPathComponent("lab").path
        defer { _ = try? parc.runBlocking(["lab", "down"], cwd: work, env: ["PARC_LAB_DIR": labDir]); (try? Lab.load(labDir))?.down() }
        let commands = try Self.commands()
        #expect(commands.count > 60, "the guide's commands were found: \(commands.count)")
        for args in commands {
            let r = try await parc.run(args, cwd: work, env: ["PARC_LAB_DIR": labDir])
            #expect(r.status == 0, "parc \(args.joined(separator: " ")) → \(r.status): \(r.stderr.suffix(600))")
            if r.status != 0 { break }
        }
    }

    @Test("the portal's, the API's and deployment's pages, in order: accounts, the server, problems, documents, labels, tokens")
    func everyCommandOfThePortalSectionWorks() async throws {
        let parc = try ParcRunner()
        let work = parc.dir.appendingPathComponent("portal")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("inventory"), withDestinationURL: ParcRunner.repo.appendingPathComponent("inventory"))
        #expect(try await parc.run(["init", "--sample"], cwd: work).status == 0)
        let password = work.appendingPathComponent("password").path
        try Data("un-mot-de-passe-long\n".utf8).write(to: URL(fileURLWithPath: password))
        // The portal's guide, then the API's and deployment's pages, in this order.
        let commands = try ["docs/portal.md", "docs/api.md", "docs/deployment.md"].flatMap { try Self.commands(in: $0, from: nil, to: nil) }
        #expect(commands.count >= 14, "the section's commands were found: \(commands.count)")
        for var args in commands {
            if args.starts(with: ["user", "add"]) { args += ["--password-file", password] }  // typed twice at a terminal
            if args.first == "serve" {
                // The server: it answers, then stops on SIGTERM.
                let port = try Lab.freePort()
                args[args.firstIndex(of: "--listen")! + 1] = "127.0.0.1:\(port)"
                let (process, _, _) = try parc.start(args, cwd: work)
                var up = false
                for _ in 0..<100 where !up {
                    try await Task.sleep(for: .milliseconds(100))
                    up = (try? await PortalCLITests.get("http://127.0.0.1:\(port)/connexion"))?.status == 200
                }
                #expect(up, "parc \(args.joined(separator: " "))")
                kill(process.processIdentifier, SIGTERM)
                try await ParcRunner.offPool { process.waitUntilExit() }
                #expect(process.terminationStatus == 0)
                continue
            }
            let r = try await parc.run(args, cwd: work)
            #expect(r.status == 0, "parc \(args.joined(separator: " ")) → \(r.status): \(r.stderr.suffix(600))")
            if r.status != 0 { break }
        }
    }
}
