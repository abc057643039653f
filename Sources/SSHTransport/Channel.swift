import CLibSSH2
import Foundation
import ParcCore

/// A session channel running one command. Holds its session (never its raw pointer); freed in `deinit`.
final class Channel {
    let session: Session
    let raw: OpaquePointer

    init(session: Session) throws(TransportError) {
        self.session = session
        guard let raw = try session.retryPointer("opening a channel", { parc_channel_open_session(session.raw) }) else {
            throw session.failure("opening a channel")
        }
        self.raw = raw
    }

    deinit { libssh2_channel_free(raw) }

    /// Runs `command`, feeding `stdin`, and collects stdout, stderr and the exit status before `timeout`.
    func exec(_ command: String, stdin: [UInt8]?, timeout: Duration) throws(TransportError) -> CommandResult {
        let operation = "running a command"
        let end = ContinuousClock.now + timeout
        let length = UInt32(command.utf8.count)
        let rc = try session.retry(operation, timeout: timeout) { parc_channel_exec(raw, command, length) }
        guard rc == 0 else { throw session.failure("starting the command", rc) }

        var out: [UInt8] = []
        var err: [UInt8] = []
        let input = stdin ?? []
        var written = 0
        var eofSent = false
        var buffer = [CChar](repeating: 0, count: 64 * 1024)
        while true {
            var progressed = false
            if !eofSent {
                if written < input.count {
                    let n = input.withUnsafeBufferPointer { p in
                        p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: input.count) {
                            parc_channel_write(raw, $0 + written, input.count - written)
                        }
                    }
                    if n > 0 { written += n; progressed = true }
                    else if n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.failure("sending standard input", Int32(n)) }
                }
                if written == input.count {
                    let e = libssh2_channel_send_eof(raw)
                    if e == 0 { eofSent = true; progressed = true }
                    else if e != LIBSSH2_ERROR_EAGAIN { throw session.failure("closing standard input", e) }
                }
            }
            for (stream, sink) in [(Int32(0), 0), (Int32(SSH_EXTENDED_DATA_STDERR), 1)] {
                while true {
                    let n = parc_channel_read(raw, stream, &buffer, buffer.count)
                    if n > 0 {
                        let bytes = buffer[0..<n].map { UInt8(bitPattern: $0) }
                        if sink == 0 { out.append(contentsOf: bytes) } else { err.append(contentsOf: bytes) }
                        progressed = true
                        continue
                    }
                    if n < 0 && n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.failure("reading the command's output", Int32(n)) }
                    break
                }
            }
            if libssh2_channel_eof(raw) != 0 && eofSent { break }
            if !progressed {
                try session.waitSocket(until: end, operation: "the command `\(Self.short(command))`", timeout: timeout)
            }
        }
        _ = try session.retry("closing the channel", timeout: max(.zero, end - .now) + .seconds(5)) { libssh2_channel_close(raw) }
        _ = try session.retry("closing the channel", timeout: max(.zero, end - .now) + .seconds(5)) { libssh2_channel_wait_closed(raw) }
        let status = libssh2_channel_get_exit_status(raw)
        return CommandResult(exitStatus: status, stdout: out, stderr: err, signal: exitSignal())
    }

    private func exitSignal() -> String? {
        var signal: UnsafeMutablePointer<CChar>?
        var length = 0
        _ = libssh2_channel_get_exit_signal(raw, &signal, &length, nil, nil, nil, nil)
        guard let signal else { return nil }
        defer { libssh2_free(session.raw, signal) }
        return length > 0 ? String(cString: signal) : nil
    }

    /// The start of a command, for messages (never its standard input).
    static func short(_ command: String) -> String {
        command.count > 60 ? String(command.prefix(57)) + "…" : command
    }
}
