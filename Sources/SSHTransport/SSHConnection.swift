import CLibSSH2
import Foundation
import Logging
import ParcCore

/// A way to prove who we are to a device, tried in the order given.
public enum SSHCredential: Sendable, Equatable {
    /// A private key file (ed25519 or ecdsa), with its passphrase when it has one.
    case keyFile(String, passphrase: Secret? = nil)
    /// The keys of the running ssh-agent (`SSH_AUTH_SOCK`).
    case agent
    /// The keys of the ssh-agent listening on this socket (no environment variable involved).
    case agentSocket(String)
    /// A password: only to bootstrap a new device, before its management key is installed.
    case password(Secret)
}

/// How a device's host key is trusted. Never silently: either it matches what was pinned (in the
/// inventory or a known_hosts file), or the policy says to accept a first key, which the caller pins.
public struct HostKeyPolicy: Sendable, Equatable {
    public typealias Mode = HostKeyTrust

    public var mode: Mode
    /// The key pinned for the device in the inventory.
    public var pinned: HostKey?
    /// known_hosts files to consult when nothing is pinned.
    public var knownHostsFiles: [String]

    public init(mode: Mode = .strict, pinned: HostKey? = nil, knownHostsFiles: [String] = []) {
        self.mode = mode
        self.pinned = pinned
        self.knownHostsFiles = knownHostsFiles
    }
}

/// Why the host key was trusted.
public enum HostKeyCheck: Sendable, Equatable {
    /// It matches the key pinned in the inventory.
    case pinned
    /// It matches a known_hosts entry.
    case knownHosts(file: String, line: Int)
    /// First contact under `accept-new`: the caller must pin it.
    case new
}

/// Where and how to connect.
public struct SSHOptions: Sendable {
    /// The device's name in messages.
    public var name: String
    public var address: String
    public var port: Int
    public var user: String
    public var credentials: [SSHCredential]
    public var hostKeyPolicy: HostKeyPolicy
    /// Bound on TCP connect, handshake and authentication together.
    public var connectTimeout: Duration
    /// Bound on each file operation.
    public var operationTimeout: Duration
    /// Default bound on a command.
    public var commandTimeout: Duration
    /// Seconds between keepalives (0: none).
    public var keepaliveInterval: Int

    public init(name: String? = nil, address: String, port: Int = 22, user: String, credentials: [SSHCredential],
                hostKeyPolicy: HostKeyPolicy = HostKeyPolicy(), connectTimeout: Duration = .seconds(10),
                operationTimeout: Duration = .seconds(60), commandTimeout: Duration = .seconds(600), keepaliveInterval: Int = 15) {
        self.name = name ?? address
        self.address = address
        self.port = port
        self.user = user
        self.credentials = credentials
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.operationTimeout = operationTimeout
        self.commandTimeout = commandTimeout
        self.keepaliveInterval = keepaliveInterval
    }
}

/// How long each phase of the connection took.
public struct ConnectTimings: Sendable, Equatable {
    public var tcp: Duration
    public var handshake: Duration
    public var authentication: Duration
    public var total: Duration { tcp + handshake + authentication }
}

/// A session holder that only its connection's thread touches.
final class SessionBox: @unchecked Sendable {
    var session: Session?
    var sftp: SFTPSession?
    /// Why the connection dropped, once it has.
    var lost: String?
    /// The run's shells on the device, by way of becoming.
    var shells: [String: RemoteShell] = [:]
    /// Round trips counted until the session closed.
    var roundTrips = 0
    init(_ session: Session) { self.session = session }
}

/// An SSH connection to one device over libssh2: the real ``Transport``.
///
/// One session per device, confined to a thread of its own; every operation has a deadline.
public final class SSHConnection: Transport, @unchecked Sendable {
    public let host: String
    /// The key the device presented, and why it was trusted.
    public let hostKey: HostKey
    public let hostKeyCheck: HostKeyCheck
    public let timings: ConnectTimings
    public let options: SSHOptions
    private let thread: SerialThread
    private let box: SessionBox
    private let logger: Logger

