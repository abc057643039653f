import Foundation
import InventoryStore
import ParcCore

// The portal's accounts and tokens (administrators), the problems communes report and the
// documents they read: the operations behind `parc user …`, `parc token …`, `parc problem …` and
// `parc document …`. Passwords never travel: the command line sends their bcrypt hash; a token's
// secret never travels either: the command line makes it and sends its digest.

public enum AccountOps {
    public struct Log: InventoryOperation {
        public static let name = "account.log"
        public static let summary = "Sign-ins, refused sign-ins and account changes, newest first (as `parc user log`)"
        public static let adminOnly = true
        public var login: String?
        public var limit: Int
        public init(login: String?, limit: Int) { (self.login, self.limit) = (login, limit) }
        public func perform(in workspace: Workspace) async throws -> [AuditEvent] {
            try await workspace.inventory.reading { [login, limit] in try $0.events(entity: "account", key: login, limit: limit) }
        }
    }

    public struct Add: InventoryOperation {
        public static let name = "account.add"
        public static let summary = "Add an account with its password's hash; a relay's has none (as `parc user add`)"
        public static let adminOnly = true
        public var login: String
        public var role: AccountRole
        public var member: String?
        public var schools: [String]
        public var passwordHash: String
        public var email: String?
        public var displayName: String?
        public init(login: String, role: AccountRole, member: String?, schools: [String], passwordHash: String, email: String? = nil, displayName: String? = nil) {
            (self.login, self.role, self.member, self.schools, self.passwordHash) = (login, role, member, schools, passwordHash)
            (self.email, self.displayName) = (email, displayName)
        }
        public func perform(in workspace: Workspace) async throws -> Account {
            // A relay never signs in with a password: no hash matches "!".
            let hash = role == .relay ? "!" : passwordHash
            guard hash == "!" || hash.hasPrefix("$2") else { throw AppError("a password is sent as its bcrypt hash") }
            return try await workspace.inventory.writing { tx in
                if (try? tx.account(login)) != nil { throw AppError("an account '\(login)' already exists") }
                return try tx.addAccount(login: login, role: role, member: member, passwordHash: hash, schools: schools, email: email, displayName: displayName)
            }
        }
    }

    /// An account with the slug of the member it sees.
    public struct Row: Codable, Sendable {
        public var account: Account
        public var member: String?
    }

    public struct List: InventoryOperation {
        public static let name = "account.list"
        public static let summary = "The accounts (as `parc user list`)"
        public static let adminOnly = true
        public init() {}
        public func perform(in workspace: Workspace) async throws -> [Row] {
            try await workspace.inventory.reading { r in
                let members = Dictionary(uniqueKeysWithValues: try r.members().map { ($0.id!, $0.slug) })
                return try r.accounts().map { Row(account: $0, member: $0.memberId.flatMap { members[$0] }) }
            }
        }
    }

    public struct Show: InventoryOperation {
        public static let name = "account.show"
        public static let summary = "One account (as `parc user passwd` checks it before asking the password)"
        public static let adminOnly = true
        public var login: String
        public init(login: String) { self.login = login }
        public func perform(in workspace: Workspace) async throws -> Account {
            try await workspace.inventory.reading { [login] in try $0.account(login) }
        }
    }

    public struct SetPassword: InventoryOperation {
        public static let name = "account.password"
        public static let summary = "Set an account's password (its hash); its sessions end (as `parc user passwd`)"
        public static let adminOnly = true
        public var login: String
        public var passwordHash: String
        public init(login: String, passwordHash: String) { (self.login, self.passwordHash) = (login, passwordHash) }
        public func perform(in workspace: Workspace) async throws -> Account {
            guard passwordHash.hasPrefix("$2") else { throw AppError("a password is sent as its bcrypt hash") }
            return try await workspace.inventory.writing { [login, passwordHash] tx in
                let account = try tx.account(login)
                try tx.setPassword(account.login, hash: passwordHash)
                return account
            }
        }
    }

    public struct SetDisabled: InventoryOperation {
        public static let name = "account.disabled"
        public static let summary = "Disable an account (it cannot sign in, its sessions and tokens stop) or enable it again (as `parc user disable|enable`)"
        public static let adminOnly = true
        public var login: String
        public var disabled: Bool
        public init(login: String, disabled: Bool) { (self.login, self.disabled) = (login, disabled) }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { [login, disabled] in try $0.setDisabled(login, disabled) }
            return Done()
        }
    }

    public struct Remove: InventoryOperation {
        public static let name = "account.remove"
        public static let summary = "Remove an account, its sessions and its tokens (as `parc user remove`)"
        public static let adminOnly = true
        public var login: String
        public init(login: String) { self.login = login }
        public func perform(in workspace: Workspace) async throws -> Done {
            try await workspace.inventory.writing { [login] in try $0.removeAccount(login) }
            return Done()
        }
    }
}

public enum TokenOps {
    public struct Add: InventoryOperation {
        public static let name = "token.add"
        public static let summary = "Record an API token for an account by its digest (as `parc token add`, which shows the secret once)"
        public static let adminOnly = true
        public var login, name, digest, prefix: String
        public init(login: String, name: String, digest: String, prefix: String) { (self.login, self.name, self.digest, self.prefix) = (login, name, digest, prefix) }
        public func perform(in workspace: Workspace) async throws -> APITokenInfo {
            try await workspace.inventory.writing { [login, name, digest, prefix] in try $0.addToken(login: login, name: name, digest: digest, prefix: prefix) }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "token.list"
        public static let summary = "API tokens, their prefix never their secret (as `parc token list`)"
        public static let adminOnly = true
        public var login: String?
        public init(login: String?) { self.login = login }
        public func perform(in workspace: Workspace) async throws -> [APITokenInfo] {
            try await workspace.inventory.reading { [login] in try $0.tokens(login: login) }
        }
    }

