import Foundation
import ParcCore
import Templating
#if canImport(Glibc)
import Glibc
#endif

/// Programs run on the control node itself (password hashing, `delegate_to: localhost`).
enum LocalProcess {
    static func run(_ arguments: [String], stdin: [UInt8]? = nil) throws -> CommandResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-local-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inPath = dir.appendingPathComponent("in").path, outPath = dir.appendingPathComponent("out").path, errPath = dir.appendingPathComponent("err").path
        FileManager.default.createFile(atPath: inPath, contents: Data(stdin ?? []), attributes: [.posixPermissions: 0o600])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT, 0o600)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
            throw ModuleFailure("cannot start \(arguments[0]) on the control node")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return CommandResult(exitStatus: (status >> 8) & 0xff, stdout: Array(FileManager.default.contents(atPath: outPath) ?? Data()),
                             stderr: Array(FileManager.default.contents(atPath: errPath) ?? Data()))
    }
}

/// `password_hash`: a crypt(3) hash (`$1$` md5, `$5$` sha256, `$6$` sha512) by OpenSSL on the
/// control node, the password on standard input, with passlib's default rounds as Ansible writes
/// them (`$6$rounds=656000$…`). Without a salt, one is derived from the password, so that a
/// second run gives the same hash (Ansible draws a random one, which makes `user` change the
/// password on every run). Results are kept for the process: the rounds cost ~0.3 s a hash.
enum PasswordHash {
    /// A random crypt salt of `size` characters (vars_prompt's `encrypt`, as passlib draws one).
    static func randomSalt(_ size: Int) -> String {
        let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var rng = SystemRandomNumberGenerator()
        return String((0..<max(1, size)).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }

    static let defaultRounds = ["sha256": 535_000, "sha512": 656_000]
    nonisolated(unsafe) static var cache: [String: String] = [:]
    static let lock = NSLock()

    static func hash(_ password: String, scheme: String, salt: String?, rounds: Int?) throws -> String {
        let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        let flag = ["md5": "-1", "sha256": "-5", "sha512": "-6"][scheme] ?? "-6"
        let derived = String(SHA256.hash(Array(("parc:" + password).utf8)).prefix(scheme == "md5" ? 8 : 16).map { alphabet[Int($0) % 64] })
        var fullSalt = salt ?? derived
        if scheme != "md5", let n = rounds ?? defaultRounds[scheme] { fullSalt = "rounds=\(n)$" + fullSalt }
        let key = SHA256.hex(Array("\(scheme)\u{0}\(fullSalt)\u{0}\(password)".utf8))
        lock.lock()
        if let known = cache[key] { lock.unlock(); return known }
        lock.unlock()
        let r = try LocalProcess.run(["/usr/bin/openssl", "passwd", flag, "-salt", fullSalt, "-stdin"], stdin: Array((password + "\n").utf8))
        guard r.succeeded else { throw ModuleFailure("password_hash: openssl failed: \(r.stderrText.trimmed)") }
        let out = r.stdoutText.trimmed
        lock.lock()
        cache[key] = out
        lock.unlock()
        return out
    }
}

/// The control node as a transport, for `delegate_to: localhost`.
final class LocalTransport: Transport, @unchecked Sendable {
    let host = "localhost"

    func run(_ command: String, stdin: [UInt8]?, become: Become, timeout: Duration?) async throws -> CommandResult {
        try LocalProcess.run(["/bin/sh", "-c", command], stdin: stdin)
    }

    func close() async {}
}
