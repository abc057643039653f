import Foundation

/// What a command run on a device gave back. A command that fails is data, not an error.
public struct CommandResult: Sendable, Equatable {
    public var exitStatus: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The signal that ended the command, if one did (e.g. `KILL`).
    public var signal: String?

    public init(exitStatus: Int32, stdout: [UInt8], stderr: [UInt8], signal: String? = nil) {
        self.exitStatus = exitStatus
        self.stdout = stdout
        self.stderr = stderr
        self.signal = signal
    }

    public var succeeded: Bool { exitStatus == 0 && signal == nil }
    /// Standard output as UTF-8 text (invalid bytes replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A file's metadata on a device.
public struct RemoteFileInfo: Sendable, Equatable {
    public var size: UInt64
    /// Permission bits (e.g. 0o644), without the file type.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var isDirectory: Bool
    public var isSymlink: Bool
    public var modified: Date?

    public init(size: UInt64, permissions: UInt32, uid: UInt32, gid: UInt32, isDirectory: Bool, isSymlink: Bool, modified: Date?) {
        self.size = size
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.isDirectory = isDirectory
        self.isSymlink = isSymlink
        self.modified = modified
    }
}

/// Why talking to a device failed: one error type at the transport boundary, always naming the host.
public enum TransportError: Error, Sendable, Equatable {
    /// Nothing answers: refused, no route, name unknown.
    case unreachable(host: String, reason: String)
    /// An operation took longer than its bound.
    case timeout(host: String, operation: String, seconds: Double)
    /// The device refused every credential offered.
    case authenticationFailed(host: String, user: String, reason: String)
    /// The device's host key is not pinned and the policy does not accept new keys.
    case hostKeyUnknown(host: String, fingerprint: String)
    /// The device's host key differs from the pinned one: possibly another machine answering.
    case hostKeyChanged(host: String, expected: String, actual: String)
    /// A channel or file operation failed on a connection that is still up.
    case channelFailure(host: String, reason: String)
    /// The connection dropped during the run (the device went off, or left the network): the
    /// device is unreachable, like one that was off from the start.
    case connectionLost(host: String, reason: String)
    /// Privilege escalation (`become`) was refused.
    case becomeFailed(host: String, reason: String)
    /// A device that answered gave no answer to a command (or its shell) within the bound: the
    /// command never ended, or the device stalls. A failure of that device, not unreachable.
    case noAnswer(host: String, seconds: Double)

    public var host: String {
        switch self {
        case .unreachable(let h, _), .timeout(let h, _, _), .authenticationFailed(let h, _, _), .hostKeyUnknown(let h, _),
             .hostKeyChanged(let h, _, _), .channelFailure(let h, _), .connectionLost(let h, _), .becomeFailed(let h, _),
             .noAnswer(let h, _):
            return h
        }
    }

    /// Whether the device could not be reached at all (Ansible's "unreachable"), as opposed to failing.
    public var isUnreachable: Bool {
        switch self {
        case .unreachable, .timeout, .connectionLost: true
        default: false
        }
    }
}

extension TransportError: LocalizedError, CustomStringConvertible {
    public var errorDescription: String? { description }

    public var description: String { message.description }

    /// What happened, for a person, in the catalogue's languages (the system's own words for the
    /// cause are put in French when the catalogue knows them).
    public var message: Message {
        switch self {
        case .unreachable(let host, let reason):
            return "\(host): unreachable (\(SystemReason(reason))); check that the device is on and on the network, and its address and port in the inventory"
        case .timeout(let host, let operation, let seconds):
            return "\(host): no answer to \(operation) within \(String(format: "%g", seconds)) s; the device may be off or the network slow (raise --timeout)"
        case .authenticationFailed(let host, let user, let reason):
            return "\(host): authentication as \(user) failed (\(SystemReason(reason)))"
        case .hostKeyUnknown(let host, let fingerprint):
            return "\(host): unknown host key \(fingerprint); check it on the device (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then connect with --host-key-policy accept-new to pin it"
        case .hostKeyChanged(let host, let expected, let actual):
            return "\(host): HOST KEY CHANGED: pinned \(expected), device shows \(actual). Another machine may be answering at this address, or the device was reinstalled; check before re-pinning (parc device edit DEVICE --host-key '')"
        case .channelFailure(let host, let reason):
            return "\(host): connection failure (\(SystemReason(reason)))"
        case .connectionLost(let host, let reason):
            return "\(host): the connection dropped (\(SystemReason(reason))); the device went off or left the network, its remaining work is pending"
        case .noAnswer(let host, let seconds):
            return "\(host): the device gave no answer within \(String(format: "%g", seconds)) s (a command that never ends, or a stalled device); its remaining work was not done"
        case .becomeFailed(let host, let reason):
            return "\(host): could not become root with sudo (\(SystemReason(reason))); check the become password, or that the user may use sudo"
        }
    }
}

/// The cause of a network or SSH failure in the system's words ("connection refused at
/// 10.0.0.5:22"), with its French form when the catalogue knows its beginning.
public struct SystemReason: FrenchWord {
    public let english: String
    public init(_ english: String) { self.english = english }
    public var french: String {
        var text = english
        for (prefix, french) in FrenchCatalogue.systemReasons where text.lowercased().hasPrefix(prefix.lowercased()) {
            text = french + text.dropFirst(prefix.count)
            break
        }
        // The C library's words inside ("cannot resolve x: Name or service not known").
        for (phrase, french) in FrenchCatalogue.systemPhrases { text = text.replacingOccurrences(of: phrase, with: french) }
        return text
    }
}

/// A password or passphrase: printing it, logging it or putting it in an error shows a mask.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The clear value, for the one call that needs it (an authentication, sudo's standard input).
    public func reveal() -> String { value }