    public struct Revoke: InventoryOperation {
        public static let name = "token.revoke"
        public static let summary = "Revoke a token by its number or prefix (as `parc token revoke`)"
        public static let adminOnly = true
        public var token: String
        public init(_ token: String) { self.token = token }
        public func perform(in workspace: Workspace) async throws -> APITokenInfo {
            try await workspace.inventory.writing { [token] in try $0.revokeToken(token.hasSuffix("…") ? String(token.dropLast()) : token) }
        }
    }
}

public enum ProblemOps {
    public struct List: InventoryOperation {
        public static let name = "problem.list"
        public static let summary = "Problem reports, of a member or a state (as `parc problem list`)"
        public var member: String?
        public var state: ProblemState?
        public init(member: String?, state: ProblemState?) { (self.member, self.state) = (member, state) }
        public func perform(in workspace: Workspace) async throws -> [Problem] {
            try await workspace.inventory.reading { [member, state] in try $0.problems(member: member, state: state) }
        }
    }

    public struct Show: InventoryOperation {
        public static let name = "problem.show"
        public static let summary = "One problem report (as `parc problem show`)"
        public var id: Int64
        public init(_ id: Int64) { self.id = id }
        public func perform(in workspace: Workspace) async throws -> Problem {
            try await workspace.inventory.reading { [id] in try $0.problem(id: id) }
        }
    }

    public struct Report: InventoryOperation {
        public static let name = "problem.report"
        public static let summary = "Record a problem on a device, a call taken by phone say (as `parc problem report`)"
        public var device: String
        public var kind: ProblemKind
        public var description: String
        public var since: String?
        public var contactName, contactPhone: String
        public init(device: String, kind: ProblemKind, description: String, since: String?, contactName: String, contactPhone: String) {
            (self.device, self.kind, self.description, self.since, self.contactName, self.contactPhone) = (device, kind, description, since, contactName, contactPhone)
        }
        public func perform(in workspace: Workspace) async throws -> Problem {
            let day = try since.map { try Day(parsing: $0, field: "since") }
            return try await workspace.inventory.writing { [self] tx in
                try tx.reportProblem(ProblemReport(serial: try tx.device(device).serial, kind: kind, description: description, since: day,
                                                   contactName: contactName, contactPhone: contactPhone))
            }
        }
    }

    public struct Accept: InventoryOperation {
        public static let name = "problem.accept"
        public static let summary = "Take a problem: its device goes inRepair (as `parc problem accept`)"
        public var id: Int64
        public init(_ id: Int64) { self.id = id }
        public func perform(in workspace: Workspace) async throws -> Problem {
            try await workspace.inventory.writing { [id] in try $0.acceptProblem(id) }
        }
    }

    public struct Note: InventoryOperation {
        public static let name = "problem.note"
        public static let summary = "Write a follow-up on a problem not yet closed; the commune reads it (as `parc problem note`)"
        public var id: Int64
        public var text: String
        public init(_ id: Int64, text: String) { (self.id, self.text) = (id, text) }
        public func perform(in workspace: Workspace) async throws -> Problem {
            try await workspace.inventory.writing { [id, text] in try $0.addProblemNote(id, text) }
        }
    }

    public struct Close: InventoryOperation {
        public static let name = "problem.close"
        public static let summary = "Close a problem, saying what was done; the device's state follows the outcome (as `parc problem close`)"
        public var id: Int64
        public var done: String
        public var outcome: ProblemOutcome
        public init(_ id: Int64, done: String, outcome: ProblemOutcome = .unchanged) { (self.id, self.done, self.outcome) = (id, done, outcome) }
        public func perform(in workspace: Workspace) async throws -> Problem {
            try await workspace.inventory.writing { [id, done, outcome] in try $0.closeProblem(id, resolution: done, outcome: outcome) }
        }
    }
}

public enum AttachmentOps {
    public struct Add: InventoryOperation {
        public static let name = "document.add"
        public static let summary = "Attach a PDF (20 MB at most) to a member or one of its orders (as `parc document add`)"
        public var member: String
        public var order: String?
        public var kind: DocumentKind
        public var title, fileName: String
        public var content: Data
        public init(member: String, order: String?, kind: DocumentKind, title: String, fileName: String, content: Data) {
            (self.member, self.order, self.kind, self.title, self.fileName, self.content) = (member, order, kind, title, fileName, content)
        }
        public func perform(in workspace: Workspace) async throws -> DocumentInfo {
            try await workspace.inventory.writing { [self] in
                try $0.addDocument(member: member, order: order, kind: kind, title: title, fileName: fileName, content: content)
            }
        }
    }

    public struct List: InventoryOperation {
        public static let name = "document.list"
        public static let summary = "Documents, of a member or all (as `parc document list`)"
        public var member: String?
        public init(member: String?) { self.member = member }
        public func perform(in workspace: Workspace) async throws -> [DocumentInfo] {
            try await workspace.inventory.reading { [member] in try $0.documents(member: member) }
        }
    }
}
