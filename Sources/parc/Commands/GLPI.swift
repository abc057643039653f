import ArgumentParser
import ParcApp
import Foundation
import ParcCore

extension GLPIOps.Documents {
    func noteSkipped() {
        for s in skipped { FileHandle.standardError.write(Data("left out: \(s.serial): \(s.reason)\n".utf8)) }
    }
}

extension ExportCommand {
    struct Glpi: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "glpi",
            abstract: "One file per computer in GLPI's native inventory format (what glpi-agent submits), from the inventory and stored facts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var selection: SelectionOptions
        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The folder to write the files to (created if needed).", valueName: "dir"))
        var output: String

        func run() async throws {
            let docs = try await global.parc().perform(GLPIOps.Export(selection.value))
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for doc in docs.documents {
                let name = doc.serial.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
                try OutputFile.write(Array(doc.json), to: "\(output)/\(String(name)).json")
            }
            docs.noteSkipped()
            emit("\(docs.documents.count) computer(s) written to \(output)\(docs.skipped.isEmpty ? "" : "; \(docs.skipped.count) device(s) left out (not computers)").\n")
        }
    }
}

/// `parc glpi push`: the inventories sent to a GLPI server as glpi-agent sends them.
struct GLPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glpi",
        abstract: "Keep a commune's GLPI in step: send the computers' inventories to its server.",
        subcommands: [Push.self])

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "POST each computer's inventory to GLPI's inventory endpoint (zlib-compressed JSON, GLPI-Agent-ID), as glpi-agent does.",
            discussion: """
                URL is the server's inventory address, e.g. https://glpi.mairie.example/front/inventory.php. \
                Exit status 2 when the server refused a device (its message is shown).
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The inventory endpoint.") var url: String
        @OptionGroup var selection: SelectionOptions
        @Option(help: "HTTP basic authentication: the login.") var user: String?
        @Option(name: .customLong("password-file"), help: ArgumentHelp("A file holding the password (mode 600).", valueName: "file")) var passwordFile: String?
        @Option(name: .customLong("token-file"), help: ArgumentHelp("A file holding an OAuth access token (mode 600).", valueName: "file")) var tokenFile: String?
        @Option(help: ArgumentHelp("Seconds to wait for the server.", valueName: "seconds")) var timeout: Double = 30
        @Option(name: .customLong("ca-file"), help: ArgumentHelp("PEM certificates to trust for https (a commune's own CA).", valueName: "file"))
        var caFile: String?
        @Flag(name: .customLong("insecure-http"), help: "Send the credentials over plain http:// (readable on the network).")
        var insecureHTTP = false

        func validate() throws {
            guard let u = URL(string: url), ["http", "https"].contains(u.scheme ?? "") else { throw ValidationError("'\(url)' is not an http(s) URL") }
            if user != nil && passwordFile == nil { throw ValidationError("--user needs --password-file") }
            if tokenFile != nil && user != nil { throw ValidationError("give --user/--password-file or --token-file, not both") }
        }

        func run() async throws {
            var authorization: String? = nil
            if let user, let passwordFile {
                try ExtraVars.checkPrivate(passwordFile)
                let password = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .newlines)
                authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
            } else if let tokenFile {
                try ExtraVars.checkPrivate(tokenFile)
                authorization = "Bearer " + (try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let docs = try await global.parc().perform(GLPIOps.Export(selection.value))
            docs.noteSkipped()
            var accepted = 0, refused: [(String, String)] = []
            let client: GLPIClient
            do {
                client = try GLPIClient(url: URL(string: url)!, authorization: authorization, timeout: timeout, caFile: caFile, insecureHTTP: insecureHTTP)
            } catch let refusal as GLPIClient.Refusal {
                throw ValidationError(refusal.description)
            }
            // Each document's answer is accepted or refused (sending never throws).
            for doc in docs.documents {
                switch await client.send(doc.json, agentID: doc.agentID) {
                case .accepted:
                    accepted += 1
                    emit("\(doc.device) (\(doc.serial)): accepted\n")
                case .refused(let message):
                    refused.append((doc.serial, message))
                    emit("\(doc.device) (\(doc.serial)): refused — \(message)\n")
                }
            }
            // The client's connections end before the command does.
            await client.shutdown()
            emit("\(accepted) accepted, \(refused.count) refused\(docs.skipped.isEmpty ? "" : ", \(docs.skipped.count) left out (not computers)").\n")
            if !refused.isEmpty { throw ExitCode(2) }
        }
    }
}
