import Foundation
import GRDB
import ParcCore

// The portal's accounts, sessions, API tokens and sign-in failures. Passwords arrive here already
// hashed (bcrypt, by the web layer); sessions and tokens are stored as SHA-256 digests of their
// secret, so a copy of the database does not let anyone sign in.

extension AccountRole: DatabaseValueConvertible {}
extension ProblemKind: DatabaseValueConvertible {}
extension ProblemState: DatabaseValueConvertible {}
extension DocumentKind: DatabaseValueConvertible {}

extension Account: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "account"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension InventoryReader {
    /// The account whose login is `login` (case-insensitive).
    public func account(_ login: String) throws -> Account {
        guard let a = try Account.fetchOne(db, sql: "SELECT * FROM account WHERE login = ?", arguments: [Account.lookupKey(login)]) else {
            throw InventoryError.notFound(entity: "account", key: login, hint: "list them with `parc user list`")
        }
        return a
    }

    /// The schools (UAI) a relay account serves, sorted.
    public func relaySchools(_ account: Account) throws -> [String] {
        guard let id = account.id else { return [] }
        return try String.fetchAll(db, sql: """
            SELECT school.uai FROM accountSchool JOIN school ON school.id = accountSchool.schoolId
            WHERE accountSchool.accountId = ? ORDER BY school.uai
            """, arguments: [id])
    }

    public func accounts() throws -> [Account] {
        try Account.fetchAll(db, sql: "SELECT * FROM account ORDER BY login")
    }

    /// The account of a live session (nil when unknown, expired or its account disabled).
    public func session(digest: String, now: Date) throws -> SessionInfo? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT a.*, s.csrf AS sessionCsrf, s.expiresAt AS sessionExpiresAt, m.slug AS memberSlug, m.name AS memberName
            FROM webSession s JOIN account a ON a.id = s.accountId LEFT JOIN member m ON m.id = a.memberId
            WHERE s.digest = ? AND s.expiresAt > ? AND a.disabled = 0
            """), arguments: [digest, now.timeIntervalSince1970]) else { return nil }
        var info = SessionInfo(account: try Account(row: row), memberSlug: row["memberSlug"], csrf: row["sessionCsrf"],
                               expiresAt: Date(timeIntervalSince1970: row["sessionExpiresAt"]))
        info.memberName = row["memberName"]
        return info
    }

    /// The account of a live API token, with its member's slug (nil when unknown, revoked or its account disabled).
    public func tokenAccount(digest: String) throws -> (account: Account, memberSlug: String?)? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT a.*, m.slug AS memberSlug FROM apiToken t JOIN account a ON a.id = t.accountId LEFT JOIN member m ON m.id = a.memberId
            WHERE t.digest = ? AND t.revokedAt IS NULL AND a.disabled = 0
            """), arguments: [digest]) else { return nil }
        return (try Account(row: row), row["memberSlug"])
    }

    public func tokens(login: String? = nil) throws -> [APITokenInfo] {
        var sql = "SELECT t.id, a.login, t.name, t.prefix, t.createdAt, t.revokedAt FROM apiToken t JOIN account a ON a.id = t.accountId"
        var args: StatementArguments = []
        if let login {
            sql += " WHERE a.id = ?"
            args = [try account(login).id!]
        }
        return try Row.fetchAll(db, sql: sql + " ORDER BY a.login, t.id", arguments: args).map {
            APITokenInfo(id: $0["id"], login: $0["login"], name: $0["name"], prefix: $0["prefix"], createdAt: $0["createdAt"], revokedAt: $0["revokedAt"])
        }
    }

    /// Times (seconds since 1970) of the sign-in failures since `since` for this login, and for this address.
    public func loginFailures(login: String, address: String, since: Date) throws -> (login: [Double], address: [Double]) {
        let t = since.timeIntervalSince1970
        return (try Double.fetchAll(db, sql: "SELECT at FROM loginFailure WHERE login = ? AND at > ? ORDER BY at", arguments: [Account.lookupKey(login), t]),
                try Double.fetchAll(db, sql: "SELECT at FROM loginFailure WHERE address = ? AND at > ? ORDER BY at", arguments: [address, t]))
    }
}