    private init(options: SSHOptions, thread: SerialThread, box: SessionBox, hostKey: HostKey, check: HostKeyCheck,
                 timings: ConnectTimings, logger: Logger) {
        self.host = options.name
        self.options = options
        self.thread = thread
        self.box = box
        self.hostKey = hostKey
        self.hostKeyCheck = check
        self.timings = timings
        self.logger = logger
    }

    deinit {
        let box = self.box
        thread.submit { box.sftp = nil; box.shells = [:]; box.session = nil }
        thread.stop()
    }

    /// Connects, checks the host key against the policy and authenticates.
    public static func connect(_ options: SSHOptions, logger: Logger = Logger(label: "parc.ssh")) async throws -> SSHConnection {
        let thread = SerialThread(name: "parc-ssh \(options.name)")
        do {
            let (box, key, check, timings) = try await thread.perform { () throws -> (SessionBox, HostKey, HostKeyCheck, ConnectTimings) in
                do {
                    return try establish(options, logger: logger)
                } catch TransportError.timeout(let host, let operation, _) {
                    // Each phase waits for what is left of the bound; the message names the bound itself.
                    throw TransportError.timeout(host: host, operation: operation, seconds: options.connectTimeout.seconds)
                }
            }
            logger.debug("connected", metadata: ["host.name": "\(options.name)", "ssh.hostkey": "\(key.fingerprint)",
                                                 "ssh.ms": "\(Int(timings.total.seconds * 1000))"])
            return SSHConnection(options: options, thread: thread, box: box, hostKey: key, check: check, timings: timings, logger: logger)
        } catch {
            thread.stop()
            logger.debug("connection failed", metadata: ["host.name": "\(options.name)", "error": "\(error)"])
            throw error
        }
    }

    private static func establish(_ o: SSHOptions, logger: Logger) throws(TransportError) -> (SessionBox, HostKey, HostKeyCheck, ConnectTimings) {
        let start = ContinuousClock.now
        let deadline = start + o.connectTimeout
        let socket = try TCPSocket(address: o.address, port: o.port, host: o.name, deadline: deadline, timeout: o.connectTimeout)
        let connected = ContinuousClock.now
        let session = try Session(socket: socket, host: o.name, operationTimeout: o.operationTimeout, keepaliveInterval: Int32(o.keepaliveInterval))

        // Ask for the recorded key's type first: a key of another type would not be comparable.
        let known = o.hostKeyPolicy.pinned == nil
            ? KnownHosts.entries(host: o.address, port: o.port, files: o.hostKeyPolicy.knownHostsFiles) : []
        let preferred = o.hostKeyPolicy.pinned.map { [$0.algorithm] } ?? known.map(\.key.algorithm)
        try session.handshake(preferredHostKeyAlgorithms: preferred, timeout: max(.milliseconds(1), deadline - .now))
        let key = try session.serverHostKey()
        let check = try verify(key, policy: o.hostKeyPolicy, known: known, host: o.name)
        let shaken = ContinuousClock.now

        session.operationTimeout = max(.milliseconds(1), deadline - .now)
        try authenticate(session, o)
        session.operationTimeout = o.operationTimeout
        session.keepaliveActive = true
        session.resetRoundTrips()
        let done = ContinuousClock.now
        return (SessionBox(session), key, check, ConnectTimings(tcp: connected - start, handshake: shaken - connected, authentication: done - shaken))
    }

    static func verify(_ key: HostKey, policy: HostKeyPolicy, known: [KnownHosts.Entry], host: String) throws(TransportError) -> HostKeyCheck {
        if let pinned = policy.pinned {
            guard pinned == key else { throw .hostKeyChanged(host: host, expected: pinned.description, actual: key.description) }
            return .pinned
        }
        if let match = known.first(where: { $0.key == key }) {
            return .knownHosts(file: match.file, line: match.line)
        }
        if let recorded = known.first {
            throw .hostKeyChanged(host: host, expected: "\(recorded.key.description) (\(recorded.file):\(recorded.line))", actual: key.description)
        }
        guard policy.mode == .acceptNew else { throw .hostKeyUnknown(host: host, fingerprint: key.description) }
        return .new
    }

