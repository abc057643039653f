import Foundation
import HummingbirdBcrypt
import ParcCore

/// Secrets of the portal: password hashes (bcrypt), session and API token secrets (random, kept
/// in the database only as SHA-256 digests), CSRF tokens.
public enum Secrets {
    /// A random secret, URL-safe (32 bytes of entropy).
    public static func random(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The SHA-256 digest of a secret, in hexadecimal: what the database keeps.
    public static func digest(_ secret: String) -> String {
        SHA256.hex(Array(secret.utf8))
    }

    /// The bcrypt hash of a password (checked for length first).
    public static func hashPassword(_ password: String, cost: UInt8 = 12) throws(InvalidValue) -> String {
        try Account.checkPassword(password)
        return Bcrypt.hash(password, cost: cost)
    }

    public static func verify(_ password: String, hash: String) -> Bool {
        Bcrypt.verify(password, hash: hash)
    }

    /// A hash that no password matches, checked when the login is unknown so that a refused
    /// sign-in takes as long whether the account exists or not.
    static let decoyHash = Bcrypt.hash(random(), cost: 12)

    /// Compares two secrets in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// A new API token: the secret shown once, its digest and its short prefix.
    public static func newToken() -> (secret: String, digest: String, prefix: String) {
        let secret = "parc_" + random()
        return (secret, digest(secret), String(secret.prefix(10)))
    }
}