extension InventoryTransaction {
    /// Adds an account. A commune account names its member; others name none.
    @discardableResult
    public func addAccount(login rawLogin: String, role: AccountRole, member memberRef: String?, passwordHash: String,
                           schools schoolRefs: [String] = [], email rawEmail: String? = nil, displayName rawName: String? = nil) throws -> Account {
        let login = try Account.validLogin(rawLogin)
        var email: String? = nil, displayName: String? = nil
        do {
            email = try rawEmail.map { raw throws(InvalidValue) in try Account.validEmail(raw) }
            displayName = try rawName.map { raw throws(InvalidValue) in try Account.validName(raw) }
        } catch { throw InventoryError.invalid(error) }
        if (try? account(login)) != nil {
            throw InventoryError.duplicate(entity: "account", field: "login", value: login, holder: "another account")
        }
        var memberId: Int64? = nil
        switch (role, memberRef) {
        case (.commune, nil):
            throw InventoryError.invalid(InvalidValue(field: "member", value: "", problem: "a commune account belongs to one member: add --member SLUG"))
        case (.commune, let ref?):
            memberId = try member(ref).id
        case (_, let ref?):
            throw InventoryError.invalid(InvalidValue(field: "member", value: ref, problem: "only commune accounts belong to a member; a \(role.rawValue) sees them all"))
        case (_, nil):
            break
        }
        // A relay serves the devices of its schools, and only a relay names schools.
        if role == .relay && schoolRefs.isEmpty {
            throw InventoryError.invalid(InvalidValue(field: "school", value: "", problem: "a relay serves the devices of its schools: add --school UAI (once per school)"))
        }
        if role != .relay, let first = schoolRefs.first {
            throw InventoryError.invalid(InvalidValue(field: "school", value: first, problem: "only relay accounts name schools; a \(role.rawValue) account does not"))
        }
        let schools = try schoolRefs.map { try school($0) }
        var a = Account(login: login, role: role, memberId: memberId, passwordHash: passwordHash, createdAt: timestampText,
                        email: email, displayName: displayName)
        try a.insert(db)
        for s in schools {
            try db.execute(sql: "INSERT OR IGNORE INTO accountSchool (accountId, schoolId) VALUES (?, ?)", arguments: [a.id!, s.id!])
        }
        var changes = [FieldChange(field: "login", old: nil, new: login), FieldChange(field: "role", old: nil, new: role.rawValue)]
        if let memberId { changes.append(FieldChange(field: "member", old: nil, new: try memberLabel(memberId))) }
        if !schools.isEmpty { changes.append(FieldChange(field: "schools", old: nil, new: schools.map(\.uai).joined(separator: ", "))) }
        if let email { changes.append(FieldChange(field: "email", old: nil, new: email)) }
        if let displayName { changes.append(FieldChange(field: "name", old: nil, new: displayName)) }
        try log(entity: "account", id: a.id!, key: login, action: .create, changes: changes)
        return a
    }

    /// Replaces an account's password hash and ends its sessions.
    public func setPassword(_ login: String, hash: String) throws {
        let a = try account(login)
        try db.execute(sql: "UPDATE account SET passwordHash = ? WHERE id = ?", arguments: [hash, a.id!])
        try db.execute(sql: "DELETE FROM webSession WHERE accountId = ?", arguments: [a.id!])
        try log(entity: "account", id: a.id!, key: a.login, action: .update, changes: [FieldChange(field: "password", old: "(hidden)", new: "(changed)")])
    }

    /// Disables (or enables again) an account; disabling ends its sessions and stops its tokens.
    public func setDisabled(_ login: String, _ disabled: Bool) throws {
        let a = try account(login)
        guard a.disabled != disabled else { return }
        try db.execute(sql: "UPDATE account SET disabled = ? WHERE id = ?", arguments: [disabled, a.id!])
        if disabled { try db.execute(sql: "DELETE FROM webSession WHERE accountId = ?", arguments: [a.id!]) }
        try log(entity: "account", id: a.id!, key: a.login, action: .update,
                changes: [FieldChange(field: "disabled", old: a.disabled ? "yes" : "no", new: disabled ? "yes" : "no")])
    }

    /// Removes an account, its sessions and its tokens.
    public func removeAccount(_ login: String) throws {
        let a = try account(login)
        _ = try a.delete(db)
        try log(entity: "account", id: a.id!, key: a.login, action: .delete,
                changes: [FieldChange(field: "login", old: a.login, new: nil), FieldChange(field: "role", old: a.role.rawValue, new: nil)])
    }

