import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starting and stopping processes without Foundation's `Process` (whose wait polls): posix_spawn,
/// waitpid, and a walk of /proc to find a process's descendants.
public enum Spawn {
    /// Runs `arguments[0]` with its arguments, waits, and returns its status and combined output.
    @discardableResult
    public static func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parc-spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outPath = dir.appendingPathComponent("out").path
        var inPath: String? = nil
        if let input {
            inPath = dir.appendingPathComponent("in").path
            try Data(input.utf8).write(to: URL(fileURLWithPath: inPath!))
        }
        let pid = try start(arguments, stdin: inPath, output: outPath, newSession: false)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, output)
    }

    /// Starts a process with standard output and error appended to `output`; with `newSession`, in a
    /// session (and process group) of its own, so that it outlives a terminal closing.
    public static func start(_ arguments: [String], stdin: String? = nil, output: String, newSession: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process goes to the child: a long-lived child (sshd, a relay) holding
        // one of our descriptors would keep it open after we close it (seen: Foundation's Process
        // in a test waited forever for `parc lab relay`, whose relay held its exit-notice socket).
        // (glibc 2.34+ has it, but declares it for _GNU_SOURCE only: looked up by name.)
        _ = closeFrom.map { $0(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26+): not exported to Swift, as it needs _GNU_SOURCE.
        if newSession { posix_spawnattr_setflags(&attributes, Int16(0x80)) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // An environment of our own: `environ` itself may be reallocated by a `setenv` on another
        // thread while the child is being started (seen: the spawn failed with "Bad address").
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard rc == 0 else { throw LabError.command(arguments.joined(separator: " "), String(cString: strerror(rc))) }
        return pid
    }

    /// `posix_spawn_file_actions_addclosefrom_np`, where the C library has it.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Whether `pid` is alive (a zombie child of ours is reaped and counts as dead).
    public static func isAlive(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        if kill(pid, 0) != 0 { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return false }
        return true
    }

    /// `pid` and every process descended from it.
    public static func tree(_ pid: pid_t) -> [pid_t] {
        var parents: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[parent, default: []].append(child) }
        }
        var out: [pid_t] = [pid]
        var i = 0
        while i < out.count {
            out.append(contentsOf: parents[out[i]] ?? [])
            i += 1
        }
        return out
    }

    /// Kills `pid`'s whole tree at once, parents first, with SIGKILL: like pulling the plug, no
    /// process gets to say anything (an SSH session reports no exit status).
    public static func killNow(_ pid: pid_t) {
        let all = tree(pid)
        for p in all { kill(p, SIGKILL) }
        let hard = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < hard && all.contains(where: isAlive) { usleep(10_000) }
    }

    /// Ends `pid` and its descendants: SIGTERM, then SIGKILL after `grace`; reaps our own children.
    public static func terminate(_ pid: pid_t, grace: Duration = .seconds(2)) {
        let all = tree(pid)
        for p in all.reversed() { kill(p, SIGTERM) }
        let end = ContinuousClock.now + grace
        while ContinuousClock.now < end && all.contains(where: isAlive) { usleep(10_000) }
        for p in tree(pid) + all where isAlive(p) { kill(p, SIGKILL) }
        let hard = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < hard && all.contains(where: isAlive) { usleep(10_000) }
    }
}

/// What went wrong starting or stopping the lab.
public enum LabError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case command(String, String)
    case unavailable(String)
    case deviceFailed(String, String)
    case noLab(String)

    public var description: String {
        switch self {
        case .command(let cmd, let why): "lab: `\(cmd)` failed: \(why)"
        case .unavailable(let why): "lab: cannot simulate devices here: \(why)"
        case .deviceFailed(let name, let why): "lab device \(name) did not start: \(why)"
        case .noLab(let dir): "no lab in \(dir); start one with `parc lab up N --school UAI`"
        }
    }

    public var errorDescription: String? { description }
}
