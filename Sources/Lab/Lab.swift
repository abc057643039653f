import Foundation
import Logging
import ParcCore
#if canImport(Glibc)
import Glibc
#endif

/// One simulated classroom device: an `sshd` with its own host key, its own loopback address and,
/// when the machine allows it (root), its own view of `/etc`, `/home`, `/var` and `/usr/local`
/// (overlay mounts in a mount namespace), so that a playbook writing `/etc/...` changes only it.
public struct LabDevice: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    public var user: String
    /// The device's folder: its sshd config, keys, log and file layers.
    public var root: String
    public var pid: Int32?
    /// The serial number its (simulated) firmware reports.
    public var serial: String
    public var isolated: Bool
    /// The port the device also listens on at `::1` (IPv6), when this machine has IPv6 loopback.
    public var ipv6Port: Int?

    var sshDir: String { root + "/ssh" }
    public var configFile: String { sshDir + "/sshd_config" }
    public var hostKeyFile: String { sshDir + "/ssh_host_ed25519_key" }
    public var logFile: String { sshDir + "/sshd.log" }

    /// Where a file of the device lives on this machine: its own copy if it wrote one, else the
    /// machine's (isolated devices), or the path itself (plain devices).
    public func hostPath(of path: String) -> String {
        // The most specific layer (/usr/local before /usr).
        guard isolated, let layer = LabDevice.layers.sorted(by: { $0.mount.count > $1.mount.count })
            .first(where: { path == $0.mount || path.hasPrefix($0.mount + "/") }) else { return path }
        let upper = root + "/upper/" + layer.name + path.dropFirst(layer.mount.count)
        return FileManager.default.fileExists(atPath: upper) ? upper : path
    }

    /// /usr too, so that a package installed on a device (apt) never lands on this machine; /usr
    /// before /usr/local, which is mounted over it.
    /// /root too: root's home on a device is the device's (a play writing `~/x` as root, or
    /// reading root's `.ssh`, never reaches this machine's).
    static let layers: [(name: String, mount: String)] = [("etc", "/etc"), ("home", "/home"), ("var", "/var"), ("usr", "/usr"),
                                                           ("usr-local", "/usr/local"), ("opt", "/opt"), ("root", "/root")]
}

/// How the lab's devices are set up.
public struct LabOptions: Sendable {
    /// The management user's password on every device (enables password login and, with
    /// `sudoNeedsPassword`, sudo with that password). Nil: key login only.
    public var password: String?
    /// Whether sudo asks the user's password (else NOPASSWD).
    public var sudoNeedsPassword: Bool
    /// Whether the management key is installed (false: a fresh device, password login only).
    public var installKey: Bool
    /// Serial number prefix of the simulated firmware.
    public var serialPrefix: String
    /// Put the devices on a school network of their own (a network namespace made for them), that
    /// this machine's namespace cannot reach: as a school behind its internet box. Needs root.
    public var isolatedSchool: String?

    public init(password: String? = nil, sudoNeedsPassword: Bool = false, installKey: Bool = true, serialPrefix: String = "LAB") {
        self.password = password
        self.sudoNeedsPassword = sudoNeedsPassword
        self.installKey = installKey
        self.serialPrefix = serialPrefix
    }
}

/// A lab of simulated classroom devices, described by `lab.json` in its folder.
public final class Lab: @unchecked Sendable {
    public let directory: String
    public private(set) var devices: [LabDevice]
    /// The management user's private key (ed25519), installed on every device.
    public let clientKey: String
    public static let user = "parclab"
    static let uid = 4242

    /// The school network of an isolated lab (`parc lab up --isolated`), nil for a plain lab.
    public private(set) var network: LabNetwork?

    struct State: Codable {
        var devices: [LabDevice]
        var clientKey: String
        var network: LabNetwork?
    }

    private init(directory: String, devices: [LabDevice], clientKey: String, network: LabNetwork? = nil) {
        self.directory = directory
        self.devices = devices
        self.clientKey = clientKey
        self.network = network
    }

