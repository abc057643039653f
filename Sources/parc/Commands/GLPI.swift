import ArgumentParser
import ParcApp
import CZlib
import Exchange
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import InventoryStore
import ParcCore

/// The devices a GLPI command works on, with their documents (and those left out, with why).
struct GLPIDocuments {
    var documents: [(row: DeviceRow, doc: [String: Any])] = []
    var skipped: [GLPIExport.Skip] = []

    init(_ global: GlobalOptions, selection: SelectionOptions) throws {
        try global.open().read { r in
            for row in try selection.select(r) {
                switch GLPIExport.document(row, facts: try r.facts(serial: row.serial)?.facts) {
                case .success(let doc): documents.append((row, doc))
                case .failure(let skip): skipped.append(skip)
                }
            }
        }
    }

    func noteSkipped() {
        for s in skipped { FileHandle.standardError.write(Data("left out: \(s.serial): \(s.reason)\n".utf8)) }
    }
}

extension ExportCommand {
    struct Glpi: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "glpi",
            abstract: "One file per computer in GLPI's native inventory format (what glpi-agent submits), from the inventory and stored facts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var selection: SelectionOptions
        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The folder to write the files to (created if needed).", valueName: "dir"))
        var output: String

        func run() throws {
            let docs = try GLPIDocuments(global, selection: selection)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for (row, doc) in docs.documents {
                let name = row.serial.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
                try OutputFile.write(Array(try GLPIExport.json(doc)), to: "\(output)/\(String(name)).json")
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
            let docs = try GLPIDocuments(global, selection: selection)
            docs.noteSkipped()
            var accepted = 0, refused: [(String, String)] = []
            for (row, doc) in docs.documents {
                let outcome = await GLPIClient(url: URL(string: url)!, authorization: authorization, timeout: timeout)
                    .send(try GLPIExport.json(doc), agentID: GLPIExport.stableUUID(row.serial))
                switch outcome {
                case .accepted:
                    accepted += 1
                    emit("\(row.inventoryName) (\(row.serial)): accepted\n")
                case .refused(let message):
                    refused.append((row.serial, message))
                    emit("\(row.inventoryName) (\(row.serial)): refused — \(message)\n")
                }
            }
            emit("\(accepted) accepted, \(refused.count) refused\(docs.skipped.isEmpty ? "" : ", \(docs.skipped.count) left out (not computers)").\n")
            if !refused.isEmpty { throw ExitCode(2) }
        }
    }
}

/// glpi-agent's side of GLPI's native inventory protocol.
struct GLPIClient {
    let url: URL
    let authorization: String?
    let timeout: Double
    /// How many times a busy server is waited for (pending answers, 429/503 with Retry-After).
    var maxRetries = 12

    enum Outcome: Equatable { case accepted, refused(String) }

    func send(_ json: Data, agentID: String) async -> Outcome {
        guard let body = Zlib.compress(json) else { return .refused("could not compress the inventory") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/x-compress-zlib", forHTTPHeaderField: "Content-Type")
        request.setValue(agentID, forHTTPHeaderField: "GLPI-Agent-ID")
        request.setValue("parc/0.1.0 (GLPI native inventory)", forHTTPHeaderField: "User-Agent")
        request.setValue("no-cache", forHTTPHeaderField: "Pragma")
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        for attempt in 1...maxRetries {
            let data: Data, response: HTTPURLResponse
            do {
                let (d, r) = try await URLSession.shared.data(for: request)
                guard let http = r as? HTTPURLResponse else { return .refused("no HTTP answer") }
                (data, response) = (d, http)
            } catch {
                return .refused("cannot reach \(url.host ?? url.absoluteString): \(error.localizedDescription)")
            }
            // A busy server: wait what it asks, then again.
            if response.statusCode == 429 || response.statusCode == 503 {
                let wait = Double(response.value(forHTTPHeaderField: "Retry-After") ?? "") ?? 5
                if attempt == maxRetries { return .refused("the server stayed busy (HTTP \(response.statusCode))") }
                try? await Task.sleep(for: .milliseconds(Int(min(wait, 300) * 1000)))
                continue
            }
            var text = data
            if (response.value(forHTTPHeaderField: "Content-Type") ?? "").lowercased().hasPrefix("application/x-compress-zlib"),
               let plain = Zlib.decompress(data) { text = plain }
            let answer = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any]
            let status = answer?["status"] as? String
            if status == "pending" {
                // As glpi-agent: wait the expiration, then ask again with a GET naming the request.
                let wait = (answer?["expiration"] as? Double) ?? Double(answer?["expiration"] as? Int ?? 1)
                if attempt == maxRetries { return .refused("the server kept the inventory pending") }
                try? await Task.sleep(for: .milliseconds(Int(min(wait, 300) * 1000)))
                request.httpMethod = "GET"
                request.httpBody = nil
                if let id = response.value(forHTTPHeaderField: "GLPI-Request-ID") { request.setValue(id, forHTTPHeaderField: "GLPI-Request-ID") }
                continue
            }
            if status == "ok", (200..<300).contains(response.statusCode) { return .accepted }
            let message = answer?["message"] as? String ?? String(decoding: text.prefix(300), as: UTF8.self)
            return .refused(message.isEmpty ? "HTTP \(response.statusCode)" : message)
        }
        return .refused("no answer")
    }
}

/// RFC 1950 (zlib) streams through the system's zlib.
enum Zlib {
    static func compress(_ data: Data) -> Data? {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = data.withUnsafeBytes { src in
            compress2(&out, &size, src.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), Z_BEST_COMPRESSION)
        }
        return status == Z_OK ? Data(out.prefix(Int(size))) : nil
    }

    static func decompress(_ data: Data, limit: Int = 64 << 20) -> Data? {
        var capacity = max(1024, data.count * 8)
        while capacity <= limit {
            var size = uLongf(capacity)
            var out = [UInt8](repeating: 0, count: capacity)
            let status = data.withUnsafeBytes { src in uncompress(&out, &size, src.bindMemory(to: Bytef.self).baseAddress, uLong(data.count)) }
            if status == Z_OK { return Data(out.prefix(Int(size))) }
            guard status == Z_BUF_ERROR else { return nil }
            capacity *= 4
        }
        return nil
    }
}
