import CLibSSH2
import Foundation
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TCP socket connected within a deadline; closed in `deinit`.
final class TCPSocket {
    let fd: Int32
    let host: String

    /// Connects to `address:port` (IPv4 or IPv6, every address the name resolves to, in order).
    init(address: String, port: Int, host: String, deadline: ContinuousClock.Instant, timeout: Duration) throws(TransportError) {
        self.host = host
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(address, String(port), &hints, &list)
        guard gai == 0, let first = list else {
            throw .unreachable(host: host, reason: "cannot resolve \(address): \(String(cString: gai_strerror(gai)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let ai = node {
            node = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if s < 0 { lastError = String(cString: strerror(errno)); continue }
            _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
            _ = fcntl(s, F_SETFD, FD_CLOEXEC)
            _ = parc_set_nodelay(s)
            var rc = connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen)
            if rc != 0 && errno == EINPROGRESS {
                do {
                    try Self.poll(fd: s, events: Int16(POLLOUT), deadline: deadline, host: host, operation: "connect to \(address):\(port)", timeout: timeout)
                } catch {
                    _ = Glibc.close(s)
                    throw error
                }
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len)
                rc = err == 0 ? 0 : -1
                errno = err
            }
            if rc == 0 {
                fd = s
                return
            }
            let code = errno
            lastError = code == ECONNREFUSED ? "connection refused at \(address):\(port)" : "\(String(cString: strerror(code))) (\(address):\(port))"
            _ = Glibc.close(s)
        }
        throw .unreachable(host: host, reason: lastError)
    }

    deinit { _ = Glibc.close(fd) }

    /// Waits until the socket is ready in the given directions, or throws `timeout` at the deadline.
    func wait(read: Bool, write: Bool, deadline: ContinuousClock.Instant, operation: String, timeout: Duration) throws(TransportError) {
        // Delayed ACKs cost ~40 ms per round trip on the first channel (FIELD-NOTES): ask for quick ACKs again before each wait.
        _ = parc_set_quickack(fd)
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        try Self.poll(fd: fd, events: events, deadline: deadline, host: host, operation: operation, timeout: timeout)
    }

    private static func poll(fd: Int32, events: Int16, deadline: ContinuousClock.Instant, host: String, operation: String,
                             timeout: Duration) throws(TransportError) {
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                throw .timeout(host: host, operation: operation, seconds: timeout.seconds)
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(clamping: Int64(remaining.seconds * 1000) + 1)
            let rc = Glibc.poll(&p, 1, ms)
            if rc > 0 { return }
            if rc < 0 && errno != EINTR {
                throw .channelFailure(host: host, reason: "poll: \(String(cString: strerror(errno)))")
            }
        }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