    /// Records a session (by the digest of its secret) and the sign-in in the audit log.
    /// `at`: the server's clock (the one that decides when the session expires).
    public func openSession(account: Account, digest: String, csrf: String, expiresAt: Date, address: String, at: Date) throws {
        try db.execute(sql: "DELETE FROM webSession WHERE expiresAt <= ?", arguments: [at.timeIntervalSince1970])
        try db.execute(sql: "INSERT INTO webSession (digest, accountId, csrf, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?)",
                       arguments: [digest, account.id!, csrf, at.timeIntervalSince1970, expiresAt.timeIntervalSince1970])
        try db.execute(sql: "DELETE FROM loginFailure WHERE login = ?", arguments: [account.login])
        try log(entity: "account", id: account.id!, key: account.login, action: .signIn, changes: [FieldChange(field: "address", old: nil, new: address)])
    }

    /// Ends a session (sign-out).
    public func closeSession(digest: String, account: Account) throws {
        try db.execute(sql: "DELETE FROM webSession WHERE digest = ?", arguments: [digest])
        try log(entity: "account", id: account.id!, key: account.login, action: .signOut, changes: [])
    }

    /// Records a refused sign-in: for throttling, and in the audit log (the login as typed, never the password).
    /// `at`: the server's clock (the one throttling reads).
    public func recordLoginFailure(login: String, address: String, reason: String, at: Date) throws {
        let shown = Account.lookupKey(login)
        try db.execute(sql: "INSERT INTO loginFailure (login, address, at) VALUES (?, ?, ?)", arguments: [shown, address, at.timeIntervalSince1970])
        try db.execute(sql: "DELETE FROM loginFailure WHERE at < ?", arguments: [at.timeIntervalSince1970 - 86_400])
        let id: Int64 = (try? account(shown))?.id ?? 0
        try log(entity: "account", id: id, key: shown, action: .signInFailed,
                changes: [FieldChange(field: "address", old: nil, new: address), FieldChange(field: "reason", old: nil, new: reason)])
    }

    /// Records an API token (by the digest of its secret).
    @discardableResult
    public func addToken(login: String, name: String, digest: String, prefix: String) throws -> APITokenInfo {
        let a = try account(login)
        let shownName = try TextRules.line(name, field: "name", max: 100)
        try db.execute(sql: "INSERT INTO apiToken (accountId, name, digest, prefix, createdAt) VALUES (?, ?, ?, ?, ?)",
                       arguments: [a.id!, shownName, digest, prefix, timestampText])
        let id = db.lastInsertedRowID
        try log(entity: "account", id: a.id!, key: a.login, action: .update, changes: [FieldChange(field: "token", old: nil, new: "\(shownName) (\(prefix)…)")])
        return APITokenInfo(id: id, login: a.login, name: shownName, prefix: prefix, createdAt: timestampText, revokedAt: nil)
    }

    /// Revokes the token whose secret has this digest (the one a request came with).
    public func revokeToken(digest: String) throws -> APITokenInfo {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM apiToken WHERE digest = ? AND revokedAt IS NULL", arguments: [digest]) else {
            throw InventoryError.notFound(entity: "token", key: "(this one)", hint: "it was revoked already")
        }
        return try revokeToken(String(id))
    }

    /// Revokes a token, by its number or its prefix.
    public func revokeToken(_ ref: String) throws -> APITokenInfo {
        let rows = try Row.fetchAll(db, sql: "SELECT t.id, a.id AS accountId, a.login, t.name, t.prefix FROM apiToken t JOIN account a ON a.id = t.accountId WHERE t.revokedAt IS NULL AND (CAST(t.id AS TEXT) = ?1 OR t.prefix = ?1)", arguments: [ref.trimmed])
        guard rows.count == 1, let row = rows.first else {
            throw rows.isEmpty
                ? InventoryError.notFound(entity: "token", key: ref, hint: "give a live token's number or prefix from `parc token list`")
                : InventoryError.ambiguous(entity: "token", key: ref, candidates: rows.map { "#\($0["id"] as Int64)" }, hint: "give its number")
        }
        try db.execute(sql: "UPDATE apiToken SET revokedAt = ? WHERE id = ?", arguments: [timestampText, row["id"] as Int64])
        try log(entity: "account", id: row["accountId"], key: row["login"], action: .update,
                changes: [FieldChange(field: "token", old: "\(row["name"] as String) (\(row["prefix"] as String)…)", new: "revoked")])
        return APITokenInfo(id: row["id"], login: row["login"], name: row["name"], prefix: row["prefix"], createdAt: "", revokedAt: timestampText)
    }
}
