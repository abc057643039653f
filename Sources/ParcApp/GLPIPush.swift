import AsyncHTTPClient
import CZlib
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// glpi-agent's side of GLPI's native inventory protocol: each computer's inventory POSTed,
/// zlib-compressed, to the server's inventory endpoint.
///
/// Credentials go to the address given and nowhere else: no redirect is followed (a server that
/// answers 3xx is reported, with where it points), credentials never travel over plain `http://`
/// unless the caller says so, and a device counts as accepted only on GLPI's own `ok` from that
/// address.
public struct GLPIClient: Sendable {
    public enum Outcome: Equatable, Sendable { case accepted, refused(String) }

    /// Why a push cannot start (checked before anything is sent).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let url: URL
    let authorization: String?
    let timeout: Double
    /// How many times a busy server is waited for (pending answers, 429/503 with Retry-After).
    public var maxRetries = 12
    private let client: HTTPClient

    /// - Parameters:
    ///   - authorization: the `Authorization` header's value (Basic or Bearer), a secret.
    ///   - caFile: PEM certificates to trust for `https://` instead of the system's.
    ///   - insecureHTTP: allow credentials over plain `http://` (a test server, a local network).
    public init(url: URL, authorization: String?, timeout: Double, caFile: String? = nil, insecureHTTP: Bool = false) throws {
        let scheme = url.scheme?.lowercased() ?? ""
        guard scheme == "https" || scheme == "http", url.host != nil else {
            throw Refusal(description: "'\(url.absoluteString)' is not an http(s) URL")
        }
        if scheme == "http" && authorization != nil && !insecureHTTP {
            throw Refusal(description: "\(url.absoluteString) is plain http: the credentials would cross the network readable by anyone on the way; use https:// (with --ca-file for a CA of your own), or add --insecure-http if you accept that")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else { throw Refusal(description: "--ca-file \(caFile): cannot read it") }
            tls.trustRoots = .file(caFile)
        }
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(timeout * 1000)), read: .milliseconds(Int64(timeout * 1000))))
        self.url = url
        self.authorization = authorization
        self.timeout = timeout
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Ends the client's connections; call once done.
    public func shutdown() async {
        try? await client.shutdown()
    }

    public func send(_ json: Data, agentID: String) async -> Outcome {
        guard let body = Zlib.compress(json) else { return .refused("could not compress the inventory") }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: body))
        request.headers.add(name: "Content-Type", value: "application/x-compress-zlib")
        request.headers.add(name: "GLPI-Agent-ID", value: agentID)
        request.headers.add(name: "User-Agent", value: "parc/0.1.0 (GLPI native inventory)")
        request.headers.add(name: "Pragma", value: "no-cache")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let place = url.host ?? url.absoluteString
        for attempt in 1...maxRetries {
            let status: Int, headers: HTTPHeaders, data: [UInt8]
            do {
                let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
                status = Int(response.status.code)
                headers = response.headers
                data = Array(buffer: try await response.body.collect(upTo: 4 << 20))
            } catch {
                return .refused("cannot reach \(place): \(Self.describe(error))")
            }
            if (300..<400).contains(status) {
                let target = headers.first(name: "Location") ?? "(no Location)"
                return .refused("the server redirects (HTTP \(status)) to \(target); parc follows no redirect (it would carry the credentials there): give the final address of GLPI's inventory endpoint instead")
            }
            // A busy server: wait what it asks, then again.
            if status == 429 || status == 503 {
                let wait = Double(headers.first(name: "Retry-After") ?? "") ?? 5
                if attempt == maxRetries { return .refused("the server stayed busy (HTTP \(status))") }
                try? await Task.sleep(for: .milliseconds(Int(min(wait, 300) * 1000)))
                continue
            }
            var text = data
            if (headers.first(name: "Content-Type") ?? "").lowercased().hasPrefix("application/x-compress-zlib"),
               let plain = Zlib.decompress(Data(data)) { text = Array(plain) }
            let answer = (try? JSONSerialization.jsonObject(with: Data(text))) as? [String: Any]
            let said = answer?["status"] as? String
            if said == "pending" {
                // As glpi-agent: wait the expiration, then ask again with a GET naming the request.
                let wait = (answer?["expiration"] as? Double) ?? Double(answer?["expiration"] as? Int ?? 1)
                if attempt == maxRetries { return .refused("the server kept the inventory pending") }
                try? await Task.sleep(for: .milliseconds(Int(min(wait, 300) * 1000)))
                request.method = .GET
                request.body = nil
                if let id = headers.first(name: "GLPI-Request-ID") { request.headers.replaceOrAdd(name: "GLPI-Request-ID", value: id) }
                continue
            }
            if said == "ok", (200..<300).contains(status) { return .accepted }
            let message = answer?["message"] as? String ?? String(decoding: text.prefix(300), as: UTF8.self)
            return .refused(message.isEmpty ? "HTTP \(status)" : message)
        }
        return .refused("no answer")
    }

    /// A transport error in words: the certificate's problem first (the usual cause with https).
    static func describe(_ error: any Error) -> String {
        if let e = error as? NIOSSLError { return "TLS: \(e) (a certificate this machine does not trust? give its CA with --ca-file)" }
        if let e = error as? BoringSSLError { return "TLS: \(e) (a certificate this machine does not trust? give its CA with --ca-file)" }
        let text = "\(error)"
        if text.contains("handshake") || text.contains("certificate") || text.contains("CERTIFICATE") {
            return "TLS: \(text) (a certificate this machine does not trust? give its CA with --ca-file)"
        }
        return text
    }
}

/// RFC 1950 (zlib) streams through the system's zlib.
public enum Zlib {
    public static func compress(_ data: Data) -> Data? {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = data.withUnsafeBytes { src in
            compress2(&out, &size, src.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), Z_BEST_COMPRESSION)
        }
        return status == Z_OK ? Data(out.prefix(Int(size))) : nil
    }

    public static func decompress(_ data: Data, limit: Int = 64 << 20) -> Data? {
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
