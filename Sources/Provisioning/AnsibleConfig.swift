import Foundation
import ParcCore

/// The `ansible.cfg` that ansible-playbook would read from here, with the `ANSIBLE_*` variables
/// over it, for the settings people put there. Found as Ansible finds it: `$ANSIBLE_CONFIG` (a file,
/// or a folder holding `ansible.cfg`), `./ansible.cfg` (not in a world-writable folder),
/// `~/.ansible.cfg`, `/etc/ansible/ansible.cfg` — the first that exists, alone. Paths in the file are
/// relative to the file's folder; paths in variables to the current folder.
public struct AnsibleConfig: Sendable, Equatable {
    /// Where a setting came from, for messages: `ansible.cfg:12` or `ANSIBLE_FORKS`.
    public struct Setting<T: Sendable & Equatable>: Sendable, Equatable {
        public var value: T
        public var origin: String
    }

    /// The file read (nil: none was found).
    public var file: String?
    /// `roles_path`: where roles are looked for after `roles/` beside the playbook.
    public var rolesPath: Setting<[String]>
    /// `inventory`: the inventory ansible-playbook would use without `-i` (nil: not set).
    public var inventory: Setting<[String]>?
    public var remoteUser: Setting<String>?
    public var forks: Setting<Int>?
    public var timeout: Setting<Int>?
    public var gathering: Setting<Gathering>?
    public var privateKeyFile: Setting<String>?
    public var hostKeyChecking: Setting<Bool>?
    public var become: Setting<Bool>?
    public var becomeUser: Setting<String>?
    public var becomeMethod: Setting<String>?
    public var becomeAskPass: Setting<Bool>?

    /// `gathering`: facts gathered unless a play says no (implicit), only when it says yes
    /// (explicit), or once per device (smart).
    public enum Gathering: String, Codable, Sendable, Equatable {
        case implicit, explicit, smart
    }

    /// Ansible's own default, `~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles`.
    public static func defaultRolesPath(home: String) -> [String] {
        ["\(home)/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"]
    }

    /// No file, no variable: Ansible's defaults.
    public static func defaults(home: String) -> AnsibleConfig {
        AnsibleConfig(file: nil, rolesPath: Setting(value: defaultRolesPath(home: home), origin: "Ansible's default"))
    }

    /// The configuration ansible-playbook would use in `directory` with `environment`.
    public static func discover(environment: [String: String], directory: String, home: String) throws -> AnsibleConfig {
        var candidates: [String] = []
        if let env = environment["ANSIBLE_CONFIG"] {
            let path = absolute(expandingTilde(env, home: home), base: directory)
            var isDir: ObjCBool = false
            candidates.append(FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue ? path + "/ansible.cfg" : path)
        }
        // A world-writable folder's ansible.cfg could be anyone's: Ansible skips it, so does parc.
        if let attributes = try? FileManager.default.attributesOfItem(atPath: directory),
           let mode = attributes[.posixPermissions] as? Int, mode & 0o002 == 0 {
            candidates.append(directory + "/ansible.cfg")
        }
        candidates += [home + "/.ansible.cfg", "/etc/ansible/ansible.cfg"]
        let file = candidates.first { FileManager.default.isReadableFile(atPath: $0) }
        var config = try file.map { try parse(String(contentsOfFile: $0, encoding: .utf8), file: $0, home: home) } ?? defaults(home: home)
        try config.apply(environment: environment, directory: directory, home: home)
        return config
    }