    private static func authenticate(_ session: Session, _ o: SSHOptions) throws(TransportError) {
        let methods = try session.authMethods(user: o.user)
        if session.isAuthenticated { return }
        var reasons: [String] = []
        for credential in o.credentials {
            switch credential {
            case .keyFile(let path, let passphrase):
                if let problem = KeyFiles.problem(path) {
                    reasons.append(problem)
                    continue
                }
                let rc = try session.authenticate(user: o.user, keyFile: path, passphrase: passphrase)
                if rc == 0 { return }
                if rc == LIBSSH2_ERROR_FILE {
                    reasons.append("cannot use key \(path): \(passphrase == nil ? "it needs a passphrase, or" : "wrong passphrase, or") unreadable key")
                } else {
                    reasons.append("key \(path) refused by the device")
                }
            case .agent:
                let agent = try Agent(session: session)
                if let why = try agent.authenticate(user: o.user) { reasons.append(why) } else { return }
            case .agentSocket(let socket):
                let agent = try Agent(session: session, socket: socket)
                if let why = try agent.authenticate(user: o.user) { reasons.append(why) } else { return }
            case .password(let secret):
                guard methods.contains("password") else {
                    reasons.append("the device does not accept passwords")
                    continue
                }
                let rc = try session.authenticate(user: o.user, password: secret)
                if rc == 0 { return }
                reasons.append("password refused")
            }
        }
        if o.credentials.isEmpty { reasons.append("no key, agent or password was given") }
        throw .authenticationFailed(host: o.name, user: o.user, reason: reasons.joined(separator: "; "))
    }

    // MARK: Transport

    public func run(_ command: String, stdin: [UInt8]?, become: Become, timeout: Duration?) async throws -> CommandResult {
        // SSH carries a command as a C string: OpenSSH drops the whole connection on one holding a
        // NUL (seen: the device then looks unreachable). Refused here, the task fails and says why.
        if command.utf8.contains(0) {
            throw TransportError.channelFailure(host: host, reason: "the command holds a NUL byte, which SSH cannot carry (did a value from a device or a file hold one?)")
        }
        let (line, input, exchange) = Self.wrap(command, stdin: stdin, become: become)
        let box = self.box
        let limit = timeout ?? options.commandTimeout
        let host = self.host
        logger.trace("run", metadata: ["host.name": "\(host)", "command": "\(Channel.short(command))", "become": "\(become != .none)"])
        let result = try await thread.perform { () throws -> CommandResult in
            guard let session = box.session else { throw TransportError.connectionLost(host: host, reason: box.lost ?? "the connection is closed") }
            do {
                return try Channel(session: session).exec(line, stdin: input, timeout: limit, sudo: exchange)
            } catch {
                // A broken session stays broken: drop it so that later calls fail at once.
                if case TransportError.channelFailure = error { box.sftp = nil }
                if case TransportError.connectionLost(_, let reason) = error { box.lost = reason; box.sftp = nil; box.shells = [:]; box.session = nil }
                throw error
            }
        }
        if become != .none, let why = Self.becomeFailure(result) {
            throw TransportError.becomeFailed(host: host, reason: why)
        }
        return result
    }

    public func batch(_ commands: [ShellCommand], become: Become, timeout: Duration?) async -> BatchOutcome {
        let box = self.box
        let host = self.host
        let limit = timeout ?? options.commandTimeout
        let start = options.operationTimeout
        let key: String = switch become {
        case .none: "-"
        case .sudo, .sudoPassword: "root"
        case .sudoUser(let user, _): "user:" + user
        }
        logger.trace("batch", metadata: ["host.name": "\(host)", "commands": "\(commands.count)", "become": "\(become != .none)"])
        let outcome = try? await thread.perform { () -> BatchOutcome in
            guard let session = box.session else {
                return BatchOutcome(results: [], interruption: .connectionLost(host: host, reason: box.lost ?? "the connection is closed"))
            }
            var shell: RemoteShell? = nil
            do {
                if let open = box.shells[key], open.broken == nil { shell = open } else {
                    shell = try RemoteShell(session: session, host: host, become: become, timeout: start)
                    box.shells[key] = shell
                }
                return BatchOutcome(results: try shell!.exchange(commands, timeout: limit))
            } catch {
                if case TransportError.connectionLost(_, let reason) = error {
                    box.lost = reason; box.sftp = nil; box.shells = [:]; box.roundTrips = session.roundTrips; box.session = nil
                }
                if case TransportError.becomeFailed = error { box.shells[key] = nil }
                return BatchOutcome(results: shell?.received ?? [], interruption: (error as? TransportError) ?? .channelFailure(host: host, reason: "\(error)"))
            }
        }
        return outcome ?? BatchOutcome(results: [], interruption: .channelFailure(host: host, reason: "the connection's thread is gone"))
    }

