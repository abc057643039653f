import Foundation
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

/// The entries of OpenSSH known_hosts files that name one host, hashed names (`|1|salt|hash`)
/// included.
///
/// parc reads the files itself rather than through `libssh2_knownhost_checkp`, because it must know
/// the recorded key types *before* the handshake (to ask for that type first); checkp only compares
/// keys of the negotiated type and answers "not found" for a host recorded under another type.
struct KnownHosts {
    struct Entry: Equatable {
        var file: String
        var line: Int
        var key: HostKey
    }

    /// The keys recorded for `host` on `port` in `files` (missing files are skipped).
    static func entries(host: String, port: Int, files: [String]) -> [Entry] {
        let name = port == 22 ? host : "[\(host)]:\(port)"
        var out: [Entry] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("@") { continue }
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard fields.count >= 3, matches(patterns: fields[0], name: name),
                      let key = try? HostKey(openSSH: fields[1] + " " + fields[2]) else { continue }
                out.append(Entry(file: file, line: index + 1, key: key))
            }
        }
        return out
    }

    /// Whether a comma-separated pattern list (plain names, `*` / `?` wildcards, negations, or one
    /// hashed name) matches. Brackets are literal, as in OpenSSH (`[host]:port`).
    static func matches(patterns: String, name: String) -> Bool {
        if patterns.hasPrefix("|1|") {
            let parts = patterns.split(separator: "|", omittingEmptySubsequences: true)
            guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else {
                return false
            }
            return HMACSHA1.mac(key: Array(salt), message: Array(name.utf8)) == Array(hash)
        }
        var matched = false
        for pattern in patterns.split(separator: ",") {
            if pattern.hasPrefix("!") {
                if GroupName.matches(String(pattern.dropFirst()), name) { return false }
            } else if GroupName.matches(String(pattern), name) {
                matched = true
            }
        }
        return matched
    }
}

/// HMAC-SHA1, for hashed known_hosts names (OpenSSH's `HashKnownHosts`).
enum HMACSHA1 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? sha1(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = sha1(k.map { $0 ^ 0x36 } + message)
        return sha1(k.map { $0 ^ 0x5c } + inner)
    }

    static func sha1(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for i in 0..<80 {
                let (f, k): (UInt32, UInt32) = switch i {
                case 0..<20: ((b & c) | (~b & d), 0x5A827999)
                case 20..<40: (b ^ c ^ d, 0x6ED9EBA1)
                case 40..<60: ((b & c) | (b & d) | (c & d), 0x8F1BBCDC)
                default: (b ^ c ^ d, 0xCA62C1D6)
                }
                let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, rotl(b, 30), a, t)
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
        }
        return h.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - $0 * 8)) } }
    }

    private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
}