    /// Why devices cannot be simulated on this machine, or nil.
    public static func unavailableReason() -> String? {
        for tool in ["/usr/sbin/sshd", "/usr/bin/ssh-keygen", "/usr/bin/unshare", "/usr/bin/openssl"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (scripts/setup-system installs openssh-server, openssh-client, util-linux and openssl)"
        }
        return nil
    }

    /// Whether devices get their own files (needs root for mount namespaces and overlays).
    public static var canIsolate: Bool { geteuid() == 0 }

    /// Creates `count` devices in `directory` and starts them.
    public static func up(count: Int, in directory: String, options: LabOptions = LabOptions(),
                          logger: Logger = Logger(label: "parc.lab")) throws -> Lab {
        if let why = unavailableReason() { throw LabError.unavailable(why) }
        let fm = FileManager.default
        if fm.fileExists(atPath: directory + "/lab.json") {
            throw LabError.unavailable("a lab is already up in \(directory); stop it first (parc lab down)")
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if canIsolate { try checkTraversable(directory) }
        let clientKey = directory + "/id_ed25519"
        try check(Spawn.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "parc-lab", "-f", clientKey]), "ssh-keygen")
        let isolated = canIsolate
        if options.isolatedSchool != nil && !isolated {
            throw LabError.unavailable("a school network of its own needs root (network namespaces)")
        }
        let user = isolated ? Self.user : (String(validatingCString: getpwuid(geteuid()).pointee.pw_name) ?? "root")
        let lab = Lab(directory: directory, devices: [], clientKey: clientKey)
        // Inside a school's own namespace, its loopback block exists only there.
        let block = options.isolatedSchool != nil ? "127.\(Int.random(in: 100...199)).\(Int.random(in: 0...255))" : isolated ? freeAddressBlock() : nil
        do {
            if let school = options.isolatedSchool {
                lab.network = try LabNetwork.make(school: school)
                try lab.save()
            }
            for i in 0..<count {
                let name = String(format: "lab-%02d", i + 1)
                let address = block.map { "\($0).\(i + 1)" } ?? "127.0.0.1"
                let port = isolated ? 22 : try freePort()
                var device = LabDevice(name: name, address: address, port: port, user: user, root: directory + "/" + name, pid: nil,
                                       serial: String(format: "%@-%04d-%@", options.serialPrefix, i + 1, String(UInt32.random(in: 0..<UInt32.max), radix: 36).uppercased()),
                                       isolated: isolated, ipv6Port: lab.network == nil ? try? freePort(ipv6: true) : nil)
                try lab.prepare(&device, options: options)
                lab.devices.append(device)
                try lab.save()
                try lab.start(name)
                logger.debug("lab device up", metadata: ["host.name": "\(name)", "host.address": "\(address):\(port)"])
            }
        } catch {
            lab.down()
            throw error
        }
        return lab
    }

    /// Isolated devices log their user in as `parclab`, whose keys sshd reads as that user: every
    /// folder above the lab must let other users through (a `mktemp -d` folder, mode 700, does not,
    /// and every key would then be "refused by the device").
    static func checkTraversable(_ directory: String) throws {
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        var path = URL(fileURLWithPath: directory).standardizedFileURL.path
        while !path.isEmpty && path != "/" {
            var st = stat()
            if stat(path, &st) == 0, st.st_mode & 0o001 == 0 {
                throw LabError.unavailable("\(path) (mode \(String(st.st_mode & 0o777, radix: 8))) keeps the devices' user \(Self.user) out, and sshd reads its keys as that user; let others through it (chmod o+x \(path)) or put the lab elsewhere (--lab-dir)")
            }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// The lab described in `directory`.
    public static func load(_ directory: String) throws -> Lab {
        guard let data = FileManager.default.contents(atPath: directory + "/lab.json") else { throw LabError.noLab(directory) }
        let state = try JSONDecoder().decode(State.self, from: data)
        return Lab(directory: directory, devices: state.devices, clientKey: state.clientKey, network: state.network)
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(State(devices: devices, clientKey: clientKey, network: network)).write(to: URL(fileURLWithPath: directory + "/lab.json"))
    }

    /// Starts a process inside the school's network (`arguments[0]` and its arguments), its output
    /// appended to `log`; remembered as the lab's relay, stopped by ``down()``.
    public func startRelay(_ arguments: [String], log: String) throws -> pid_t {
        guard var network else { throw LabError.unavailable("this lab has no school network of its own (parc lab up --isolated)") }
        if let pid = network.relayPid, Spawn.isAlive(pid) {
            throw LabError.unavailable("a relay already runs in \(network.namespace) (pid \(pid)); stop it first (kill \(pid))")
        }
        let pid = try Spawn.start(["/usr/sbin/ip", "netns", "exec", network.namespace] + arguments, output: log, newSession: true)
        network.relayPid = pid
        self.network = network
        try save()
        return pid
    }

    public func device(_ name: String) -> LabDevice? { devices.first { $0.name == name } }

    // MARK: Device life

    /// Starts a device's sshd and waits until it accepts connections.
    public func start(_ name: String) throws {
        guard let index = devices.firstIndex(where: { $0.name == name }) else { throw LabError.deviceFailed(name, "no such device") }
        let d = devices[index]
        if let pid = d.pid, Spawn.isAlive(pid) { return }
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        var arguments = ["/usr/sbin/sshd", "-f", d.configFile, "-D", "-e"]
        if d.isolated {
            var script = "hostname \(d.name) && "
            for layer in LabDevice.layers {
                script += "mount -t overlay overlay -o lowerdir=\(layer.mount),upperdir=\(d.root)/upper/\(layer.name),workdir=\(d.root)/work/\(layer.name) \(layer.mount) && "
            }
            // On a machine with DMI, the device reports its own simulated serial, not the machine's.
            script += "if [ -e /sys/class/dmi/id/product_serial ]; then mount --bind /etc/parc-lab/product_serial /sys/class/dmi/id/product_serial; fi; "
            // Each start is a boot: a boot id of its own, which the stand-in reboot changes.
            script += "mkdir -p /var/lib/parc-lab && cat /proc/sys/kernel/random/uuid > /var/lib/parc-lab/boot_id && mount --bind /var/lib/parc-lab/boot_id /proc/sys/kernel/random/boot_id && "
            script += "exec /usr/sbin/sshd -f \(d.configFile) -D -e"
            arguments = ["/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c", script]
        }
        // A school network's devices run inside its namespace; sshd's pid file says it listens
        // (this machine's namespace cannot connect to see).
        let pidFile = d.sshDir + "/sshd.pid"
        if let network {
            try? FileManager.default.removeItem(atPath: pidFile)
            arguments = ["/usr/sbin/ip", "netns", "exec", network.namespace] + arguments
        }
        let pid = try Spawn.start(arguments, output: d.logFile, newSession: true)
        devices[index].pid = pid
        try save()
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            if !Spawn.isAlive(pid) {
                let log = (try? String(contentsOfFile: d.logFile, encoding: .utf8)) ?? ""
                throw LabError.deviceFailed(name, log.split(separator: "\n").suffix(3).joined(separator: " | "))
            }
            if network != nil ? FileManager.default.fileExists(atPath: pidFile) : Self.accepts(address: d.address, port: d.port) { return }
            usleep(5_000)
        }
        throw LabError.deviceFailed(name, "sshd did not listen on \(d.address):\(d.port) within 10 s")
    }

    /// Stops a device's sshd and every session it serves (the device is "switched off").
    public func stop(_ name: String) { end(name) { Spawn.terminate($0) } }

    /// Stops a device as a power cut or a lost Wi-Fi would: every process at once, no goodbye.
    public func powerOff(_ name: String) { end(name, Spawn.killNow) }

    private func end(_ name: String, _ kill: (pid_t) -> Void) {
        guard let index = devices.firstIndex(where: { $0.name == name }), let pid = devices[index].pid else { return }
        if Self.isOurSSHD(pid, config: devices[index].configFile) { kill(pid) }
        devices[index].pid = nil
        try? save()
    }

    /// Gives a device a new host key (as a reinstalled machine would have) and restarts it.
    public func regenerateHostKey(_ name: String) throws {
        guard let d = device(name) else { throw LabError.deviceFailed(name, "no such device") }
        stop(name)
        try? FileManager.default.removeItem(atPath: d.hostKeyFile)
        try? FileManager.default.removeItem(atPath: d.hostKeyFile + ".pub")
        try Self.check(Spawn.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", d.hostKeyFile]), "ssh-keygen")
        try start(name)
    }

    /// The device's host key as OpenSSH writes it.
    public func hostKey(_ name: String) throws -> HostKey {
        guard let d = device(name) else { throw LabError.deviceFailed(name, "no such device") }
        return try HostKey(openSSH: String(contentsOfFile: d.hostKeyFile + ".pub", encoding: .utf8))
    }

    /// Stops every device by its PID and removes everything the lab made.
    public func down() {
        for d in devices { stop(d.name) }
        if let network {
            if let pid = network.relayPid, Spawn.isAlive(pid) { Spawn.terminate(pid) }
            network.remove()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Setup

    private func prepare(_ d: inout LabDevice, options: LabOptions) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: d.sshDir, withIntermediateDirectories: true)
        try Self.check(Spawn.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", d.name, "-f", d.hostKeyFile]), "ssh-keygen")
        let authorized = d.sshDir + "/authorized_keys"
        let publicKey = try String(contentsOfFile: clientKey + ".pub", encoding: .utf8)
        try (options.installKey ? publicKey : "").write(toFile: authorized, atomically: true, encoding: .utf8)
        let config = """
            ListenAddress \(d.address)\(d.ipv6Port.map { "\nListenAddress [::1]:\($0)" } ?? "")
            Port \(d.port)
            HostKey \(d.hostKeyFile)
            PidFile \(d.sshDir)/sshd.pid
            AuthorizedKeysFile \(authorized) .ssh/authorized_keys
            UsePAM no
            StrictModes no
            PasswordAuthentication \(options.password == nil ? "no" : "yes")
            KbdInteractiveAuthentication no
            PermitRootLogin no
            AllowUsers \(d.user)
            Subsystem sftp internal-sftp
            MaxStartups 100:30:200
            MaxSessions 50
            LogLevel ERROR

            """
        try config.write(toFile: d.configFile, atomically: true, encoding: .utf8)
        guard d.isolated else { return }

        for layer in LabDevice.layers {
            try fm.createDirectory(atPath: "\(d.root)/upper/\(layer.name)", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(d.root)/work/\(layer.name)", withIntermediateDirectories: true)
        }
        // The management user exists only in the device's own /etc and /home, never on this machine.
        let etc = d.root + "/upper/etc"
        let hash: String
        if let password = options.password {
            let r = try Spawn.run(["/usr/bin/openssl", "passwd", "-6", "-stdin"], input: password + "\n")
            try Self.check(r, "openssl passwd")
            hash = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            hash = "*"
        }
        let uid = Self.uid
        try append(line: "\(Self.user):x:\(uid):\(uid):parc lab:/home/\(Self.user):/bin/sh", from: "/etc/passwd", to: etc + "/passwd", mode: 0o644)
        try append(line: "\(Self.user):\(hash):19000:0:99999:7:::", from: "/etc/shadow", to: etc + "/shadow", mode: 0o640)
        try append(line: "\(Self.user):x:\(uid):", from: "/etc/group", to: etc + "/group", mode: 0o644)
        try fm.createDirectory(atPath: etc + "/sudoers.d", withIntermediateDirectories: true)
        let sudoers = etc + "/sudoers.d/parc-lab"
        try "\(Self.user) ALL=(ALL:ALL) \(options.sudoNeedsPassword ? "" : "NOPASSWD: ")ALL\n".write(toFile: sudoers, atomically: true, encoding: .utf8)
        chmod(sudoers, 0o440)
        try "\(d.name)\n".write(toFile: etc + "/hostname", atomically: true, encoding: .utf8)
        // sudo resolves the host name: without this line each sudo waits for DNS.
        try append(line: "127.0.1.1\t\(d.name)", from: "/etc/hosts", to: etc + "/hosts", mode: 0o644)
        // What the device's firmware reports (DMI), for facts and reconciliation.
        try fm.createDirectory(atPath: etc + "/parc-lab", withIntermediateDirectories: true)
        try "\(d.serial)\n".write(toFile: etc + "/parc-lab/product_serial", atomically: true, encoding: .utf8)
        // No systemd runs in a lab device: a stand-in systemctl keeps unit states in /var/lib/parc-lab.
        let bin = d.root + "/upper/usr-local/bin"
        try fm.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try Self.systemctl.write(toFile: bin + "/systemctl", atomically: true, encoding: .utf8)
        chmod(bin + "/systemctl", 0o755)
        // Nor may a device stop this machine: shutdown, reboot, halt and poweroff are stand-ins
        // that "reboot" the device (every session dropped, a new boot id; sshd keeps listening).
        let usrSbin = d.root + "/upper/usr/sbin"
        try fm.createDirectory(atPath: usrSbin, withIntermediateDirectories: true)
        for tool in ["shutdown", "reboot", "halt", "poweroff"] {
            try Self.reboot(pidFile: d.sshDir + "/sshd.pid").write(toFile: usrSbin + "/" + tool, atomically: true, encoding: .utf8)
            chmod(usrSbin + "/" + tool, 0o755)
        }
        // Nor firmware tables: a stand-in dmidecode answers from /etc/parc-lab (the device's own view).
        let sbin = d.root + "/upper/usr-local/sbin"
        try fm.createDirectory(atPath: sbin, withIntermediateDirectories: true)
        try Self.dmidecode.write(toFile: sbin + "/dmidecode", atomically: true, encoding: .utf8)
        chmod(sbin + "/dmidecode", 0o755)
        let home = d.root + "/upper/home/" + Self.user
        try fm.createDirectory(atPath: home, withIntermediateDirectories: true)
        chown(home, uid_t(uid), gid_t(uid))
        chmod(home, 0o755)
        // root's home, private as on a real machine, with the lab's key as a device set up for
        // Ansible has it (root does not log in: sshd allows only the lab user).
        let rootHome = d.root + "/upper/root"
        chmod(rootHome, 0o700)
        try fm.createDirectory(atPath: rootHome + "/.ssh", withIntermediateDirectories: true)
        chmod(rootHome + "/.ssh", 0o700)
        try publicKey.write(toFile: rootHome + "/.ssh/authorized_keys", atomically: true, encoding: .utf8)
        chmod(rootHome + "/.ssh/authorized_keys", 0o600)
    }

    /// The lab's systemctl: `is-active`, `is-enabled`, `start`, `stop`, `restart`, `reload-or-restart`,
    /// `enable`, `disable`, `mask`, `unmask`, `show` (a unit's LoadState only), `daemon-reload`, with states in files; `poweroff` is noted in
    /// `/var/lib/parc-lab/poweroff` (the device stays up). Starting a unit counts it in
    /// `/var/lib/parc-lab/<unit>.starts`, so tests can tell a restart happened.
    static let systemctl = #"""
        #!/bin/sh
        # parc lab stand-in for systemctl (no systemd in a lab device).
        dir=/var/lib/parc-lab/units
        while case "$1" in --*) true ;; *) false ;; esac; do shift; done
        verb="$1"; shift
        while case "$1" in -p) shift; true ;; --) false ;; -*) true ;; *) false ;; esac; do shift; done
        [ "$1" = "--" ] && shift
        unit="${1%.service}"
        mkdir -p "$dir" 2>/dev/null
        case "$verb" in
          is-active) if [ -f "$dir/$unit.active" ]; then echo active; else echo inactive; exit 3; fi ;;
          is-enabled) if [ -f "$dir/$unit.masked" ]; then echo masked; exit 1; elif [ -f "$dir/$unit.enabled" ]; then echo enabled; else echo disabled; exit 1; fi ;;
          show) if [ -f "$dir/$unit.masked" ]; then echo masked; else echo loaded; fi ;;
          mask) [ "$(id -u)" = 0 ] || exit 4; touch "$dir/$unit.masked" ;;
          unmask) [ "$(id -u)" = 0 ] || exit 4; rm -f "$dir/$unit.masked" ;;
          start) [ "$(id -u)" = 0 ] || { echo "Access denied" >&2; exit 4; }; [ -f "$dir/$unit.active" ] || echo x >> "$dir/$unit.starts"; touch "$dir/$unit.active" ;;
          restart|reload-or-restart|reload) [ "$(id -u)" = 0 ] || exit 4; echo x >> "$dir/$unit.starts"; touch "$dir/$unit.active" ;;
          stop) [ "$(id -u)" = 0 ] || exit 4; rm -f "$dir/$unit.active" ;;
          enable) [ "$(id -u)" = 0 ] || exit 4; touch "$dir/$unit.enabled" ;;
          disable) [ "$(id -u)" = 0 ] || exit 4; rm -f "$dir/$unit.enabled" ;;
          daemon-reload) ;;
          poweroff) [ "$(id -u)" = 0 ] || exit 4; date > /var/lib/parc-lab/poweroff ;;
          *) echo "lab systemctl: $verb is not simulated" >&2; exit 1 ;;
        esac
        """#

    /// The lab's shutdown/reboot: notes the call in /var/lib/parc-lab/reboots, gives the device a
    /// new boot id, then kills every session of its sshd (as a restart would), sparing itself.
    static func reboot(pidFile: String) -> String {
        """
        #!/bin/sh
        # parc lab stand-in for shutdown/reboot: the device "restarts" without touching this machine.
        [ "$(id -u)" = 0 ] || { echo "must be root" >&2; exit 1; }
        mkdir -p /var/lib/parc-lab
        echo "$0 $*" >> /var/lib/parc-lab/reboots
        cat /proc/sys/kernel/random/uuid > /var/lib/parc-lab/boot_id
        listener=$(cat \(shellQuote(pidFile)))
        tree() { for c in $(ps -o pid= --ppid "$1"); do tree "$c"; done; [ "$1" = "$$" ] || kill -KILL "$1" 2>/dev/null; }
        for c in $(ps -o pid= --ppid "$listener"); do tree "$c"; done
        exit 0
        """
    }

    /// The lab's dmidecode: `-s system-serial-number|system-manufacturer|system-product-name`.
    static let dmidecode = #"""
        #!/bin/sh
        # parc lab stand-in for dmidecode: the simulated firmware of a lab device.
        [ "$(id -u)" = 0 ] || { echo "/dev/mem: Permission denied" >&2; exit 1; }
        case "$2" in
          system-serial-number) cat /etc/parc-lab/product_serial ;;
          system-manufacturer) echo "parc lab" ;;
          system-product-name) echo "Simulated classroom laptop" ;;
          *) exit 1 ;;
        esac
        """#

    /// Changes the serial number a device's (simulated) firmware reports, as a swapped laptop would.
    public func setFirmwareSerial(_ name: String, _ serial: String) throws {
        guard let index = devices.firstIndex(where: { $0.name == name }) else { throw LabError.deviceFailed(name, "no such device") }
        // In place (same inode): the running device's overlay keeps seeing the file it already knows.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: devices[index].root + "/upper/etc/parc-lab/product_serial"))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("\(serial)\n".utf8))
        try handle.close()
        devices[index].serial = serial
        try save()
    }

    private func append(line: String, from source: String, to target: String, mode: mode_t) throws {
        var text = (try? String(contentsOfFile: source, encoding: .utf8)) ?? ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        try (text + line + "\n").write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, mode)
    }

    static func check(_ result: (status: Int32, output: String), _ what: String) throws {
        guard result.status == 0 else { throw LabError.command(what, result.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// A loopback /24 (127.A.B) where nothing listens on port 22, so that labs do not collide.
    private static func freeAddressBlock() -> String {
        for _ in 0..<50 {
            let block = "127.\(Int.random(in: 100...199)).\(Int.random(in: 0...255))"
            if !accepts(address: block + ".1", port: 22) && canBind(address: block + ".1", port: 22) { return block }
        }
        return "127.\(Int.random(in: 100...199)).\(Int.random(in: 0...255))"
    }

    /// A TCP port nothing listens on, on the loopback (IPv4, or IPv6's `::1`).
    public static func freePort(ipv6: Bool = false) throws -> Int {
        if ipv6 {
            let s = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(s) }
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_addr = in6addr_loopback
            var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let ok = withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
            }
            guard ok else { throw LabError.unavailable("no IPv6 loopback") }
            return Int(UInt16(bigEndian: addr.sin6_port))
        }
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw LabError.unavailable("no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canBind(address: String, port: Int) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(address)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Whether something accepts TCP connections at address:port (a blocking connect on loopback).
    static func accepts(address: String, port: Int) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(address)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Whether `pid` is still the sshd this lab started (not a reused PID).
    static func isOurSSHD(_ pid: pid_t, config: String) -> Bool {
        guard Spawn.isAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let cmdline = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        return cmdline.contains(config)
    }
}


/// A school's network in the lab: a network namespace of its own where its devices listen (on
/// its own loopback block, which exists only there), joined to this machine by a veth pair
/// (`hostAddress` on this side, `innerAddress` inside), so that a relay inside reaches a server
/// listening here while nothing here reaches the devices.
public struct LabNetwork: Codable, Sendable, Equatable {
    public var school: String
    public var namespace: String
    public var hostInterface: String
    public var hostAddress: String
    public var innerAddress: String
    /// The relay started inside (`parc lab relay`).
    public var relayPid: Int32?

    static func make(school: String) throws -> LabNetwork {
        let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        let uai = school.lowercased().filter { $0.isLetter || $0.isNumber }
        let namespace = "parc-\(uai)-\(tag)"
        let used = (try? Spawn.run(["/usr/sbin/ip", "-o", "-4", "addr"]).output) ?? ""
        var subnet = ""
        for _ in 0..<50 {
            subnet = "10.\(Int.random(in: 200...254)).\(Int.random(in: 0...255))"
            if !used.contains(" \(subnet).") { break }
        }
        let hostInterface = "pv\(tag)", inner = "pn\(tag)"
        let network = LabNetwork(school: school.uppercased(), namespace: namespace, hostInterface: hostInterface,
                                 hostAddress: "\(subnet).1", innerAddress: "\(subnet).2", relayPid: nil)
        let steps: [[String]] = [
            ["netns", "add", namespace],
            ["link", "add", hostInterface, "type", "veth", "peer", "name", inner],
            ["link", "set", inner, "netns", namespace],
            ["addr", "add", "\(subnet).1/30", "dev", hostInterface],
            ["link", "set", hostInterface, "up"],
            ["-n", namespace, "addr", "add", "\(subnet).2/30", "dev", inner],
            ["-n", namespace, "link", "set", inner, "up"],
            ["-n", namespace, "link", "set", "lo", "up"],
            // This machine is the school's way out (its internet box): broadcasts leave by the veth.
            ["-n", namespace, "route", "add", "default", "via", "\(subnet).1"],
        ]
        for step in steps {
            let r = try Spawn.run(["/usr/sbin/ip"] + step)
            guard r.status == 0 else {
                network.remove()
                throw LabError.command("ip " + step.joined(separator: " "), r.output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return network
    }

    /// Removes the namespace (and with it both ends of the veth pair).
    func remove() {
        _ = try? Spawn.run(["/usr/sbin/ip", "link", "del", hostInterface])
        _ = try? Spawn.run(["/usr/sbin/ip", "netns", "del", namespace])
    }
}
