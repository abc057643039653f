import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ParcCore

/// The tokens `parc login` keeps, one per server, in `~/.config/parc/servers.json` (or
/// `$XDG_CONFIG_HOME/parc/`), readable by its owner only.
public enum ServerLogins {
    public static var file: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? Home.path + "/.config"
        return base + "/parc/servers.json"
    }

    struct Entry: Codable { var token: String; var login: String? }

    /// A server's URL as kept: scheme, host, port and path, without a trailing slash.
    public static func key(_ server: String) -> String {
        var s = server.trimmingCharacters(in: .whitespaces)
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    static func load() throws -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: file) else { return [:] }
        var st = stat()
        if stat(file, &st) == 0, st.st_mode & 0o077 != 0 {
            throw AppError("\(file) can be read by others (mode \(String(st.st_mode & 0o777, radix: 8))): chmod 600 \(file), or parc logout and log in again")
        }
        do { return try JSONDecoder().decode([String: Entry].self, from: data) } catch {
            throw AppError("\(file) is not parc's list of servers (\(error)); remove it and log in again")
        }
    }

    public static func token(for server: String) throws -> (token: String, login: String?)? {
        try load()[key(server)].map { ($0.token, $0.login) }
    }

    /// Keeps `token` for `server` (the file written whole, mode 600, its folder 700).
    public static func save(server: String, token: String, login: String?) throws {
        var all = (try? load()) ?? [:]
        all[key(server)] = Entry(token: token, login: login)
        try write(all)
    }

    /// Forgets `server`'s token; false when none was kept.
    @discardableResult
    public static func remove(server: String) throws -> Bool {
        var all = try load()
        guard all.removeValue(forKey: key(server)) != nil else { return false }
        try write(all)
        return true
    }

    static func write(_ all: [String: Entry]) throws {
        let dir = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(all)
        let temp = file + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw AppError("cannot write \(temp)")
        }
        guard rename(temp, file) == 0 else { throw AppError("cannot replace \(file): \(String(cString: strerror(errno)))") }
    }
}

/// A central parc server as the command line reaches it: `/api/v1` with the token `parc login` kept.
public final class ParcServer: Sendable {
    public let url: URL
    let token: String?
    let client: HTTPClient

    /// A reply: status and body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        /// The API's `detail` of an error, else the body's start.
        public var detail: String {
            ((json as? [String: Any])?["detail"] as? String) ?? String(decoding: body.prefix(300), as: UTF8.self)
        }
    }

    public enum Method: String, Sendable { case get = "GET", post = "POST", delete = "DELETE" }

    public init(_ server: String, token: String?, caFile: String? = nil) throws {
        guard let url = URL(string: ServerLogins.key(server)), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw AppError("'\(server)' is not the http(s) URL of a parc server (e.g. https://parc.example.fr)")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        let ca = caFile ?? ProcessInfo.processInfo.environment["PARC_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let ca { tls.trustRoots = .file(ca) }
        self.url = url
        self.token = token
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10))))
    }

    /// The server `parc login` kept a token for.
    public static func signedIn(_ server: String) throws -> ParcServer {
        guard let kept = try ServerLogins.token(for: server) else {
            throw AppError("not logged in to \(ServerLogins.key(server)): parc login \(ServerLogins.key(server)) first")
        }
        return try ParcServer(server, token: kept.token)
    }

    deinit { try? client.syncShutdown() }

    func request(_ method: Method, _ path: String, body: Data?, contentType: String) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: ServerLogins.key(url.absoluteString) + path)
        r.method = HTTPMethod(rawValue: method.rawValue)
        if let token { r.headers.add(name: "Authorization", value: "Bearer \(token)") }
        r.headers.add(name: "Accept", value: "application/json")
        if let body {
            r.headers.add(name: "Content-Type", value: contentType)
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        return r
    }

    public func send(_ method: Method, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> Reply {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request(method, path, body: body, contentType: contentType), timeout: .seconds(120))
        } catch {
            throw AppError("cannot reach \(ServerLogins.key(url.absoluteString)): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 256 << 20)
        let reply = Reply(status: Int(response.status.code), body: Data(bytes.readableBytesView))
        if reply.status == 401 {
            throw AppError("\(ServerLogins.key(url.absoluteString)) refused the token (\(reply.detail)): parc login \(ServerLogins.key(url.absoluteString)) again")
        }
        return reply
    }

    public func get(_ path: String) async throws -> Reply { try await send(.get, path) }

    /// A stream of server-sent events: (event name, data) as they come.
    public func events(_ path: String) -> AsyncThrowingStream<(event: String, data: Data), any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var r = request(.get, path, body: nil, contentType: "")
                    r.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
                    let response = try await client.execute(r, timeout: .hours(24))
                    guard response.status.code == 200 else {
                        let body = try await response.body.collect(upTo: 1 << 20)
                        throw AppError("\(path): HTTP \(response.status.code) \(String(buffer: body).prefix(300))")
                    }
                    var pending = Data(), event = "message", data = Data()
                    for try await chunk in response.body {
                        pending.append(contentsOf: chunk.readableBytesView)
                        while let nl = pending.firstIndex(of: 0x0A) {
                            let line = pending[pending.startIndex..<nl]
                            pending.removeSubrange(pending.startIndex...nl)
                            if line.isEmpty {
                                if !data.isEmpty || event != "message" { continuation.yield((event, data)) }
                                event = "message"
                                data = Data()
                            } else if line.first == UInt8(ascii: ":") {
                                continue
                            } else if let text = String(data: line, encoding: .utf8) {
                                if text.hasPrefix("event: ") { event = String(text.dropFirst(7)) }
                                else if text.hasPrefix("data: ") { data.append(contentsOf: text.dropFirst(6).utf8) }
                            }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension ParcServer: ParcService {
    /// Sends the operation to the server (`POST /api/v1/operations/NAME`), which performs it under
    /// the account's name; a refusal comes back with the same words as on a local inventory.
    public func perform<O: InventoryOperation>(_ operation: O) async throws -> O.Output {
        let reply = try await send(.post, "/api/v1/operations/\(O.name)", body: try JSONEncoder().encode(operation))
        switch reply.status {
        case 200:
            do {
                return try JSONDecoder().decode(O.Output.self, from: reply.body)
            } catch {
                throw AppError("\(ServerLogins.key(url.absoluteString)) answered \(O.name) with what this parc cannot read (\(error)); are parc and the server the same version?")
            }
        case 404:
            throw AppError("\(ServerLogins.key(url.absoluteString)) does not do \(O.name) for this account (technicians and administrators only; administrators for accounts), or is an older parc")
        default:
            throw AppError(Message(verbatim: reply.detail))
        }
    }
}
