import CLibSSH2
import Foundation
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

/// A libssh2 return code, with libssh2's own message. A struct rather than a closed enum, so that
/// codes parc does not name survive (as GRDB's `ResultCode` does).
public struct SSHCode: Equatable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = SSHCode(0)
    public static let eagain = SSHCode(LIBSSH2_ERROR_EAGAIN)
    public static let authenticationFailed = SSHCode(LIBSSH2_ERROR_AUTHENTICATION_FAILED)
    public static let publicKeyUnverified = SSHCode(LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
    public static let socketDisconnected = SSHCode(LIBSSH2_ERROR_SOCKET_DISCONNECT)
    public static let sftpProtocol = SSHCode(LIBSSH2_ERROR_SFTP_PROTOCOL)
    public static let fileError = SSHCode(LIBSSH2_ERROR_FILE)

    public var description: String { "libssh2 error \(rawValue)" }
}

enum LibSSH2 {
    /// `libssh2_init` once, before any thread uses libssh2.
    static let initialized: Bool = parc_crypto_keep_at_exit() == 1 && libssh2_init(0) == 0
}

/// One SSH session: the socket and the `LIBSSH2_SESSION` it carries, in non-blocking mode. Every
/// call is repeated while libssh2 says EAGAIN, waiting on the socket, until a deadline.
///
/// Used by one thread at a time (its connection's own thread); freed in `deinit`.
final class Session {
    let socket: TCPSocket
    let raw: OpaquePointer
    let host: String
    var operationTimeout: Duration
    let keepaliveInterval: Int32
    /// Keepalives are global requests: sending one during key exchange breaks it, so they start
    /// only once the session is authenticated.
    var keepaliveActive = false
    /// Round trips since authentication: each request parc sends and then waits on the device
    /// for (opening a channel, starting a command or the shell, a batch, a command's output).
    /// Requests sent together count once (the shell's start and its first batch).
    private(set) var roundTrips = 0

    init(socket: TCPSocket, host: String, operationTimeout: Duration, keepaliveInterval: Int32) throws(TransportError) {
        precondition(LibSSH2.initialized, "libssh2_init failed")
        guard let raw = parc_session_init() else {
            throw .channelFailure(host: host, reason: "libssh2 could not allocate a session")
        }
        self.socket = socket
        self.raw = raw
        self.host = host
        self.operationTimeout = operationTimeout
        self.keepaliveInterval = keepaliveInterval
        libssh2_session_set_blocking(raw, 0)
        if keepaliveInterval > 0 { libssh2_keepalive_config(raw, 1, UInt32(keepaliveInterval)) }
    }

    deinit {
        // Best effort: a dead peer must not hold the thread, so no retry loop here.
        _ = parc_session_disconnect(raw, "parc closing")
        libssh2_session_free(raw)
    }

    /// Starts counting round trips (after authentication).
    /// When keepalives may start (see `waitSocket`).
    var keepaliveFrom = ContinuousClock.now

    /// Starts counting round trips (after authentication); keepalives start one interval later.
    func resetRoundTrips() {
        keepaliveFrom = .now + .seconds(Int(keepaliveInterval))
        roundTrips = 0
    }

    /// One more request answered by the device.
    func countRoundTrip() { roundTrips += 1 }

    /// libssh2's message for the last error.
    func lastError() -> (code: SSHCode, message: String) {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(raw, &message, &length, 0)
        return (SSHCode(code), message.map { String(cString: $0) } ?? "unknown error")
    }

    func deadline(_ timeout: Duration? = nil) -> ContinuousClock.Instant { .now + (timeout ?? operationTimeout) }

    /// Waits for the socket in the directions libssh2 is blocked on; sends keepalives while waiting.
    func waitSocket(until deadline: ContinuousClock.Instant, operation: String, timeout: Duration) throws(TransportError) {
        let directions = libssh2_session_block_directions(raw)
        var slice = deadline
        // The first keepalive goes out one interval after authentication (libssh2 would send
        // one at once): a keepalive is for a silent peer, not for a run's first exchanges.
        if keepaliveActive && keepaliveInterval > 0 && ContinuousClock.now >= keepaliveFrom {
            var next: Int32 = 0
            _ = libssh2_keepalive_send(raw, &next)
            if next > 0 { slice = min(deadline, .now + .seconds(Int(next))) }
        }
        do {
            try socket.wait(read: directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0,
                            write: directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0,
                            deadline: slice, operation: operation, timeout: timeout)
        } catch {
            if case .timeout = error, slice < deadline { return }
            throw error
        }
    }