    /// The settings of an ansible.cfg's text (`file` names it in messages and anchors its paths).
    public static func parse(_ text: String, file: String, home: String) throws -> AnsibleConfig {
        var config = defaults(home: home)
        config.file = file
        let folder = (file as NSString).deletingLastPathComponent
        let name = file
        var section = ""
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let trimmed = line.trimmed
            let origin = "\(name):\(index + 1)"
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]") else { throw PlaybookError("\(origin): a section header is `[name]`") }
                section = String(trimmed.dropFirst().dropLast()).trimmed
                continue
            }
            // A continuation line (indented) of a value parc does not read: nothing to do.
            if line.first == " " || line.first == "\t" { continue }
            guard let sep = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw PlaybookError("\(origin): expected `key = value`, found '\(trimmed)'")
            }
            let key = String(trimmed[..<sep]).trimmed.lowercased()
            var value = String(trimmed[trimmed.index(after: sep)...])
            // configparser's inline comments: `; …` after a space.
            if let c = value.range(of: " ;") ?? value.range(of: "\t;") { value = String(value[..<c.lowerBound]) }
            value = value.trimmed
            try config.set(section: section, key: key, value: value, origin: origin, base: folder, home: home)
        }
        return config
    }

    /// The `ANSIBLE_*` variables, over the file.
    mutating func apply(environment: [String: String], directory: String, home: String) throws {
        let names: [(String, String, String)] = [
            ("ANSIBLE_ROLES_PATH", "defaults", "roles_path"), ("ANSIBLE_INVENTORY", "defaults", "inventory"),
            ("ANSIBLE_REMOTE_USER", "defaults", "remote_user"), ("ANSIBLE_FORKS", "defaults", "forks"), ("ANSIBLE_TIMEOUT", "defaults", "timeout"),
            ("ANSIBLE_GATHERING", "defaults", "gathering"), ("ANSIBLE_PRIVATE_KEY_FILE", "defaults", "private_key_file"),
            ("ANSIBLE_HOST_KEY_CHECKING", "defaults", "host_key_checking"), ("ANSIBLE_BECOME", "privilege_escalation", "become"),
            ("ANSIBLE_BECOME_USER", "privilege_escalation", "become_user"), ("ANSIBLE_BECOME_METHOD", "privilege_escalation", "become_method"),
            ("ANSIBLE_BECOME_ASK_PASS", "privilege_escalation", "become_ask_pass"),
        ]
        for (variable, section, key) in names {
            guard let value = environment[variable] else { continue }
            try set(section: section, key: key, value: value, origin: variable, base: directory, home: home)
        }
    }

    mutating func set(section: String, key: String, value: String, origin: String, base: String, home: String) throws {
        func path(_ p: String) -> String { PlaybookLoader.normalised(Self.absolute(Self.expandingTilde(p, home: home), base: base)) }
        func int() throws -> Int {
            guard let n = Int(value), n > 0 else { throw PlaybookError("\(origin): \(key) is a whole number above 0, not '\(value)'") }
            return n
        }
        func bool() throws -> Bool {
            switch value.lowercased() {
            case "1", "yes", "y", "true", "t", "on": return true
            case "0", "no", "n", "false", "f", "off": return false
            default: throw PlaybookError("\(origin): \(key) is true or false, not '\(value)'")
            }
        }
        switch (section, key) {
        case ("defaults", "roles_path"):
            rolesPath = Setting(value: value.split(separator: ":").map { path(String($0).trimmed) }, origin: origin)
        case ("defaults", "inventory"), ("defaults", "hostfile"):
            inventory = Setting(value: value.split(separator: ",").map { path(String($0).trimmed) }.filter { !$0.isEmpty }, origin: origin)
        case ("defaults", "remote_user"): remoteUser = value.isEmpty ? nil : Setting(value: value, origin: origin)
        case ("defaults", "forks"): forks = Setting(value: try int(), origin: origin)
        case ("defaults", "timeout"): timeout = Setting(value: try int(), origin: origin)
        case ("defaults", "gathering"):
            guard let g = Gathering(rawValue: value.lowercased()) else {
                throw PlaybookError("\(origin): gathering is implicit, explicit or smart, not '\(value)'")
            }
            gathering = Setting(value: g, origin: origin)
        case ("defaults", "private_key_file"): privateKeyFile = value.isEmpty ? nil : Setting(value: path(value), origin: origin)
        case ("defaults", "host_key_checking"): hostKeyChecking = Setting(value: try bool(), origin: origin)
        case ("privilege_escalation", "become"): become = Setting(value: try bool(), origin: origin)
        case ("privilege_escalation", "become_user"): becomeUser = value.isEmpty ? nil : Setting(value: value, origin: origin)
        case ("privilege_escalation", "become_method"): becomeMethod = Setting(value: value, origin: origin)
        case ("privilege_escalation", "become_ask_pass"): becomeAskPass = Setting(value: try bool(), origin: origin)
        default: break  // settings parc has no use for (callbacks, retry files, …) change nothing here
        }
    }

    static func expandingTilde(_ p: String, home: String) -> String {
        p == "~" ? home : p.hasPrefix("~/") ? home + p.dropFirst() : p
    }

    static func absolute(_ p: String, base: String) -> String {
        p.isEmpty || p.hasPrefix("/") ? p : (base.isEmpty ? "." : base) + "/" + p
    }
}