    public func roundTrips() async -> Int {
        let box = self.box
        return (try? await thread.perform { box.session?.roundTrips ?? box.roundTrips }) ?? 0
    }

    /// Writes `contents` to `path` over SFTP as the login user, atomically: same folder,
    /// exclusive create, mode, fsync, close, then a rename by `mv -f` (OpenSSH's SFTP rename does
    /// not replace an existing file). Files written as root go through the shell (`batch`).
    public func upload(_ contents: [UInt8], to path: String, mode: UInt32, owner: String? = nil, group: String? = nil) async throws {
        let box = self.box
        let host = self.host
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let suffix = String(UInt64.random(in: 0..<UInt64.max), radix: 16)
        let temp = "\(directory)/.parc-tmp-\(name)-\(suffix)"
        try await thread.perform { () throws in
            let sftp = try Self.sftp(box, host: host)
            do {
                let file = try sftp.open(temp, flags: LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, mode: Int(mode))
                try file.write(contents)
                try file.setPermissions(mode)
                try file.sync()
                try file.close()
            } catch {
                try? sftp.unlink(temp)
                throw error
            }
        }
        var script = ""
        if owner != nil || group != nil { script += "chown \(shellQuote("\(owner ?? ""):\(group ?? "")")) \(shellQuote(temp)) && " }
        script += "mv -f -- \(shellQuote(temp)) \(shellQuote(path))"
        let result = try await run(script, stdin: nil, become: .none, timeout: options.operationTimeout)
        if !result.succeeded {
            _ = try? await run("rm -f -- \(shellQuote(temp))", stdin: nil, become: .none, timeout: options.operationTimeout)
            throw TransportError.channelFailure(host: host, reason: "putting \(path) in place: \(result.stderrText.trimmed)")
        }
    }

    /// Reads a whole file over SFTP as the login user.
    public func download(_ path: String) async throws -> [UInt8] {
        let box = self.box
        let host = self.host
        return try await thread.perform { () throws -> [UInt8] in
            let sftp = try Self.sftp(box, host: host)
            let file = try sftp.open(path, flags: LIBSSH2_FXF_READ, mode: 0)
            let bytes = try file.readAll()
            try file.close()
            return bytes
        }
    }

    public func stat(_ path: String) async throws -> RemoteFileInfo? {
        let box = self.box
        let host = self.host
        return try await thread.perform { () throws -> RemoteFileInfo? in try Self.sftp(box, host: host).stat(path) }
    }

    /// Runs `body` with this connection, then closes it, also when `body` throws. A close must be
    /// awaited: one left running on the session's thread while the process exits races OpenSSL's
    /// exit-time cleanup inside libssh2's disconnect (a SIGSEGV ThreadSanitizer caught).
    public func using<T>(_ body: (SSHConnection) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }

    public func close() async {
        let box = self.box
        _ = try? await thread.perform {
            box.sftp = nil
            for shell in box.shells.values { shell.close() }
            box.shells = [:]
            if let session = box.session {
                box.roundTrips = session.roundTrips
                _ = parc_session_disconnect(session.raw, "parc done")
            }
            box.session = nil
        }
    }

    // MARK: Helpers