    /// Repeats an `Int32`-returning libssh2 call while it returns EAGAIN.
    @discardableResult
    func retry(_ operation: String, timeout: Duration? = nil, _ call: () -> Int32) throws(TransportError) -> Int32 {
        let limit = timeout ?? operationTimeout
        let end = deadline(limit)
        while true {
            let rc = call()
            if rc != LIBSSH2_ERROR_EAGAIN { return rc }
            try waitSocket(until: end, operation: operation, timeout: limit)
        }
    }

    /// Repeats a pointer-returning libssh2 call while it returns NULL with EAGAIN.
    func retryPointer(_ operation: String, timeout: Duration? = nil, _ call: () -> OpaquePointer?) throws(TransportError) -> OpaquePointer? {
        let limit = timeout ?? operationTimeout
        let end = deadline(limit)
        while true {
            if let p = call() { return p }
            if libssh2_session_last_errno(raw) != LIBSSH2_ERROR_EAGAIN { return nil }
            try waitSocket(until: end, operation: operation, timeout: limit)
        }
    }

    /// A channel or transport failure naming the operation and libssh2's message.
    func failure(_ operation: String, _ rc: Int32? = nil) -> TransportError {
        let (code, message) = lastError()
        if (rc ?? code.rawValue) == LIBSSH2_ERROR_SOCKET_DISCONNECT || (rc ?? code.rawValue) == LIBSSH2_ERROR_SOCKET_RECV
            || (rc ?? code.rawValue) == LIBSSH2_ERROR_SOCKET_SEND {
            return .connectionLost(host: host, reason: "\(operation): \(message)")
        }
        return .channelFailure(host: host, reason: "\(operation): \(message) (libssh2 \(rc ?? code.rawValue))")
    }

    // MARK: Handshake and host key

    func handshake(preferredHostKeyAlgorithms: [String], timeout: Duration) throws(TransportError) {
        if !preferredHostKeyAlgorithms.isEmpty {
            let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
            let order = preferredHostKeyAlgorithms.filter(supported.contains) + supported.filter { !preferredHostKeyAlgorithms.contains($0) }
            _ = libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
        }
        let rc = try retry("SSH handshake", timeout: timeout) { libssh2_session_handshake(raw, socket.fd) }
        if rc != 0 {
            let (_, message) = lastError()
            throw .unreachable(host: host, reason: "SSH handshake failed: \(message); is an SSH server listening there?")
        }
    }

    /// The key the server presented during the handshake.
    func serverHostKey() throws(TransportError) -> HostKey {
        var length = 0
        var type: Int32 = 0
        guard let pointer = libssh2_session_hostkey(raw, &length, &type), length > 0 else {
            throw failure("reading the host key")
        }
        let blob = Array(UnsafeRawBufferPointer(start: pointer, count: length).bindMemory(to: UInt8.self))
        let algorithm = HostKey.algorithmInBlob(blob) ?? "unknown"
        return HostKey(algorithm: algorithm, blob: blob)
    }

    // MARK: Authentication

    var isAuthenticated: Bool { libssh2_userauth_authenticated(raw) != 0 }

    /// The methods the server accepts for `user` (also a first round trip that some servers need).
    func authMethods(user: String) throws(TransportError) -> [String] {
        let end = deadline()
        while true {
            if let list = libssh2_userauth_list(raw, user, UInt32(user.utf8.count)) {
                return String(cString: list).split(separator: ",").map(String.init)
            }
            if isAuthenticated { return [] }
            if libssh2_session_last_errno(raw) != LIBSSH2_ERROR_EAGAIN { throw failure("asking the authentication methods") }
            try waitSocket(until: end, operation: "authentication", timeout: operationTimeout)
        }
    }

    func authenticate(user: String, keyFile: String, passphrase: Secret?) throws(TransportError) -> Int32 {
        try retry("public-key authentication") {
            parc_userauth_publickey_fromfile(raw, user, UInt32(user.utf8.count), keyFile, passphrase?.reveal())
        }
    }

    func authenticate(user: String, password: Secret) throws(TransportError) -> Int32 {
        let clear = password.reveal()
        return try retry("password authentication") {
            parc_userauth_password(raw, user, UInt32(user.utf8.count), clear, UInt32(clear.utf8.count))
        }
    }
}
