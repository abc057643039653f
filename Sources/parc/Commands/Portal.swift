import ArgumentParser
import ParcApp
import Foundation
import Logging
import ParcCore
import Web

/// A portal address given on the command line: http(s)://host[:port][/path].
enum PortalAddress {
    static func check(_ url: String) throws {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), u.host != nil,
              u.query == nil, u.fragment == nil else {
            throw ValidationError("--base-url '\(url)' is not a web address such as https://parc.mairie-exemple.fr")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web portal (communes, technicians) and the JSON API over this inventory.",
        discussion: """
            Accounts come from `parc user add`. Put it behind a reverse proxy for HTTPS (the README shows an \
            nginx site), or give --tls-cert and --tls-key. Stops cleanly on SIGTERM or Ctrl-C. \
            Technicians' console: runs of the playbooks in playbooks/ reach devices as `parc run` does \
            (--identity, --host-key-policy, --forks…; a become password from $PARC_BECOME_PASSWORD). \
            Devices of a school whose relay is connected (parc relay) are run through that relay.
            Example: parc serve --listen 127.0.0.1:8080 --base-url https://parc.mairie-exemple.fr
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "host:port")) var listen = "127.0.0.1:8080"
    @Option(help: ArgumentHelp("The address people use (default: $PARC_BASE_URL); https makes cookies Secure.", valueName: "url")) var baseURL: String?
    @Option(help: ArgumentHelp("PEM certificate chain, to serve HTTPS directly.", valueName: "file")) var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file")) var tlsKey: String?
    @Flag(help: "Believe X-Forwarded-For for the client's address (only behind your own reverse proxy).") var behindProxy = false
    @Flag(help: "Answer every request from the inventory, keeping nothing in memory (to measure or to rule the cache out).") var noCache = false
    @Option(help: ArgumentHelp("How long a sign-in lasts, in hours.", valueName: "hours")) var sessionHours = 12.0
    @Option(help: ArgumentHelp("A relay silent this long is gone: its devices' unfinished work ends unreachable and becomes pending.", valueName: "seconds"))
    var relayTimeout = 60.0
    @Option(help: ArgumentHelp("How often each relay looks for its schools' devices owed pending work; those that are on are served.", valueName: "seconds"))
    var relaySweep = 300.0
    @Option(help: ArgumentHelp("The mail server for the notices of problems (e.g. smtp://127.0.0.1:25, the machine's own MTA); without it they wait in the outbox.", valueName: "url"))
    var smtp: String?
    @Option(help: ArgumentHelp("The sender of the notices (with --smtp).", valueName: "address")) var mailFrom: String?
    /// How the console's runs, onboardings and facts reach devices (keys, host-key policy, forks).
    @OptionGroup var access: AccessOptions

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give both --tls-cert and --tls-key, or neither") }
        guard let (_, port) = try? Self.split(listen), (0...65535).contains(port) else {
            throw ValidationError("--listen '\(listen)' is not host:port (e.g. 127.0.0.1:8080, or 0.0.0.0:8080 for every address)")
        }
        if let base = baseURL { try PortalAddress.check(base) }
        if smtp == nil && mailFrom != nil { throw ValidationError("--mail-from goes with --smtp") }
        if let smtp { do { _ = try MailSettings(url: smtp, from: mailFrom ?? "parc@localhost.localdomain") } catch { throw ValidationError("\(error)") } }
        guard sessionHours > 0 && sessionHours <= 24 * 30 else { throw ValidationError("--session-hours takes a value between 0 and 720") }
        guard relayTimeout >= 2 && relayTimeout <= 3600 else { throw ValidationError("--relay-timeout takes 2 to 3600 seconds") }
        guard relaySweep >= 1 && relaySweep <= 86_400 else { throw ValidationError("--relay-sweep takes 1 to 86400 seconds") }
    }

    static func split(_ listen: String) throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else { throw ValidationError("host:port") }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    func run() async throws {
        let workspace = try global.open(access: access.settings, concurrentReads: true)
        LoggingSetup.bootstrap(verbose: false)
        var logger = Logger(label: "parc.web")
        logger.logLevel = global.verbose >= 1 ? .info : .notice
        let (host, port) = try Self.split(listen)
        var options = PortalOptions(baseURL: (baseURL ?? ProcessInfo.processInfo.environment["PARC_BASE_URL"])?.nonEmptyValue)
        options.trustForwardedFor = behindProxy
        options.keepAnswers = !noCache
        options.sessionLifetime = sessionHours * 3600
        options.home = ParcHome.locate()
        options.access = access.settings
        options.relayTimeout = .milliseconds(Int(relayTimeout * 1000))
        options.relaySweep = .milliseconds(Int(relaySweep * 1000))
        options.mail = try smtp.map { try MailSettings(url: $0, from: mailFrom ?? "parc@localhost.localdomain") }
        // A held request for work ends well before the relay would be thought gone.
        options.relayPollWait = .milliseconds(Int(min(25, relayTimeout / 2) * 1000))
        let tls = tlsCert.map { PortalServer.TLSFiles(certificate: $0, key: tlsKey!) }
        let scheme = tls == nil ? "http" : "https"
        try await PortalServer.run(workspace: workspace, host: host, port: port, options: options, tls: tls, logger: logger) { bound in
            FileHandle.standardError.write(Data("parc portal on \(scheme)://\(host):\(bound)/ (database \(workspace.databasePath)); Ctrl-C to stop\n".utf8))
        }
    }
}

/// Reads a password: from a file (its first line), or typed twice without echo.
enum PasswordInput {
    static func read(file: String?, login: String) throws -> String {
        if let file {
            // `-`: standard input (a pipe from a password manager, say).
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                : FileManager.default.contents(atPath: file) ?? FileHandle(forReadingAtPath: file)?.readDataToEndOfFile()
            guard let data else { throw ValidationError("cannot read the password file \(file)") }
            let text = String(decoding: data, as: UTF8.self)
            return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
        guard isatty(STDIN_FILENO) != 0 else {
            throw ValidationError("no terminal to type the password on: give --password-file FILE (its first line is the password)")
        }
        guard let first = getpass("Password for \(login): ").map({ String(cString: $0) }),
              let second = getpass("The same password again: ").map({ String(cString: $0) }) else { throw ValidationError("no password typed") }
        guard first == second else { throw ValidationError("the two passwords differ; nothing was changed") }
        return first
    }

    static func hash(_ password: String) throws -> String {
        do { return try Secrets.hashPassword(password) } catch { throw ValidationError(error.description) }
    }
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Accounts of the web portal: commune staff, technicians, admins.",
        subcommands: [Add.self, List.self, Passwd.self, Disable.self, Enable.self, Remove.self, Log.self])

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Sign-ins, refused sign-ins (with the address and the reason) and account changes, newest first.",
            discussion: "Example: parc user log mairie.norroy --limit 20")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Only this login's events (also the refused sign-ins typed with it).") var login: String?
        @Option(help: "At most this many events.") var limit = 100

        func run() async throws {
            let events = try await global.parc().perform(AccountOps.Log(login: login, limit: limit))
            emit(Render.list(events, fields: [
                Field("at", "WHEN") { .string(EventTime.iso($0.at)) },
                Field("login", "LOGIN") { .string($0.entityKey) },
                Field("action", "WHAT") { .string($0.action.rawValue) },
                Field("actor", "BY") { .string($0.actor) },
                Field("details", "DETAILS") { e in
                    .string(e.changes.map { "\($0.field)=\($0.new ?? $0.old ?? "")" }.joined(separator: " "))
                },
            ], format: output.format))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an account (the password is asked twice, or read from --password-file).",
            discussion: """
                Example: parc user add mairie.montigny --role commune --member montigny-les-metz
                A relay (parc relay) has no password: it signs in with a token (parc token add LOGIN).
                Example: parc user add relais-tilleuls --role relay --school 0571234G
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login (letters, digits, '.', '-', '_', '@').") var login: String
        @Option(help: "admin, technician, commune or relay.") var role: String
        @Option(help: "The member a commune account sees (slug, SIREN or INSEE code).") var member: String?
        @Option(name: .customLong("school"), help: "A school a relay serves (UAI; repeat for several).") var schools: [String] = []
        @Option(help: "A file whose first line is the password ('-': standard input); else it is asked.") var passwordFile: String?
        @Option(help: ArgumentHelp("Where the portal's notices go (a problem taken, closed; a new one for technicians).", valueName: "address")) var email: String?
        @Option(help: ArgumentHelp("How others read this person's name (e.g. \"Mme Lambert\").", valueName: "name")) var name: String?

        func run() async throws {
            let role = try AccountRole(parsing: role)
            if let email { _ = try Account.validEmail(email) }
            if let name { _ = try Account.validName(name) }
            let parc = try global.parc()
            // Check what can be checked before asking for a password.
            _ = try Account.validLogin(login)
            if try await parc.perform(AccountOps.List()).contains(where: { $0.account.login == login }) {
                throw ValidationError("an account '\(login)' already exists")
            }
            // A relay never signs in with a password.
            let hash = role == .relay ? "!" : try PasswordInput.hash(try PasswordInput.read(file: passwordFile, login: login))
            let account = try await parc.perform(AccountOps.Add(login: login, role: role, member: member, schools: schools, passwordHash: hash,
                                                                email: email, displayName: name))
            emit("added account \(account.login) (\(account.role.rawValue)\(member.map { ", member \($0)" } ?? "")\(schools.isEmpty ? "" : ", schools \(schools.joined(separator: ", "))"))\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the accounts.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let accounts = try await global.parc().perform(AccountOps.List())
            emit(Render.list(accounts, fields: [
                Field("login", "LOGIN") { .string($0.account.login) },
                Field("role", "ROLE") { .string($0.account.role.rawValue) },
                Field("member", "MEMBER") { .text($0.member) },
                Field("disabled", "DISABLED") { .bool($0.account.disabled) },
                Field("createdAt", "CREATED") { .string($0.account.createdAt) },
                Field("name", "NAME") { .text($0.account.displayName) },
                Field("email", "EMAIL") { .text($0.account.email) },
            ], format: output.format))
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Set an account's password (its sessions end).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login.") var login: String
        @Option(help: "A file whose first line is the password ('-': standard input); else it is asked.") var passwordFile: String?

        func run() async throws {
            let parc = try global.parc()
            let known = try await parc.perform(AccountOps.Show(login: login))
            let hash = try PasswordInput.hash(try PasswordInput.read(file: passwordFile, login: known.login))
            let account = try await parc.perform(AccountOps.SetPassword(login: known.login, passwordHash: hash))
            emit("password of \(account.login) changed; its sessions are closed\n")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an account: it cannot sign in, its sessions end and its tokens stop working.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login.") var login: String

        func run() async throws { try await UserCommand.setDisabled(login, true, global: global) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled account again.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login.") var login: String

        func run() async throws { try await UserCommand.setDisabled(login, false, global: global) }
    }

    static func setDisabled(_ login: String, _ disabled: Bool, global: GlobalOptions) async throws {
        _ = try await global.parc().perform(AccountOps.SetDisabled(login: login, disabled: disabled))
        emit("account \(login) \(disabled ? "disabled" : "enabled")\n")
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an account, its sessions and its tokens (the audit log keeps its actions).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The login.") var login: String

        func run() async throws {
            _ = try await global.parc().perform(AccountOps.Remove(login: login))
            emit("account \(login) removed\n")
        }
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "API tokens (for /api/v1): made for an account, shown once, kept only as a digest.",
        subcommands: [Add.self, List.self, Revoke.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Make an API token for an account and print it (once: it cannot be shown again).",
            discussion: "Use it as: curl -H 'Authorization: Bearer TOKEN' https://…/api/v1/devices")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account's login.") var login: String
        @Option(help: "What the token is for (shown by `parc token list`).") var name = "api"

        func run() async throws {
            let token = Secrets.newToken()
            let info = try await global.parc().perform(TokenOps.Add(login: login, name: name, digest: token.digest, prefix: token.prefix))
            FileHandle.standardError.write(Data("token #\(info.id) for \(info.login) (\(info.name)); it is shown only now:\n".utf8))
            emit(token.secret + "\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List API tokens (their prefix, never the secret).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Only this account's tokens.") var login: String?

        func run() async throws {
            let tokens = try await global.parc().perform(TokenOps.List(login: login))
            emit(Render.list(tokens, fields: [
                Field("id", "ID") { .int(Int($0.id)) },
                Field("login", "LOGIN") { .string($0.login) },
                Field("name", "NAME") { .string($0.name) },
                Field("prefix", "PREFIX") { .string($0.prefix + "…") },
                Field("createdAt", "CREATED") { .string($0.createdAt) },
                Field("revokedAt", "REVOKED") { .text($0.revokedAt) },
            ], format: output.format))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token (by its number or prefix from `parc token list`).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's number or prefix.") var token: String

        func run() async throws {
            let info = try await global.parc().perform(TokenOps.Revoke(token))
            emit("token #\(info.id) of \(info.login) (\(info.name)) revoked\n")
        }
    }
}

struct ProblemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "problem",
        abstract: "Problems that communes report in the portal: the technicians' queue.",
        subcommands: [List.self, Show.self, Report.self, Accept.self, Note.self, Close.self])

    static let fields: [Field<Problem>] = [
        Field("id", "ID") { .int(Int($0.id)) },
        Field("state", "STATE") { .string($0.state.rawValue) },
        Field("serial", "SERIAL") { .string($0.serial) },
        Field("device", "DEVICE") { .string($0.device) },
        Field("member", "MEMBER") { .text($0.member) },
        Field("kind", "KIND") { .string($0.kind.rawValue) },
        Field("description", "DESCRIPTION") { .string($0.description) },
        Field("since", "SINCE") { .text($0.since?.description) },
        Field("contactName", "CONTACT") { .string($0.contactName) },
        Field("contactPhone", "PHONE") { .string($0.contactPhone) },
        Field("reportedBy", "BY") { .string($0.reportedBy) },
        Field("reportedAt", "REPORTED") { .string($0.reportedAt) },
        Field("acceptedBy", "ACCEPTED BY") { .text($0.acceptedBy) },
        Field("acceptedAt", "ACCEPTED") { .text($0.acceptedAt) },
        Field("closedBy", "CLOSED BY") { .text($0.closedBy) },
        Field("closedAt", "CLOSED") { .text($0.closedAt) },
        Field("resolution", "DONE") { .text($0.resolution) },
        Field("outcome", "OUTCOME") { .text($0.outcome?.rawValue) },
        Field("followUps", "FOLLOW-UPS") { p in p.notes.isEmpty ? .null : .array(p.notes.map { .string("\($0.at) \($0.by): \($0.text)") }) },
    ]

    static func record(_ p: Problem, format: OutputFormat) -> String {
        Render.record(fields.map { (key: $0.key, label: $0.header.lowercased(), value: $0.value(p)) }, format: format)
    }

    static func id(_ raw: String) throws -> Int64 {
        guard let id = Int64(raw.hasPrefix("#") ? String(raw.dropFirst()) : raw) else { throw ValidationError("'\(raw)' is not a problem number (see `parc problem list`)") }
        return id
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List problem reports (open and accepted ones, unless --all or --state).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this member's.") var member: String?
        @Option(help: "open, accepted or closed.") var state: ProblemState?
        @Flag(help: "Closed ones too.") var all = false

        func run() async throws {
            var problems = try await global.parc().perform(ProblemOps.List(member: member, state: state))
            if state == nil && !all { problems.removeAll { $0.state == .closed } }
            emit(Render.list(problems, fields: ProblemCommand.fields, format: output.format,
                             tableKeys: ["id", "state", "serial", "member", "kind", "contactName", "contactPhone", "reportedAt"]))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a problem report.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The problem's number.") var problem: String

        func run() async throws {
            let id = try ProblemCommand.id(problem)
            emit(ProblemCommand.record(try await global.parc().perform(ProblemOps.Show(id)), format: output.format))
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Record a problem on a device (a call taken by phone, say); it joins the queue the portal shows.",
            discussion: "Example: parc problem report PF4NLV32 --kind broken --description \"Ne démarre plus\" --contact-name \"Mme Lambert\" --contact-phone \"03 87 00 00 00\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The device (serial or asset tag).") var device: String
        @Option(help: "broken, missing or damaged.") var kind: ProblemKind
        @Option(help: "What is wrong.") var description: String
        @Option(help: "Since when (YYYY-MM-DD or DD/MM/YYYY).") var since: String?
        @Option(help: "Who to call back.") var contactName: String
        @Option(help: "Their phone number.") var contactPhone: String

        func run() async throws {
            let p = try await global.parc().perform(ProblemOps.Report(device: device, kind: kind, description: description, since: since,
                                                                      contactName: contactName, contactPhone: contactPhone))
            emit("problem #\(p.id) recorded on \(p.serial)\n")
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "accept", abstract: "Take a problem: the device goes inRepair (both in the audit log).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The problem's number.") var problem: String

        func run() async throws {
            let id = try ProblemCommand.id(problem)
            let p = try await global.parc().perform(ProblemOps.Accept(id))
            emit("problem #\(p.id) accepted; device \(p.serial) is now inRepair\n")
        }
    }

    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "note", abstract: "Write a follow-up on a problem (the commune reads it in the portal).",
                                                        discussion: "Example: parc problem note 12 \"Pièce commandée, retour prévu lundi\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The problem's number.") var problem: String
        @Argument(help: "The follow-up.") var text: String

        func run() async throws {
            let id = try ProblemCommand.id(problem)
            let p = try await global.parc().perform(ProblemOps.Note(id, text: text))
            emit("problem #\(p.id): follow-up \(p.notes.count) written\n")
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "close",
            abstract: "Close a problem, saying what was done (the commune reads it).",
            discussion: "--outcome repaired puts the device back in service (deployed where it is placed, else inStock), replaced retires it, unchanged (the default) leaves its state.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The problem's number.") var problem: String
        @Option(help: "What was done, e.g. \"screen replaced under warranty\".") var done: String
        @Option(help: "What becomes of the device: repaired, replaced or unchanged.") var outcome: ProblemOutcome = .unchanged

        func run() async throws {
            let id = try ProblemCommand.id(problem)
            let p = try await global.parc().perform(ProblemOps.Close(id, done: done, outcome: outcome))
            emit("problem #\(p.id) closed (\(outcome.rawValue))\n")
        }
    }
}

extension ProblemState: ExpressibleByArgument {}
extension ProblemOutcome: ExpressibleByArgument {}
extension ProblemKind: ExpressibleByArgument {}
extension DocumentKind: ExpressibleByArgument {}

struct DocumentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "document",
        abstract: "PDF documents of a member or an order (deliberation, prefecture receipt, delivery notes), shown in the portal.",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Attach a PDF (20 MB at most) to a member, or to one of its orders.",
            discussion: "Example: parc document add deliberation.pdf --member montigny-les-metz --kind deliberation --title \"Délibération d'adhésion\"")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The PDF file.") var file: String
        @Option(help: "The member (slug, SIREN or INSEE code).") var member: String
        @Option(help: "One of its orders (its number).") var order: String?
        @Option(help: "deliberation, prefectureReceipt, deliveryNote, convention or other.") var kind: DocumentKind = .other
        @Option(help: "The title communes see (default: the file's name).") var title: String?

        func run() async throws {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            guard let size = attributes?[.size] as? Int else { throw ValidationError("cannot read \(file)") }
            guard size <= DocumentInfo.maxSize else {
                throw ValidationError("\(file) is \(size / 1_048_576) MB; a document takes at most 20 MB (compress the PDF first)")
            }
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let name = (file as NSString).lastPathComponent
            let info = try await global.parc().perform(AttachmentOps.Add(member: member, order: order, kind: kind, title: title ?? name, fileName: name, content: data))
            emit("document #\(info.id) added to \(info.member)\(info.order.map { ", order \($0)" } ?? "") (\(info.kind.rawValue), \(info.size) bytes)\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List documents.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this member's.") var member: String?

        func run() async throws {
            let docs = try await global.parc().perform(AttachmentOps.List(member: member))
            emit(Render.list(docs, fields: [
                Field("id", "ID") { .int(Int($0.id)) },
                Field("member", "MEMBER") { .string($0.member) },
                Field("order", "ORDER") { .text($0.order) },
                Field("kind", "KIND") { .string($0.kind.rawValue) },
                Field("title", "TITLE") { .string($0.title) },
                Field("fileName", "FILE") { .string($0.fileName) },
                Field("size", "SIZE") { .int($0.size) },
                Field("sha256", "SHA-256") { .string($0.sha256) },
                Field("addedAt", "ADDED") { .string($0.addedAt) },
            ], format: output.format))
        }
    }
}
