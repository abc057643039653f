import CLibSSH2
import Foundation
import ParcCore

/// A shell kept open on a device for a whole run: one channel, one `sudo` (for a shell that
/// becomes root), then any number of commands through it.
///
/// The device runs a small bash loop. For each command parc sends a header line `NONCE N M G`,
/// the script (N bytes) and its input (M bytes, read by the script on file descriptor 3). The
/// loop runs the script in a subshell (standard input /dev/null), then prints `\nNONCE STATUS\n`
/// on standard output and `\nNONCE\n` on standard error. Standard output and standard error are
/// the channel's two streams, kept apart; bytes pass as they are. The nonce is random per command
/// and the script cannot see it (cleared in the subshell), so output that looks like a marker is
/// only output. G=1 marks a step: once a step of the batch failed, later steps are skipped
/// (status `-`); a header `R` starts a batch, or a new group of steps within one.
final class RemoteShell {
    let session: Session
    let channel: Channel
    let host: String
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private var ready = false
    private let readyLine: [UInt8]
    /// Set when the shell can no longer be trusted (it ended, or stalled): never used again.
    private(set) var broken: String?
    private var buffer = [CChar](repeating: 0, count: 64 * 1024)
    /// The exec request waits for the first batch (`pendingStart`), or was sent and its answer
    /// not read yet (`starting`).
    private var pendingStart = false
    private var starting = false
    private var startLine = ""
    /// The results of the last batch that arrived before it stopped short.
    private(set) var received: [CommandResult?] = []

    static let loop = """
        o=${LC_ALL-}; u=${LC_ALL+set}; export LC_ALL=C
        printf '%s\\n' "$1"
        # A command runs with the locale the shell had (the loop itself counts bytes, in C).
        run() { if [ -n "$u" ]; then LC_ALL=$o; else unset LC_ALL; fi; eval "$s"; }
        f=0
        while IFS=' ' read -r k n m g; do
          if [ "$k" = R ]; then f=0; continue; fi
          IFS= read -r -N "$n" s || exit 0
          if [ "$g" = 1 ] && [ "$f" = 1 ]; then
            if [ "$m" -gt 0 ]; then head -c "$m" >/dev/null; fi
            printf '\\n%s -\\n' "$k"; printf '\\n%s\\n' "$k" >&2; continue
          fi
          if [ "$m" -gt 0 ]; then
            head -c "$m" | { (k=; run) 3<&0 </dev/null; r=$?; ! IFS= read -r -N 1 _ || cat >/dev/null; exit $r; }
            r=${PIPESTATUS[1]}
          else
            (k=; run) 3</dev/null </dev/null; r=$?
          fi
          if [ "$g" = 1 ] && [ "$r" != 0 ]; then f=1; fi
          printf '\\n%s %d\\n' "$k" "$r"; printf '\\n%s\\n' "$k" >&2
        done
        """

    /// Opens the channel and starts the loop as `become` says. With a sudo password, waits for
    /// sudo's prompt (answered once) or for the loop to say it runs; otherwise nothing is awaited:
    /// the first batch follows at once and sudo's refusal shows when the shell ends.
    init(session: Session, host: String, become: Become, timeout: Duration) throws(TransportError) {
        self.session = session
        self.host = host
        channel = try Channel(session: session)
        let nonce = Self.nonce()
        readyLine = Array("parc-shell-\(nonce)\n".utf8)
        let bash = "/bin/bash -c \(shellQuote(Self.loop)) parc-shell \(shellQuote("parc-shell-\(nonce)"))"
        let line: String
        var password: [UInt8]? = nil
        var prompt: [UInt8] = []
        switch become {
        case .none: line = "exec " + bash
        case .sudo: line = "exec sudo -n -- " + bash
        case .sudoUser(let user, nil): line = "exec sudo -n -u \(shellQuote(user)) -- " + bash
        case .sudoPassword(let secret), .sudoUser(_, let secret?):
            var user: String? = nil
            if case .sudoUser(let u, _) = become { user = u }
            let p = "[parc-sudo-\(nonce)]"
            prompt = Array(p.utf8)
            password = Array((secret.reveal() + "\n").utf8)
            line = "exec sudo -k -S -p \(shellQuote(p))\(user.map { " -u \(shellQuote($0))" } ?? "") -- " + bash
        }
        startLine = line
        guard let password else {
            // The request goes out with the first batch, which follows it at once (the device
            // handles requests and data in order): one round trip for both (see `run`).
            pendingStart = true
            return
        }
        let rc = try session.retry("starting the device's shell", timeout: timeout) { parc_channel_exec(channel.raw, line, UInt32(line.utf8.count)) }
        guard rc == 0 else { throw session.failure("starting the device's shell", rc) }
        session.countRoundTrip()
        // The password goes only in answer to sudo's own prompt; a second prompt means it was wrong.
        let end = ContinuousClock.now + timeout
        var answered = false
        while !ready {
            var progressed = try readAvailable()
            if let r = Channel.find(prompt, in: err) {
                err.removeSubrange(r)
                if answered { throw TransportError.becomeFailed(host: host, reason: "incorrect password") }
                try write(password, until: end)
                answered = true
                session.countRoundTrip()
                progressed = true
            }
            takeReady()
            if ready { break }
            if libssh2_channel_eof(channel.raw) != 0 { throw ended() }
            if !progressed { try session.waitSocket(until: end, operation: "sudo on the device", timeout: timeout) }
        }
    }