    private static func sftp(_ box: SessionBox, host: String) throws(TransportError) -> SFTPSession {
        if let sftp = box.sftp { return sftp }
        guard let session = box.session else { throw .connectionLost(host: host, reason: box.lost ?? "the connection is closed") }
        let sftp = try SFTPSession(session: session)
        box.sftp = sftp
        return sftp
    }

    /// The command line, standard input and sudo exchange for `become`. A become password is
    /// never on the command line, and goes to standard input only in answer to sudo's own prompt
    /// (a marker unique to the call): a sudo that asks for nothing (NOPASSWD) never passes it on
    /// to the command. `-k` makes sudo ask even when a timestamp is cached.
    static func wrap(_ command: String, stdin: [UInt8]?, become: Become) -> (String, [UInt8]?, Channel.SudoExchange?) {
        func exchanged(_ user: String?, _ secret: Secret) -> (String, [UInt8]?, Channel.SudoExchange?) {
            let nonce = String(UInt64.random(in: 0..<UInt64.max), radix: 16)
            let prompt = "[parc-sudo-\(nonce)]", started = "[parc-started-\(nonce)]"
            let inner = "printf %s \(shellQuote(started)) >&2; exec /bin/sh -c \"$1\""
            let line = "sudo -k -S -p \(shellQuote(prompt))\(user.map { " -u \(shellQuote($0))" } ?? "") -- /bin/sh -c \(shellQuote(inner)) sh \(shellQuote(command))"
            return (line, stdin, Channel.SudoExchange(prompt: Array(prompt.utf8), started: Array(started.utf8), password: Array((secret.reveal() + "\n").utf8)))
        }
        switch become {
        case .none:
            return (command, stdin, nil)
        case .sudo:
            return ("sudo -n -- /bin/sh -c \(shellQuote(command))", stdin, nil)
        case .sudoPassword(let secret):
            return exchanged(nil, secret)
        case .sudoUser(let user, nil):
            return ("sudo -n -u \(shellQuote(user)) -- /bin/sh -c \(shellQuote(command))", stdin, nil)
        case .sudoUser(let user, let secret?):
            return exchanged(user, secret)
        }
    }

    /// Why sudo refused, from its own messages; nil when the command itself ran.
    static func becomeFailure(_ result: CommandResult) -> String? {
        let text = result.stderrText
        if result.exitStatus == 127 && text.contains("sudo: not found") { return "sudo is not installed on the device" }
        guard result.exitStatus == 1 else { return nil }
        let known = ["a password is required", "incorrect password", "Sorry, try again", "no password was provided",
                     "is not in the sudoers", "not allowed to execute", "a terminal is required", "sudo: command not found",
                     "sudo: not found"]
        guard let hit = known.first(where: { text.contains($0) }) else { return nil }
        return hit == "Sorry, try again" ? "incorrect password" : hit
    }
}

/// Checks on private key files before they are offered.
enum KeyFiles {
    /// Why `path` cannot be used, in plain words; nil when it looks usable.
    static func problem(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "cannot read the private key \(path)"
        }
        if isRSA(text) {
            return "\(path) is an RSA key: the SSH library parc uses (libssh2 1.10) signs RSA with SHA-1, which OpenSSH 8.8 and later refuse. Make an ed25519 key (ssh-keygen -t ed25519 -f FILE) and install its .pub on the device"
        }
        return nil
    }

    static func isRSA(_ text: String) -> Bool {
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return false }
        // openssh-key-v1\0, cipher, kdf, kdf options, key count, then the first public key blob.
        var bytes = Array(data)
        let magic = Array("openssh-key-v1\0".utf8)
        guard bytes.starts(with: magic) else { return false }
        bytes.removeFirst(magic.count)
        func string() -> [UInt8]? {
            guard bytes.count >= 4 else { return nil }
            let n = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            guard bytes.count >= 4 + n else { return nil }
            let s = Array(bytes[4..<(4 + n)])
            bytes.removeFirst(4 + n)
            return s
        }
        guard string() != nil, string() != nil, string() != nil, bytes.count >= 4 else { return false }
        bytes.removeFirst(4)
        guard let publicKey = string() else { return false }
        return HostKey.algorithmInBlob(publicKey) == "ssh-rsa"
    }
}
