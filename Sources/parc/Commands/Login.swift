import ArgumentParser
import Foundation
import ParcApp
import ParcCore

/// `parc login URL`: a token of one's account on a central server, kept for the commands that
/// name it (`--server URL` or `PARC_SERVER`).
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a central parc server: its token is kept in ~/.config/parc/ (mode 600) for --server and PARC_SERVER.",
        discussion: """
            Asks the login and the password (or reads a token made with `parc token add` on the server from --token-file). \
            Then: parc --server URL device list, or export PARC_SERVER=URL.
            Example: parc login https://parc.example.fr --login tech.dupont
            """)
    @Argument(help: "The server (https://…).") var server: String
    @Option(help: "Your login (else asked).") var login: String?
    @Option(help: ArgumentHelp("A file holding a token instead of a password.", valueName: "file")) var tokenFile: String?
    @Option(help: ArgumentHelp("A file whose first line is the password ('-': standard input); else it is asked.", valueName: "file")) var passwordFile: String?

    func run() async throws {
        let key = ServerLogins.key(server)
        if key.lowercased().hasPrefix("http://"), let host = URL(string: key)?.host, !(host.hasPrefix("127.") || host == "localhost" || host == "::1") {
            warn("\(key) is plain http: the password and the token cross the network readable; use https")
        }
        if let tokenFile {
            let token = try TokenFile.read(tokenFile)
            let reply = try await ParcServer(key, token: token).get("/api/v1/members")
            guard reply.status == 200 else { throw AppError("\(key) does not take this token (\(reply.status)): \(reply.detail)") }
            try ServerLogins.save(server: key, token: token, login: nil)
            emit("Logged in to \(key) with the token of \(tokenFile); kept in \(ServerLogins.file).\n")
            return
        }
        let who: String
        if let login { who = login } else {
            FileHandle.standardError.write(Data("Login: ".utf8))
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no login given") }
            who = line
        }
        let password: String
        if let passwordFile {
            let text = passwordFile == "-" ? (readLine(strippingNewline: true) ?? "") : ((try? String(contentsOfFile: passwordFile, encoding: .utf8)) ?? "")
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        } else {
            guard let typed = getpass("Password for \(who) on \(key): ") else { throw ValidationError("no password given") }
            password = String(cString: typed)
        }
        let host = ProcessInfo.processInfo.hostName
        let body = try JSONSerialization.data(withJSONObject: ["login": who, "password": password, "name": "parc login (\(host))"])
        let reply = try await ParcServer(key, token: nil).send(.post, "/api/v1/tokens", body: body)
        guard reply.status == 201, let object = reply.json as? [String: Any], let token = object["token"] as? String else {
            throw AppError("\(key) refused: \(reply.detail)\(reply.status == 429 ? " (too many attempts: wait and try again)" : "")")
        }
        let account = object["login"] as? String ?? who
        try ServerLogins.save(server: key, token: token, login: account)
        emit("Logged in to \(key) as \(account); the token is kept in \(ServerLogins.file).\n")
    }
}

/// `parc logout`: the token revoked on the server and forgotten here.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out of a central parc server: its token is revoked there and forgotten here.")
    @Argument(help: "The server (default: $PARC_SERVER).") var server: String?

    func run() async throws {
        guard let server = server ?? ProcessInfo.processInfo.environment["PARC_SERVER"]?.nonEmpty else {
            throw ValidationError("name the server: parc logout URL")
        }
        let key = ServerLogins.key(server)
        guard try ServerLogins.token(for: key) != nil else { emit("Not logged in to \(key).\n"); return }
        var revoked = false
        if let reply = try? await ParcServer.signedIn(key).send(.delete, "/api/v1/tokens/current") { revoked = reply.status == 200 }
        try ServerLogins.remove(server: key)
        emit("Logged out of \(key)\(revoked ? "; the token is revoked" : " (the server could not be told: revoke the token there with parc token revoke)").\n")
    }
}