    static func nonce() -> String {
        String(UInt64.random(in: 0..<UInt64.max), radix: 36) + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
    }

    /// Runs `commands` as one batch and returns their results (nil: a step skipped after a failed one).
    func exchange(_ commands: [ShellCommand], timeout: Duration) throws(TransportError) -> [CommandResult?] {
        received = []
        if let broken { throw TransportError.channelFailure(host: host, reason: broken) }
        do {
            return try run(commands, timeout: timeout)
        } catch {
            broken = "the device's shell is out of step after an earlier failure"
            throw error
        }
    }

    private func run(_ commands: [ShellCommand], timeout: Duration) throws(TransportError) -> [CommandResult?] {
        let end = ContinuousClock.now + timeout
        var payload: [UInt8] = Array("R 0 0 0\n".utf8)
        var nonces: [String] = []
        for c in commands {
            if c.script.utf8.contains(0) {
                throw TransportError.channelFailure(host: host, reason: "a command holds a NUL byte, which a shell script cannot carry (did a value from a device or a file hold one?)")
            }
            let nonce = "parc-end-" + Self.nonce()
            nonces.append(nonce)
            let script = c.script.isEmpty ? ":" : c.script
            if c.startsGroup { payload += Array("R 0 0 0\n".utf8) }
            payload += Array("\(nonce) \(script.utf8.count) \(c.input.count) \(c.isStep ? 1 : 0)\n".utf8)
            payload += Array(script.utf8)
            payload += c.input
        }
        if pendingStart {
            pendingStart = false
            // Send the request whole (waiting only for the socket to take it), not its answer.
            let end = ContinuousClock.now + timeout
            var rc = parc_channel_exec(channel.raw, startLine, UInt32(startLine.utf8.count))
            while rc == LIBSSH2_ERROR_EAGAIN && libssh2_session_block_directions(session.raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
                try session.waitSocket(until: end, operation: "starting the device's shell", timeout: timeout)
                rc = parc_channel_exec(channel.raw, startLine, UInt32(startLine.utf8.count))
            }
            if rc == LIBSSH2_ERROR_EAGAIN {
                starting = true
            } else {
                guard rc == 0 else { throw session.failure("starting the device's shell", rc) }
                session.countRoundTrip()
            }
        }
        // The batch (with the shell's start when it goes with it): one round trip.
        session.countRoundTrip()
        var results: [CommandResult?] = []
        var written = 0
        var outScan = 0, errScan = 0
        var pendingStatus: (status: Int32?, stdout: [UInt8])? = nil
        while results.count < commands.count {
            var progressed = false
            if written < payload.count {
                let n = payload.withUnsafeBufferPointer { p in
                    p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: payload.count) {
                        parc_channel_write(channel.raw, $0 + written, min(payload.count - written, 1 << 20))
                    }
                }
                if n > 0 { written += n; progressed = true }
                else if n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.failure("sending to the device's shell", Int32(n)) }
            }
            if starting {
                let rc = parc_channel_exec(channel.raw, startLine, UInt32(startLine.utf8.count))
                if rc != LIBSSH2_ERROR_EAGAIN {
                    guard rc == 0 else { throw session.failure("starting the device's shell", rc) }
                    starting = false
                    progressed = true
                }
            }
            if try readAvailable() { progressed = true }
            takeReady()
            // Parse as many results as are complete, in order.
            while ready && results.count < commands.count {
                let nonce = Array(nonces[results.count].utf8)
                if pendingStatus == nil {
                    guard let r = Self.find([10] + nonce + [32], in: out, from: max(0, outScan - nonce.count - 2)),
                          let eol = out[r.upperBound...].firstIndex(of: 10) else { outScan = out.count; break }
                    let word = String(decoding: out[r.upperBound..<eol], as: UTF8.self)
                    pendingStatus = (word == "-" ? nil : Int32(word) ?? -1, Array(out[..<r.lowerBound]))
                    out.removeSubrange(..<(eol + 1))
                    outScan = 0
                }
                guard let r = Self.find([10] + nonce + [10], in: err, from: max(0, errScan - nonce.count - 2)) else { errScan = err.count; break }
                let stderr = Array(err[..<r.lowerBound])
                err.removeSubrange(..<r.upperBound)
                errScan = 0
                if let status = pendingStatus!.status {
                    results.append(CommandResult(exitStatus: status, stdout: pendingStatus!.stdout, stderr: stderr))
                } else {
                    results.append(nil)
                }
                received = results
                pendingStatus = nil
                progressed = true
            }
            if results.count == commands.count { break }
            if libssh2_channel_eof(channel.raw) != 0 { throw ended() }
            if !progressed {
                do {
                    try session.waitSocket(until: end, operation: "the device's shell", timeout: timeout)
                } catch {
                    if case .timeout = error {
                        throw TransportError.noAnswer(host: host, seconds: timeout.seconds)
                    }
                    throw error
                }
            }
        }
        return results
    }

    /// Reads what both streams hold; whether anything came.
    private func readAvailable() throws(TransportError) -> Bool {
        var any = false
        for stream in [Int32(0), Int32(SSH_EXTENDED_DATA_STDERR)] {
            while true {
                let n = parc_channel_read(channel.raw, stream, &buffer, buffer.count)
                if n > 0 {
                    buffer.withUnsafeBufferPointer { p in
                        p.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: n) { b in
                            if stream == 0 { out.append(contentsOf: UnsafeBufferPointer(start: b, count: n)) }
                            else { err.append(contentsOf: UnsafeBufferPointer(start: b, count: n)) }
                        }
                    }
                    any = true
                    continue
                }
                if n < 0 && n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.failure("reading from the device's shell", Int32(n)) }
                break
            }
        }
        return any
    }

    private func takeReady() {
        guard !ready, out.count >= readyLine.count else { return }
        if let r = Self.find(readyLine, in: out, from: 0) {
            out.removeSubrange(..<r.upperBound)
            ready = true
        }
    }

    private func write(_ bytes: [UInt8], until end: ContinuousClock.Instant) throws(TransportError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { parc_channel_write(channel.raw, $0 + written, bytes.count - written) }
            }
            if n > 0 { written += n; continue }
            if n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.failure("writing to the device's shell", Int32(n)) }
            try session.waitSocket(until: end, operation: "writing to the device's shell", timeout: end - .now)
        }
    }

    /// The shell ended: sudo refused, or something killed it.
    private func ended() -> TransportError {
        broken = "the device's shell ended"
        let text = String(decoding: err, as: UTF8.self)
        let status = libssh2_channel_get_exit_status(channel.raw)
        if let why = SSHConnection.becomeFailure(CommandResult(exitStatus: status == 0 ? 1 : status, stdout: [], stderr: err)) {
            return .becomeFailed(host: host, reason: why)
        }
        let detail = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return .channelFailure(host: host, reason: "the device's shell ended unexpectedly\(detail.isEmpty ? "" : ": " + String(detail.suffix(300)))")
    }

    /// Closes the channel (best effort, bounded).
    func close() {
        _ = libssh2_channel_send_eof(channel.raw)
        _ = libssh2_channel_close(channel.raw)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        return haystack.withUnsafeBufferPointer { h -> Range<Int>? in
            while i <= last {
                if h[i] == first {
                    var j = 1
                    while j < needle.count && h[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i..<(i + needle.count) }
                }
                i += 1
            }
            return nil
        }
    }
}
