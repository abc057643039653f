import ArgumentParser
import Foundation
import InventoryStore
import Lab
import ParcCore
import Templating
import Provisioning
import SSHTransport

/// parc's own management key: `inventory/keys/parc_ed25519`, made on first use.
enum ManagementKey {
    static func path(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let env = ProcessInfo.processInfo.environment["PARC_IDENTITY"], !env.isEmpty { return env }
        return ParcHome.locate().appendingPathComponent("inventory/keys/parc_ed25519").path
    }

    /// The key's public half, making the key when it does not exist.
    static func publicKey(at path: String) throws -> String {
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let r = try Spawn.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "parc-management", "-f", path])
            guard r.status == 0 else { throw ValidationError("cannot make the management key \(path): \(r.output)") }
        }
        guard let text = try? String(contentsOfFile: path + ".pub", encoding: .utf8) else {
            throw ValidationError("the management key \(path) has no public half (\(path).pub)")
        }
        return text.trimmed
    }
}

struct Onboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring new devices under management: pin the host key, install parc's key, name them, read their facts, match them by serial.",
        discussion: """
            For a device (ADDRESS) or a whole cart (--from FILE, one address[:port] per line), in \
            parallel: log in with the initial user and password (asked, or --password-file; never \
            stored), pin the host key (its fingerprint is shown to confirm, or --accept-new), install \
            parc's management key (inventory/keys/parc_ed25519, made on first use), optionally turn \
            password login off, gather the facts, match the device to its inventory record by the \
            firmware serial (or create it with --create), set its host name from --name-rule, and \
            record everything (audit events). Safe to rerun: a second run changes nothing.
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

    struct Outcome: Sendable {
        var address: String
        var ok: Bool
        var message: String
        var unreachable = false
    }

    func validate() throws {
        if (address == nil) == (from == nil) { throw ValidationError("give an ADDRESS or --from FILE") }
        if create && order == nil && cart == nil { throw ValidationError("--create needs --order or --cart, to know where the device comes from") }
    }

    func run() async throws {
        let inventory = try global.open()
        var targets: [(String, Int)] = []
        if let from {
            guard let text = try? String(contentsOfFile: from, encoding: .utf8) else { throw ValidationError("cannot read \(from)") }
            for line in text.split(separator: "\n") where !line.trimmed.isEmpty && !line.trimmed.hasPrefix("#") {
                let parts = line.trimmed.split(separator: ":")
                targets.append((String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? port : port))
            }
        } else {
            targets = [(address!, port)]
        }
        let password: Secret? = try readPassword()
        let keyPath = ManagementKey.path(key)
        let publicKey = try ManagementKey.publicKey(at: keyPath)
        let interactive = isatty(STDIN_FILENO) != 0
        if !acceptNew && !interactive {
            // Without a terminal nobody can confirm a fingerprint: only devices already pinned go on.
            FileHandle.standardError.write(Data("note: no terminal to confirm host keys; only pinned devices are onboarded (use --accept-new)\n".utf8))
        }
        let outcomes = await concurrently(targets, limit: forks) { (address, port) in
            await onboard(address: address, port: port, password: password, keyPath: keyPath, publicKey: publicKey,
                          inventory: inventory, interactive: interactive)
        }
        for o in outcomes { emit("\(o.ok ? "onboarded" : o.unreachable ? "unreachable" : "failed"): \(o.address): \(o.message)\n") }
        if outcomes.contains(where: \.unreachable) { throw ExitCode(4) }
        if outcomes.contains(where: { !$0.ok }) { throw ExitCode(2) }
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

    func onboard(address: String, port: Int, password: Secret?, keyPath: String, publicKey: String, inventory: Inventory,
                 interactive: Bool) async -> Outcome {
        var outcome = Outcome(address: "\(address):\(port)", ok: false, message: "")
        do {
            // A device already pinned at this address is checked strictly.
            let known = try inventory.read { r in try r.devices().first { $0.address == address && ($0.sshPort ?? 22) == port } }
            let pinned = try known?.hostKey.map { try HostKey(openSSH: $0) }
            var credentials: [SSHCredential] = [.keyFile(keyPath)]
            if let password { credentials.append(.password(password)) }
            let options = SSHOptions(name: known?.inventoryName ?? address, address: address, port: port, user: user, credentials: credentials,
                                     hostKeyPolicy: HostKeyPolicy(mode: pinned == nil ? .acceptNew : .strict, pinned: pinned),
                                     connectTimeout: .milliseconds(Int(timeout * 1000)))
            return try await SSHConnection.connect(options).using { c in
                if c.hostKeyCheck == .new && !acceptNew {
                    guard interactive, confirm("\(address): host key \(c.hostKey.description). Pin it? [y/N] ") else {
                        outcome.message = "host key \(c.hostKey.fingerprint) not confirmed: nothing done (check it on the device, or use --accept-new)"
                        return outcome
                    }
                }
                let become: Become = password.map { .sudoPassword($0) } ?? .sudo
                let facts = try await FactGathering.gather(c, become: become)
                guard let serial = facts.serial else {
                    outcome.message = "the device reports no firmware serial (DMI): onboard it by hand (parc device edit)"
                    return outcome
                }
                // The inventory record, by serial; or a new one with --create.
                var row = try inventory.read { r in try r.deviceID(serial: serial) != nil ? try r.deviceRow(serial) : nil }
                if let row, let recorded = row.hostKey, try HostKey(openSSH: recorded) != c.hostKey {
                    throw TransportError.hostKeyChanged(host: row.inventoryName, expected: try HostKey(openSSH: recorded).description, actual: c.hostKey.description)
                }
                if row == nil {
                    guard create else {
                        outcome.message = "serial \(serial) is not in the inventory: import its delivery note first (parc import devices), or use --create"
                        return outcome
                    }
                    row = try inventory.write { tx in
                        let ids = try tx.placeIDs(school: nil, room: nil, cart: cart)
                        _ = try tx.addDevice(Device(kind: kind, manufacturer: facts.vendor, model: facts.product, serial: serial, status: .deployed,
                                                    cartId: ids.cartId, orderId: try order.map { try tx.order($0).id! }))
                        return try tx.deviceRow(serial)
                    }
                }
                guard let row else { return outcome }
                // The management key, once.
                let key = shellQuote(publicKey)
                let installed = try await c.run("umask 077; mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys && (grep -qxF \(key) ~/.ssh/authorized_keys && echo present || { printf '%s\\n' \(key) >> ~/.ssh/authorized_keys; echo added; })")
                guard installed.succeeded else { throw ModuleFailure("installing the key: \(installed.stderrText.trimmed)") }
                // The key must work before anything relies on it.
                let check = try await SSHConnection.connect(SSHOptions(name: row.inventoryName, address: address, port: port, user: user,
                                                                       credentials: [.keyFile(keyPath)],
                                                                       hostKeyPolicy: HostKeyPolicy(mode: .strict, pinned: c.hostKey),
                                                                       connectTimeout: .milliseconds(Int(timeout * 1000))))
                await check.close()
                // The host name from the rule.
                let hostname = try inventory.read { r in try HostnameRule(nameRule).name(for: row, reader: r) }
                let named = try await Modules.apply("hostname", args: ["name": .string(hostname)], vars: ["parc_hostname_in_etc_hosts": .bool(true)],
                                                    on: c, become: become)
                if disablePasswordLogin {
                    _ = try await c.run("f=/etc/ssh/sshd_config.d/90-parc.conf; [ -d /etc/ssh/sshd_config.d ] && { grep -qs '^PasswordAuthentication no' \"$f\" || { printf 'PasswordAuthentication no\\nKbdInteractiveAuthentication no\\n' > \"$f\"; systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null || true; }; }",
                                        stdin: nil, become: become, timeout: .seconds(30))
                }
                let seen = Date()
                var skipped: [String] = []
                try inventory.write { tx in
                    // MACs the record lacks, from the device; one another device holds is left to `parc reconcile`.
                    var macs: [String] = []
                    if row.macs.isEmpty {
                        for mac in facts.macs {
                            if let holder = try tx.serial(ofMAC: mac), holder.lowercased() != row.serial.lowercased() { skipped.append("\(mac) (held by \(holder))") }
                            else { macs.append(mac) }
                        }
                    }
                    _ = try tx.updateDevice(row.serial, macs: macs.isEmpty ? nil : MacChange(add: macs, replaceAll: true)) { d in
                        d.address = address
                        d.sshPort = port
                        d.sshUser = user
                        d.hostKey = c.hostKey.openSSH
                        d.hostname = hostname
                    }
                    try tx.recordFacts(serial: row.serial, facts, seenAt: seen)
                }
                outcome.ok = true
                outcome.message = "\(row.serial) as \(hostname) (key \(installed.stdoutText.trimmed), host key \(c.hostKey.fingerprint)\(named.changed ? ", renamed" : ""))"
                    + (skipped.isEmpty ? "" : "; MAC not recorded: \(skipped.joined(separator: ", ")) — see parc reconcile")
                return outcome
            }
        } catch let e as TransportError {
            outcome.unreachable = e.isUnreachable
            outcome.message = "\(e)"
        } catch {
            outcome.message = "\(error)"
        }
        return outcome
    }

    func confirm(_ question: String) -> Bool {
        FileHandle.standardError.write(Data(question.utf8))
        return (readLine() ?? "").trimmed.lowercased().hasPrefix("y")
    }
}

/// Host names from a rule: `{commune}-{room}-{nn}` → `norroy-le-veneur-classe-cm2-03`.
struct HostnameRule {
    let rule: String
    init(_ rule: String) { self.rule = rule }

    func name(for row: DeviceRow, reader r: InventoryReader) throws -> String {
        // nn: the device's rank (by asset tag, else serial) among those of its cart, else its room.
        let siblings = try row.cart.map { try r.devices(DeviceFilter(cart: $0)) }
            ?? (row.uai != nil && row.room != nil ? try r.devices(DeviceFilter(school: row.uai, room: row.room)).filter { $0.cart == nil } : [row])
        let ordered = siblings.sorted { ($0.assetTag ?? $0.serial) < ($1.assetTag ?? $1.serial) }
        let rank = (ordered.firstIndex { $0.serial == row.serial } ?? 0) + 1
        var name = rule
        let tokens: [(String, String)] = [
            ("{commune}", slugify(row.member ?? "parc")), ("{uai}", (row.uai ?? "").lowercased()), ("{school}", slugify(row.school ?? "")),
            ("{room}", slugify(row.room ?? "stock")), ("{cart}", slugify(row.cart ?? "")), ("{nn}", String(format: "%02d", rank)),
            ("{serial}", slugify(row.serial)), ("{tag}", slugify(row.assetTag ?? row.serial)),
        ]
        for (token, value) in tokens { name = name.replacingOccurrences(of: token, with: value) }
        name = name.replacingOccurrences(of: "--", with: "-").trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        if name.count > 63 { name = String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) }
        return try Hostname.normalize(name, field: "name-rule")
    }
}
