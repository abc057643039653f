import Foundation
import InventoryStore
import ParcCore
import Provisioning
import SSHTransport
import Templating

/// Bringing new devices under management: pin the host key, install parc's key, name them, read
/// their facts, match them by serial (or create them), and record it all.
public enum Onboarding {
    public struct Request: Sendable {
        /// `address`, `port` of each device.
        public var targets: [(address: String, port: Int)]
        /// The initial user (it also becomes the management user).
        public var user: String
        /// The initial password: used for this onboarding only, never stored.
        public var password: Secret?
        /// Pin a first host key without asking.
        public var acceptNew = false
        /// Asked for each first host key when `acceptNew` is off (nil: nobody to ask, refused).
        public var confirm: (@Sendable (_ address: String, _ key: HostKey) async -> Bool)?
        /// The management key (private; its .pub is installed).
        public var keyPath: String
        public var nameRule = "{commune}-{room}-{nn}"
        public var disablePasswordLogin = false
        /// Create the device when its serial is not in the inventory.
        public var create = false
        public var kind: DeviceKind = .laptop
        public var order: String?
        public var cart: String?
        public var forks = 20
        public var timeout: Double = 10

        public init(targets: [(address: String, port: Int)], user: String, keyPath: String) {
            self.targets = targets
            self.user = user
            self.keyPath = keyPath
        }
    }

    /// How one device went.
    public struct Result: Sendable, Equatable {
        public var address: String
        public var port: Int
        /// changed: onboarded now (or renamed); ok: it already was, nothing changed; failed; unreachable.
        public var outcome: TaskOutcome
        public var serial: String?
        public var hostname: String?
        /// The device's host key (SHA256:…), once seen.
        public var fingerprint: String?
        /// A first host key that nobody confirmed: nothing was done.
        public var keyNotConfirmed = false
        /// What happened, in the catalogue's languages.
        public var message: Message
    }

    public enum Progress: Sendable {
        /// Connected; its host key, and whether it is seen for the first time.
        case connected(address: String, port: Int, fingerprint: String, firstTime: Bool)
        case finished(Result)
    }

    public typealias OnboardJob = Job<Progress, [Result]>

    /// Starts onboarding every target (at most `forks` at once): SSH from here, the inventory's
    /// steps through `parc` (the local file, or a central server).
    public static func start(_ request: Request, through parc: any ParcService) throws -> OnboardJob {
        guard !request.targets.isEmpty else { throw AppError("no device to onboard: give at least one address") }
        guard !request.user.trimmed.isEmpty else { throw AppError("the initial user is missing") }
        if request.create && request.order == nil && request.cart == nil {
            throw AppError("creating devices needs an order or a cart, to know where they come from")
        }
        let publicKey = try ManagementKey.publicKey(at: request.keyPath)
        let job = OnboardJob()
        job.start { job in
            await concurrently(request.targets.map { Target(address: $0.address, port: $0.port) }, limit: request.forks) { t in
                let r = await onboard(t.address, t.port, request: request, publicKey: publicKey, parc: parc, job: job)
                job.emit(.finished(r))
                return r
            }
        }
        return job
    }

    struct Target: Sendable { var address: String; var port: Int }

