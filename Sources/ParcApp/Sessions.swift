import Foundation
import InventoryStore
import ParcCore

/// Who is asking the portal and the API, and the records of their sign-ins: sessions, API tokens,
/// failed guesses. Secrets arrive here as digests only.
public enum Sessions {
    /// The account of a live browser session (nil when unknown, expired or its account disabled).
    public static func session(digest: String, now: Date, in workspace: Workspace) async throws -> SessionInfo? {
        try await workspace.inventory.reading { r in try r.session(digest: digest, now: now) }
    }

    /// The account of a live API token, with its member's slug and, for a relay, the schools it serves.
    public static func token(digest: String, in workspace: Workspace) async throws -> (account: Account, memberSlug: String?, relaySchools: [String])? {
        try await workspace.inventory.reading { r in
            try r.tokenAccount(digest: digest).map {
                ($0.account, $0.memberSlug, $0.account.role == .relay ? try r.relaySchools($0.account) : [])
            }
        }
    }

    /// The account of this login, if any (a sign-in checks its password).
    public static func account(_ login: String, in workspace: Workspace) async throws -> Account? {
        try await workspace.inventory.reading { r in try? r.account(login) }
    }

    /// Times (seconds since 1970) of the sign-in failures since `since` for this login, and for this address.
    public static func failures(login: String, address: String, since: Date, in workspace: Workspace) async throws -> (login: [Double], address: [Double]) {
        try await workspace.inventory.reading { r in try r.loginFailures(login: login, address: address, since: since) }
    }

    public static func recordFailure(login: String, address: String, reason: String, at now: Date, in workspace: Workspace) async throws {
        try await workspace.inventory.acting(as: login.isEmpty ? "(empty)" : login).writing { tx in
            try tx.recordLoginFailure(login: login, address: address, reason: reason, at: now)
        }
    }

    public static func open(account: Account, digest: String, csrf: String, expiresAt: Date, address: String, at now: Date,
                            in workspace: Workspace) async throws {
        try await workspace.inventory.acting(as: account.login).writing { tx in
            try tx.openSession(account: account, digest: digest, csrf: csrf, expiresAt: expiresAt, address: address, at: now)
        }
    }

    public static func close(digest: String, account: Account, in workspace: Workspace) async throws {
        try await workspace.inventory.acting(as: account.login).writing { tx in try tx.closeSession(digest: digest, account: account) }
    }

    /// An account's own new password (its hash): every session of the account ends.
    public static func setPassword(_ login: String, hash: String, in workspace: Workspace) async throws {
        try await workspace.inventory.acting(as: login).writing { tx in try tx.setPassword(login, hash: hash) }
    }

    /// A token made with a password (`parc login`): only its digest is kept.
    public static func addToken(_ account: Account, name: String, digest: String, prefix: String, in workspace: Workspace) async throws -> APITokenInfo {
        try await workspace.inventory.acting(as: account.login).writing { tx in
            try tx.addToken(login: account.login, name: name, digest: digest, prefix: prefix)
        }
    }

    /// The token the request came with, revoked (`parc logout`).
    public static func revokeToken(digest: String, by account: Account, in workspace: Workspace) async throws -> APITokenInfo {
        try await workspace.inventory.acting(as: account.login).writing { tx in try tx.revokeToken(digest: digest) }
    }

    /// An administrator disables or enables an account (its sessions end when disabled).
    public static func setDisabled(_ login: String, _ disabled: Bool, by admin: Account, in workspace: Workspace) async throws {
        guard admin.role == .admin else { throw NotVisible() }
        try await workspace.inventory.acting(as: admin.login).writing { tx in try tx.setDisabled(login, disabled) }
    }
}

extension Workspace {
    /// A problem reported on a device the reporter may see.
    public func report(_ report: ProblemReport, by audience: Audience) async throws -> Problem {
        _ = try await view(as: audience) { v in try v.device(report.serial) }
        return try await inventory.acting(as: audience.account.login).writing { tx in try tx.reportProblem(report) }
    }
}
