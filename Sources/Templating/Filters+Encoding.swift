import Foundation
import Crypto

extension Filters {
    /// Encodings and digests: JSON, YAML, base64, hashes, `password_hash`, URLs.
    static func encoding(into t: inout [String: Filter]) {
        t["to_json"] = value { v, a in
            .string(JSONText.encode(v, indent: a.int(-1, "indent"), sortKeys: a.bool(-1, "sort_keys"), ensureASCII: a.bool(-1, "ensure_ascii", default: true)))
        }
        t["tojson"] = value { v, a in .string(JSONText.encode(v, indent: a.int(0, "indent"), sortKeys: true, ensureASCII: true, htmlSafe: true)) }
        t["to_nice_json"] = value { v, a in
            .string(JSONText.encode(v, indent: a.int(-1, "indent") ?? 4, sortKeys: a.bool(-1, "sort_keys", default: true),
                                    ensureASCII: a.bool(-1, "ensure_ascii", default: true)))
        }
        t["from_json"] = text { s, _ in
            guard let v = Template.parseLiteral(s.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw fail("from_json: the text is not JSON") }
            return v
        }
        t["to_yaml"] = value { v, a in .string(YAMLWriter.dump(v, indent: a.int(-1, "indent") ?? 2, flowLeaves: true)) }
        t["to_nice_yaml"] = value { v, a in .string(YAMLWriter.dump(v, indent: a.int(0, "indent") ?? 4, flowLeaves: false)) }
        t["b64encode"] = text { s, _ in .string(Data(s.utf8).base64EncodedString()) }
        t["b64decode"] = text { s, _ in
            guard let d = Data(base64Encoded: s, options: .ignoreUnknownCharacters) else { throw fail("b64decode: the text is not base64") }
            return .string(String(decoding: d, as: UTF8.self))
        }
        t["password_hash"] = { input, a, _, it, at in
            let password = try it.defined(input, at: at).pythonText
            var scheme = a.string(0, "hashtype") ?? "sha512"
            scheme = ["sha512_crypt": "sha512", "sha256_crypt": "sha256", "md5_crypt": "md5"][scheme] ?? scheme
            guard ["sha512", "sha256", "md5"].contains(scheme) else { throw fail("password_hash: parc supports sha512, sha256 and md5, not '\(scheme)'") }
            guard let hook = it.hooks.passwordHash else { throw fail("password_hash is not available here") }
            return .str(try hook(password, scheme, a.string(1, "salt"), a.int(3, "rounds")))
        }
        t["hash"] = text { s, a in .string(try digest(s, a.string(0, "hashtype") ?? "sha1")) }
        t["checksum"] = text { s, _ in .string(try digest(s, "sha1")) }
        t["sha1"] = text { s, _ in .string(try digest(s, "sha1")) }
        t["md5"] = text { s, _ in .string(try digest(s, "md5")) }
        t["urlsplit"] = text { s, a in
            let parts = URLParts(s)
            if let query = a.string(0, "query"), !query.isEmpty {
                guard let v = parts.fields[query] else { throw fail("urlsplit: unknown URL component: \(query)") }
                return v
            }
            return Value.map(parts.fields)
        }
        t["urlencode"] = value { v, _ in
            var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
            allowed.insert(charactersIn: "-._~/")
            func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
            if case .map(let m) = v { return .string(m.map { enc($0.key) + "=" + enc($0.value.pythonText) }.joined(separator: "&")) }
            return .string(enc(v.pythonText))
        }
    }

    static func digest(_ s: String, _ kind: String) throws -> String {
        let data = Data(s.utf8)
        let bytes: [UInt8]
        switch kind {
        case "md5": bytes = Array(Insecure.MD5.hash(data: data))
        case "sha1": bytes = Array(Insecure.SHA1.hash(data: data))
        case "sha256": bytes = Array(SHA256.hash(data: data))
        case "sha384": bytes = Array(SHA384.hash(data: data))
        case "sha512": bytes = Array(SHA512.hash(data: data))
        default: throw fail("hash: parc supports md5, sha1, sha256, sha384 and sha512, not '\(kind)'")
        }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// `urlsplit`: Python's urllib.parse.urlsplit fields.
struct URLParts {
    var fields: [String: Value] = [:]
    init(_ s: String) {
        var rest = Substring(s)
        var scheme = ""
        if let colon = rest.firstIndex(of: ":"), rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }), !rest[..<colon].isEmpty {
            scheme = rest[..<colon].lowercased()
            rest = rest[rest.index(after: colon)...]
        }
        var netloc = ""
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
            netloc = String(rest[..<end])
            rest = rest[end...]
        }
        var fragment = ""
        if let hash = rest.firstIndex(of: "#") { fragment = String(rest[rest.index(after: hash)...]); rest = rest[..<hash] }
        var query = ""
        if let q = rest.firstIndex(of: "?") { query = String(rest[rest.index(after: q)...]); rest = rest[..<q] }
        var username: Value = .null, password: Value = .null, hostname: Value = .null, port: Value = .null
        if !netloc.isEmpty {
            var hostPart = Substring(netloc)
            if let at = netloc.lastIndex(of: "@") {
                let user = netloc[..<at]
                hostPart = netloc[netloc.index(after: at)...]
                let up = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                username = .string(String(up[0]))
                if up.count > 1 { password = .string(String(up[1])) }
            }
            if hostPart.hasPrefix("["), let close = hostPart.firstIndex(of: "]") {
                hostname = .string(hostPart[hostPart.index(after: hostPart.startIndex)..<close].lowercased())
                let after = hostPart[hostPart.index(after: close)...]
                if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = .int(p) }
            } else {
                let hp = hostPart.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                if !hp[0].isEmpty { hostname = .string(hp[0].lowercased()) }
                if hp.count > 1, let p = Int(hp[1]) { port = .int(p) }
            }
        }
        fields = ["scheme": .string(scheme), "netloc": .string(netloc), "path": .string(String(rest)), "query": .string(query),
                  "fragment": .string(fragment), "username": username, "password": password, "hostname": hostname, "port": port]
    }
}