    static func onboard(_ address: String, _ port: Int, request: Request, publicKey: String, parc: any ParcService, job: OnboardJob) async -> Result {
        var result = Result(address: address, port: port, outcome: .failed, message: "")
        let timeout = Duration.milliseconds(Int(request.timeout * 1000))
        do {
            // A device already pinned at this address is checked strictly.
            let known = try await parc.perform(OnboardOps.Known(address: address, port: port))
            let pinned = try known?.hostKey.map { try HostKey(openSSH: $0) }
            var credentials: [SSHCredential] = [.keyFile(request.keyPath)]
            if let password = request.password { credentials.append(.password(password)) }
            let options = SSHOptions(name: known?.inventoryName ?? address, address: address, port: port, user: request.user, credentials: credentials,
                                     hostKeyPolicy: HostKeyPolicy(mode: pinned == nil ? .acceptNew : .strict, pinned: pinned),
                                     connectTimeout: timeout)
            return try await SSHConnection.connect(options).using { c in
                result.fingerprint = c.hostKey.fingerprint
                job.emit(.connected(address: address, port: port, fingerprint: c.hostKey.fingerprint, firstTime: c.hostKeyCheck == .new))
                if c.hostKeyCheck == .new && !request.acceptNew {
                    guard let confirm = request.confirm, await confirm(address, c.hostKey) else {
                        result.keyNotConfirmed = true
                        result.message = "host key \(c.hostKey.fingerprint) not confirmed: nothing done (check it on the device, then confirm it)"
                        return result
                    }
                }
                let become: Become = request.password.map { .sudoPassword($0) } ?? .sudo
                let facts = try await FactGathering.gather(c, become: become)
                guard let serial = facts.serial else {
                    result.message = "the device reports no firmware serial (DMI): onboard it by hand (parc device edit)"
                    return result
                }
                result.serial = serial
                // The inventory record, by serial; or a new one when asked.
                let existing = try await parc.perform(OnboardOps.Match(serial: serial, create: nil))
                if let existing, let recorded = existing.hostKey, try HostKey(openSSH: recorded) != c.hostKey {
                    throw TransportError.hostKeyChanged(host: existing.inventoryName, expected: try HostKey(openSSH: recorded).description, actual: c.hostKey.description)
                }
                if existing == nil && !request.create {
                    result.message = "serial \(serial) is not in the inventory: import its delivery note first (parc import devices), or create it (--create)"
                    return result
                }
                let created = existing == nil
                    ? try await parc.perform(OnboardOps.Match(serial: serial, create: OnboardOps.Creation(kind: request.kind, manufacturer: facts.vendor,
                                                                                                       model: facts.product, order: request.order, cart: request.cart)))
                    : existing
                guard let row = created else { return result }
                // The management key, once.
                let key = shellQuote(publicKey)
                let installed = try await c.run("umask 077; mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys && (grep -qxF \(key) ~/.ssh/authorized_keys && echo present || { printf '%s\\n' \(key) >> ~/.ssh/authorized_keys; echo added; })")
                guard installed.succeeded else { throw ModuleFailure("installing the key: \(installed.stderrText.trimmed)") }
                // The key must work before anything relies on it.
                let check = try await SSHConnection.connect(SSHOptions(name: row.inventoryName, address: address, port: port, user: request.user,
                                                                       credentials: [.keyFile(request.keyPath)],
                                                                       hostKeyPolicy: HostKeyPolicy(mode: .strict, pinned: c.hostKey),
                                                                       connectTimeout: timeout))
                await check.close()
                // The host name from the rule, through the hostname module (as a play would set it).
                let hostname = try await parc.perform(OnboardOps.Name(serial: row.serial, rule: request.nameRule))
                let named = try await Modules.apply("hostname", args: ["name": .string(hostname)], vars: ["parc_hostname_in_etc_hosts": .bool(true)],
                                                    on: c, become: become)
                if request.disablePasswordLogin {
                    _ = try await c.run("f=/etc/ssh/sshd_config.d/90-parc.conf; [ -d /etc/ssh/sshd_config.d ] && { grep -qs '^PasswordAuthentication no' \"$f\" || { printf 'PasswordAuthentication no\\nKbdInteractiveAuthentication no\\n' > \"$f\"; systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null || true; }; }",
                                        stdin: nil, become: become, timeout: .seconds(30))
                }
                let recorded = try await parc.perform(OnboardOps.Record(serial: row.serial, address: address, port: port, user: request.user,
                                                                         hostKey: c.hostKey.openSSH, hostname: hostname, facts: facts))
                let (recordChanged, skipped) = (recorded.changed, recorded.skipped)
                let keyAdded = installed.stdoutText.trimmed == "added"
                result.outcome = keyAdded || named.changed || recordChanged ? .changed : .ok
                result.hostname = hostname
                let done: Message = keyAdded ? "key added" : "key present"
                let onboarded: Message = named.changed
                    ? "\(row.serial) as \(hostname) (\(done), host key \(c.hostKey.fingerprint), renamed)"
                    : "\(row.serial) as \(hostname) (\(done), host key \(c.hostKey.fingerprint))"
                result.message = skipped.isEmpty ? onboarded : "\(onboarded); MAC not recorded: \(skipped.joined(separator: ", ")) — see parc reconcile"
                return result
            }
        } catch let e as TransportError {
            if e.isUnreachable { result.outcome = .unreachable }
            result.message = e.message
        } catch let e as InventoryError {
            result.message = e.message
        } catch let e as AppError {
            result.message = e.message
        } catch {
            result.message = Message(verbatim: "\(error)")
        }
        return result
    }
}

/// Host names from a rule: `{commune}-{room}-{nn}` → `norroy-le-veneur-classe-cm2-03`.
public struct HostnameRule: Sendable {
    public let rule: String
    public init(_ rule: String) { self.rule = rule }

    public func name(for row: DeviceRow, reader r: InventoryReader) throws -> String {
        // nn: the device's rank (by asset tag, else serial) among those of its cart, else its room.
        let siblings = try row.cart.map { try r.devices(DeviceFilter(cart: $0)) }
            ?? (row.uai != nil && row.room != nil ? try r.devices(DeviceFilter(school: row.uai, room: row.room)).filter { $0.cart == nil } : [row])
        let ordered = siblings.sorted { ($0.assetTag ?? $0.serial) < ($1.assetTag ?? $1.serial) }
        let rank = (ordered.firstIndex { $0.serial == row.serial } ?? 0) + 1
        var name = rule
        // Each placeholder has its French name too ({ecole}, {salle}…), as the portal's form shows them.
        let tokens: [(String, String)] = [
            ("{commune}", slugify(row.member ?? "parc")), ("{uai}", (row.uai ?? "").lowercased()), ("{school}", slugify(row.school ?? "")),
            ("{room}", slugify(row.room ?? "stock")), ("{cart}", slugify(row.cart ?? "")), ("{nn}", String(format: "%02d", rank)),
            ("{serial}", slugify(row.serial)), ("{tag}", slugify(row.assetTag ?? row.serial)),
            ("{ecole}", slugify(row.school ?? "")), ("{salle}", slugify(row.room ?? "stock")), ("{chariot}", slugify(row.cart ?? "")),
            ("{serie}", slugify(row.serial)), ("{inventaire}", slugify(row.assetTag ?? row.serial)),
        ]
        for (token, value) in tokens { name = name.replacingOccurrences(of: token, with: value) }
        name = name.replacingOccurrences(of: "--", with: "-").trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        if name.count > 63 { name = String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) }
        return try Hostname.normalize(name, field: "name-rule")
    }
}
