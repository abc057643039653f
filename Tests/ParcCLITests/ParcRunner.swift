import Foundation

/// Runs the built `parc` binary as a user would, on a database in a temporary folder.
/// (`@unchecked Sendable`: its properties are constants.)
final class ParcRunner: @unchecked Sendable {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let dir: URL
    let database: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        database = dir.appendingPathComponent("parc.sqlite").path
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// The repository (for `inventory/`).
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `parc`, built next to the test bundle by `swift test` (the test target depends on it).
    static let binary: URL = {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("parc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repo.appendingPathComponent(".build/debug/parc")
    }()

    /// Starts `parc ARGS` with this runner's database; `cwd` defaults to the repository.
    func start(_ args: [String], cwd: URL? = nil, env extra: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        p.currentDirectoryURL = cwd ?? Self.repo
        var env = ProcessInfo.processInfo.environment
        env["PARC_DATABASE"] = database
        env.removeValue(forKey: "PARC_HOME")
        // English unless a test asks for another language: the messages tests read are parc's English.
        env["LANG"] = "C.UTF-8"
        env.removeValue(forKey: "LC_ALL")
        env.removeValue(forKey: "LC_MESSAGES")
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    @discardableResult
    func run(_ args: String..., cwd: URL? = nil, env: [String: String] = [:]) async throws -> Result {
        try await run(args, cwd: cwd, env: env)
    }

    /// Runs `parc ARGS` and waits for it on a thread of its own: a test waiting for a process must
    /// not hold one of the cooperative pool's threads (two on this machine), or the asynchronous
    /// tests running beside it could not resume (seen as a 0.7 s timeout taking 99 s under TSan).
    @discardableResult
    func run(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) async throws -> Result {
        try await Self.offPool { try self.runBlocking(args, cwd: cwd, env: env) }
    }

    /// Runs `body` on a new thread and waits for it without blocking the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
        }
    }

    /// The same, blocking (for `deinit`).
    @discardableResult
    func runBlocking(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> Result {
        let (p, out, err) = try start(args, cwd: cwd, env: env)
        // Read before waiting, so that a large output cannot fill the pipe and block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Parses `--json` output.
    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}
