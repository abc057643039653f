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
        session.countRoundTrip()
    }

    deinit { libssh2_channel_free(raw) }

    /// The exchange with `sudo -S -p PROMPT` when a become password is known: the password is sent
    /// only in answer to sudo's own prompt (once), and the command's standard input only once the
    /// command has said it started, so that a sudo that asks nothing never passes the password on.
    struct SudoExchange {
        var prompt: [UInt8]
        var started: [UInt8]
        var password: [UInt8]
    }

    /// Runs `command`, feeding `stdin`, and collects stdout, stderr and the exit status before `timeout`.
    func exec(_ command: String, stdin: [UInt8]?, timeout: Duration, sudo: SudoExchange? = nil) throws(TransportError) -> CommandResult {
        let operation = "running a command"
        let end = ContinuousClock.now + timeout
        let length = UInt32(command.utf8.count)
        let rc = try session.retry(operation, timeout: timeout) { parc_channel_exec(raw, command, length) }
        guard rc == 0 else { throw session.failure("starting the command", rc) }
        // The start, then the output (with the status and the close): two round trips.
        session.countRoundTrip()
        session.countRoundTrip()

        var out: [UInt8] = []
        var err: [UInt8] = []
        var input = stdin ?? []
        var written = 0
        var eofSent = false
        // With sudo: nothing is sent until sudo prompts (the password) or the command starts (its input).
        var waiting = sudo != nil
        var answered = false
        var buffer = [CChar](repeating: 0, count: 64 * 1024)
        while true {
            var progressed = false
            if waiting, let sudo {
                if !answered, let r = Self.find(sudo.prompt, in: err) {
                    err.removeSubrange(r)
                    input = sudo.password + input
                    answered = true
                    progressed = true
                } else if answered, let r = Self.find(sudo.prompt, in: err) {
                    // A second prompt: the password was wrong. Close input so sudo gives up.
                    err.removeSubrange(r)
                    input = Array(input[..<written])
                    waiting = false
                }
                if let r = Self.find(sudo.started, in: err) {
                    err.removeSubrange(r)
                    waiting = false
                    progressed = true
                }
            }
            let sendable = waiting ? (answered ? sudo!.password.count : 0) : input.count
            if !eofSent {
                if written < sendable {
                    let n = input.withUnsafeBufferPointer { p in
                        p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: input.count) {
                            parc_channel_write(raw, $0 + written, sendable - written)
                        }
                    }
                    if n > 0 { written += n; progressed = true }
                    else if n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.failure("sending standard input", Int32(n)) }
                }
                if !waiting, written == input.count {
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
            if libssh2_channel_eof(raw) != 0 {
                if waiting, let sudo {
                    // The end came with the last reads: the markers they hold are removed; if the
                    // command never started (sudo refused), its input is never sent.
                    if let r = Self.find(sudo.started, in: err) { err.removeSubrange(r) }
                    while let r = Self.find(sudo.prompt, in: err) { err.removeSubrange(r) }
                    waiting = false
                    input = Array(input[..<written])
                    continue
                }
                if eofSent { break }
            }
            if !progressed {
                try session.waitSocket(until: end, operation: "the command `\(Self.short(command))`", timeout: timeout)
            }
        }
        _ = try session.retry("closing the channel", timeout: max(.zero, end - .now) + .seconds(5)) { libssh2_channel_close(raw) }
        _ = try session.retry("closing the channel", timeout: max(.zero, end - .now) + .seconds(5)) { libssh2_channel_wait_closed(raw) }
        let status = libssh2_channel_get_exit_status(raw)
        return CommandResult(exitStatus: status, stdout: out, stderr: err, signal: exitSignal())
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? { RemoteShell.find(needle, in: haystack, from: 0) }

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
