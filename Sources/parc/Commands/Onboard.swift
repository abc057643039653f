import ArgumentParser
import Foundation
import ParcApp
import ParcCore

struct Onboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onboard",
        abstract: "Bring new devices under management: pin the host key, install parc's key, name them, read their facts, match them by serial.",
        discussion: """
            For a device (ADDRESS) or a whole cart (--from FILE, one address[:port] per line), in \
            parallel: log in with the initial user and password (asked, or --password-file; never \
            stored), pin the host key (its fingerprint is shown to confirm, or --accept-new), install \
            parc's management key (inventory/keys/parc_ed25519, made on first use), optionally turn \
            password login off, gather the facts, match the device to its inventory record by the \
            firmware serial (or create it with --create), set its host name from --name-rule, and \
            record everything (audit events). Safe to rerun: a second run changes nothing. Against a             server (--server), SSH goes from here (on site) and the devices are recorded in the central             inventory: give --key the key the school's relay logs in with.
              parc onboard 10.57.12.43 --user eleve --password-file pass.txt --accept-new
              parc onboard --from chariot.txt --user eleve --create --kind laptop --order BC-2025-007 --cart PLP-2025-100
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The device's address (or use --from).") var address: String?
    @Option(help: "A file of addresses, one address[:port] per line.") var from: String?
    @Option(help: "SSH port.") var port = 22
    @Option(help: "The initial user (it also becomes the management user).") var user: String
    @Option(name: .customLong("password-file"), help: "Read the initial password from this file (else it is asked).") var passwordFile: String?
    @Flag(name: .customLong("accept-new"), help: "Pin a first host key without asking.") var acceptNew = false
    @Option(help: "The management key (private; its .pub is installed).") var key: String?
    @Option(name: .customLong("name-rule"), help: "Host name rule: {commune} {uai} {school} {room} {cart} {nn} {serial} {tag}.")
    var nameRule = "{commune}-{room}-{nn}"
    @Flag(name: .customLong("disable-password-login"), help: "Turn SSH password login off once the key works.") var disablePasswordLogin = false
    @Flag(help: "Create the device when its serial is not in the inventory.") var create = false
    @Option(help: "With --create: the kind.") var kind: DeviceKind = .laptop
    @Option(help: "With --create: the order it came from.") var order: String?
    @Option(help: "With --create: the cart holding it.") var cart: String?
    @Option(help: "How many devices at once.") var forks = 20
    @Option(help: "Seconds to wait for each device.") var timeout: Double = 10

    func validate() throws {
        if (address == nil) == (from == nil) { throw ValidationError("give an ADDRESS or --from FILE") }
        if create && order == nil && cart == nil { throw ValidationError("--create needs --order or --cart, to know where the device comes from") }
    }

    func run() async throws {
        // SSH from here (on site, on the school's network); the inventory's steps on this file or the server.
        let parc = try global.parc()
        var targets: [(address: String, port: Int)] = []
        if let from {
            guard let text = try? String(contentsOfFile: from, encoding: .utf8) else { throw ValidationError("cannot read \(from)") }
            for line in text.split(separator: "\n") where !line.trimmed.isEmpty && !line.trimmed.hasPrefix("#") {
                let parts = line.trimmed.split(separator: ":")
                targets.append((String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? port : port))
            }
        } else {
            targets = [(address!, port)]
        }
        var request = Onboarding.Request(targets: targets, user: user, keyPath: ManagementKey.path(key))
        request.password = try readPassword()
        request.acceptNew = acceptNew
        request.nameRule = nameRule
        request.disablePasswordLogin = disablePasswordLogin
        request.create = create
        request.kind = kind
        request.order = order
        request.cart = cart
        request.forks = forks
        request.timeout = timeout
        if isatty(STDIN_FILENO) != 0 {
            // One question at a time on the terminal, whatever the number of devices.
            let terminal = TerminalQuestions()
            request.confirm = { address, key in await terminal.ask("\(address): host key \(key.description). Pin it? [y/N] ") }
        } else if !acceptNew {
            // Without a terminal nobody can confirm a fingerprint: only devices already pinned go on.
            FileHandle.standardError.write(Data("note: no terminal to confirm host keys; only pinned devices are onboarded (use --accept-new)\n".utf8))
        }
        let job = try Onboarding.start(request, through: parc)
        for await e in job.events() {
            if case .finished(let r) = e.event {
                emit("\(r.outcome == .ok || r.outcome == .changed ? "onboarded" : r.outcome.rawValue): \(r.address):\(r.port): \(r.message)\n")
            }
        }
        let results = try await job.value()
        if results.contains(where: { $0.outcome == .unreachable }) { throw ExitCode(4) }
        if results.contains(where: { $0.outcome == .failed }) { throw ExitCode(2) }
    }

    func readPassword() throws -> Secret? {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else { throw ValidationError("cannot read \(passwordFile)") }
            return Secret(text.split(separator: "\n").first.map(String.init) ?? "")
        }
        guard isatty(STDIN_FILENO) != 0, let p = getpass("Initial password of \(user): ") else { return nil }
        let s = String(cString: p)
        return s.isEmpty ? nil : Secret(s)
    }
}

/// Questions on the terminal, one at a time.
actor TerminalQuestions {
    func ask(_ question: String) -> Bool {
        FileHandle.standardError.write(Data(question.utf8))
        return (readLine() ?? "").trimmed.lowercased().hasPrefix("y")
    }
}
