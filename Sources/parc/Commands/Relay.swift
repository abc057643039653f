import ArgumentParser
import Foundation
import Logging
import ParcApp
import ParcCore

/// `parc relay`: serves a central server's work for the devices of some schools, from inside
/// their network.
struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Serve a central parc server's work for the devices of some schools, from a machine on their network.",
        discussion: """
            Connects out to the server only (HTTPS; a held request, so nothing needs to reach this machine), \
            says which schools it serves, takes the runs, pending work and facts for their devices, does them \
            over SSH with this machine's keys, and streams every event back; the server records them.
            The relay's account is made on the server: parc user add relais-tilleuls --role relay --school 0571234G, \
            then parc token add relais-tilleuls (the token goes in --token-file, mode 600).
            sudo's password, when the devices need one, comes from $PARC_BECOME_PASSWORD on this machine.
            Example: parc relay --server https://parc.example.fr --token-file /etc/parc/relay.token --school 0571234G
            """)

    @Option(help: ArgumentHelp("The central server (https://…).", valueName: "URL")) var server: String
    @Option(help: ArgumentHelp("A file holding the relay account's API token.", valueName: "file")) var tokenFile: String
    @Option(name: .customLong("school"), help: ArgumentHelp("A school to serve (UAI; repeatable; default: every school of the relay's account).", valueName: "UAI"))
    var schools: [String] = []
    @Option(name: .customLong("identity"), help: ArgumentHelp("A private key to log in to devices with (repeatable; default: parc's usual keys).", valueName: "file"))
    var identities: [String] = []
    @Option(help: ArgumentHelp("PEM certificates to trust for the server instead of the system's.", valueName: "file")) var caFile: String?
    @Flag(help: "Log every piece of work (else only connections and problems).") var verbose = false

    func run() async throws {
        let token = try TokenFile.read(tokenFile)
        guard let url = URL(string: server) else { throw ValidationError("--server \(server) is not a URL") }
        if url.scheme?.lowercased() == "http", let host = url.host, !(host.hasPrefix("127.") || host == "localhost" || host == "::1" || host.hasPrefix("10.") || host.hasPrefix("192.168.")) {
            FileHandle.standardError.write(Data("warning: \(server) is plain http: the relay's token and the work cross the network readable; put the server behind HTTPS\n".utf8))
        }
        // Logs on standard error, as every command's.
        LoggingSetup.bootstrap(verbose: false)
        var logger = Logger(label: "parc.relay")
        logger.logLevel = verbose ? .info : .notice
        let agent = try RelayAgent(.init(server: url, token: token, schools: schools,
                                         credentials: AccessSettings.standardCredentials(identities: identities),
                                         becomePassword: EnvironmentCredentials.becomePassword, caFile: caFile), logger: logger)
        FileHandle.standardError.write(Data("relay for \(schools.isEmpty ? "every school of its account" : schools.joined(separator: ", ")) → \(server)\n".utf8))
        do {
            try await agent.run()
        } catch let failure as RelayAgent.Failure {
            throw ValidationError(failure.description)
        }
    }
}

/// A token kept in a file: its first line, the file readable by its owner only.
enum TokenFile {
    static func read(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("--token-file \(path): cannot read it") }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o077 != 0 {
            throw ValidationError("--token-file \(path) can be read by others (mode \(String(st.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        let token = text.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw ValidationError("--token-file \(path) is empty: put the token from parc token add in it") }
        return token
    }
}
