import Crypto
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

/// HMAC-SHA1, for hashed known_hosts names (OpenSSH's `HashKnownHosts`), from swift-crypto.
enum HMACSHA1 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
