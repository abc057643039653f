import Foundation
import InventoryStore
import Logging
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

/// Where the portal's notices go out: an SMTP server (the machine's own MTA, `smtp://127.0.0.1:25`,
/// which relays with TLS and authentication as it is set up to), and the sender's address.
public struct MailSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var from: String
    /// The first retry of a mail that could not go, then twice as long each time (at most an hour).
    public var firstRetry: TimeInterval = 30
    /// How often the outbox is looked at.
    public var interval: Duration = .seconds(2)
    public var timeout: TimeInterval = 20

    /// `smtp://HOST[:PORT]` (port 25 by default).
    public init(url: String, from: String) throws {
        guard let u = URLComponents(string: url), u.scheme == "smtp", let host = u.host, !host.isEmpty,
              u.path.isEmpty || u.path == "/", u.query == nil, u.user == nil else {
            throw AppError("--smtp takes smtp://HOST[:PORT] (the machine's mail server, e.g. smtp://127.0.0.1:25), not '\(url)'")
        }
        self.host = host
        self.port = u.port ?? 25
        do { self.from = try Account.validEmail(from) } catch { throw AppError("--mail-from: \(error)") }
    }
}

/// Plain SMTP (RFC 5321) to one server, one message at a time: what a local MTA takes.
public enum SMTP {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends one message (UTF-8 text; the subject encoded as RFC 2047 words).
    public static func send(to recipient: String, subject: String, body: String, settings: MailSettings) throws {
        let fd = try connect(settings.host, settings.port, timeout: settings.timeout)
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        func expect(_ codes: Set<Int>, after what: String) throws {
            // A reply is lines "NNN-text" ending with "NNN text".
            while true {
                guard let line = reader.line() else { throw Failure(description: "the mail server closed the connection after \(what)") }
                guard line.count >= 3, let code = Int(line.prefix(3)) else { throw Failure(description: "the mail server answered '\(line.prefix(200))' after \(what)") }
                if line.count > 3 && line[line.index(line.startIndex, offsetBy: 3)] == "-" { continue }
                guard codes.contains(code) else { throw Failure(description: "the mail server refused \(what): \(line.prefix(200))") }
                return
            }
        }
        func say(_ text: String) throws {
            let bytes = Array((text + "\r\n").utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "cannot write to the mail server: \(String(cString: strerror(errno)))") }
                sent += n
            }
        }
        try expect([220], after: "connecting")
        try say("EHLO parc")
        try expect([250], after: "EHLO")
        try say("MAIL FROM:<\(settings.from)>")
        try expect([250], after: "MAIL FROM")
        try say("RCPT TO:<\(recipient)>")
        try expect([250, 251], after: "RCPT TO <\(recipient)>")
        try say("DATA")
        try expect([354], after: "DATA")
        try say(message(to: recipient, subject: subject, body: body, from: settings.from))
        try say(".")
        try expect([250], after: "the message")
        try? say("QUIT")
    }

    /// The message as it goes after DATA: headers, then the text with its lines dot-stuffed.
    static func message(to recipient: String, subject: String, body: String, from: String) -> String {
        let date = Date().formatted(Date.VerbatimFormatStyle(format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
                                                                  locale: Locale(identifier: "en_US_POSIX"), timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
        let headers = [
            "From: parc <\(from)>", "To: <\(recipient)>", "Subject: \(encodedWord(subject))", "Date: \(date)",
            "Message-ID: <\(UUID().uuidString.lowercased())@parc>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let lines = body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + lines).joined(separator: "\r\n")
    }

    /// A header's text as RFC 2047 encoded words (UTF-8, base64), never a line break inside.
    static func encodedWord(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        // Words of at most 45 bytes of text each, cut between characters.
        var words: [String] = [], chunk = ""
        for c in clean {
            if chunk.utf8.count + String(c).utf8.count > 45 { words.append(chunk); chunk = "" }
            chunk.append(c)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    static func connect(_ host: String, _ port: Int, timeout: TimeInterval) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw Failure(description: "cannot resolve the mail server \(host)")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let a = p {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                lastError = String(cString: strerror(errno))
                close(fd)
            }
            p = a.pointee.ai_next
        }
        throw Failure(description: "cannot reach the mail server \(host):\(port) (\(lastError))")
    }

    struct LineReader {
        let fd: Int32
        var buffer: [UInt8] = []

        mutating func line() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    let raw = buffer[..<i]
                    buffer.removeSubrange(...i)
                    return String(decoding: raw.last == 13 ? raw.dropLast() : raw, as: UTF8.self)
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0, buffer.count < 65_536 else { return nil }
                buffer += chunk[..<n]
            }
        }
    }
}

/// The outbox of the portal's notices: written with the change that makes them due, sent from here,
/// retried (30 s, then twice as long each time, at most an hour apart) until they go. Never lost.
public enum MailOutbox {
    /// Sends every mail that is due, one after another; the counts sent and failed.
    @discardableResult
    public static func send(in workspace: Workspace, settings: MailSettings, baseURL: String?, now: Date = Date()) async -> (sent: Int, failed: Int) {
        let inventory = workspace.inventory
        guard let due = try? await inventory.reading({ try $0.dueMails(now: now) }), !due.isEmpty else { return (0, 0) }
        var sent = 0, failed = 0
        for mail in due {
            var body = mail.body
            if let link = mail.link {
                body += "\n\n" + (baseURL.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + link } ?? "Sur le portail : \(link)")
            }
            body += "\n\n-- \nparc, l'inventaire du groupement Fus@é. Ce message est envoyé automatiquement."
            do {
                let text = body
                try await offload { try SMTP.send(to: mail.recipient, subject: mail.subject, body: text, settings: settings) }
                try await inventory.writing { try $0.markMailSent(mail.id, at: Date()) }
                sent += 1
            } catch {
                let wait = min(settings.firstRetry * pow(2, Double(mail.attempts)), 3600)
                try? await inventory.writing { try $0.markMailFailed(mail.id, error: "\(error)", next: Date().addingTimeInterval(wait)) }
                workspace.logger.warning("mail not sent; retried later", metadata: ["mail": "\(mail.id)", "attempt": "\(mail.attempts + 1)", "error": "\(error)"])
                failed += 1
            }
        }
        return (sent, failed)
    }
}