    public var description: String { "********" }
    public var debugDescription: String { "Secret(********)" }
}

/// How a command runs as root on a device.
public enum Become: Sendable, Equatable {
    /// Not as root.
    case none
    /// `sudo -n`: the user may use sudo without a password.
    case sudo
    /// `sudo -S` with a password given on standard input, never on the command line.
    case sudoPassword(Secret)
    /// As another user (`become_user`), with sudo's password when one is needed.
    case sudoUser(String, Secret?)
}

/// The connection to one device, as the provisioning engine uses it (like Ansible's connection
/// plugins): run one command on its own channel, run batches through the device's shell (files
/// travel through it too, see `Step.write`), count round trips, close.
///
/// Implementations throw only ``TransportError``. A command's non-zero exit status is a result.
public protocol Transport: AnyObject, Sendable {
    /// The device's name in messages (its host name or address).
    var host: String { get }

    /// Runs `command` with `/bin/sh -c` semantics; as root when `become` says so.
    func run(_ command: String, stdin: [UInt8]?, become: Become, timeout: Duration?) async throws -> CommandResult

    /// Runs `commands` in order in the device's shell for `become` (one shell per device and
    /// per way of becoming, kept for the whole run), sending them together: one round trip for
    /// the batch. A ``ShellCommand/isStep`` command runs only if no earlier step of the batch
    /// failed (its result is then nil), so that a change never follows a failed one.
    ///
    /// When the device stops answering part way, the results that arrived are kept and the error
    /// says why the rest did not (``BatchOutcome/interruption``).
    func batch(_ commands: [ShellCommand], become: Become, timeout: Duration?) async -> BatchOutcome

    /// Round trips waited on the device since authentication (0 where nothing counts them).
    func roundTrips() async -> Int

    /// Ends the session.
    func close() async
}

/// What a batch gave: a result per command that ran (nil: a step skipped after a failed one),
/// and, when the batch stopped short, why (the results then cover only what ran before).
public struct BatchOutcome: Sendable {
    public var results: [CommandResult?]
    public var interruption: TransportError?

    public init(results: [CommandResult?], interruption: TransportError? = nil) {
        self.results = results
        self.interruption = interruption
    }

    /// Every result, or the interruption thrown.
    public func complete() throws -> [CommandResult?] {
        if let interruption { throw interruption }
        return results
    }
}

/// One command for a device's shell: a script (`/bin/sh` syntax, run by bash), the bytes its
/// file descriptor 3 reads (`head -c N <&3`; standard input is /dev/null), and whether it is a
/// step (a change: skipped after a failed step of the same batch) or a read (always runs).
public struct ShellCommand: Sendable, Equatable {
    public var script: String
    public var input: [UInt8]
    public var isStep: Bool
    /// Starts a new group of steps: a failed step before it does not stop it (the items of a
    /// loop, each its own group, as Ansible runs every item).
    public var startsGroup: Bool
    public init(_ script: String, input: [UInt8] = [], isStep: Bool = false, startsGroup: Bool = false) {
        self.script = script
        self.input = input
        self.isStep = isStep
        self.startsGroup = startsGroup
    }
}

extension Transport {
    /// One command after the other through `run` (transports without a shell of their own): the
    /// input becomes file descriptor 3 through a temporary file.
    public func batch(_ commands: [ShellCommand], become: Become, timeout: Duration?) async -> BatchOutcome {
        var results: [CommandResult?] = []
        var failed = false
        for c in commands {
            if c.startsGroup { failed = false }
            if c.isStep && failed { results.append(nil); continue }
            let script = c.input.isEmpty ? "exec 3</dev/null; \(c.script)"
                : "t=$(mktemp) && cat > \"$t\" && exec 3<\"$t\" && rm -f -- \"$t\" && exec </dev/null && { \(c.script)\n}"
            let input = c.input.isEmpty ? nil : c.input
            let host = self.host
            // The bound holds here too, whatever `run` does with it.
            let r: Result<CommandResult, TransportError> = await withTaskGroup(of: Result<CommandResult, TransportError>?.self) { group in
                group.addTask {
                    do { return .success(try await self.run(script, stdin: input, become: become, timeout: timeout)) }
                    catch let e as TransportError { return .failure(e) }
                    catch { return .failure(.channelFailure(host: host, reason: "\(error)")) }
                }
                if let timeout {
                    group.addTask {
                        try? await Task.sleep(for: timeout)
                        return .failure(.noAnswer(host: host, seconds: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18))
                    }
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? .failure(.channelFailure(host: host, reason: "no answer"))
            }
            switch r {
            case .success(let result):
                if c.isStep && !result.succeeded { failed = true }
                results.append(result)
            case .failure(let error):
                return BatchOutcome(results: results, interruption: error)
            }
        }
        return BatchOutcome(results: results)
    }

    public func roundTrips() async -> Int { 0 }

    /// Runs one command in the device's shell.
    public func shell(_ script: String, input: [UInt8] = [], become: Become = .none, timeout: Duration? = nil) async throws -> CommandResult {
        try await batch([ShellCommand(script, input: input)], become: become, timeout: timeout).complete()[0]!
    }
}

extension Transport {
    public func run(_ command: String, stdin: [UInt8]? = nil, become: Become = .none) async throws -> CommandResult {
        try await run(command, stdin: stdin, become: become, timeout: nil)
    }
}

/// Quotes a word for a POSIX shell.
public func shellQuote(_ s: String) -> String {
    if !s.isEmpty && s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0)) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
