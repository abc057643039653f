import Crypto
import Foundation

/// An SSH host key as OpenSSH writes it (`ssh-ed25519 AAAAC3Nza…`): what the inventory pins.
public struct HostKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The algorithm: `ssh-ed25519`, `ecdsa-sha2-nistp256`, …
    public var algorithm: String
    /// The key blob.
    public var blob: [UInt8]

    public init(algorithm: String, blob: [UInt8]) {
        self.algorithm = algorithm
        self.blob = blob
    }

    /// Parses `ALGORITHM BASE64 [comment]`.
    public init(openSSH line: String) throws(InvalidValue) {
        let parts = line.trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 2, let data = Data(base64Encoded: String(parts[1])) else {
            throw InvalidValue(field: "hostKey", value: line, problem: "a host key is written like OpenSSH does: ssh-ed25519 AAAAC3Nza…")
        }
        self.algorithm = String(parts[0])
        self.blob = Array(data)
        // The blob starts with its own algorithm name: a mismatch means a pasted mix-up.
        if let named = Self.algorithmInBlob(blob), named != algorithm {
            throw InvalidValue(field: "hostKey", value: line, problem: "the key data is a \(named) key, not \(algorithm)")
        }
    }

    /// The algorithm name an SSH key blob starts with.
    public static func algorithmInBlob(_ blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let n = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard n > 0, n < 64, blob.count >= 4 + n else { return nil }
        return String(decoding: blob[4..<(4 + n)], as: UTF8.self)
    }

    /// `ssh-ed25519 AAAA…`
    public var openSSH: String { "\(algorithm) \(Data(blob).base64EncodedString())" }

    /// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the blob's SHA-256.
    public var fingerprint: String {
        var b64 = Data(SHA256.hash(blob)).base64EncodedString()
        while b64.hasSuffix("=") { b64.removeLast() }
        return "SHA256:" + b64
    }

    public var description: String { "\(algorithm) \(fingerprint)" }

    public init(from decoder: any Decoder) throws {
        try self.init(openSSH: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(openSSH)
    }
}

/// SHA-256 digests (host-key fingerprints, file contents, playbook hashes), from swift-crypto.
public enum SHA256 {
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: message))
    }

    /// Lower-case hexadecimal digest.
    public static func hex(_ message: [UInt8]) -> String {
        Crypto.SHA256.hash(data: message).map { String(format: "%02x", $0) }.joined()
    }
}

/// The digests Ansible reports for a file's content (`checksum` is SHA-1, `md5sum` MD5): only to
/// give the same values, never to protect anything.
public enum ContentDigest {
    public static func sha1Hex(_ message: [UInt8]) -> String {
        Crypto.Insecure.SHA1.hash(data: message).map { String(format: "%02x", $0) }.joined()
    }

    public static func md5Hex(_ message: [UInt8]) -> String {
        Crypto.Insecure.MD5.hash(data: message).map { String(format: "%02x", $0) }.joined()
    }
}
