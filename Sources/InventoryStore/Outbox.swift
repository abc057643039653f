import Foundation
import GRDB
import ParcCore

/// An e-mail waiting in the outbox (or sent).
public struct OutgoingMail: Sendable, Equatable {
    public var id: Int64
    public var recipient: String
    public var subject: String
    public var body: String
    /// The portal's page it is about (a path: the sender puts the portal's address before it).
    public var link: String?
    public var attempts: Int
    public var lastError: String?
    public var sentAt: String?
}

extension InventoryReader {
    static func mail(_ row: Row) -> OutgoingMail {
        OutgoingMail(id: row["id"], recipient: row["recipient"], subject: row["subject"], body: row["body"], link: row["link"],
                     attempts: row["attempts"], lastError: row["lastError"], sentAt: row["sentAt"])
    }

    /// Mails not sent yet whose next attempt is due (oldest first).
    public func dueMails(now: Date, limit: Int = 50) throws -> [OutgoingMail] {
        try Row.fetchAll(db, sql: "SELECT * FROM mailOutbox WHERE sentAt IS NULL AND nextAttemptAt <= ? ORDER BY id LIMIT ?",
                         arguments: [now.timeIntervalSince1970, limit]).map(Self.mail)
    }

    /// Every mail of the outbox, newest first.
    public func mails(limit: Int = 200) throws -> [OutgoingMail] {
        try Row.fetchAll(db, sql: "SELECT * FROM mailOutbox ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.mail)
    }
}

extension InventoryTransaction {
    /// Puts a mail in the outbox, in this transaction: it goes if and only if the change that makes it due is written.
    func enqueueMail(to recipient: String, subject: String, body: String, link: String?) throws {
        try db.execute(sql: "INSERT INTO mailOutbox (recipient, subject, body, link, createdAt) VALUES (?, ?, ?, ?, ?)",
                       arguments: [recipient, subject, body, link, timestampText])
    }

    /// The addresses of the enabled accounts of these roles (and, for communes, of this member).
    func mailRecipients(roles: [AccountRole], memberId: Int64? = nil) throws -> [String] {
        let accounts = try Account.fetchAll(db, sql: "SELECT * FROM account WHERE disabled = 0 AND email IS NOT NULL ORDER BY login")
        return accounts.filter { a in roles.contains(a.role) && (a.role != .commune || a.memberId == memberId) }.compactMap(\.email)
    }

    public func markMailSent(_ id: Int64, at now: Date) throws {
        try db.execute(sql: "UPDATE mailOutbox SET sentAt = ?, attempts = attempts + 1, lastError = NULL WHERE id = ?",
                       arguments: [now.formatted(EventRecord.timestampFormat), id])
    }

    /// A failed attempt: tried again at `next`.
    public func markMailFailed(_ id: Int64, error: String, next: Date) throws {
        try db.execute(sql: "UPDATE mailOutbox SET attempts = attempts + 1, lastError = ?, nextAttemptAt = ? WHERE id = ?",
                       arguments: [String(error.prefix(500)), next.timeIntervalSince1970, id])
    }

    /// The notices of a problem's step, in French (the member's accounts, or the technicians).
    func noticeProblem(_ p: Problem, step: ProblemNotice) throws {
        let owner = p.member.flatMap { try? member($0) }
        let memberId = owner?.id
        let recipients = step == .reported ? try mailRecipients(roles: [.technician, .admin]) : try mailRecipients(roles: [.commune], memberId: memberId)
        guard !recipients.isEmpty else { return }
        let (subject, body) = ProblemNotice.text(step, p, memberName: owner?.name)
        for r in recipients { try enqueueMail(to: r, subject: subject, body: body, link: "/signalements/\(p.id)") }
    }
}
